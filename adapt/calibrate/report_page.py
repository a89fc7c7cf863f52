"""Lay out ``report.html`` from the computed metrics: findings first, then numbers, then pictures."""

from __future__ import annotations

import numpy as np

from simgen.adapt.calibrate import figures
from simgen.adapt.calibrate.html import bullet_list, image, page, table
from simgen.adapt.calibrate.lowlevel import STATISTICS


def _ci(entry: dict, digits: int = 3) -> str:
    lo, hi = entry["ci95"]
    return f"{entry['value']:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def _embedding_points(zx: np.ndarray, zy: np.ndarray) -> np.ndarray:
    """First two principal components of the pooled z-scored features (numpy; no scikit-learn at run time)."""
    pooled = np.concatenate([zx, zy])
    centred = pooled - pooled.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T if vt.shape[0] >= 2 else np.concatenate([centred @ vt[:1].T, np.zeros((len(pooled), 1))], 1)


def build_page(metrics: dict, syn: dict, rl: dict, space: dict) -> str:
    sets, feats = metrics["sets"], metrics["features"]
    sections = []
    sections.append(("What the report finds", bullet_list(metrics["findings"], "findings")
                     + bullet_list(metrics["notes"]) if metrics["notes"] else bullet_list(metrics["findings"], "findings")))
    sections.append(("The two sets", table(
        ["set", "folder", "clips", "classes"],
        [["synthetic", sets["synthetic"]["path"], f"{sets['synthetic']['clips']} of {sets['synthetic']['of']}", ", ".join(sets["synthetic"]["classes"]) or "-"],
         ["real", sets["real"]["path"], sets["real"]["clips"], ", ".join(sets["real"]["classes"]) or "(unlabelled)"]])
        + f"<p class=\"note\">Features: {feats['description']} ({feats['dimensions']} dimensions).</p>"))

    fd, mmd, pad = metrics["frechet_distance"], metrics["mmd"], metrics["proxy_a_distance"]
    sections.append(("Feature-level gap (95% bootstrap intervals)", table(
        ["metric", "value [95% CI]", "samples (synthetic / real)", "how"],
        [["Fréchet distance", _ci(fd), f"{fd['n']['synthetic']} / {fd['n']['real']}", fd["how"]],
         ["MMD²", _ci(mmd), f"{mmd['n']['synthetic']} / {mmd['n']['real']}", f"{mmd['estimator']}; kernel {mmd['kernel']}"],
         ["proxy A-distance", _ci(pad), f"{pad['n']['per_domain']} per domain",
          f"{pad['how']}; classifier accuracy {pad['classifier_accuracy']:.2f} (0.5 = indistinguishable, PAD 0; 1 = separable, PAD 2)"]],
        name_columns=1)))

    rows = []
    for name, g in metrics["low_level"]["statistics"].items():
        if "difference" not in g:
            rows.append([name, g["unit"], "-", "-", "-", "-", f"{g['n']['synthetic']} / {g['n']['real']}"])
            continue
        rows.append([name, g["unit"], f"{g['synthetic']['mean']:.3g} ± {g['synthetic']['std']:.2g}",
                     f"{g['real']['mean']:.3g} ± {g['real']['std']:.2g}", _ci(g["difference"]), _ci(g["wasserstein"]),
                     f"{g['n']['synthetic']} / {g['n']['real']}"])
    hist = metrics["low_level"]["colour_histogram"]
    rows.append(["colour histogram", "Hellinger", "-", "-", "-", _ci(hist), f"{hist['n']['synthetic']} / {hist['n']['real']}"])
    sections.append(("Low-level gap", table(
        ["statistic", "unit", "synthetic mean ± sd", "real mean ± sd", "real − synthetic [95% CI]", "distance [95% CI]", "clips (syn / real)"], rows)
        + f"<p class=\"note\">Distance: 1-Wasserstein between the per-clip values (Hellinger for the colour histogram). "
          f"Person statistics come from a label-free estimate (colour differs from the frame border's background, or the pixel moves). "
          f"{metrics['low_level']['note']}.</p>"))

    sections.append(("Contact sheets: real and synthetic side by side",
                     image(figures.contact_sheets(syn["sheet"], rl["sheet"]), "contact sheets")))
    names = [n for n in STATISTICS if n not in ("fps",)]
    per_clip = {d: {n: [s[n] for s in src["stats"]] for n in names} for d, src in (("synthetic", syn), ("real", rl))}
    sections.append(("Low-level statistics: overlaid histograms",
                     image(figures.statistic_histograms(per_clip, names, {n: u for n, (_, u) in STATISTICS.items()}), "statistic histograms")
                     + image(figures.colour_histograms(np.stack([s["colour_histogram"] for s in syn["stats"]]),
                                                       np.stack([s["colour_histogram"] for s in rl["stats"]])), "colour histograms")))
    points = _embedding_points(space["z_synthetic"], space["z_real"])
    domains = ["synthetic"] * len(space["z_synthetic"]) + ["real"] * len(space["z_real"])
    sections.append(("Features in 2-D (PCA of the pooled z-scored features)",
                     image(figures.embedding(points, domains, syn["labels"] + rl["labels"], feats["kind"] + " features, first two principal components"),
                           "feature embedding")))

    pf = metrics["per_factor"]
    factor_rows = [[f["factor"], f"{f['spread']:.3f}", f["best"], f["worst"], "yes" if f["separated"] else "no", len(f["bins"])]
                   for f in pf["factors"][:15]]
    drivers = [entry["sentence"] for entry in pf["statistics"].values()]
    sections.append(("Which factors cause the gap", "<p>Low-level statistics with a clear gap, and the factor that moves each most:</p>"
                     + bullet_list(drivers) + "<p>Feature-level distance of each factor's bins to the real clips:</p>"
                     + bullet_list(pf["sentences"])
                     + table(["factor", "spread of MMD²", "nearest to real", "farthest from real", "intervals apart", "bins"], factor_rows)
                     + f"<p class=\"note\">{pf['distance']}. {len(pf['factors'])} factors vary enough to bin; the overall MMD² "
                       f"(dashed line) is {mmd['value']:.3f}.</p>"
                     + image(figures.factor_bars(pf["factors"], reference=mmd["value"]), "per-factor bars")))
    if pf["per_class_sentences"]:
        inner = "".join(f"<h3>{c}</h3>" + bullet_list(s) for c, s in pf["per_class_sentences"].items())
        sections.append(("Per class (classes both sets share)", inner))
    cd = metrics["class_distances"]
    if cd["real_classes"] and cd["synthetic_classes"]:
        sections.append(("Real classes against synthetic classes", image(figures.class_distance_heatmap(cd), "class distances")))
    return page("simgen realism calibration report", sections)

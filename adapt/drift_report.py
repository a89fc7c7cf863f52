"""``report.html`` of ``simgen monitor``: one self-contained page (inline CSS, PNG data URIs, no script)."""

from __future__ import annotations

from html import escape

import numpy as np

from simgen.adapt.calibrate.figures import _png, _pyplot
from simgen.adapt.calibrate.html import bullet_list, image, page, table
from simgen.adapt.drift import STATISTICS, standardise

COLOURS = {"reference": "#1f77b4", "stream": "#d62728"}


def null_figure(tests: dict) -> bytes:
    """Each statistic's permutation null distribution, with the observed value as a line."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(STATISTICS), figsize=(3.2 * len(STATISTICS), 2.6))
    for ax, name in zip(axes, STATISTICS):
        st = tests["statistics"][name]
        ax.hist(tests["null"][name], bins=30, color="#999999")
        ax.axvline(st["value"], color=COLOURS["stream"] if st["flagged"] else "#222222", lw=2)
        ax.set_title(f"{name}: p = {st['p_value']:.4f}", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle("null distribution (re-splits of reference + stream) and the observed value", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def per_clip_figure(tests: dict, classes: list[str]) -> bytes:
    """k-NN distance (reference: leave-one-out), prediction entropy and predicted-class shares."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.8))
    nov = tests["novelty"]
    panels = ((axes[0], "k-NN distance to reference", nov["reference_scores"], nov["stream_scores"]),
              (axes[1], "normalised entropy", tests["reference_entropy"], tests["stream_entropy"]))
    for ax, title, ref, stream in panels:
        bins = np.histogram_bin_edges(np.concatenate([ref, stream]), bins=20)
        for name, values in (("reference", ref), ("stream", stream)):
            ax.hist(values, bins=bins, alpha=0.55, density=True, color=COLOURS[name], label=f"{name} ({len(values)})")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    x = np.arange(len(classes))
    axes[2].bar(x - 0.2, tests["reference_classes"], 0.4, color=COLOURS["reference"], label="reference")
    axes[2].bar(x + 0.2, tests["stream_classes"], 0.4, color=COLOURS["stream"], label="stream")
    axes[2].set_xticks(x, classes, fontsize=7)
    axes[2].set_title("predicted-class share", fontsize=9)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def embedding_figure(ref_feats: np.ndarray, stream_feats: np.ndarray, novel: np.ndarray) -> bytes:
    """The pooled (z-scored) features on their first two principal components; novel stream clips ringed."""
    plt = _pyplot()
    zr, zs = standardise(ref_feats, stream_feats)
    pooled = np.concatenate([zr, zs])
    centred = pooled - pooled.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T if len(vt) >= 2 else np.pad(centred @ vt.T, ((0, 0), (0, 2 - len(vt))))
    r, s = xy[: len(zr)], xy[len(zr):]
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.scatter(r[:, 0], r[:, 1], s=14, color=COLOURS["reference"], label="reference", alpha=0.7)
    ax.scatter(s[:, 0], s[:, 1], s=14, color=COLOURS["stream"], label="stream", alpha=0.8)
    if novel.any():
        ax.scatter(s[novel, 0], s[novel, 1], s=80, facecolors="none", edgecolors="black", label="novel (p < alpha)")
    ax.set_xlabel("PC 1", fontsize=8)
    ax.set_ylabel("PC 2", fontsize=8)
    ax.legend(fontsize=7)
    ax.set_title("clip features, first two principal components", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def build_html(report: dict, tests: dict, ref_feats: np.ndarray, stream_feats: np.ndarray) -> str:
    """The whole page for one monitor run."""
    src = report["sources"]
    verdict = ("<p><b>FLAGGED: the stream has drifted from the reference.</b></p>" if report["flagged"]
               else "<p><b>Not flagged: no statistic departs from its null distribution.</b></p>")
    summary = verdict + bullet_list(report["reasons"]) + (bullet_list(report["notes"]) if report["notes"] else "") + (
        f"<p class=\"note\">reference {escape(src['reference'])} ({src['n_reference']} clips), stream "
        f"{escape(src['stream'])} ({src['n_stream']} clips), model {escape(src['checkpoint'])}. Each statistic is "
        f"tested at alpha / {len(STATISTICS)} = {report['level_per_statistic']:.4f} against {report['permutations']} "
        "random re-splits of the pooled clips into sets of the reference's and the stream's sizes (a permutation "
        "test: no hand-set threshold); a clip is novel when its k-NN distance to the reference exceeds all but a "
        f"share alpha = {report['alpha']} of the reference clips' own leave-one-out distances.</p>")
    stats_rows = [[n, s["what"], f"{s['value']:.4g}", f"{s['null_mean']:.4g}", f"{s['null_q95']:.4g}",
                   f"{s['p_value']:.4f}", "yes" if s["flagged"] else "no"] for n, s in report["statistics"].items()]
    stats_html = table(["statistic", "of", "observed", "null mean", "null 95%", "p-value", "flagged"], stats_rows)
    label_rows = [[p["rank"], p["path"], "yes" if p["novel"] else "no", p["novelty_p"], p["uncertainty"],
                   p["predicted"]]
                  for p in report["label_first"]]
    label_html = table(["rank", "clip", "novel", "novelty p", "uncertainty", "predicted"], label_rows, name_columns=2)
    clip_rows = [[c["path"], c["label"] or "", c["predicted"], c["confidence"], c["entropy"], c["knn_distance"],
                  c["novelty_p"]] for c in report["per_clip"]]
    clips_html = table(["clip", "label", "predicted", "confidence", "entropy", "k-NN distance", "novelty p"], clip_rows)
    novel = np.array([c["novel"] for c in report["per_clip"]], dtype=bool)
    sections = [
        ("Verdict", summary),
        ("Statistics", stats_html + image(null_figure(tests), "null distributions")),
        ("Per clip", image(per_clip_figure(tests, report["classes"]), "per-clip distributions")
         + image(embedding_figure(ref_feats, stream_feats, novel), "feature embedding")),
        ("Label these first", "<p class=\"note\">Novel clips first, then the rest; within each group by "
         "uncertainty x distance to the clips already picked (simgen.adapt.active).</p>" + label_html),
        ("Every stream clip", clips_html),
    ]
    return page("Drift monitor", sections)

"""The report's pictures, each returned as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io

import numpy as np

DOMAIN_COLOURS = {"synthetic": "#1f77b4", "real": "#d62728"}
MARKERS = "osD^v<>Ppx*h"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _sheet(clips: list[tuple[str, np.ndarray]], columns: int) -> np.ndarray:
    """Rows of ``columns`` frames spread over each clip; frames of other sizes are resized to the first's."""
    import cv2

    size = clips[0][1].shape[1:3]
    rows = []
    for _, frames in clips:
        picks = np.linspace(0, len(frames) - 1, columns).round().astype(int)
        tiles = [cv2.resize(frames[i], size[::-1]) if frames[i].shape[:2] != size else frames[i] for i in picks]
        rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows, axis=0)


def contact_sheets(synthetic: list[tuple[str, np.ndarray]], real: list[tuple[str, np.ndarray]], columns: int = 4) -> bytes:
    """Real and synthetic clips side by side: one row per clip, labelled with its class."""
    plt = _pyplot()
    rows = max(len(synthetic), len(real))
    fig, axes = plt.subplots(1, 2, figsize=(2.0 * columns, 0.55 * columns * rows / 2 + 0.8))
    for ax, title, clips in ((axes[0], "real", real), (axes[1], "synthetic", synthetic)):
        ax.set_title(f"{title} ({len(clips)} clips, {columns} frames each)")
        ax.axis("off")
        if not clips:
            continue
        sheet = _sheet(clips, columns)
        ax.imshow(sheet, interpolation="nearest")
        h = sheet.shape[0] / len(clips)
        for r, (label, _) in enumerate(clips):
            ax.text(-2, (r + 0.5) * h, label, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def statistic_histograms(per_clip: dict[str, dict[str, list]], names: list[str], units: dict[str, str]) -> bytes:
    """Overlaid histograms (densities) of each low-level statistic: synthetic vs real."""
    plt = _pyplot()
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        values = {d: np.asarray([v for v in per_clip[d][name] if v is not None], dtype=np.float64) for d in ("synthetic", "real")}
        pooled = np.concatenate([v for v in values.values() if v.size]) if any(v.size for v in values.values()) else np.zeros(1)
        lo, hi = float(pooled.min()), float(pooled.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
        for domain, v in values.items():
            if v.size:
                ax.hist(v, bins=edges, density=True, alpha=0.5, color=DOMAIN_COLOURS[domain], label=f"{domain} (n={v.size})")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(units.get(name, ""), fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def colour_histograms(synthetic: np.ndarray, real: np.ndarray) -> bytes:
    """Mean RGB histograms (float[N, 3, bins] per set), one panel per channel."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(10, 2.4))
    bins = synthetic.shape[-1]
    centres = (np.arange(bins) + 0.5) * 256 / bins
    for c, (ax, name) in enumerate(zip(axes, ("red", "green", "blue"))):
        for domain, h in (("synthetic", synthetic), ("real", real)):
            ax.plot(centres, h[:, c].mean(0), color=DOMAIN_COLOURS[domain], label=domain)
            ax.fill_between(centres, h[:, c].mean(0), color=DOMAIN_COLOURS[domain], alpha=0.2)
        ax.set_title(f"{name} channel", fontsize=9)
        ax.set_xlabel("intensity", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("share of pixels", fontsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def embedding(points: np.ndarray, domains: list[str], labels: list[str | None], title: str) -> bytes:
    """2-D scatter of clip features coloured by domain, marker by class."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.6))
    classes = sorted({c for c in labels if c}) or [None]
    for domain in ("synthetic", "real"):
        for k, c in enumerate(classes):
            sel = np.asarray([d == domain and (c is None or lab == c) for d, lab in zip(domains, labels)])
            if sel.any():
                ax.scatter(points[sel, 0], points[sel, 1], c=DOMAIN_COLOURS[domain], marker=MARKERS[k % len(MARKERS)],
                           s=46 if domain == "real" else 16, alpha=0.9 if domain == "real" else 0.5,
                           edgecolors="black" if domain == "real" else "none", linewidths=0.5,
                           label=f"{domain} {c}" if c else domain)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="best")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def factor_bars(ranked: list[dict], top: int = 8, reference: float | None = None) -> bytes:
    """One panel per top factor: each bin's MMD² to the real set with its 95% interval."""
    plt = _pyplot()
    shown = ranked[:top] or []
    cols = 2
    rows = max(1, int(np.ceil(len(shown) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.3 * rows), squeeze=False)
    for ax, f in zip(axes.flat, shown):
        bins = f["bins"]
        y = np.asarray([b["mmd"] for b in bins])
        lo = y - np.asarray([b["ci95"][0] for b in bins])
        hi = np.asarray([b["ci95"][1] for b in bins]) - y
        colours = ["#2ca02c" if b["bin"] == f["best"] else "#d62728" if b["bin"] == f["worst"] else "#7f7f7f" for b in bins]
        ax.bar(range(len(bins)), y, yerr=np.stack([np.maximum(lo, 0), np.maximum(hi, 0)]), color=colours, capsize=3)
        ax.set_xticks(range(len(bins)))
        ax.set_xticklabels([f"{b['bin']}\n(n={b['n']})" for b in bins], fontsize=6)
        if reference is not None:
            ax.axhline(reference, color="black", linestyle="--", linewidth=0.8)
        ax.set_title(f"{f['factor']} (spread {f['spread']:.3f})", fontsize=8)
        ax.set_ylabel("MMD² to real", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def class_distance_heatmap(table: dict) -> bytes:
    """Real classes (rows) against synthetic classes (columns): MMD², the nearest per row boxed."""
    plt = _pyplot()
    real, syn = table["real_classes"], table["synthetic_classes"]
    grid = np.asarray([[table["mmd"][r][s] for s in syn] for r in real], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(1.1 * len(syn) + 2, 0.8 * len(real) + 1.2))
    im = ax.imshow(grid, cmap="viridis_r")
    ax.set_xticks(range(len(syn)))
    ax.set_xticklabels([f"syn {s}" for s in syn], fontsize=8, rotation=30)
    ax.set_yticks(range(len(real)))
    ax.set_yticklabels([f"real {r}" for r in real], fontsize=8)
    for i, r in enumerate(real):
        for j, s in enumerate(syn):
            nearest = table["nearest_synthetic_class"].get(r) == s
            ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if nearest else "black", fontweight="bold" if nearest else "normal")
    fig.colorbar(im, ax=ax, label="MMD² (lower = more alike)")
    ax.set_title("nearest synthetic class per real class (bold)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def tuning_curve(scores: list[float]) -> bytes:
    """Each probe's gap and the best so far, against the probe number (probe 0: the spec as given)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    x = np.arange(len(scores))
    ax.plot(x, scores, "o", color="#7f7f7f", label="probe")
    ax.plot(x, np.minimum.accumulate(scores), "-", color="#2ca02c", label="best so far")
    ax.set_xlabel("probe")
    ax.set_ylabel("gap (MMD²)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)

"""The figure of `simgen stats`: a grid of panels drawn from the summary dictionary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PLOT_FACTORS = ("camera.azimuth_deg", "camera.actor_height_fraction", "body.height_m", "action.speed")


def _no_data(ax, title: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
    ax.set_xticks([])
    ax.set_yticks([])


def _mark_missing(ax, values: list[float | None], x_offset: float = 0.0) -> None:
    """Write 'n/a' where a class has no measurement, so an empty bar is not read as zero."""
    for x, v in enumerate(values):
        if v is None:
            ax.text(x + x_offset, 0, "n/a", ha="center", va="bottom", fontsize=7, color="0.4")


def _class_axis(ax, classes: list[str]) -> None:
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes, rotation=45, ha="right", fontsize=8)


def plot_stats(summary: dict, out_png: str | Path) -> Path:
    """Draw the 2 x 4 panel figure of a `dataset_stats` summary (Agg canvas; no pyplot global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    classes = summary["classes"]
    fig = Figure(figsize=(18, 8.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 4)
    fig.suptitle(
        f"{Path(summary['dataset']).name}: {summary['clips']} clips, {summary['frames']} frames, {len(classes)} classes"
        + (f", rejection rate {summary['rejection_rate']:.1%}" if summary.get("rejection_rate") is not None else ""),
        fontsize=14,
    )

    ax = axes[0, 0]
    counts = [summary["clips_per_class"][c] for c in classes]
    ax.bar(range(len(classes)), counts, color="tab:blue")
    _class_axis(ax, classes)
    ax.set_title("clips per class")
    ax.set_ylabel("clips")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    ax = axes[0, 1]
    hist = summary["visibility_histogram"]
    if sum(hist["counts"]):
        edges = np.asarray(hist["edges"])
        ax.bar(edges[:-1], hist["counts"], width=np.diff(edges), align="edge", color="tab:green", edgecolor="white")
        ax.set_title(f"visibility per frame ({summary['visibility_source']})")
        ax.set_xlabel("visible fraction")
        ax.set_ylabel("frames")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, 1)
    else:
        _no_data(ax, "visibility per frame")

    ax = axes[0, 2]
    me = summary["motion_energy_per_class"]
    e3 = [me[c]["keypoints_3d_m_per_s"] for c in classes]
    e2 = [me[c]["keypoints_2d_bbox_heights_per_s"] for c in classes]
    if any(v is not None for v in e3 + e2):
        x = np.arange(len(classes))
        ax.bar(x - 0.2, [v or 0.0 for v in e3], width=0.4, color="tab:orange", label="3D (m/s)")
        ax.set_ylabel("3D keypoint speed (m/s)")
        ax2 = ax.twinx()
        ax2.bar(x + 0.2, [v or 0.0 for v in e2], width=0.4, color="tab:purple", label="2D (bbox heights/s)")
        ax2.set_ylabel("2D speed (bbox heights/s)")
        _mark_missing(ax, [None if a is None and b is None else 0.0 for a, b in zip(e3, e2)])
        ax.set_ylim(0, 1.3 * max(v or 0.0 for v in e3) or 1.0)
        ax2.set_ylim(0, 1.3 * max(v or 0.0 for v in e2) or 1.0)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles=handles, fontsize=8, loc="upper left")
        _class_axis(ax, classes)
        ax.set_title("motion energy per class")
    else:
        _no_data(ax, "motion energy per class")

    ax = axes[0, 3]
    div = summary["diversity_per_class"]
    between = summary["diversity_between_classes"]
    if any(div[c] is not None for c in classes) or between is not None:
        ax.bar(range(len(classes)), [div[c] or 0.0 for c in classes], color="tab:cyan", label="within class")
        _mark_missing(ax, [div[c] for c in classes])
        if between is not None:
            ax.axhline(between, color="tab:red", linestyle="--", label=f"between classes ({between:.3f} m)")
        ax.set_ylim(0, 1.3 * max([between or 0.0] + [div[c] or 0.0 for c in classes]) or 1.0)
        ax.legend(fontsize=8, loc="upper left")
        _class_axis(ax, classes)
        ax.set_ylabel("mean joint distance (m)")
        ax.set_title("pose diversity (within class)")
    else:
        _no_data(ax, "pose diversity")

    numeric = [k for k, v in summary["factor_bins"].items() if v["kind"] == "numeric"]
    chosen = [k for k in PLOT_FACTORS if k in numeric]
    chosen += [k for k in numeric if k not in chosen][: 4 - len(chosen)]
    for n, ax in enumerate(axes[1]):
        if n >= len(chosen):
            _no_data(ax, PLOT_FACTORS[n] if n < len(PLOT_FACTORS) else "factor")
            continue
        fb = summary["factor_bins"][chosen[n]]
        edges = np.asarray(fb["edges"])
        ax.bar(edges[:-1], fb["counts"], width=np.diff(edges), align="edge", color="tab:gray", edgecolor="white")
        ax.set_title(f"factor: {chosen[n]}")
        ax.set_xlabel(chosen[n].split(".", 1)[1])
        ax.set_ylabel("clips")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png)
    return out_png


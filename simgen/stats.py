"""Summarise a generated dataset: class balance, factor coverage, visibility, motion and pose diversity.

`simgen stats DIR` writes DIR/stats.json (every number measured from the clips' annotations; nothing
is decoded) and DIR/stats.png (a grid of panels), then prints a short table.

Example:
    >>> summary = dataset_stats("runs/demo", "runs/demo/stats.json", "runs/demo/stats.png")  # doctest: +SKIP
    >>> summary["clips"], summary["diversity_between_classes"]                              # doctest: +SKIP
    (24, 0.21)
"""

from __future__ import annotations

import json
import math
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from simgen.dataset.reader import DatasetReader
from simgen.errors import SimgenError
from simgen.stats_plot import plot_stats

FACTOR_GROUPS = ("camera", "action", "body")
FACTOR_BINS = 8
VISIBILITY_BINS = 10
DIVERSITY_FRAMES = 16
DIVERSITY_MAX_PER_CLASS = 50
# Factors that identify rather than describe a clip (random seeds) or duplicate another field.
_SKIP_FACTORS = {"action.label"}


# ----------------------------------------------------------------------------------------------
# Measurements on one clip (pure numpy; tested directly).


def pose_descriptor(keypoints_3d: np.ndarray, frames: int = DIVERSITY_FRAMES) -> np.ndarray:
    """float[frames, J, 3]: keypoints made root-relative (joint 0 subtracted each frame), resampled in time.

    Resampling is linear interpolation over normalised time, so clips of different lengths compare.
    """
    kp = np.asarray(keypoints_3d, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 3 or kp.shape[0] < 1 or kp.shape[1] < 1:
        raise ValueError(f"keypoints_3d must be [T][J][3] with T, J >= 1, got shape {kp.shape}")
    rel = kp - kp[:, :1, :]
    if len(rel) == 1:
        return np.repeat(rel, frames, axis=0)
    t_src = np.linspace(0.0, 1.0, len(rel))
    t_dst = np.linspace(0.0, 1.0, frames)
    flat = rel.reshape(len(rel), -1)
    out = np.stack([np.interp(t_dst, t_src, flat[:, c]) for c in range(flat.shape[1])], axis=1)
    return out.reshape(frames, *rel.shape[1:])


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over frames and joints of the Euclidean distance between two [T, J, 3] descriptors (metres)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"descriptor shapes differ: {a.shape} vs {b.shape}")
    return float(np.linalg.norm(a - b, axis=-1).mean())


def _pairwise_distances(desc: np.ndarray) -> np.ndarray:
    """float[N, N] of pose_distance between every pair of descriptors desc[N, T, J, 3]."""
    n = len(desc)
    out = np.zeros((n, n))
    for i in range(n - 1):
        out[i, i + 1 :] = np.linalg.norm(desc[i + 1 :] - desc[i], axis=-1).mean(axis=(1, 2))
    return out + out.T


def motion_energy_3d(keypoints_3d: np.ndarray, fps: float) -> float | None:
    """Mean speed (m/s) of the 3D keypoints over all joints and frame steps; None for a one-frame clip."""
    kp = np.asarray(keypoints_3d, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints_3d must be [T][J][3], got shape {kp.shape}")
    if len(kp) < 2:
        return None
    return float(np.linalg.norm(np.diff(kp, axis=0), axis=-1).mean() * fps)


def motion_energy_2d(keypoints_2d: np.ndarray, bbox: np.ndarray, fps: float) -> float | None:
    """Mean image speed of the keypoints, in bounding-box heights per second.

    A step t -> t+1 counts the joints visible in both frames and divides by the box height at t; steps
    with no such joint or an empty box are skipped. None when no step qualifies.
    """
    kp = np.asarray(keypoints_2d, dtype=np.float64)
    box = np.asarray(bbox, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints_2d must be [T][J][3], got shape {kp.shape}")
    if box.shape != (len(kp), 4):
        raise ValueError(f"bbox must be [T][4] with T={len(kp)}, got shape {box.shape}")
    if len(kp) < 2:
        return None
    step = np.linalg.norm(np.diff(kp[..., :2], axis=0), axis=-1)  # [T-1, J] pixels
    both = (kp[:-1, :, 2] > 0) & (kp[1:, :, 2] > 0)
    height = box[:-1, 3] - box[:-1, 1]
    ok = both.any(axis=1) & (height > 0)
    if not ok.any():
        return None
    per_step = (step * both).sum(axis=1)[ok] / both.sum(axis=1)[ok] / height[ok]
    return float(per_step.mean() * fps)


def visibility_per_frame(ann: dict) -> tuple[np.ndarray, str]:
    """(float[T] in [0, 1], source): `visible_fraction` when the clip has it, else the visible-keypoint share."""
    vf = ann.get("visible_fraction")
    if vf is not None:
        return np.clip(np.asarray(vf, dtype=np.float64).reshape(-1), 0.0, 1.0), "visible_fraction"
    kp = np.asarray(ann["keypoints_2d"], dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints_2d must be [T][J][3], got shape {kp.shape}")
    return (kp[..., 2] > 0).mean(axis=1), "keypoints_2d"


def flatten_factors(factors: dict) -> dict[str, Any]:
    """{'camera.azimuth_deg': 12.0, 'action.mirror': True, 'action.amplitudes.sweep': 1.1, ...} over
    the camera, action and body groups; lists and random seeds are left out."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
            return
        leaf = prefix.rsplit(".", 1)[-1]
        if prefix in _SKIP_FACTORS or leaf == "seed" or leaf.endswith("_seed"):
            return
        if value is None or isinstance(value, (bool, str, int, float)):
            flat[prefix] = value

    for group in FACTOR_GROUPS:
        if isinstance(factors.get(group), dict):
            walk(group, factors[group])
    return flat


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def histogram(values: list[float] | np.ndarray, bins: int, range_: tuple[float, float] | None = None) -> dict:
    """{'edges': [bins+1], 'counts': [bins]}; every value lands in a bin (the last bin is closed)."""
    arr = np.asarray(values, dtype=np.float64)
    counts, edges = np.histogram(arr, bins=bins, range=range_)
    # Edges of a fixed range are tidied (0.30000000000000004 -> 0.3); data-driven edges are kept exact so
    # that they still enclose the data.
    tidy = (lambda e: round(float(e), 12)) if range_ is not None else float
    return {"edges": [tidy(e) for e in edges], "counts": [int(c) for c in counts]}


def factor_bins(flat_rows: list[dict[str, Any]]) -> dict[str, dict]:
    """Per factor: numeric -> {'kind': 'numeric', edges, counts, min, max, mean}; otherwise
    {'kind': 'categorical', 'counts': {value: n}}. `missing` counts clips without the factor."""
    names = sorted({k for row in flat_rows for k in row})
    out: dict[str, dict] = {}
    for name in names:
        present = [row[name] for row in flat_rows if name in row and row[name] is not None]
        missing = len(flat_rows) - len(present)
        if present and all(_is_number(v) for v in present):
            arr = np.asarray(present, dtype=np.float64)
            out[name] = {
                "kind": "numeric",
                **histogram(arr, FACTOR_BINS),
                "min": float(arr.min()),
                "max": float(arr.max()),
                "mean": float(arr.mean()),
                "missing": missing,
            }
        else:
            counts: dict[str, int] = {}
            for v in present:
                key = json.dumps(v) if isinstance(v, bool) else str(v)
                counts[key] = counts.get(key, 0) + 1
            out[name] = {"kind": "categorical", "counts": dict(sorted(counts.items())), "missing": missing}
    return out


# ----------------------------------------------------------------------------------------------
# The dataset pass.


def _pick_evenly(items: list, limit: int | None) -> list:
    """At most `limit` items spread evenly over the list (deterministic; all when limit is None)."""
    if limit is None or len(items) <= limit:
        return list(items)
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, limit)).astype(int))
    return [items[i] for i in idx]


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _open(root: Path) -> DatasetReader:
    if not root.exists():
        raise SimgenError("no such folder", file=str(root))
    if not root.is_dir():
        raise SimgenError("not a folder (expected a dataset folder written by `simgen generate`)", file=str(root))
    ds = DatasetReader(root)
    if not (root / "manifest.jsonl").exists():
        raise SimgenError("not a simgen dataset (no manifest.jsonl)", file=str(root))
    if not ds.rows:
        raise SimgenError("the dataset has no clips", file=str(root / "manifest.jsonl"))
    for n, row in enumerate(ds.rows, 1):
        for field in ("key", "shard", "label"):
            if field not in row:
                raise SimgenError(f"row {n} has no '{field}'", file=str(root / "manifest.jsonl"), field=field)
    return ds


def _read(ds: DatasetReader, i: int) -> dict:
    row = ds.rows[i]
    where = str(ds.root / "shards" / row["shard"])
    try:
        ann = ds.read_annotations(i)
    except SimgenError:
        raise
    except FileNotFoundError:
        raise SimgenError("shard missing", file=where) from None
    except (tarfile.TarError, OSError) as exc:
        raise SimgenError(f"unreadable shard ({exc})", file=where) from None
    except json.JSONDecodeError as exc:
        raise SimgenError(f"annotations of {row['key']} are not JSON: {exc.msg}", file=where) from None
    if not isinstance(ann, dict):
        raise SimgenError(f"annotations of {row['key']} are not an object", file=where)
    return ann


def _rejection(meta: dict) -> tuple[float | None, dict | None]:
    rej = meta.get("rejections")
    if not isinstance(rej, dict):
        return None, None
    rejected, attempts = rej.get("rejected"), rej.get("attempts")
    if not (_is_number(rejected) and _is_number(attempts)) or attempts <= 0:
        return None, rej
    return float(rejected) / float(attempts), rej


def dataset_stats(
    root: str | Path,
    out_json: str | Path,
    out_png: str | Path,
    *,
    max_clips: int | None = None,
    progress: bool = True,
) -> dict:
    """Measure the dataset at `root`, write the summary to `out_json` and the figure to `out_png`.

    max_clips: analyse at most this many clips, spread evenly over the manifest (key order).
    Raises SimgenError when `root` is not a readable dataset or an annotation is malformed.
    """
    root = Path(root)
    if max_clips is not None and max_clips < 1:
        raise SimgenError(f"must be at least 1, got {max_clips}", field="max_clips")
    ds = _open(root)
    spec = ds.meta.get("spec") if isinstance(ds.meta.get("spec"), dict) else {}
    spec_fps = spec.get("fps")

    indices = _pick_evenly(list(range(len(ds.rows))), max_clips)
    classes = list(ds.classes)
    for i in indices:
        if ds.rows[i]["label"] not in classes:
            classes.append(ds.rows[i]["label"])

    per_class: dict[str, int] = {c: 0 for c in classes}
    flat_rows: list[dict[str, Any]] = []
    vis_values: list[np.ndarray] = []
    vis_sources: set[str] = set()
    m3: dict[str, list[float]] = {c: [] for c in classes}
    m2: dict[str, list[float]] = {c: [] for c in classes}
    kp_by_class: dict[str, list[tuple[int, np.ndarray]]] = {c: [] for c in classes}
    plaus: dict[str, list[float]] = {}
    frames_total = 0
    fps_seen: set[float] = set()

    bar = tqdm(indices, unit="clip", desc="stats", disable=not progress, dynamic_ncols=True)
    for i in bar:
        row = ds.rows[i]
        label = row["label"]
        ann = _read(ds, i)
        where = f"{ds.root / 'shards' / row['shard']}:{row['key']}.json"
        per_class[label] += 1
        factors = ann.get("factors", row.get("factors"))
        flat_rows.append(flatten_factors(factors) if isinstance(factors, dict) else {})

        fps = ann.get("fps", spec_fps)
        if fps is not None and (not _is_number(fps) or fps <= 0):
            raise SimgenError(f"fps must be a positive number, got {fps!r}", file=where, field="fps")
        if fps is not None:
            fps_seen.add(float(fps))

        field = "keypoints_3d"
        try:
            kp3 = np.asarray(ann["keypoints_3d"], dtype=np.float64)
            if kp3.ndim != 3 or kp3.shape[-1] != 3 or len(kp3) < 1:
                raise ValueError(f"expected [T][J][3], got shape {kp3.shape}")
            frames_total += len(kp3)
            field = "visible_fraction" if ann.get("visible_fraction") is not None else "keypoints_2d"
            vis, source = visibility_per_frame(ann)
            vis_values.append(vis)
            vis_sources.add(source)
            if fps is not None:
                field = "keypoints_3d"
                e3 = motion_energy_3d(kp3, fps)
                if e3 is not None:
                    m3[label].append(e3)
                if "keypoints_2d" in ann and "bbox" in ann:
                    field = "keypoints_2d"
                    e2 = motion_energy_2d(ann["keypoints_2d"], ann["bbox"], fps)
                    if e2 is not None:
                        m2[label].append(e2)
        except KeyError as exc:
            raise SimgenError("missing", file=where, field=str(exc.args[0])) from None
        except (ValueError, TypeError) as exc:
            raise SimgenError(str(exc), file=where, field=field) from None
        kp_by_class[label].append((i, kp3))

        if isinstance(ann.get("plausibility"), dict):
            for k, v in ann["plausibility"].items():
                if _is_number(v):
                    plaus.setdefault(k, []).append(float(v))
    bar.close()

    # Visibility over every frame of every analysed clip.
    all_vis = np.concatenate(vis_values) if vis_values else np.zeros(0)
    vis_source = vis_sources.pop() if len(vis_sources) == 1 else ("mixed" if vis_sources else None)

    # Diversity: descriptors of at most DIVERSITY_MAX_PER_CLASS clips per class, chosen evenly.
    desc_labels: list[str] = []
    descs: list[np.ndarray] = []
    sampled: dict[str, int] = {}
    for c in classes:
        chosen = _pick_evenly(kp_by_class[c], DIVERSITY_MAX_PER_CLASS)
        sampled[c] = len(chosen)
        for _, kp3 in chosen:
            descs.append(pose_descriptor(kp3))
            desc_labels.append(c)
    diversity: dict[str, float | None] = {c: None for c in classes}
    between: float | None = None
    joints = {d.shape[1] for d in descs}
    if len(joints) > 1:
        raise SimgenError(f"clips have different joint counts {sorted(joints)}", file=str(root), field="keypoints_3d")
    if descs:
        dist = _pairwise_distances(np.stack(descs))
        lab = np.asarray(desc_labels)
        same = lab[:, None] == lab[None, :]
        upper = np.triu(np.ones_like(same), k=1)
        for c in classes:
            sel = (lab[:, None] == c) & (lab[None, :] == c) & upper
            if sel.any():
                diversity[c] = float(dist[sel].mean())
        diff = ~same & upper
        if diff.any():
            between = float(dist[diff].mean())

    rate, rej = _rejection(ds.meta)
    fps_report: float | list[float] | None = None
    if len(fps_seen) == 1:
        fps_report = fps_seen.pop()
    elif fps_seen:
        fps_report = sorted(fps_seen)

    summary: dict[str, Any] = {
        "dataset": str(root),
        "clips": len(indices),
        "clips_in_dataset": len(ds.rows),
        "frames": frames_total,
        "fps": fps_report,
        "classes": classes,
        "clips_per_class": per_class,
        "factor_bins": factor_bins(flat_rows),
        "visibility_source": vis_source,
        "visibility_histogram": histogram(all_vis, VISIBILITY_BINS, (0.0, 1.0)),
        "visibility_mean": float(all_vis.mean()) if len(all_vis) else None,
        "motion_energy_per_class": {
            c: {"keypoints_3d_m_per_s": _mean(m3[c]), "keypoints_2d_bbox_heights_per_s": _mean(m2[c])} for c in classes
        },
        "rejection_rate": rate,
        "rejections": rej,
        "diversity_per_class": diversity,
        "diversity_between_classes": between,
        "diversity_sampled_per_class": sampled,
        "plausibility": {
            k: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)), "clips": len(v)}
            for k, v in sorted(plaus.items())
        }
        or None,
        "units": {
            "motion_energy_per_class.keypoints_3d_m_per_s": "mean 3D keypoint speed, metres per second",
            "motion_energy_per_class.keypoints_2d_bbox_heights_per_s": (
                "mean image keypoint speed, bounding-box heights per second"
            ),
            "diversity": (
                "mean per-joint per-frame distance (metres) between root-relative poses"
                f" resampled to {DIVERSITY_FRAMES} frames"
            ),
            "visibility_histogram": f"frames per bin of {vis_source or 'visibility'} over [0, 1]",
        },
    }

    out_json = Path(out_json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    plot_stats(summary, out_png)
    return summary


# ----------------------------------------------------------------------------------------------
# Command line.


def add_arguments(parser) -> None:
    """Arguments of `simgen stats`."""
    parser.add_argument("dataset", type=Path, help="dataset folder written by `simgen generate`")
    parser.add_argument("--out", type=Path, help="JSON summary to write (default DIR/stats.json)")
    parser.add_argument("--png", type=Path, help="figure to write (default DIR/stats.png)")
    parser.add_argument("--max-clips", type=int, help="analyse at most this many clips, spread evenly over the dataset")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def format_table(summary: dict) -> str:
    """Plain-text table: clips, motion energy and diversity per class, then dataset-wide lines."""
    classes = summary["classes"]
    header = ("class", "clips", "motion 3D m/s", "motion 2D bbox-h/s", "diversity m")
    rows = [
        (
            c,
            str(summary["clips_per_class"][c]),
            _fmt(summary["motion_energy_per_class"][c]["keypoints_3d_m_per_s"]),
            _fmt(summary["motion_energy_per_class"][c]["keypoints_2d_bbox_heights_per_s"]),
            _fmt(summary["diversity_per_class"][c]),
        )
        for c in classes
    ]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(s.ljust(w) if k == 0 else s.rjust(w) for k, (s, w) in enumerate(zip(r, widths)))

    out = [line(header), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]
    out.append(f"clips {summary['clips']} of {summary['clips_in_dataset']}, frames {summary['frames']}")
    out.append(f"diversity between classes: {_fmt(summary['diversity_between_classes'])} m")
    out.append(f"mean visibility: {_fmt(summary['visibility_mean'])} ({summary['visibility_source']})")
    rate = summary["rejection_rate"]
    out.append(f"rejection rate: {'-' if rate is None else f'{rate:.1%}'}")
    return "\n".join(out)


def run(args) -> int:
    """`simgen stats`: write the JSON and PNG, print their paths and the table. Returns the exit status."""
    root = Path(args.dataset)
    out_json = args.out if args.out is not None else root / "stats.json"
    out_png = args.png if args.png is not None else root / "stats.png"
    summary = dataset_stats(root, out_json, out_png, max_clips=args.max_clips, progress=not args.quiet)
    print(f"wrote {out_json}")
    print(f"wrote {out_png}")
    print(format_table(summary))
    return 0

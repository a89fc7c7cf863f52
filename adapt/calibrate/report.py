"""``run_calibration``: measure the synthetic-to-real gap and write ``report.html`` and ``metrics.json``.

Example:
    >>> metrics = run_calibration("runs/w4", "../shared/data/weizmann4_dev", "runs/calib")  # doctest: +SKIP
    >>> metrics["proxy_a_distance"]["value"]                                               # doctest: +SKIP
    1.9
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from simgen.adapt.calibrate import clips as clip_io
from simgen.adapt.calibrate.distances import feature_gap, histogram_gap, scalar_gap
from simgen.adapt.calibrate.features import FeatureExtractor
from simgen.adapt.calibrate.lowlevel import STATISTICS, clip_statistics
from simgen.adapt.calibrate.per_factor import class_distances, describe_drivers, per_factor_analysis, statistic_drivers
from simgen.errors import SimgenError

#: clips per class and domain shown in the contact sheets
SHEET_CLIPS_PER_CLASS = 2


def _sheet_picks(labels: list[str | None], per_class: int) -> set[int]:
    picks: dict[str | None, list[int]] = {}
    for i, label in enumerate(labels):
        if len(picks.setdefault(label, [])) < per_class:
            picks[label].append(i)
    return {i for idx in picks.values() for i in idx}


def _measure(clip_iter, total: int, extractor, picks: set[int], bar) -> dict:
    """Statistics, features, labels, factors and (for ``picks``) frames of every clip of one domain."""
    out = dict(stats=[], features=[], labels=[], factors=[], keys=[], sheet=[])
    for i, clip in enumerate(clip_iter):
        out["stats"].append(clip_statistics(clip.frames, clip.fps, clip.bits_per_pixel))
        out["features"].append(extractor(clip.frames))
        out["labels"].append(clip.label)
        out["factors"].append(clip.factors)
        out["keys"].append(clip.key)
        if i in picks:
            out["sheet"].append((clip.label or clip.key, clip.frames))
        bar.update(1)
    return out


def _plain(value):
    """JSON-ready: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _clear_gaps(statistics: dict) -> list[str]:
    """Statistics whose real-minus-synthetic interval excludes 0, largest (in synthetic standard deviations) first."""
    clear = [n for n, g in statistics.items() if "difference" in g and (g["difference"]["ci95"][0] > 0 or g["difference"]["ci95"][1] < 0)]
    return sorted(clear, key=lambda n: -abs(statistics[n]["standardised_difference"]))


def findings(metrics: dict) -> list[str]:
    """The report's summary in sentences: the largest low-level differences, confused classes, top factors."""
    out = []
    confusions = metrics["class_distances"]["nearest_synthetic_class"]
    trained = metrics["features"]["kind"] == "model"
    for real_class, syn_class in sorted(confusions.items()):
        if syn_class != real_class and real_class in metrics["class_distances"]["synthetic_classes"]:
            table = metrics["class_distances"]["mmd"][real_class]
            # only a trained model's features speak for what a classifier will do
            consequence = (f"the model will tend to take real {real_class} for {syn_class}" if trained else
                           "in appearance and motion statistics (fixed network; give --model to see what a classifier sees)")
            margin = "only slightly " if table[syn_class] > 0.9 * table[real_class] else ""
            out.append(f"Real {real_class} clips are {margin}nearer to synthetic {syn_class} than to synthetic {real_class} "
                       f"(MMD² {table[syn_class]:.3f} vs {table[real_class]:.3f}): {consequence}.")
    statistics = metrics["low_level"]["statistics"]
    for name in _clear_gaps(statistics)[:4]:
        g = statistics[name]
        what, unit = STATISTICS[name]
        direction = "higher" if g["difference"]["value"] > 0 else "lower"
        out.append(f"Real clips have {direction} {name}, the {what}: {g['real']['mean']:.3g} vs {g['synthetic']['mean']:.3g} ({unit}) "
                   f"(difference {g['difference']['value']:.3g}, 95% CI [{g['difference']['ci95'][0]:.3g}, {g['difference']['ci95'][1]:.3g}]; "
                   f"{abs(g['standardised_difference']):.1f} synthetic standard deviations).")
    out.extend(entry["sentence"] for entry in metrics["per_factor"]["statistics"].values())
    out.extend(metrics["per_factor"]["sentences"][:3])
    return out


def run_calibration(synthetic: str | Path, real: str | Path, out: str | Path, *, model: str | Path | None = None,
                    seed: int = 0, max_synthetic: int | None = None, resamples: int = 200, progress: bool = True) -> dict:
    """Compare a synthetic dataset folder with a folder of real clips; write OUT/report.html and OUT/metrics.json.

    Args:
        synthetic: a dataset written by ``simgen generate``.
        real: real clips (``labels.csv``, one sub-folder per class, or loose unlabelled videos).
        out: report folder (created; ``report.html`` and ``metrics.json`` in it are replaced).
        model: a ``simgen train`` checkpoint whose features to compare; ``None``: the fixed network.
        seed: seeds the one ``numpy.random.Generator`` every bootstrap and subsample draws from.
        max_synthetic: use at most this many synthetic clips (spread evenly over the dataset).
        resamples: bootstrap resamples of the headline numbers.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    synthetic, real, out = Path(synthetic), Path(real), Path(out)
    reader = clip_io.open_synthetic(synthetic)
    real_rows = clip_io.list_real(real)
    clip_io.check_real_decodable(real, real_rows)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimgenError(f"--out {out}: cannot create the report folder ({exc.strerror})") from None
    size = int(min(reader.meta.get("spec", {}).get("size", [64, 64])))
    extractor = FeatureExtractor(model, size=size)
    syn_indices = clip_io.pick_evenly(len(reader), max_synthetic)

    total = len(syn_indices) + len(real_rows)
    with tqdm(total=total, desc="calibrate: measure clips", unit="clip", disable=not progress) as bar:
        syn = _measure(clip_io.iter_synthetic(reader, syn_indices, size), len(syn_indices), extractor,
                       _sheet_picks([reader.rows[i].get("label") for i in syn_indices], SHEET_CLIPS_PER_CLASS), bar)
        rl = _measure(clip_io.iter_real(real, real_rows, size), len(real_rows), extractor,
                      _sheet_picks([r["label"] for r in real_rows], SHEET_CLIPS_PER_CLASS), bar)
    measured_s = time.perf_counter() - started

    steps = tqdm(total=4, desc="calibrate: compare", disable=not progress)
    gap = feature_gap(np.stack(syn["features"]), np.stack(rl["features"]), rng, resamples=resamples)
    space = gap.pop("_space")
    steps.update(1)
    low_level = dict(
        statistics={name: {**scalar_gap([s[name] for s in syn["stats"]], [s[name] for s in rl["stats"]], rng, resamples=resamples),
                           "what": what, "unit": unit} for name, (what, unit) in STATISTICS.items()},
        colour_histogram=histogram_gap(np.stack([s["colour_histogram"] for s in syn["stats"]]),
                                       np.stack([s["colour_histogram"] for s in rl["stats"]]), rng, resamples=resamples),
        note=f"frames compared at {size}x{size} (real clips: short side resized, centre-cropped); bits_per_pixel uses the "
             "stored size (synthetic: the clip's MP4 in its shard; real: the file)",
    )
    steps.update(1)
    per_factor = per_factor_analysis(syn["factors"], syn["labels"], rl["labels"], space["kernel"], rng)
    classes = class_distances(syn["labels"], rl["labels"], space["kernel"])
    per_factor["statistics"] = {}
    for name in _clear_gaps(low_level["statistics"])[:4]:
        g = low_level["statistics"][name]
        drivers = statistic_drivers(syn["factors"], [s[name] for s in syn["stats"]], g["real"]["mean"])
        per_factor["statistics"][name] = dict(drivers=drivers, sentence=describe_drivers(name, g["synthetic"]["mean"], g["real"]["mean"], drivers))
    steps.update(1)

    shared = per_factor["shared_classes"]
    notes = []
    if not shared:
        notes.append("The synthetic and real sets share no class: the gap metrics compare all clips of each set; "
                     "per-class analysis and class distances are left out.")
    metrics = dict(
        frechet_distance=gap["frechet_distance"], mmd=gap["mmd"], proxy_a_distance=gap["proxy_a_distance"],
        low_level=low_level, per_factor=per_factor, class_distances=classes,
        sets=dict(synthetic=dict(path=str(synthetic), clips=len(syn_indices), of=len(reader),
                                 classes=sorted({c for c in syn["labels"] if c})),
                  real=dict(path=str(real), clips=len(real_rows), classes=sorted({c for c in rl["labels"] if c}),
                            unlabelled=sum(1 for c in rl["labels"] if not c))),
        features=dict(kind=extractor.kind, description=extractor.description, dimensions=int(len(syn["features"][0]))),
        notes=notes, seed=seed, bootstrap_resamples=resamples,
    )
    metrics["findings"] = findings(metrics)

    from simgen.adapt.calibrate.report_page import build_page

    html_text = build_page(metrics, syn, rl, space)
    steps.update(1)
    steps.close()
    metrics["timing_s"] = dict(measure_clips=round(measured_s, 2), total=round(time.perf_counter() - started, 2))
    try:
        _write_atomic(out / "metrics.json", json.dumps(_plain(metrics), indent=1))
        _write_atomic(out / "report.html", html_text)
    except OSError as exc:
        raise SimgenError(f"--out {out}: cannot write the report ({exc.strerror})") from None
    return _plain(metrics)

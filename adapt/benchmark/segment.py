"""``--task segment``: a fold's test clips joined into multi-action videos, segmented by each method's model.

Each test person's clips are joined end to end (:func:`simgen.adapt.chain.chain_by_subject`:
every clip once per video, a fresh seeded order per video, no class after itself), so
every frame's action and every boundary are known without annotating anything. The videos
are scored by :func:`simgen.adapt.robustness.evaluate_chained` (raw per-frame argmax, median
filter, Viterbi with a minimum segment length; frame accuracy, F1@{10,25,50}, edit as
MS-TCN defines them). Only the fold's test clips are joined (:func:`check_chained`).

A run record keeps each video's truth and predictions run-length encoded, so that a seed's
figures can be pooled over its folds' videos exactly as ``simgen evaluate`` pools videos:
frame accuracy over frames, F1 from summed counts, edit averaged over videos.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from simgen.adapt.benchmark.folds import BenchmarkInputError, Fold, FoldLeakError, RealRow
from simgen.adapt.benchmark.scoring import Clip, ModelInput
from simgen.adapt.chain import ChainedVideo, chain_by_subject
from simgen.adapt.robustness import DECODINGS, evaluate_chained
from simgen.train.data.samplers import resample_fps
from simgen.train.metrics.segment import segmentation_metrics

METRICS = ("frame_accuracy", "f1@10", "f1@25", "f1@50", "edit")


@dataclass(frozen=True)
class SegmentSettings:
    """How test videos are made and decoded (``--chain-videos``, ``--chain-gap``, ``--median-size``, ``--min-duration``).

    ``min_duration`` (Viterbi's shortest segment, frames at the model's rate) defaults to
    25 = 1 s at 25 fps, the setting of the earlier real segmentation figures (README, Results), fixed
    before this benchmark ran; the real clips last 2-4 s each.
    """

    videos_per_subject: int = 2
    max_gap: int = 0
    median_size: int = 5
    min_duration: int = 25


def check_test_people(rows: list[RealRow], splits: list[tuple[str, ...]], classes: list[str], where: str) -> None:
    """Every test person needs labelled clips of at least 2 classes: one clip (or one class) has no boundary."""
    for split in splits:
        for person in split:
            mine = [r for r in rows if r.subject == person and r.label >= 0]
            kinds = sorted({classes[r.label] for r in mine})
            if len(kinds) < 2:
                raise BenchmarkInputError(
                    f"--task segment: test person '{person}' has {len(mine)} labelled clip(s) of "
                    f"{len(kinds)} class(es) ({', '.join(kinds) or 'none'}) in {where}; joining clips into a "
                    "multi-action video needs at least 2 classes per person")


def chain_test_clips(clips: list[Clip], fps: float | None, rng: np.random.Generator,
                     settings: SegmentSettings) -> tuple[list[ChainedVideo], float]:
    """The fold's test clips, replayed at the model's rate ``fps`` (``None``: the clips' most common
    rate), joined per person; returns ``(videos, their frame rate)``."""
    rate = float(fps) if fps else Counter(round(c.fps, 3) for c in clips).most_common(1)[0][0]
    items = [dict(frames=c.frames[resample_fps(len(c.frames), c.fps, rate)], label=c.label, subject=c.subject, key=c.key)
             for c in clips]
    videos = chain_by_subject(items, rng, videos_per_subject=settings.videos_per_subject, gap=(0, settings.max_gap))
    return videos, rate


def check_chained(videos: list[ChainedVideo], fold: Fold, rows: list[RealRow]) -> None:
    """Raise :class:`FoldLeakError` unless every joined clip is one of the fold's test clips, of its person."""
    test_paths = {rows[i].path: rows[i].subject for i in fold.test}
    trained = {rows[i].path for i in (*fold.shots, *fold.unlabelled)}
    for v in videos:
        if v.subject not in fold.test_subjects:
            raise FoldLeakError(f"fold {fold.name}: a segmentation video of person {v.subject} (not a test person)")
        for key in v.sources:
            if key not in test_paths or key in trained or test_paths[key] != v.subject:
                raise FoldLeakError(f"fold {fold.name}: segmentation video of {v.subject} joins {key}, "
                                    "not a test clip of that person")


def rle(labels) -> list[list[int]]:
    """Run-length code ``[[label, length], ...]`` of a label sequence."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return []
    cut = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(labels)]])
    return [[int(labels[s]), int(e - s)] for s, e in zip(starts, ends)]


def unrle(runs: list[list[int]]) -> np.ndarray:
    return np.concatenate([np.full(n, k, np.int64) for k, n in runs]) if runs else np.zeros(0, np.int64)


def score_segmentation(model, videos: list[ChainedVideo], fps: float, spec: ModelInput, num_classes: int,
                       settings: SegmentSettings, device="cpu") -> dict:
    """``{"metrics": {DECODING: {METRIC: value}}, "videos": [{subject, sources, truth, predicted}]}`` for a run record."""
    res = evaluate_chained(model, videos, input_mode=spec.input_mode, num_frames=spec.num_frames, stride=spec.stride,
                           device=device, fps=fps, median_size=settings.median_size,
                           min_duration=settings.min_duration, num_classes=num_classes, keep_predictions=True)
    metrics = {d: {k: round(float(res["clean"][d][k]), 4) for k in METRICS} for d in DECODINGS}
    kept = [dict(subject=v.subject, sources=list(v.sources), truth=rle(v.labels),
                 predicted={d: rle(p[d]) for d in DECODINGS}) for v, p in zip(videos, res["predictions"])]
    return dict(metrics=metrics, videos=kept)


def _pooled(records: list[dict], decoding: str) -> dict:
    pairs = [(unrle(v["predicted"][decoding]), unrle(v["truth"])) for r in records for v in r["segment"]["videos"]]
    return segmentation_metrics(pairs)


def summarise_segment(runs: list[dict]) -> dict:
    """``{DECODING: {METRIC: {mean, std, per_seed, per_fold}}, n_videos, n_frames}`` of one method's runs.

    ``per_seed``: the metric over all of that seed's folds' videos pooled; ``mean`` / ``std``:
    over seeds; ``per_fold``: fold -> mean over seeds of the fold's own videos' metric.
    """
    seeds = sorted({r["seed"] for r in runs})
    folds = list(dict.fromkeys(r["fold"] for r in runs))
    out: dict = {}
    for d in DECODINGS:
        by_seed = [_pooled([r for r in runs if r["seed"] == s], d) for s in seeds]
        by_fold = {f: [r["segment"]["metrics"][d] for r in runs if r["fold"] == f] for f in folds}
        out[d] = {k: dict(mean=round(float(np.mean([m[k] for m in by_seed])), 4),
                          std=round(float(np.std([m[k] for m in by_seed])), 4),
                          per_seed=[round(float(m[k]), 4) for m in by_seed],
                          per_fold={f: round(float(np.mean([m[k] for m in ms])), 4) for f, ms in by_fold.items()})
                  for k in METRICS}
    first = _pooled([r for r in runs if r["seed"] == seeds[0]], "raw")
    out.update(n_videos=first["n_videos"], n_frames=first["n_frames"])
    return out


def segment_table(summary: dict, folds: list[str]) -> str:
    """One row per method and decoding: each metric's mean ± std over seeds, then F1@25 per fold."""
    head = ["method", "decoding", "frame acc", "F1@10", "F1@25", "F1@50", "edit", *[f"F1@25 {f}" for f in folds]]
    rows = []
    for m, e in summary.items():
        seg = e.get("segment")
        if not seg:
            continue
        for d in DECODINGS:
            s = seg[d]
            rows.append([m, d, *[f"{s[k]['mean']:.3f} ± {s[k]['std']:.3f}" for k in METRICS],
                         *[f"{s['f1@25']['per_fold'].get(f, float('nan')):.2f}" for f in folds]])
    if not rows:
        return ""
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head, *rows]]
    any_seg = next(e["segment"] for e in summary.values() if e.get("segment"))
    return "\n".join([f"segmentation of joined test videos ({any_seg['n_videos']} videos, "
                      f"{any_seg['n_frames']} labelled frames per seed):", *lines])

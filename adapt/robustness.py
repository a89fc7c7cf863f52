"""Scoring a model on perturbed copies of test clips, and on chained multi-action videos.

:func:`evaluate_perturbed` answers "how much accuracy does an occluder / a moving camera /
a smaller person / a lower frame rate / a harsh codec cost?", one row per perturbation
and level next to the clean figure. :func:`evaluate_chained` scores temporal segmentation
on videos joined from a test person's clips (:mod:`simgen.adapt.chain`), raw and after
median / Viterbi decoding; with ``kinds`` it does so under each perturbation too.

Both take a model with the :class:`simgen.train.models.ActionModel` interface and a
:class:`simgen.train.data.batch.ClipDataset`; ``simgen evaluate --test-perturb`` and
``--task segment`` and the sim-to-real benchmark call them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from simgen.adapt.chain import ChainedVideo, chain_by_subject
from simgen.adapt.perturb import PERTURBATIONS, apply_perturbation, difference_ceiling, kept_frames
from simgen.train.data.samplers import resample_fps
from simgen.train.evaluate import clip_scores, frame_scores
from simgen.train.inputs import InputTransform, is_frozen
from simgen.train.metrics.clip import clip_metrics
from simgen.train.metrics.decode import decode_frame_scores
from simgen.train.metrics.segment import segmentation_metrics

DECODINGS = ("raw", "median", "viterbi")


def parse_perturbations(text: str | Sequence[str]) -> list[str]:
    """``"occlusion,fps"`` (or a list; ``all`` for every kind) -> kinds; ``ValueError`` naming an unknown one."""
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if names == ["all"]:
        return list(PERTURBATIONS)
    for n in names:
        if n not in PERTURBATIONS:
            raise ValueError(f"unknown perturbation {n!r}; choices: {', '.join(PERTURBATIONS)} (or all)")
    if not names:
        raise ValueError(f"no perturbation given; choices: {', '.join(PERTURBATIONS)} (or all)")
    return list(dict.fromkeys(names))


def level_key(level: float) -> str:
    """JSON key of a severity level: ``0.15``, ``2``, ``40``."""
    return f"{level:g}"


def _rng(seed: int, item: int, kind: str, level: float) -> np.random.Generator:
    # one stream per (clip, perturbation, level): results do not depend on what else is scored
    return np.random.default_rng([seed, item, list(PERTURBATIONS).index(kind), int(round(level * 1000))])


def clip_fps(dataset, j: int) -> float:
    """Frame rate of ``dataset.clip(j)``'s frames (the dataset's resampling rate, else the clip's own)."""
    if dataset.fps:
        return float(dataset.fps)
    _, ann = dataset.load(dataset.indices[j])
    return float(ann.get("fps") or 25.0)


def _retime(frames: np.ndarray, fps: float, target_fps: float | None) -> np.ndarray:
    return frames[resample_fps(len(frames), fps, target_fps)] if target_fps else frames


def evaluate_perturbed(model, dataset, *, kinds: Sequence[str], input_mode: str, num_frames: int, stride: int,
                       device="cpu", seed: int = 0, target_fps: float | None = None,
                       preprocess=None, progress: bool = False) -> dict:
    """Clip accuracy on clean and perturbed copies of every labelled clip of ``dataset``.

    Args:
        kinds: perturbations (keys of :data:`PERTURBATIONS`); every level of each is scored.
        seed: seeds the perturbations' random choices (one stream per clip, kind and level).
        target_fps: the frame rate the model expects (its checkpoint's ``fps``); perturbed
            clips are resampled to it, as evaluation does with clean ones. ``None``: as they are.
        preprocess: ``frames -> frames`` applied to every clip the model sees, clean and
            perturbed (e.g. :func:`simgen.adapt.stabilise.stabilise`).

    Returns:
        ``{"clean": M, KIND: {LEVEL: M}}`` where ``M`` holds ``accuracy``, ``macro_f1``,
        ``per_class``, ``n_clips``, ``frozen`` (clips that reach the model as one still picture, after
        resampling) and ``difference_ceiling`` (the most a model of frame differences alone can score:
        :func:`~simgen.adapt.perturb.difference_ceiling`, one model for every clip) and (perturbed) ``drop``:
        clean minus perturbed accuracy, in points; plus ``levels`` ``{KIND: [LEVEL, ...]}`` and ``seed``.
    """
    from tqdm import tqdm

    model = model.to(device).eval()
    input_tf = InputTransform(input_mode)
    classes = dataset.classes
    y_true: list[int] = []
    preds: dict[tuple[str, float], list[int]] = {("clean", 0.0): []}
    for kind in kinds:
        for level in PERTURBATIONS[kind]:
            preds[(kind, level)] = []

    frozen: dict[tuple[str, float], list[bool]] = {k: [] for k in preds}

    def predict(frames: np.ndarray, key: tuple[str, float]) -> int:
        frozen[key].append(is_frozen(frames))
        if preprocess is not None:
            frames = preprocess(frames)
        p = clip_scores(model, input_tf, torch.from_numpy(np.ascontiguousarray(frames)), num_frames=num_frames,
                        stride=stride, device=device)
        return int(p.argmax())

    for j in tqdm(range(len(dataset)), desc="perturb", disable=not progress, leave=False):
        clip = dataset.clip(j)
        if clip["label"] < 0:
            continue
        y_true.append(clip["label"])
        frames, fps = clip["frames"].numpy(), clip_fps(dataset, j)
        preds[("clean", 0.0)].append(predict(frames, ("clean", 0.0)))
        for kind in kinds:
            for level in PERTURBATIONS[kind]:
                out, new_fps = apply_perturbation(frames, fps, kind, level, _rng(seed, dataset.indices[j], kind, level))
                preds[(kind, level)].append(predict(_retime(out, new_fps, target_fps), (kind, level)))
    if not y_true:
        raise ValueError("no labelled clip to score under perturbations")

    def summary(key: tuple[str, float]) -> dict:
        m = clip_metrics(y_true, preds[key], classes)
        out = {k: m[k] for k in ("accuracy", "macro_f1", "per_class", "n_clips")}
        n_frozen, most = difference_ceiling([dict(label=t, frozen=f) for t, f in zip(y_true, frozen[key])])
        return dict(out, frozen=n_frozen, difference_ceiling=round(most / len(y_true), 4))

    result: dict = {"clean": summary(("clean", 0.0))}
    clean = result["clean"]["accuracy"]
    for kind in kinds:
        result[kind] = {}
        for level in PERTURBATIONS[kind]:
            m = summary((kind, level))
            m["drop"] = round(100 * (clean - m["accuracy"]), 2)
            result[kind][level_key(level)] = m
    result["levels"] = {k: [level_key(v) for v in PERTURBATIONS[k]] for k in kinds}
    result["seed"] = seed
    return result


def dataset_items(dataset) -> list[dict]:
    """Every clip of ``dataset`` as ``{frames (numpy), label, subject, key, fps}`` (for :func:`chain_by_subject`)."""
    items = []
    for j in range(len(dataset)):
        clip = dataset.clip(j)
        row = dataset.reader.rows[dataset.indices[j]]
        items.append(dict(frames=clip["frames"].numpy(), label=int(clip["label"]), subject=row.get("subject") or None,
                          key=str(row.get("path", clip["key"])), fps=clip_fps(dataset, j)))
    return items


def decode(probs: np.ndarray, *, median_size: int = 5, min_duration: int = 8,
           num_classes: int | None = None) -> dict[str, np.ndarray]:
    """Per-frame labels from scores ``(T,K[+1])``: ``raw`` argmax, ``median`` filtered, ``viterbi`` (min duration).

    Columns from ``num_classes`` on (a per-frame head's background output) become ``-1``, which the
    segment metrics leave out, as in ``simgen evaluate --task segment``; ``None``: every column is a class.
    """
    k = probs.shape[1] if num_classes is None else num_classes
    return {name: decode_frame_scores(probs, k, smoothing={"raw": "none"}.get(name, name), median_size=median_size,
                                      min_duration=min_duration) for name in DECODINGS}


def _segment_scores(model, input_tf, videos, *, num_frames, stride, device, median_size, min_duration,
                    transform, preprocess=None, num_classes=None, keep=None) -> dict:
    """Metrics per decoding; ``transform(i, video) -> (frames, labels)`` says what the model sees.
    ``keep``: a list that receives each video's ``{DECODING: labels}`` (``None``: not kept)."""
    pairs: dict[str, list] = {d: [] for d in DECODINGS}
    for i, v in enumerate(videos):
        frames, labels = transform(i, v)
        if preprocess is not None:
            frames = preprocess(frames)
        probs = frame_scores(model, input_tf, torch.from_numpy(np.ascontiguousarray(frames)), num_frames=num_frames,
                             stride=stride, device=device).numpy()
        decoded = decode(probs, median_size=median_size, min_duration=min_duration, num_classes=num_classes)
        for name, pred in decoded.items():
            pairs[name].append((pred, labels))
        if keep is not None:
            keep.append(decoded)
    return {name: segmentation_metrics(p) for name, p in pairs.items()}


def evaluate_chained(model, videos: Sequence[ChainedVideo], *, input_mode: str, num_frames: int, stride: int,
                     device="cpu", fps: float = 25.0, median_size: int = 5, min_duration: int = 8,
                     kinds: Sequence[str] = (), seed: int = 0, target_fps: float | None = None,
                     preprocess=None, progress: bool = False, num_classes: int | None = None,
                     keep_predictions: bool = False) -> dict:
    """Temporal segmentation of chained videos, raw and decoded, clean and (``kinds``) perturbed.

    Args:
        videos: from :func:`simgen.adapt.chain.chain_by_subject`; their frames are at ``fps``.
        median_size, min_duration: the median filter length and the Viterbi minimum segment
            length, in frames at the model's rate.
        kinds, seed, target_fps, preprocess: as in :func:`evaluate_perturbed` (``fps`` drops
            per-frame labels with the frames).
        num_classes: the model's action classes; a per-frame background output beyond them
            decodes to "no action" (``None``: every output is an action).
        keep_predictions: also return ``predictions``: per clean video, ``{DECODING: int64[N]}``
            (the labels scored, ``-1`` = no action), e.g. to pool videos scored in separate calls.

    Returns:
        ``{"clean": {DECODING: S}, KIND: {LEVEL: {DECODING: S}}}`` with ``DECODING`` in
        ``raw``, ``median``, ``viterbi`` and ``S`` from :func:`segmentation_metrics`
        (``frame_accuracy``, ``f1@10/25/50``, ``edit``, ``n_videos``, ``n_frames``).
    """
    from tqdm import tqdm

    if not videos:
        raise ValueError("no chained video to score (no labelled clips?)")
    model = model.to(device).eval()
    input_tf = InputTransform(input_mode)
    common = dict(num_frames=num_frames, stride=stride, device=device, median_size=median_size,
                  min_duration=min_duration, preprocess=preprocess, num_classes=num_classes)

    def clean(i: int, v: ChainedVideo):
        keep = resample_fps(len(v.frames), fps, target_fps) if target_fps else np.arange(len(v.frames))
        return v.frames[keep], v.labels[keep]

    kept: list | None = [] if keep_predictions else None
    result: dict = {"clean": _segment_scores(model, input_tf, videos, transform=clean, keep=kept, **common)}
    if kept is not None:
        result["predictions"] = kept
    jobs = [(k, lv) for k in kinds for lv in PERTURBATIONS[k]]
    for kind, level in tqdm(jobs, desc="perturb", disable=not progress, leave=False):
        def perturbed(i: int, v: ChainedVideo, kind=kind, level=level):
            out, new_fps = apply_perturbation(v.frames, fps, kind, level, _rng(seed, i, kind, level))
            labels = v.labels[kept_frames(len(v.frames), kind, level)]
            if target_fps:
                keep = resample_fps(len(out), new_fps, target_fps)
                out, labels = out[keep], labels[keep]
            return out, labels

        result.setdefault(kind, {})[level_key(level)] = _segment_scores(model, input_tf, videos, transform=perturbed,
                                                                        **common)
    if kinds:
        result["levels"] = {k: [level_key(v) for v in PERTURBATIONS[k]] for k in kinds}
    return result


def chained_videos(dataset, *, seed: int = 0, videos_per_subject: int = 1,
                   gap: tuple[int, int] = (0, 0)) -> tuple[list[ChainedVideo], float]:
    """Chain ``dataset``'s labelled clips per subject; returns ``(videos, fps)``.

    Raises:
        ValueError: clips of different frame rates (resample them first: ``ClipDataset(fps=...)``).
    """
    items = [it for it in dataset_items(dataset) if it["label"] >= 0]
    if not items:
        raise ValueError("no labelled clip to chain into segmentation videos")
    rates = sorted({round(it["fps"], 3) for it in items})
    if len(rates) > 1:
        raise ValueError(f"clips come at different frame rates {rates}; resample them to one rate before chaining")
    videos = chain_by_subject(items, np.random.default_rng(seed), videos_per_subject=videos_per_subject, gap=gap)
    return videos, float(rates[0])

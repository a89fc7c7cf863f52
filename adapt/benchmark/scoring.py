"""Score a model on a list of clips: the one function every fold, method and test condition goes through.

A test condition (clean, or a perturbation at a severity) is a transformation of the
clip list; :func:`score_conditions` loops over them and calls :func:`score_clips` on each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch

from simgen.adapt.perturb import difference_ceiling
from simgen.train.data.samplers import resample_fps
from simgen.train.evaluate import clip_scores
from simgen.train.frame_rate import model_fps
from simgen.train.inputs import InputTransform, is_frozen
from simgen.train.metrics.clip import clip_metrics


@dataclass(frozen=True)
class Clip:
    """A whole clip as decoded: ``frames`` uint8 ``[T,H,W,3]`` at ``fps``; ``label`` -1 when unknown."""

    key: str
    frames: np.ndarray
    fps: float
    label: int
    subject: str = ""


@dataclass(frozen=True)
class ModelInput:
    """How a model reads clips (from its checkpoint ``meta``)."""

    input_mode: str
    num_frames: int
    stride: int
    fps: float | None

    @classmethod
    def from_meta(cls, meta: dict) -> "ModelInput":
        return cls(meta["input"], meta["num_frames"], meta["stride"], model_fps(meta))


@torch.no_grad()
def clip_probabilities(model, clips: list[Clip], spec: ModelInput, device="cpu") -> np.ndarray:
    """Class probabilities ``float[N,K]`` of each clip: mean over its non-overlapping windows.

    Each clip is first replayed at the model's frame rate (when it has one).
    """
    model = model.to(device).eval()
    input_tf = InputTransform(spec.input_mode)
    out = []
    for clip in clips:
        idx = resample_fps(len(clip.frames), clip.fps, spec.fps)
        frames = torch.from_numpy(np.ascontiguousarray(clip.frames[idx]))
        out.append(clip_scores(model, input_tf, frames, num_frames=spec.num_frames, stride=spec.stride,
                               device=device).numpy())
    return np.stack(out) if out else np.zeros((0, 0))


def score_clips(model, clips: list[Clip], classes: list[str], spec: ModelInput, device="cpu") -> dict:
    """Accuracy, per-class accuracy, confusion and per-clip predictions of ``model`` on labelled ``clips``."""
    probs = clip_probabilities(model, clips, spec, device)
    y_true = [c.label for c in clips]
    y_pred = [int(p.argmax()) for p in probs]
    metrics = clip_metrics(y_true, y_pred, classes)
    metrics["predictions"] = [dict(clip=c.key, subject=c.subject, label=classes[c.label], predicted=classes[k],
                                   scores=[round(float(v), 4) for v in p])
                              for c, k, p in zip(clips, y_pred, probs)]
    return metrics


def clip_camera_speed(clip: Clip, spec: ModelInput) -> float:
    """:func:`simgen.adapt.stabilise.camera_speed` of ``clip`` replayed at the model's frame rate, as a
    score ensemble's camera gate measures it (:class:`simgen.train.ensemble_scores.ScoreEnsemble`); measured
    once per content (:func:`simgen.train.memo.camera_speed`: every method of a fold scores the same copies)."""
    from simgen.train.memo import camera_speed

    return round(camera_speed(clip.frames[resample_fps(len(clip.frames), clip.fps, spec.fps)]), 5)


def condition_record(metrics: dict, with_predictions: bool = False) -> dict:
    """What a run keeps of :func:`score_clips`'s ``metrics`` for one test condition: accuracy, clip count,
    right clips and confusion counts; with ``with_predictions`` also each clip's prediction and class scores
    (and camera speed, whether it is frozen, an ensemble's per-clip member stability and clutter, when known), for
    perturbed conditions, so that runs can be combined afterwards (``simgen.adapt.benchmark.ensemble``). When
    the predictions say which clips are frozen: ``frozen`` (how many) and ``difference_ceiling``
    (:func:`~simgen.adapt.perturb.difference_ceiling`: the most clips a model of frame differences alone can get
    right)."""
    out = dict(accuracy=round(metrics["accuracy"], 4), n_clips=metrics["n_clips"],
               correct=int(sum(metrics["confusion_counts"][k][k] for k in range(len(metrics["classes"])))),
               confusion_counts=metrics["confusion_counts"])
    preds = metrics["predictions"]
    if preds and all("frozen" in p and "label" in p for p in preds):
        out["frozen"], out["difference_ceiling"] = difference_ceiling(preds)
    if with_predictions:
        keep = ("clip", "predicted", "scores", "camera_speed", "frozen", "member_stability", "clutter")
        out["predictions"] = [{k: p[k] for k in keep if k in p} for p in preds]
    return out


#: a test condition: (clips, rng) -> transformed clips
Condition = Callable[[list[Clip], np.random.Generator], list[Clip]]


def perturbation_condition(kind: str, severity, apply) -> Condition:
    """The condition applying ``apply(frames, fps, kind, severity, rng) -> (frames, fps)`` to each clip."""
    def transform(clips: list[Clip], rng: np.random.Generator) -> list[Clip]:
        out = []
        for c in clips:
            frames, fps = apply(c.frames, c.fps, kind, severity, rng)
            out.append(replace(c, frames=np.asarray(frames), fps=float(fps)))
        return out
    return transform


def perturbation_conditions(kinds: list[str]) -> dict[str, Condition]:
    """``{"KIND@LEVEL": condition}`` for each of ``kinds`` (known to :data:`~simgen.adapt.perturb.PERTURBATIONS`)
    and each of its levels: the names, and the order, a benchmark records as ``config.test_conditions`` (a
    condition's draws depend on its position, see :func:`score_conditions`)."""
    from simgen.adapt.perturb import PERTURBATIONS, apply_perturbation

    return {f"{kind}@{level:g}": perturbation_condition(kind, level, apply_perturbation)
            for kind in kinds for level in PERTURBATIONS[kind]}


def score_conditions(model, clips: list[Clip], classes: list[str], spec: ModelInput,
                     conditions: dict[str, Condition], rng_seed: tuple, device="cpu") -> dict[str, dict]:
    """``{"clean": metrics, NAME: metrics...}``: the clips as they are, then under each condition.

    A condition's randomness comes from ``numpy.random.default_rng((*rng_seed, i))``, so every
    method sees the same perturbed copies of a fold's clips. Each clip's prediction also records its
    camera speed (:func:`clip_camera_speed`) and whether it is frozen as the model replays it
    (:func:`~simgen.train.inputs.is_frozen`).
    """
    def scored(some: list[Clip]) -> dict:
        metrics = score_clips(model, some, classes, spec, device)
        for p, c in zip(metrics["predictions"], some):  # for the camera gate of recipe ensembles
            p["camera_speed"] = clip_camera_speed(c, spec)
            p["frozen"] = is_frozen(c.frames[resample_fps(len(c.frames), c.fps, spec.fps)])
        return metrics

    from simgen.train.memo import content_key

    results = {"clean": scored(clips)}
    clips_key = tuple((c.key, c.fps, content_key(c.frames)) for c in clips) if conditions else ()  # hashed once
    for i, (name, transform) in enumerate(conditions.items()):
        results[name] = scored(_perturbed(clips, clips_key, i, name, transform, rng_seed))
    return results


#: the perturbed copies of the last fold's test clips: every method of a fold scores the same copies
#: (same clips, same draws), so they are made once (H.264 round trips and moving crops are not free)
_COPIES: dict[tuple, list[Clip]] = {}


def _perturbed(clips: list[Clip], clips_key: tuple, i: int, name: str, transform: Condition,
               rng_seed: tuple) -> list[Clip]:
    """``transform(clips, default_rng((*rng_seed, i)))``, kept while the same clips (``clips_key``: their names,
    rates and contents) are scored."""
    key = (clips_key, tuple(rng_seed), i, name, id(transform))
    if key not in _COPIES:
        if any(k[0] != clips_key for k in _COPIES):  # another fold's clips: forget the last ones
            _COPIES.clear()
        _COPIES[key] = transform(clips, np.random.default_rng((*rng_seed, i)))
    return _COPIES[key]

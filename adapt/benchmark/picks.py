"""Which training-people clips become a fold's labelled shots (``--shot-picker``).

* ``class-balanced`` (default): K per class, drawn at random per class (:func:`.folds.make_folds`);
  it needs the labels to draw, so it is the setting where someone already sorted the clips.
* ``random``: K x C clips drawn uniformly from the training people's labelled clips, labels
  unseen until drawn (a class may get none).
* ``active``: the fold's sim-only model ranks the same clips by uncertainty x diversity
  (:func:`simgen.adapt.active.pick_for_labelling`, as ``simgen suggest-labels``) and the
  top K x C are labelled.

Every picker labels the same number of clips (the class-balanced count, K x the classes
present), so they compare at equal label counts; the clips not picked stay unlabelled.
The picked fold is checked again (:func:`.folds.check_fold`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from simgen.adapt.benchmark.folds import Fold, check_fold

SHOT_PICKERS = ("class-balanced", "random", "active")


def candidates(fold: Fold, rows) -> list[int]:
    """The clips a picker may label: the training people's clips that have a label to reveal."""
    return sorted(i for i in (*fold.shots, *fold.unlabelled) if rows[i].label >= 0)


def with_shots(fold: Fold, shots, rows) -> Fold:
    """``fold`` with ``shots`` labelled and every other training clip unlabelled; checked."""
    chosen = set(int(i) for i in shots)
    pool = sorted((*fold.shots, *fold.unlabelled))
    new = dataclasses.replace(fold, shots=tuple(sorted(chosen)), unlabelled=tuple(i for i in pool if i not in chosen))
    check_fold(new, rows)
    return new


def random_picks(pool: list[int], budget: int, rng: np.random.Generator) -> list[int]:
    """``budget`` clips of ``pool``, uniformly without replacement."""
    return sorted(rng.choice(pool, size=min(budget, len(pool)), replace=False).tolist())


def active_picks(probs: np.ndarray, features: np.ndarray, pool: list[int], budget: int) -> list[int]:
    """The first ``budget`` clips of ``pool`` in :func:`pick_for_labelling`'s order (entropy x distance)."""
    from simgen.adapt.active import pick_for_labelling

    return sorted(pool[p["index"]] for p in pick_for_labelling(probs, features, budget, kind="entropy"))


@torch.no_grad()
def probs_and_features(model, clips, spec, device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and pooled features of each clip (at the model's rate), as ``suggest-labels`` scores them."""
    from simgen.adapt.active import clip_probs_and_features
    from simgen.train.data.samplers import resample_fps

    meta = dict(input=spec.input_mode, num_frames=spec.num_frames, stride=spec.stride)
    model = model.to(device).eval()
    probs, feats = [], []
    for c in clips:
        idx = resample_fps(len(c.frames), c.fps, spec.fps)
        p, f = clip_probs_and_features(model, meta, torch.from_numpy(np.ascontiguousarray(c.frames[idx])), device=device)
        probs.append(p)
        feats.append(f)
    return np.stack(probs), np.stack(feats)


def pick_fold_shots(picker: str, fold: Fold, rows, *, model=None, clip_of=None, spec=None, seed: int = 0,
                    fold_index: int = 0, device="cpu") -> Fold:
    """The fold with its shots re-picked by ``picker`` (``class-balanced``: the fold as it is).

    Args:
        rows: the real clips' :class:`RealRow` list.
        model, clip_of, spec: for ``active``: the fold's sim-only model, ``index -> Clip``, its input spec.
        seed, fold_index: the ``random`` draw comes from ``default_rng((seed, 3, fold_index))``.
    """
    if picker == "class-balanced":
        return fold
    pool, budget = candidates(fold, rows), len(fold.shots)
    if budget == 0:
        return fold
    if picker == "random":
        return with_shots(fold, random_picks(pool, budget, np.random.default_rng((seed, 3, fold_index))), rows)
    if picker == "active":
        probs, feats = probs_and_features(model, [clip_of(i) for i in pool], spec, device)
        return with_shots(fold, active_picks(probs, feats, pool, budget), rows)
    raise ValueError(f"unknown shot picker {picker!r}; expected one of {', '.join(SHOT_PICKERS)}")

"""Label-free weights for the members of a recipe ensemble: how often a member keeps its answer when a clip
is perturbed.

A recipe ensemble averages a member that is accurate on clean footage but fragile (the default recipe: plain
frame differences, light augmentation) with one trained for harder footage (the robust recipe). With equal
weights the fragile member drags the ensemble down wherever it is wrong with confidence (occlusion, heavy
compression). Here each member's weight is its *prediction stability*: the share of (clip, condition) pairs
whose predicted class is the same on a real clip and on a perturbed copy of it. The clips are every real
clip of the fold's **training** people (their labels are never read; the test people's clips are never
touched), the conditions one middle level of each perturbation family (:data:`STABILITY_CONDITIONS`).
Agreement under input corruption as a label-free measure of a model's reliability follows Hendrycks et al.,
"AugMix" (ICLR 2020, consistency under corruptions), and Deng & Zheng, "Are Labels Always Necessary for
Classifier Accuracy Evaluation?" (CVPR 2021, accuracy estimated from unlabelled, transformed sets).

Stability is not accuracy: a model that ignores its input never changes its answer and scores 1. The weights
are meant for members that are each accurate on clean clips (the recipes' ``best`` models), not for ranking
arbitrary models.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

#: the perturbations a member's stability is measured under: one middle level of each family of
#: :data:`simgen.adapt.perturb.PERTURBATIONS` (the families a user names as footage to hold on)
STABILITY_CONDITIONS: tuple[tuple[str, float], ...] = (
    ("occlusion", 0.3), ("camera", 0.2), ("scale", 0.4), ("fps", 2.0), ("compression", 40.0))

#: mixed into a stability draw's seed, so its perturbed copies are not the test conditions' draws
_RNG_TAG = 7919

#: decoded real clips and their perturbed copies, kept for the other folds of the same seed: a fold's
#: training people are the next fold's too, and a copy depends only on the clip, the condition and the seed
_CLIPS: dict[tuple, list] = {}
_COPIES: dict[tuple, object] = {}


def real_clips(real_root: str | Path, size: int | None) -> list:
    """Every clip of ``real_root`` as an unlabelled :class:`~simgen.adapt.benchmark.scoring.Clip` (label -1:
    nothing here reads a label), decoded once per process."""
    from simgen.adapt.benchmark.scoring import Clip
    from simgen.train.data.real import RealFolderReader

    cache_key = (str(Path(real_root).resolve()), size)
    if cache_key not in _CLIPS:
        reader = RealFolderReader(real_root, size=size)
        out = []
        for i in range(len(reader)):
            frames, ann = reader.read(i)
            out.append(Clip(key=ann["path"], frames=np.asarray(frames), fps=float(ann.get("fps") or 25.0), label=-1,
                            subject=ann.get("subject") or ""))
        _CLIPS[cache_key] = out
    return _CLIPS[cache_key]


def perturbed_copy(clip, condition: int, seed: int, conditions=STABILITY_CONDITIONS):
    """``clip`` under ``conditions[condition]``, drawn from ``default_rng((seed, _RNG_TAG, condition, crc32(key)))``:
    the same copy for every member and fold of a seed."""
    from simgen.train.memo import content_key

    kind, severity = conditions[condition]
    cache_key = (clip.key, content_key(clip.frames), clip.fps, kind, severity, seed)  # by content: any folder
    if cache_key not in _COPIES:
        _COPIES[cache_key] = drawn_copy(clip, condition, seed, conditions)
    return _COPIES[cache_key]


def drawn_copy(clip, condition: int, seed: int, conditions=STABILITY_CONDITIONS):
    """:func:`perturbed_copy` made afresh, not kept."""
    frames, fps = drawn_frames(clip.frames, clip.fps, condition, seed, clip.key, conditions)
    return replace(clip, frames=frames, fps=fps)


def drawn_frames(frames: np.ndarray, fps: float, condition: int, seed: int, key: str,
                 conditions=STABILITY_CONDITIONS) -> tuple[np.ndarray, float]:
    """``(frames', fps')``: ``frames`` (``uint8[T,H,W,3]`` at ``fps``) under ``conditions[condition]``, drawn from
    ``default_rng((seed, _RNG_TAG, condition, crc32(key)))``: the same copy wherever the same clip (``key``) is
    perturbed with the same seed."""
    from simgen.adapt.perturb import apply_perturbation

    kind, severity = conditions[condition]
    rng = np.random.default_rng((seed, _RNG_TAG, condition, zlib.crc32(key.encode())))
    return apply_perturbation(frames, fps, kind, severity, rng)


def prediction_stability(model, spec, clips: list, perturbed: list[list], device="cpu") -> float:
    """The share of (clip, condition) pairs whose predicted class under the condition equals the clean one."""
    from simgen.adapt.benchmark.scoring import clip_probabilities

    if not clips:
        raise ValueError("prediction stability needs at least one clip of the training people")
    clean = clip_probabilities(model, clips, spec, device).argmax(1)
    kept = [clip_probabilities(model, copies, spec, device).argmax(1) == clean for copies in perturbed]
    return float(np.mean(kept))


def stability_weights(model_paths: list[str | Path], real_root: str | Path, seed: int, device="cpu",
                      exclude_subjects: list[str] | None = None) -> list[float]:
    """:func:`prediction_stability` of each saved model of one (seed, fold), on the clips of the people it was
    not tested on (its checkpoint's ``meta.sim2real.test_subjects``, which must agree across the models), or,
    with ``exclude_subjects``, on the clips of every other person (models not made by the benchmark).

    Raises ``ValueError`` naming the checkpoint whose test people differ or are not recorded, or the real
    folder when it holds no clip of another person.
    """
    from simgen.adapt.benchmark.scoring import ModelInput
    from simgen.train.checkpoint import load_model

    loaded = [(Path(p), *load_model(p)) for p in model_paths]
    tested = [sorted(exclude_subjects)] if exclude_subjects is not None else []
    for path, _, meta in loaded if exclude_subjects is None else ():
        people = (meta.get("sim2real") or {}).get("test_subjects")
        if not people:
            raise ValueError(f"{path}: field 'meta.sim2real.test_subjects' missing (not saved by simgen sim2real "
                             "--save-models)")
        tested.append(sorted(people))
    if any(t != tested[0] for t in tested):
        raise ValueError("the members' checkpoints were tested on different people: "
                         + "; ".join(f"{p}: {','.join(t)}" for (p, _, _), t in zip(loaded, tested)))
    weights = []
    for _, model, meta in loaded:
        clips = [c for c in real_clips(real_root, meta.get("size")) if c.subject not in tested[0]]
        if not clips:
            raise ValueError(f"{real_root}: no clip of a person other than {', '.join(tested[0]) or '(none)'} to "
                             "measure the members' prediction stability on")
        perturbed = [[perturbed_copy(c, i, seed) for c in clips]
                     for i in range(len(STABILITY_CONDITIONS))]
        weights.append(round(prediction_stability(model, ModelInput.from_meta(meta), clips, perturbed, device), 4))
    return weights


def main(argv: list[str] | None = None) -> int:
    """``python -m simgen.adapt.benchmark.stability --checkpoint A.pt --checkpoint B.pt --real DIR``: print the
    weights for ``simgen evaluate/predict --member-weights``."""
    import argparse
    import json
    import sys

    from simgen.pipelines.ensemble_options import member_weights

    p = argparse.ArgumentParser(description="prediction stability of models on perturbed copies of real clips "
                                            "(labels unread): weights for simgen evaluate/predict --member-weights")
    p.add_argument("--checkpoint", action="append", required=True, metavar="FILE", help="a model; repeat per member")
    p.add_argument("--real", required=True, metavar="DIR",
                   help="real clips (labels.csv; labels are not read): not the clips you will test on")
    p.add_argument("--exclude-subjects", dest="exclude_subjects", default="", metavar="A,B",
                   help="people of --real to leave out (e.g. your test people)")
    p.add_argument("--seed", type=int, default=0, help="the perturbations' draws (default 0)")
    p.add_argument("--member-scale", dest="member_scale", type=member_weights, metavar="S,S,...",
                   help="one number per --checkpoint, in order, multiplying its weight; e.g. 1,1.5 for the default "
                        "and the robust model fine-tuned on one labelled clip per class (K = 1), as the "
                        "benchmark's recipe ensemble weighs them at K = 1")
    args = p.parse_args(argv)
    if args.member_scale and len(args.member_scale) != len(args.checkpoint):
        print(f"stability: --member-scale has {len(args.member_scale)} number(s) for {len(args.checkpoint)} "
              "--checkpoint (one per model, in order)", file=sys.stderr)
        return 2
    people = [s for s in args.exclude_subjects.split(",") if s]
    try:
        weights = stability_weights(args.checkpoint, args.real, args.seed, exclude_subjects=people)
    except (OSError, ValueError) as exc:  # TrainDataError (an unreadable checkpoint) is a ValueError
        print(f"stability: {exc}", file=sys.stderr)
        return 2
    stable = weights
    if args.member_scale:
        weights = [round(w * s, 6) for w, s in zip(weights, args.member_scale)]
    print(json.dumps(dict(checkpoints=args.checkpoint, member_weights=weights, stability=stable,
                          member_scale=args.member_scale,
                          conditions=[f"{kind}@{level:g}" for kind, level in STABILITY_CONDITIONS])))
    print("--member-weights " + ",".join(f"{w:g}" for w in weights))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

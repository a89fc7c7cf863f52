"""Per-clip weights for a recipe ensemble: how often each member keeps its answer on *this* test clip when
the clip is perturbed once more (its labels, and every other clip's, unread).

The fold-level weights of :mod:`simgen.adapt.benchmark.stability` say which member holds up on footage in
general; a clip that is already occluded or compressed needs the member that holds up on it. Here member
``i``'s weight on test clip ``j`` is ``w_i * s_ij``: ``w_i`` its fold-level stability, ``s_ij`` the share of
the :data:`~simgen.adapt.benchmark.stability.STABILITY_CONDITIONS` under which its predicted class on a
perturbed copy of clip ``j`` equals its predicted class on clip ``j`` (every condition's copy of a test clip
is a clip of its own here). Disagreement among a test input's augmented copies as that input's uncertainty
follows Ayhan & Berens, "Test-time data augmentation for estimation of heteroscedastic aleatoric
uncertainty in deep neural networks" (MIDL 2018). Where the members fused on a clip name the same class, no
weighting can change it (:func:`undecided_clips`): ``s_ij`` is measured only where they disagree (65-96 of the 320
clip entries of a seed, docs/results/clip_stability_skip), and the fold weights fuse the other clips' scores.

The ensemble is computed after the members' benchmarks, from their results and saved models, so the test
clips and their perturbed copies are rebuilt here as the benchmark made them (the same decoded frames, the
same draws: ``default_rng((seed, fold index, condition index))`` over the fold's clips in their recorded
order). Each member's scores on the rebuilt copies must match the scores its benchmark recorded; a mismatch
(another real folder, another perturbation code) stops with an error instead of weighting the wrong clips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

#: what ``config.member_weights`` adds for per-clip weights
CLIP_WEIGHTS_RULE = ("per clip: each member's fold weight times its share of unchanged predictions between the "
                     "test clip (as scored, in each condition) and its copies under the same perturbations (labels "
                     "unread); the fold weights where every member's product is 0, and where the fused members "
                     "agree on the class (the weights cannot change it; not measured there, since session 29)")

#: the largest difference between a recorded score (kept to 4 decimals) and the same score recomputed
SCORE_TOLERANCE = 2e-3


def recheck_copy(clip, condition: int, seed: int):
    """``clip`` under ``STABILITY_CONDITIONS[condition]``, drawn as the fold-level copies are
    (:func:`~simgen.adapt.benchmark.stability.drawn_copy`) but not kept: a seed has hundreds of them."""
    from simgen.adapt.benchmark.stability import drawn_copy

    return drawn_copy(clip, condition, seed)


def recheck_copies(clips: list, seed: int) -> list[list]:
    """Each stability condition's :func:`recheck_copy` of every clip: ``[condition][clip]``."""
    from simgen.adapt.benchmark.stability import STABILITY_CONDITIONS

    return [[recheck_copy(c, k, seed) for c in clips] for k in range(len(STABILITY_CONDITIONS))]


def clip_stability(model, spec, clips: list, seed: int, device="cpu", copies: list[list] | None = None,
                   only: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities [N,K], stability [N])`` of ``model`` on ``clips``: stability is the share of the
    stability conditions under which a clip's predicted class stays what it is on the clip itself.
    ``only``: the positions of the clips to measure it on (the others get NaN; default all);
    ``copies``: :func:`recheck_copies` of those clips, when already made (members of one size share them)."""
    from simgen.adapt.benchmark.scoring import clip_probabilities

    probs = clip_probabilities(model, clips, spec, device)
    which = list(range(len(clips))) if only is None else list(only)
    stable = np.full(len(clips), np.nan)
    if which:
        some_clips = [clips[j] for j in which]
        kept = [clip_probabilities(model, some, spec, device).argmax(1) == probs[which].argmax(1)
                for some in (copies if copies is not None else recheck_copies(some_clips, seed))]
        stable[which] = np.mean(kept, axis=0)
    return probs, stable


def undecided_clips(scored: list[list[dict]], keeps: list[list[int]]) -> list[int]:
    """Positions of the clips whose fused answer the weights can change: the members fused on a clip (``keeps[j]``,
    after the camera gate) name different classes by their recorded scores (``scored[member][clip]["scores"]``).
    Where they agree on class c, every weighted mean of their scores puts c first too (c leads each member's
    scores, the first of any tie, so it leads any mix of them), so a clip's per-clip stability is measured only
    where they disagree: the answers are those of weighing every clip, at a part of the cost."""
    out = []
    for j, keep in enumerate(keeps):
        if len({int(np.argmax(scored[i][j]["scores"])) for i in keep}) > 1:
            out.append(j)
    return out


def _condition_from_name(name: str):
    from simgen.adapt.benchmark.scoring import perturbation_conditions
    from simgen.adapt.perturb import PERTURBATIONS

    kind = name.partition("@")[0]
    condition = (perturbation_conditions([kind]) if kind in PERTURBATIONS else {}).get(name)
    if condition is None:
        raise ValueError(f"cannot rebuild the test condition {name!r}: not one of this build's perturbations")
    return condition


def rebuilt_test_clips(config: dict, run: dict, real_root: str | Path, size: int | None) -> dict[str, list]:
    """``{"clean": clips, CONDITION: copies, ...}`` of one (seed, fold) run, as the benchmark scored them:
    the clips ``run["predictions"]`` names, in that order, then each of ``config["test_conditions"]``."""
    from simgen.adapt.benchmark.stability import real_clips

    by_key = {c.key: c for c in real_clips(real_root, size)}
    keys = [p["clip"] for p in run["predictions"]]
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise ValueError(f"{real_root}: no clip {', '.join(missing)} (seed {run['seed']} fold {run['fold']}'s test "
                         "clips): the members were scored on another real folder (--real)")
    clips = [by_key[k] for k in keys]
    folds = [f["name"] for f in config["folds"]]
    f_index = folds.index(run["fold"])
    out = {"clean": clips}
    for i, name in enumerate(config.get("test_conditions") or []):
        out[name] = _condition_from_name(name)(clips, np.random.default_rng((run["seed"], f_index, i)))
    return out


def check_recorded(scores: np.ndarray, recorded: list[dict], where: str) -> None:
    """Raise ``ValueError`` when recomputed scores differ from a run's recorded ones."""
    want = np.array([p["scores"] for p in recorded], float)
    if want.shape != scores.shape or np.abs(want - scores).max(initial=0.0) > SCORE_TOLERANCE:
        worst = np.abs(want - scores).max() if want.shape == scores.shape else float("nan")
        raise ValueError(f"{where}: the rebuilt clips score differently from the member's recorded scores "
                         f"(largest difference {worst:.4f}): another real folder or perturbation code than the "
                         "benchmark's")


def clip_stability_weigher(members: list[tuple[str, list[dict]]], model_roots: list[str], real: str | None = None,
                           device="cpu") -> Callable[..., dict[str, np.ndarray]]:
    """``(seed, fold, member runs, needed=None) -> {condition: stability [members, clips]}`` from each member's saved
    model (``model_roots[i]``, as for :func:`~simgen.adapt.benchmark.ensemble.stability_weigher`). ``needed``:
    ``{condition: clip positions}`` to measure (:func:`undecided_clips`); the other clips get NaN. Default all."""
    from simgen.adapt.benchmark.ensemble import _condition_predictions, saved_model
    from simgen.adapt.benchmark.scoring import ModelInput
    from simgen.train.checkpoint import load_model

    if len(model_roots) != len(members):
        raise ValueError(f"--member-models: {len(model_roots)} folder(s) for {len(members)} members (one per --member, "
                         "in the same order)")
    configs = [results[0]["config"] for _, results in members]
    real = real or configs[0]["real"]

    def weigh(seed: int, fold: str, runs: list[dict],
              needed: dict[str, list[int]] | None = None) -> dict[str, np.ndarray]:
        loaded = []
        for (method, _), root in zip(members, model_roots):
            path = saved_model(root, method, seed, fold)
            if not path.is_file():
                raise ValueError(f"no saved model for seed {seed} fold {fold}: {path} (--member-models takes the "
                                 "folders the members' benchmarks were given as --save-models)")
            loaded.append((path, *load_model(path)))
        # members reading frames of one size under the same test conditions score the same copies: made once
        groups: dict[tuple, list[int]] = {}
        for i, (_, _, meta) in enumerate(loaded):
            groups.setdefault((meta.get("size"), tuple(configs[i].get("test_conditions") or [])), []).append(i)
        out: dict[str, list] = {}
        for (size, _), which in groups.items():
            for condition, clips in rebuilt_test_clips(configs[which[0]], runs[which[0]], real, size).items():
                copies = None
                only = None if needed is None else needed.get(condition, [])
                for i in which:
                    recorded = _condition_predictions(runs[i], condition)
                    if recorded is None:
                        continue
                    path, model, meta = loaded[i]
                    if copies is None:  # a copy depends on its clip alone: those of a subset are the same copies
                        copies = recheck_copies(clips if only is None else [clips[j] for j in only], seed)
                    probs, stable = clip_stability(model, ModelInput.from_meta(meta), clips, seed, device, copies,
                                                   only)
                    check_recorded(probs, recorded, f"seed {seed} fold {fold} {condition}, member {i + 1} ({path})")
                    out.setdefault(condition, [None] * len(members))[i] = stable
        return {c: np.array(rows) for c, rows in out.items() if all(r is not None for r in rows)}
    return weigh

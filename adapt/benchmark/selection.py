"""Label-free model selection: choose a checkpoint (and, for ``best``, a method) without test labels.

The rule (named in the README): **score = synthetic-validation accuracy − mean normalised
prediction entropy on the fold's unlabelled real clips** (the training people's clips that
are not shots; the shots only when there are no others: they are trained on, so their
entropy says little). Higher is better; on a tie the later checkpoint wins. Neither
term sees a test person: the synthetic validation clips are held out of the synthetic
training set, the real clips belong to the training people of the fold.

Why both terms: entropy alone rewards a model that became confidently wrong on real
clips (collapse); synthetic accuracy alone cannot see the real domain at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simgen.adapt.active import uncertainty
from simgen.adapt.benchmark.scoring import Clip, ModelInput, clip_probabilities


@dataclass
class SelectionSet:
    """What selection may look at for one fold: held-out synthetic clips (labelled) and real clips (labels unused).

    ``real_heldout``: labelled real clips of a person the run does not train on, scored for the record
    (``heldout_accuracy``) but never part of ``score``: ``simgen adapt`` cross-validates over your people
    with them (:mod:`simgen.adapt.own_clips`). The benchmark leaves it empty.
    """

    synthetic_val: list[Clip]
    real_unlabelled: list[Clip]
    real_heldout: list[Clip] = field(default_factory=list)


def mean_entropy(probs: np.ndarray) -> float:
    """Mean prediction entropy over rows of ``probs``, divided by ``log K`` (0 certain, 1 uniform)."""
    if len(probs) == 0:
        return 0.0
    return float(uncertainty(probs, "entropy").mean())


def selection_score(model, selection: SelectionSet, spec: ModelInput, device="cpu") -> dict:
    """``dict(score, synthetic_val_accuracy, real_entropy)`` of ``model`` under the rule above."""
    syn_acc = None
    if selection.synthetic_val:
        probs = clip_probabilities(model, selection.synthetic_val, spec, device)
        syn_acc = float(np.mean(probs.argmax(1) == np.array([c.label for c in selection.synthetic_val])))
    entropy = mean_entropy(clip_probabilities(model, selection.real_unlabelled, spec, device))
    out = dict(score=round((syn_acc or 0.0) - entropy, 6), synthetic_val_accuracy=syn_acc, real_entropy=round(entropy, 6))
    if selection.real_heldout:
        probs = clip_probabilities(model, selection.real_heldout, spec, device)
        out["heldout_accuracy"] = float(np.mean(probs.argmax(1) == np.array([c.label for c in selection.real_heldout])))
    return out


def pick(candidates: list[tuple[str, dict]]) -> int:
    """Index of the highest ``score`` among ``[(name, selection dict)]``; the later one on a tie."""
    best = 0
    for i, (_, s) in enumerate(candidates):
        if s["score"] >= candidates[best][1]["score"]:
            best = i
    return best

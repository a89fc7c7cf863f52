"""``ensemble``: the mean of the class probabilities of a fold's already trained models.

An ensemble of independently adapted models averages out the errors they do not share
(Lakshminarayanan et al., "Simple and Scalable Predictive Uncertainty Estimation using Deep
Ensembles", NeurIPS 2017; Dietterich, "Ensemble Methods in Machine Learning", 2000). Here the
members are the runs the benchmark makes anyway in the same (seed, fold): with shots
``finetune, dann, coral, mmd``; without, ``sim-only, dann, coral, mmd`` (``finetune`` does not
apply). Nothing is trained or chosen: every member counts equally.
"""

from __future__ import annotations

import torch
from torch import nn

#: the members: with shots (K >= 1), and at K = 0
MEMBERS_WITH_SHOTS = ("finetune", "dann", "coral", "mmd")
MEMBERS_WITHOUT_SHOTS = ("sim-only", "dann", "coral", "mmd")


def average_probabilities(logits: list[torch.Tensor]) -> torch.Tensor:
    """Mean of ``softmax(logits)`` over members, ``(B, K)``."""
    return torch.stack([torch.softmax(z.float(), -1) for z in logits]).mean(0)


class ProbabilityEnsemble(nn.Module):
    """Models whose ``clip`` output is ``log`` of the mean member probability, so that a softmax
    over it (what scoring and selection apply) gives back that mean exactly."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        probs = average_probabilities([m(x)["clip"] for m in self.members])
        return dict(clip=torch.log(probs.clamp_min(1e-12)))


def run_ensemble(data, settings, done) -> "MethodResult":
    """The equal-weight ensemble of the members computed in ``done`` for this (seed, fold)."""
    from simgen.adapt.benchmark.methods import MethodResult, load_state
    from simgen.adapt.benchmark.selection import selection_score

    names = MEMBERS_WITH_SHOTS if data.shots is not None else MEMBERS_WITHOUT_SHOTS
    states = {n: (data.sim_state if n == "sim-only" else done[n].state) for n in names}
    missing = [n for n, s in states.items() if s is None]
    if missing:
        return MethodResult(state=None, not_applicable=f"member(s) {', '.join(missing)} not applicable")
    model = ProbabilityEnsemble([load_state(data, s) for s in states.values()]).to(data.device).eval()
    return MethodResult(state=states, selection=selection_score(model, data.selection, data.spec, data.device),
                        picked="+".join(names), model=model)

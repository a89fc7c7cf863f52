"""``ensemble``: the mean of the class probabilities of a fold's already trained models.

An ensemble of independently adapted models averages out the errors they do not share
(Lakshminarayanan et al., "Simple and Scalable Predictive Uncertainty Estimation using Deep
Ensembles", NeurIPS 2017; Dietterich, "Ensemble Methods in Machine Learning", 2000). Here the
members are the runs the benchmark makes anyway in the same (seed, fold): with shots
``finetune, dann, coral, mmd``; without, ``sim-only, dann, coral, mmd`` (``finetune`` does not
apply). Nothing is trained or chosen: every member counts equally.
"""

from __future__ import annotations

import numpy as np
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


def ensemble_runs(results: list[dict], members: list[str], name: str = "ensemble") -> dict:
    """The ensemble of ``members`` rebuilt from finished benchmark results (``results.json`` of runs of
    the same benchmark that differ only in their methods): per (seed, fold), each test clip's class
    scores averaged over the members' recorded scores (kept to 4 decimals, so within 1e-4 of the
    in-run ``ensemble``). Returns ``{"methods": {name: summary}, "config", "runs"}``.

    Raises ``ValueError`` when the runs differ in more than their methods, or a member is missing.
    """
    from simgen.adapt.benchmark.results import summarise
    from simgen.train.metrics.clip import clip_metrics

    ignore = {"methods", "seconds", "machine"}
    base = {k: v for k, v in results[0]["config"].items() if k not in ignore}
    for r in results[1:]:
        other = {k: v for k, v in r["config"].items() if k not in ignore}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise ValueError(f"cannot ensemble: the runs differ in {', '.join(diff)}")
    classes = base["classes"]
    by_key: dict[tuple, dict] = {}
    for r in results:
        for run in r["runs"]:
            if run["method"] in members and run.get("predictions"):
                by_key.setdefault((run["seed"], run["fold"]), {})[run["method"]] = run
    runs = []
    for (seed, fold), got in sorted(by_key.items(), key=lambda kv: kv[0][0]):
        missing = [m for m in members if m not in got]
        if missing:
            raise ValueError(f"cannot ensemble: seed {seed} fold {fold} has no scored run of {', '.join(missing)}")
        first = got[members[0]]
        scores = np.mean([[p["scores"] for p in got[m]["predictions"]] for m in members], 0)
        truth = [classes.index(p["label"]) for p in first["predictions"]]
        pred = [int(s.argmax()) for s in scores]
        metrics = clip_metrics(truth, pred, classes)
        correct = int(sum(metrics["confusion_counts"][k][k] for k in range(len(classes))))
        runs.append(dict(method=name, seed=seed, fold=fold, test_subjects=first["test_subjects"], shots=first["shots"],
                         seconds=0.0, not_applicable=None, picked="+".join(members),
                         conditions=dict(clean=dict(accuracy=round(metrics["accuracy"], 4), n_clips=metrics["n_clips"],
                                                    correct=correct, confusion_counts=metrics["confusion_counts"])),
                         predictions=[dict(p, predicted=classes[k], scores=[round(float(v), 4) for v in s])
                                      for p, k, s in zip(first["predictions"], pred, scores)]))
    config = dict(results[0]["config"], methods=[name], ensemble_members=list(members))
    return dict(methods=summarise(runs, [name], classes), config=config, runs=runs)


def main(argv: list[str] | None = None) -> int:
    """``python -m simgen.adapt.benchmark.ensemble A.json [B.json ...] --members finetune,dann,coral,mmd --out E.json``."""
    import argparse
    import json
    import sys

    from simgen.adapt.benchmark.results import write_and_print

    p = argparse.ArgumentParser(description="ensemble of finished benchmark runs: mean of the members' clip scores")
    p.add_argument("results", nargs="+")
    p.add_argument("--members", required=True, help="comma list of methods recorded in the results")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        out = ensemble_runs([json.loads(open(f).read()) for f in args.results], args.members.split(","))
    except (OSError, ValueError, KeyError) as exc:
        print(f"ensemble: {exc}", file=sys.stderr)
        return 2
    write_and_print(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

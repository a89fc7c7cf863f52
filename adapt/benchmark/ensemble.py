"""``ensemble``: the mean of the class probabilities of a fold's already trained models.

An ensemble of independently adapted models averages out the errors they do not share
(Lakshminarayanan et al., "Simple and Scalable Predictive Uncertainty Estimation using Deep
Ensembles", NeurIPS 2017; Dietterich, "Ensemble Methods in Machine Learning", 2000). Here the
members are the runs the benchmark makes anyway in the same (seed, fold): with shots
``finetune, dann, coral, mmd``; without, ``sim-only, dann, coral, mmd`` (``finetune`` does not
apply). Nothing is trained or chosen: every member counts equally.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from simgen.adapt.benchmark.clip_stability import CLIP_WEIGHTS_RULE, clip_stability_weigher, undecided_clips
from simgen.adapt.benchmark.clutter_gate import CLUTTER_GATE_RULE, clutter_measurer
from simgen.adapt.benchmark.stability import STABILITY_CONDITIONS

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


#: what ``config.member_weights`` says of a stability-weighted ensemble
WEIGHTS_RULE = ("stability: each member's share of unchanged predictions between the real clips of the fold's "
                "training people (labels unread) and their perturbed copies ("
                + ", ".join(f"{kind} {level:g}" for kind, level in STABILITY_CONDITIONS)
                + "); the fused scores are the members' weighted mean")

#: config fields in which runs of one benchmark split over several calls (by ``--methods`` or
#: ``--first-seed``) may differ
_CALL_FIELDS = {"methods", "seconds", "machine", "seeds"}
#: config fields that fix what a run was scored on. Runs of different recipes (synthetic data, input,
#: augmentation, training lengths) that agree on these tested the same people's clips with the same
#: shots; :func:`ensemble_members` checks it again clip by clip.
TEST_FIELDS = ("real", "shots", "folds", "leave_one_subject_out", "label_map", "shot_picker", "classes")


def _differences(a: dict, b: dict, ignore=()) -> list[str]:
    return sorted(k for k in set(a) | set(b) if k not in ignore and a.get(k) != b.get(k))


def _condition_predictions(run: dict, condition: str) -> list[dict] | None:
    """A run's per-clip predictions under ``condition`` (``None`` when the run did not record them)."""
    if condition == "clean":
        return run.get("predictions")
    return (run.get("conditions", {}).get(condition) or {}).get("predictions")


def _clip_weights(w: np.ndarray, stable: np.ndarray | None, keep: list[int] | np.ndarray) -> list[float] | None:
    """The weights of members ``keep`` on one clip: ``w * stable`` (per-clip stability), or ``w`` where that is all
    0 (or there is no per-clip stability), or ``None`` (equal) where ``w`` is all 0 too: the rule of
    :func:`~simgen.train.ensemble_scores.clip_stability_weights`, which ``simgen evaluate/predict --clip-stability``
    apply."""
    from simgen.train.ensemble_scores import clip_stability_weights

    return clip_stability_weights(w[keep], None if stable is None else stable[keep])


def _kept_members(scored: list[list[dict]], inputs: list[str], camera_gate: float | None,
                  where: str, clutter: list[float] | None = None, clutter_gate: float | None = None) -> list[list[int]]:
    """For each clip, the members :func:`_fused_scores` fuses on it: all, or the stabilised ones past the camera
    gate; of those, the person-cropped ones alone where the clip's ``clutter`` exceeds ``clutter_gate``
    (:func:`simgen.train.clutter.clutter_gated_members`)."""
    from simgen.train.clutter import clutter_gated_members
    from simgen.train.ensemble_scores import gate_applies, gated_members

    everyone = list(range(len(scored)))
    if camera_gate is None or not gate_applies(inputs):
        keeps = [everyone for _ in scored[0]]
    else:
        keeps = [gated_members(inputs, speed, camera_gate) for speed in _recorded_speeds(scored, where)]
    if clutter is None or clutter_gate is None:
        return keeps
    return [clutter_gated_members(inputs, c, clutter_gate, keep) for c, keep in zip(clutter, keeps)]


def _recorded_speeds(scored: list[list[dict]], where: str) -> list[float]:
    """The camera speeds of the clips as recorded by a member (all members scored the same copies)."""
    speeds = next(([p["camera_speed"] for p in s] for s in scored if all("camera_speed" in p for p in s)), None)
    if speeds is None:
        raise ValueError(f"cannot apply the camera gate: no member's run of {where} records the camera speed of "
                         "its clips (runs made before the benchmark measured it); rerun one, or pass --camera-gate off")
    return speeds


def _fused_scores(scored: list[list[dict]], inputs: list[str], camera_gate: float | None, where: str,
                  weights: list[float] | None = None, stability: np.ndarray | None = None,
                  clutter: list[float] | None = None, clutter_gate: float | None = None):
    """Per clip, the mean of the members' scores (weighted by ``weights`` when given, and by each member's
    per-clip ``stability`` [members, clips] when given, see :mod:`simgen.adapt.benchmark.clip_stability`); with
    ``camera_gate`` and members of stabilised and plain inputs, a clip whose recorded camera speed exceeds it
    takes the stabilised members' alone (as :class:`simgen.train.ensemble_scores.ScoreEnsemble` does); with
    ``clutter_gate`` and each clip's ``clutter``, a clip above it takes the person-cropped members' alone.
    Returns ``(scores [N,K], clips camera-gated, clips clutter-gated)``."""
    from simgen.train.clutter import clutter_gated_members
    from simgen.train.ensemble_scores import gate_applies

    every = np.array([[p["scores"] for p in s] for s in scored])  # members x clips x classes
    w = np.ones(len(every)) if weights is None or not np.sum(weights) > 0 else np.asarray(weights, float)
    if clutter_gate is None and (camera_gate is None or not gate_applies(inputs)):  # no gate: every member, always
        if stability is None:
            return np.average(every, axis=0, weights=w), 0, 0
        everyone = np.arange(len(every))
        return np.array([np.average(every[:, j], axis=0, weights=_clip_weights(w, stability[:, j], everyone))
                         for j in range(every.shape[1])]), 0, 0
    steady = _kept_members(scored, inputs, camera_gate, where)
    keeps = steady if clutter_gate is None else [clutter_gated_members(inputs, c, clutter_gate, s)
                                                 for c, s in zip(clutter, steady)]
    out = [np.average(every[keep, j], axis=0,
                      weights=_clip_weights(w, None if stability is None else stability[:, j], keep))
           for j, keep in enumerate(keeps)]
    return (np.array(out), sum(len(s) < len(inputs) for s in steady),
            sum(len(k) < len(s) for k, s in zip(keeps, steady)))


def saved_model(root: str | Path, method: str, seed: int, fold: str) -> Path:
    """Where ``simgen sim2real --save-models ROOT`` kept ``method``'s model of (``seed``, ``fold``):
    ``ROOT/METHOD-seedS/test-FOLD/model.pt``, or ``ROOT/METHOD-seedS/model.pt`` for a one-fold benchmark."""
    folder = Path(root) / f"{method}-seed{seed}"
    per_fold = folder / f"test-{fold}" / "model.pt"
    return per_fold if per_fold.is_file() or not (folder / "model.pt").is_file() else folder / "model.pt"


def stability_weigher(members: list[tuple[str, list[dict]]], model_roots: list[str], real: str | None = None,
                      device="cpu") -> Callable[[int, str], list[float]]:
    """``(seed, fold) -> weights``: each member's :func:`~simgen.adapt.benchmark.stability.stability_weights`
    from its saved model (``model_roots[i]``: member ``i``'s ``--save-models`` folder) on the real clips of the
    fold's training people (``real``, default: the folder the benchmark read)."""
    from simgen.adapt.benchmark.stability import stability_weights

    if len(model_roots) != len(members):
        raise ValueError(f"--member-models: {len(model_roots)} folder(s) for {len(members)} members (one per --member, "
                         "in the same order)")
    real = real or members[0][1][0]["config"]["real"]

    def weigh(seed: int, fold: str) -> list[float]:
        paths = [saved_model(root, method, seed, fold) for (method, _), root in zip(members, model_roots)]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"no saved model for seed {seed} fold {fold}: {', '.join(missing)} (--member-models "
                             "takes the folders the members' benchmarks were given as --save-models)")
        return stability_weights(paths, real, seed, device)
    return weigh


def ensemble_members(members: list[tuple[str, list[dict]]], name: str = "ensemble",
                     camera_gate: float | None = None,
                     weigh: Callable[[int, str], list[float]] | None = None, progress: bool = False,
                     clip_weigh: Callable[[int, str, list[dict]], dict[str, np.ndarray]] | None = None,
                     scale: list[float] | None = None, clutter_gate: float | None = None,
                     clutter_of: Callable[[int, str, list[dict]], dict[str, list[float]]] | None = None) -> dict:
    """The equal-weight ensemble of ``members`` = ``[(method, [results.json, ...]), ...]``: per (seed, fold),
    each test clip's class scores averaged over the members' recorded scores (kept to 4 decimals), under
    the clean condition and every perturbed one all members recorded clip scores for (the benchmark
    perturbs a fold's clips the same way whatever the recipe: the randomness comes from the seed and fold).

    A member's results are runs of one benchmark (they may differ only in ``_CALL_FIELDS``). Members may
    come from benchmarks of different recipes (e.g. ``diff`` + ``light`` on one synthetic set and ``psdiff``
    + ``robust`` on another) when they agree on ``TEST_FIELDS`` and, per (seed, fold), on the shots and the
    test clips. ``camera_gate``: for members of stabilised and plain inputs (``config.input``), see
    :func:`_fused_scores`; each condition's record counts the clips it narrowed (``gated``). ``weigh``: the
    members' weights of a (seed, fold) (e.g. :func:`stability_weigher`), recorded in each run as
    ``member_weights``; without it every member counts the same. ``clip_weigh``: each member's per-clip stability
    of a (seed, fold) given its members' runs (:func:`~simgen.adapt.benchmark.clip_stability.clip_stability_weigher`),
    multiplying the weights clip by clip and recorded with each prediction as ``member_stability``. ``scale``: one
    number per member multiplying its weights (from ``weigh``, or 1 each) before any clip's fusion, e.g.
    ``[1, 1.5]``: the second member x1.5, as ``pipelines/sim2real_targets.sh`` fuses at K = 1. ``clutter_gate``
    with ``clutter_of`` (each test clip's clutter per condition of a (seed, fold) given its members' runs,
    :func:`~simgen.adapt.benchmark.clutter_gate.clutter_measurer`): a clip whose clutter exceeds the gate is fused
    from the person-cropped members alone (:func:`simgen.train.clutter.clutter_gated_members`); each prediction
    records its ``clutter``, each condition the clips gated (``clutter_gated``). Returns
    ``{"methods": {name: summary}, "config", "runs"}``.

    Raises ``ValueError`` naming what differs, or the (seed, fold) a member has no scored run of.
    """
    from simgen.adapt.benchmark.results import summarise
    from simgen.adapt.benchmark.scoring import condition_record
    from simgen.train.metrics.clip import clip_metrics

    if scale is not None and len(scale) != len(members):
        raise ValueError(f"cannot ensemble: {len(scale)} member scale(s) for {len(members)} members")
    if (clutter_gate is None) != (clutter_of is None):
        raise ValueError("cannot ensemble: a clutter gate needs the clips' clutter (clutter_of), and the other way")
    first = members[0][1][0]["config"]
    for method, results in members:
        for r in results[1:]:
            diff = _differences(results[0]["config"], r["config"], _CALL_FIELDS)
            if diff:
                raise ValueError(f"cannot ensemble: the runs of {method} differ in {', '.join(diff)}")
        diff = [k for k in TEST_FIELDS if results[0]["config"].get(k) != first.get(k)]
        if diff:
            raise ValueError(f"cannot ensemble: {method}'s runs were scored differently ({', '.join(diff)})")
    classes = first["classes"]
    inputs = [results[0]["config"].get("input", "") for _, results in members]
    by_key: dict[tuple, list] = {}
    for i, (method, results) in enumerate(members):
        for r in results:
            for run in r["runs"]:
                if run["method"] == method and run.get("predictions"):
                    slot = by_key.setdefault((run["seed"], run["fold"]), [None] * len(members))
                    slot[i] = run
    labels = [m if sum(n == m for n, _ in members) == 1 else f"{m}#{i + 1}" for i, (m, _) in enumerate(members)]
    runs = []
    items = sorted(by_key.items(), key=lambda kv: kv[0][0])
    for (seed, fold), got in tqdm(items, desc="member weights", unit="fold",
                                  disable=not (progress and (weigh or clip_weigh))):
        missing = [labels[i] for i, run in enumerate(got) if run is None]
        if missing:
            raise ValueError(f"cannot ensemble: seed {seed} fold {fold} has no scored run of {', '.join(missing)}")
        head = got[0]
        for label, run in zip(labels[1:], got[1:]):
            if [p["clip"] for p in run["predictions"]] != [p["clip"] for p in head["predictions"]] \
                    or run["shots"] != head["shots"]:
                raise ValueError(f"cannot ensemble: seed {seed} fold {fold}: {label} was scored on other clips "
                                 f"or trained with other shots than {labels[0]}")
        truth = [classes.index(p["label"]) for p in head["predictions"]]
        weights = weigh(seed, fold) if weigh is not None else None
        if scale is not None:
            # 6 places: exact for stability weights (4 places) times a scale such as 1.5
            weights = [round(w * s, 6) for w, s in zip(weights or [1.0] * len(members), scale)]
        names = list(dict.fromkeys(["clean", *(head.get("conditions") or {})]))  # clean first, once
        recorded = {c: [_condition_predictions(run, c) for run in got] for c in names}
        recorded = {c: scored for c, scored in recorded.items() if all(s is not None for s in scored)}
        clutter = clutter_of(seed, fold, got) if clutter_of is not None else {}
        stability = {}
        if clip_weigh is not None:  # measured where the weights can change the answer
            stability = clip_weigh(seed, fold, got, needed={c: undecided_clips(
                scored, _kept_members(scored, inputs, camera_gate, f"seed {seed} fold {fold} ({c})",
                                      clutter.get(c), clutter_gate))
                for c, scored in recorded.items()})
        conditions, preds = {}, None
        for condition, scored in recorded.items():
            if clip_weigh is not None and condition not in stability:
                raise ValueError(f"seed {seed} fold {fold}: no per-clip stability of the condition {condition}")
            stable = stability.get(condition)
            where = f"seed {seed} fold {fold} ({condition})"
            if clutter_gate is not None and condition not in clutter:
                raise ValueError(f"{where}: no clutter measured for the clutter gate")
            values = clutter.get(condition)
            scores, gated, swept = _fused_scores(scored, inputs, camera_gate, where, weights, stable, values,
                                                 clutter_gate)
            pred = [int(v.argmax()) for v in scores]
            metrics = clip_metrics(truth, pred, classes)
            metrics["predictions"] = [dict(p, label=classes[t], predicted=classes[k],
                                           scores=[round(float(v), 4) for v in sc],
                                           **({} if stable is None else
                                              dict(member_stability=[None if np.isnan(x) else round(float(x), 4)
                                                                     for x in stable[:, j]])),
                                           **({} if values is None else dict(clutter=round(values[j], 4))))
                                      for j, (p, t, k, sc) in enumerate(zip(scored[0], truth, pred, scores))]
            if condition == "clean":
                preds = metrics["predictions"]
            conditions[condition] = dict(condition_record(metrics, with_predictions=condition != "clean"),
                                         gated=gated, **({} if clutter_gate is None else {"clutter_gated": swept}))
        runs.append(dict(method=name, seed=seed, fold=fold, test_subjects=head["test_subjects"], shots=head["shots"],
                         seconds=0.0, not_applicable=None, picked="+".join(labels), conditions=conditions,
                         predictions=preds, **({} if weights is None else dict(member_weights=weights))))
    member_configs = [dict(method=m, differs={k: results[0]["config"].get(k)
                                              for k in _differences(first, results[0]["config"], _CALL_FIELDS)})
                      for m, results in members]
    rule = WEIGHTS_RULE if weigh is not None else "equal"
    if scale is not None:
        rule += "; times the member scale " + ",".join(f"{s:g}" for s in scale)
    config = dict(first, methods=[name], ensemble_members=labels, camera_gate=camera_gate,
                  member_weights=rule if clip_weigh is None else f"{rule}; {CLIP_WEIGHTS_RULE}")
    if clutter_gate is not None:
        config.update(clutter_gate=clutter_gate, clutter_gate_rule=CLUTTER_GATE_RULE)
    if any(mc["differs"] for mc in member_configs):
        config["ensemble_member_configs"] = member_configs
    return dict(methods=summarise(runs, [name], classes), config=config, runs=runs)


def ensemble_runs(results: list[dict], members: list[str], name: str = "ensemble") -> dict:
    """The ensemble of ``members`` (methods) rebuilt from finished results of one benchmark (runs that
    differ only in their methods or seeds): :func:`ensemble_members` with every member read from all of
    ``results`` (so within 1e-4 of the in-run ``ensemble``; one input mode, so no camera gate)."""
    return ensemble_members([(m, results) for m in members], name)


def _member_option(text: str) -> tuple[str, list[str]]:
    """``METHOD=FILE[,FILE...]`` (shell patterns allowed) -> ``(METHOD, files)``; ``ValueError`` when malformed."""
    import glob

    method, sep, files = text.partition("=")
    if not sep or not method or not files:
        raise ValueError(f"--member {text!r}: expected METHOD=FILE[,FILE...]")
    paths = []
    for pattern in files.split(","):
        found = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not found:
            raise ValueError(f"--member {text!r}: no file matches {pattern}")
        paths += found
    return method, paths


def main(argv: list[str] | None = None) -> int:
    """``python -m simgen.adapt.benchmark.ensemble A.json [B.json ...] --members finetune,dann,coral,mmd --out E.json``,
    or across recipes: ``... --member best=diff_k1_seed*.json --member best=psdiff_k1_seed*.json --out E.json``."""
    import argparse
    import json
    import sys

    from simgen.adapt.benchmark.results import write_and_print
    from simgen.pipelines.ensemble_options import CAMERA_GATE, camera_gate, clutter_gate_value, member_weights
    from simgen.train.clutter import CLUTTER_GATE

    p = argparse.ArgumentParser(description="ensemble of finished benchmark runs: mean of the members' clip scores "
                                            "(clean and every perturbed condition with recorded clip scores)")
    p.add_argument("results", nargs="*", help="results.json files of one benchmark (with --members)")
    p.add_argument("--members", help="comma list of methods recorded in the results")
    p.add_argument("--member", action="append", default=[], metavar="METHOD=FILE[,FILE...]",
                   help="one member: a method and the results files (one benchmark, e.g. one per seed) to read it "
                        "from; repeat for each member. Members may come from benchmarks of different recipes "
                        "that scored the same clips with the same shots")
    p.add_argument("--name", default="ensemble", help="the ensemble's method name in the output (default: ensemble)")
    p.add_argument("--camera-gate", dest="camera_gate", type=camera_gate, default=CAMERA_GATE, metavar="SPEED",
                   help="members of stabilised and plain inputs: a clip whose recorded camera speed exceeds SPEED "
                        "takes the stabilised members' scores alone, as simgen evaluate/predict do; off: always "
                        f"the mean of all (default: {CAMERA_GATE})")
    p.add_argument("--member-models", dest="member_models", action="append", default=[], metavar="DIR",
                   help="weigh the members by their prediction stability (see simgen.adapt.benchmark.stability): "
                        "each member's --save-models folder, one per --member in the same order")
    p.add_argument("--clip-stability", dest="clip_stability", action="store_true",
                   help="with --member-models: also weigh each member clip by clip, by how often it keeps its answer "
                        "on perturbed copies of that test clip (see simgen.adapt.benchmark.clip_stability)")
    p.add_argument("--member-scale", dest="member_scale", type=member_weights, metavar="S,S,...",
                   help="with --member: one number per member, in order, multiplying its weights (its stability "
                        "with --member-models, else 1) before the fusion; e.g. 1,1.5 weighs the second member x1.5, "
                        "as the targets pipeline does at K = 1 (default: 1 each)")
    p.add_argument("--clutter-gate", dest="clutter_gate", type=clutter_gate_value, default=None, metavar="SHARE",
                   help="with --member-models and members of person-cropped (pdiff, psdiff, psrgb+diff) and "
                        "whole-frame inputs: a test clip whose clutter (share of its motion outside the person box, "
                        f"rebuilt from the real folder) exceeds SHARE is fused from the cropped members alone; e.g. "
                        f"{CLUTTER_GATE:g}, as the targets pipeline does at K = 0 (default: off)")
    p.add_argument("--real", help="with --member-models: the real folder the benchmarks read (default: the one "
                                  "their config records)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if bool(args.members) == bool(args.member) or bool(args.results) != bool(args.members):
        print("ensemble: give RESULTS... --members LIST, or --member METHOD=FILES (repeated)", file=sys.stderr)
        return 2
    if args.member_models and not args.member:
        print("ensemble: --member-models goes with --member METHOD=FILES (one folder per member)", file=sys.stderr)
        return 2
    if args.member_scale and len(args.member_scale) != len(args.member):
        print(f"ensemble: --member-scale has {len(args.member_scale)} number(s) for {len(args.member)} --member "
              "(one per member, in order)", file=sys.stderr)
        return 2
    if args.clip_stability and not args.member_models:
        print("ensemble: --clip-stability needs --member-models (the members' saved models)", file=sys.stderr)
        return 2
    if args.clutter_gate is not None and not args.member_models:
        print("ensemble: --clutter-gate needs --member-models (the person-cropped member's windows)", file=sys.stderr)
        return 2
    try:
        if args.members:
            out = ensemble_runs([json.loads(open(f).read()) for f in args.results], args.members.split(","), args.name)
        else:
            specs = [_member_option(m) for m in args.member]
            members = [(m, [json.loads(open(f).read()) for f in files]) for m, files in specs]
            weigh = stability_weigher(members, args.member_models, args.real) if args.member_models else None
            clip_weigh = clip_stability_weigher(members, args.member_models, args.real) if args.clip_stability else None
            clutter_of = (clutter_measurer(members, args.member_models, args.real)
                          if args.clutter_gate is not None else None)
            out = ensemble_members(members, args.name, args.camera_gate, weigh, progress=True, clip_weigh=clip_weigh,
                                   scale=args.member_scale, clutter_gate=args.clutter_gate, clutter_of=clutter_of)
            for mc, (_, files) in zip(out["config"].get("ensemble_member_configs", []), specs):
                mc["files"] = files
    except (OSError, ValueError, KeyError) as exc:  # TrainDataError (an unreadable checkpoint) is a ValueError
        print(f"ensemble: {exc}", file=sys.stderr)
        return 2
    write_and_print(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

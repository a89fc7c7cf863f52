"""Adapt a trained model to your own real clips with one of the benchmark's methods (``simgen adapt``).

The sim-to-real benchmark (:mod:`simgen.adapt.benchmark`) measures each method on people it keeps
out of training; this module applies one of them to every clip you have, to make the model you
deploy. The start is a ``simgen train`` run (its ``model.pt`` and ``config.yaml``: the synthetic
clips and the training/validation split it used). Your labelled clips are the method's shots
(all of them, or ``shots`` per class), the other clips of the chosen people are its unlabelled
real clips (labels hidden from batches and samplers). A trained method's checkpoint is chosen by
cross-validation over your labelled people when there are two or more (:func:`cross_validate`),
else by the benchmark's label-free rule (synthetic validation accuracy minus the mean prediction
entropy on the unlabelled real clips; :mod:`simgen.adapt.benchmark.selection`). No clip is needed
for testing here: keep the people you will test on out (``exclude_subjects``) and score them with
``simgen evaluate``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from simgen.adapt.benchmark import provenance
from simgen.adapt.benchmark.folds import BenchmarkInputError, Fold, RealRow, sample_shots
from simgen.adapt.benchmark.methods import (METHODS, FoldData, MethodResult, Settings, model_options, run_method,
                                             run_order)

#: the methods that make one adapted network (``sim-only`` is the start itself; ``ensemble`` is no single
#: network: give ``simgen evaluate``/``predict`` several checkpoints instead)
ADAPT_METHODS = tuple(m for m in METHODS if m not in ("sim-only", "ensemble"))
#: how a trained method's checkpoint is chosen: ``cv`` (leave one of your labelled people out at a time),
#: ``label-free`` (the benchmark's rule), ``auto`` (cv when at least 2 people have labelled clips)
SELECT_RULES = ("auto", "cv", "label-free")


def adapt_settings(**lengths) -> Settings:
    """The benchmark's :class:`Settings` (``lengths``: steps, rates) with the ``label-free`` rule: the start stays a
    candidate, as cross-validation (``--select cv``) may choose it (the benchmark's default ``adapted`` never
    returns it when there are shots)."""
    return Settings(**lengths, select="label-free")


@dataclass
class AdaptRequest:
    """What to adapt, to which clips, how."""

    checkpoint: Path  # a simgen train run's model.pt, config.yaml beside it
    real: Path  # labels.csv (path,label[,subject]; empty label = unlabelled) or one folder per class
    method: str = "best"
    synthetic: Path | None = None  # default: the run's own synthetic folder (config.yaml)
    shots: int | None = None  # labelled clips per class to use; None: every labelled clip
    subjects: list[str] | None = None
    exclude_subjects: list[str] | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    select: str = "auto"  # SELECT_RULES
    settings: Settings = field(default_factory=adapt_settings)
    device: str = "cpu"
    cache_dir: str | None = None
    progress: bool = True


def start_run_config(checkpoint: Path, synthetic: Path | None):
    """The :class:`~simgen.train.config.TrainConfig` of the run that wrote ``checkpoint`` (its ``config.yaml``),
    with ``synthetic`` in place of the recorded folder when given."""
    import yaml
    from pydantic import ValidationError

    from simgen.train.config import TrainConfig

    path = Path(checkpoint).parent / "config.yaml"
    if not path.is_file():
        raise BenchmarkInputError(f"--checkpoint {checkpoint}: no config.yaml beside it; give the model.pt of a "
                                  "`simgen train` run (its config names the synthetic clips and their validation split)")
    try:
        raw = yaml.safe_load(path.read_text())
        cfg = TrainConfig(**raw)
    except (yaml.YAMLError, TypeError, ValidationError) as exc:
        raise BenchmarkInputError(f"{path}: not a readable training configuration ({str(exc).splitlines()[0]})") from None
    if cfg.real:
        raise BenchmarkInputError(f"--checkpoint {checkpoint}: the run also trained on real clips ({path}: real: "
                                  f"{cfg.real}); adapt a model trained on synthetic clips only")
    if synthetic is not None:
        cfg = cfg.model_copy(update=dict(synthetic=str(synthetic)))
    if not cfg.synthetic or not Path(cfg.synthetic).is_dir():
        raise BenchmarkInputError(f"{path}: synthetic: {cfg.synthetic} is not a folder here; give --synthetic DIR "
                                  "(the clips the model was trained on)")
    return cfg


def own_fold(rows: list[RealRow], classes: list[str], *, shots: int | None, subjects, exclude_subjects,
             rng: np.random.Generator, where: str) -> Fold:
    """A fold with no test people: the chosen people's labelled clips are shots (all, or ``shots`` per class),
    their other clips unlabelled."""
    known = sorted({r.subject for r in rows if r.subject})
    for option, names in (("--subjects", subjects), ("--exclude-subjects", exclude_subjects)):
        unknown = [s for s in names or [] if s not in known]
        if unknown:
            raise BenchmarkInputError(f"{option}: {', '.join(unknown)} not among the subjects of {where} "
                                      f"({', '.join(known) or 'none'})")
    chosen = [i for i, r in enumerate(rows) if (subjects is None or r.subject in subjects)
              and (exclude_subjects is None or r.subject not in exclude_subjects)]
    if not chosen:
        raise BenchmarkInputError(f"{where}: no clip left after --subjects/--exclude-subjects")
    labelled = [i for i in chosen if rows[i].label >= 0]
    if shots is None:
        shot_idx = labelled
    else:
        shot_idx = sample_shots(rows, labelled, classes, shots, rng, "own")
    missing = sorted({classes[k] for k in range(len(classes))} - {classes[rows[i].label] for i in shot_idx})
    if shot_idx and missing:
        print(f"simgen adapt: warning: no labelled clip of {', '.join(missing)}; the method sees those classes "
              "in the synthetic clips only", file=sys.stderr)
    kept = set(shot_idx)
    people = sorted({rows[i].subject for i in chosen if rows[i].subject})
    return Fold(name="own", test_subjects=(), train_subjects=tuple(people), shots=tuple(shot_idx),
                unlabelled=tuple(i for i in chosen if i not in kept), test=())


@dataclass
class _Inputs:
    """What every run of one ``simgen adapt`` call shares: the start model, the clips, how the model reads them."""

    req: AdaptRequest
    meta: dict
    start_model: torch.nn.Module
    real: object  # RealClips
    train_cfg: object  # the start run's TrainConfig
    syn_train: object
    syn_val: list  # Clip
    spec: object  # ModelInput


def _inputs(req: AdaptRequest) -> tuple[_Inputs, Fold]:
    from simgen.adapt.benchmark.data import RealClips
    from simgen.adapt.benchmark.runner import synthetic_clips
    from simgen.adapt.benchmark.scoring import ModelInput
    from simgen.train.checkpoint import load_checkpoint, model_from_checkpoint
    from simgen.train.data.cache import FrameCache
    from simgen.train.errors import TrainDataError
    from simgen.train.fit import build_datasets

    if req.method not in ADAPT_METHODS:
        raise BenchmarkInputError(f"--method: unknown method '{req.method}' (methods: {', '.join(ADAPT_METHODS)})")
    if req.select not in SELECT_RULES:
        raise BenchmarkInputError(f"--select: unknown rule '{req.select}' (rules: {', '.join(SELECT_RULES)})")
    cfg = start_run_config(req.checkpoint, req.synthetic)
    try:
        start_model, meta = model_from_checkpoint(load_checkpoint(req.checkpoint), req.checkpoint)
    except TrainDataError as exc:
        raise BenchmarkInputError(f"--checkpoint {exc}") from None
    classes = list(meta["classes"])
    try:
        real = RealClips(req.real, classes, req.label_map, size=meta["size"], cache=FrameCache(req.cache_dir))
    except TrainDataError as exc:
        raise BenchmarkInputError(str(exc)) from None
    fold = own_fold(real.rows, classes, shots=req.shots, subjects=req.subjects, exclude_subjects=req.exclude_subjects,
                    rng=np.random.default_rng((req.seed, 1)), where=str(Path(req.real) / "labels.csv"))
    labelled_people = _labelled_people(real.rows, fold)
    if req.select == "cv" and len(labelled_people) < 2:
        raise BenchmarkInputError(f"--select cv: needs labelled clips of at least 2 people in {req.real}/labels.csv "
                                  f"(has {len(labelled_people)}); use --select label-free")
    real.decode_all(indices=(*fold.shots, *fold.unlabelled))
    train_cfg = cfg.model_copy(update=dict(progress=False, cache_dir=req.cache_dir))
    try:
        syn_train, syn_val, syn_classes, _ = build_datasets(train_cfg)  # the start run's split (its seed)
    except TrainDataError as exc:
        raise BenchmarkInputError(f"--synthetic {train_cfg.synthetic}: {exc}") from None
    if list(syn_classes) != classes:
        raise BenchmarkInputError(f"--synthetic {train_cfg.synthetic}: classes {', '.join(syn_classes)} differ from "
                                  f"the model's ({', '.join(classes)})")
    return _Inputs(req=req, meta=meta, start_model=start_model, real=real, train_cfg=train_cfg,
                   syn_train=syn_train, syn_val=synthetic_clips(syn_val) if syn_val is not None else [],
                   spec=ModelInput.from_meta(meta)), fold


def _labelled_people(rows: list[RealRow], fold: Fold) -> list[str]:
    return sorted({rows[i].subject for i in fold.shots if rows[i].subject})


def _fold_data(inp: _Inputs, fold: Fold, heldout: tuple[int, ...] = ()) -> FoldData:
    """The methods' view of ``fold`` (``heldout``: labelled clips scored at every checkpoint, never trained on)."""
    from simgen.adapt.benchmark.data import fold_training_sets
    from simgen.adapt.benchmark.selection import SelectionSet, selection_score

    req, meta = inp.req, inp.meta
    selection = SelectionSet(synthetic_val=inp.syn_val,
                             real_unlabelled=[inp.real.clip(i) for i in (fold.unlabelled or fold.shots)],
                             real_heldout=[inp.real.clip(i) for i in heldout])
    shots_ds, real_train = fold_training_sets(inp.real, fold, sampler=inp.train_cfg.sampler,
                                              num_frames=meta["num_frames"], stride=meta["stride"],
                                              fps=inp.train_cfg.fps, seed=req.seed)
    data = FoldData(seed=req.seed, classes=list(meta["classes"]), input_mode=meta["input"], backbone=meta["backbone"],
                    size=meta["size"], sim_state=inp.start_model.state_dict(), synthetic_train=inp.syn_train,
                    shots=shots_ds,
                    real_train=real_train, selection=selection, spec=inp.spec, device=req.device,
                    model_options=model_options(meta),
                    augment=inp.train_cfg.augment, keep_checkpoints=bool(heldout))
    data.sim_selection = selection_score(inp.start_model, selection, inp.spec, req.device)
    return data


def _run(name: str, data: FoldData, inp: _Inputs, done: dict[str, MethodResult]) -> tuple[MethodResult, float]:
    t0 = time.time()
    torch.manual_seed(inp.req.seed * 10_000 + METHODS.index(name))  # as the benchmark seeds a method (fold 0)
    result = run_method(name, data, inp.req.settings, done)
    return result, time.time() - t0


def cross_validate(inp: _Inputs, fold: Fold, to_run: list[str], bar) -> dict:
    """Choose each trained method's step by leave-one-person-out over your labelled people.

    For each person P with labelled clips, the methods run on every other person's clips (P's clips,
    labelled or not, are left out) and P's labelled clips are scored at every checkpoint. A method's
    step is the one with the most held-out clips right over all people (the later step on a tie); the
    methods after it in the chain start, in every fold, from its checkpoint at that step.
    Returns ``{"people", "methods": {NAME: {"accuracy": {STEP: acc}, "step": S}}, "estimate"}``.
    """
    rows = inp.real.rows
    people = _labelled_people(rows, fold)
    folds, datas = {}, {}
    for p in people:
        keep = lambda idx: tuple(i for i in idx if rows[i].subject != p)  # noqa: E731
        folds[p] = Fold(name=f"cv-{p}", test_subjects=(p,), train_subjects=tuple(q for q in people if q != p),
                        shots=keep(fold.shots), unlabelled=keep(fold.unlabelled), test=())
        heldout = tuple(i for i in fold.shots if rows[i].subject == p)
        datas[p] = (_fold_data(inp, folds[p], heldout), len(heldout))
    done = {p: {} for p in people}
    out: dict = {"people": people, "methods": {}}
    for name in to_run:
        per_step: dict[int, list[float]] = {}
        for p in people:
            bar.set_postfix_str(f"cross-validation, {p} held out: {name}")
            data, n = datas[p]
            result, _ = _run(name, data, inp, done[p])
            done[p][name] = result
            bar.update(1)
            for step, _, sel in result.candidates or []:
                per_step.setdefault(step, []).append(sel["heldout_accuracy"] * n)
        if not per_step:  # no training of its own (adabn, best, a pseudo-labelling that kept too few)
            continue
        total = sum(n for _, n in datas.values())
        accuracy = {step: round(sum(v) / total, 4) for step, v in sorted(per_step.items()) if len(v) == len(people)}
        if not accuracy:  # it trained in some folds only (pseudo-labels kept in some): label-free, as the benchmark
            continue
        step = max(accuracy, key=lambda s: (accuracy[s], s))
        out["methods"][name] = dict(accuracy=accuracy, step=step)
        for p in people:  # later methods start from this method's model at the chosen step
            result = done[p][name]
            chosen = next((c for c in result.candidates if c[0] == step), None)
            if chosen is not None:
                result.state, result.chosen_step, result.selection = chosen[1], chosen[0], chosen[2]
    last = next((m for m in reversed(to_run) if m in out["methods"]), None)
    # the held-out accuracy at the chosen steps: optimistic, as the steps were chosen on it
    out["estimate"] = out["methods"][last]["accuracy"][out["methods"][last]["step"]] if last else None
    return out


def adapt_checkpoint(req: AdaptRequest) -> tuple[dict, dict]:
    """Run ``req.method`` (after the methods it needs) from ``req.checkpoint`` on ``req.real``.

    Returns ``(checkpoint, record)``: the adapted checkpoint (``meta.adapt`` says how it was made) and a
    JSON-ready record of every method run (scores, chosen step, pseudo-labels kept, seconds) and of the
    cross-validation. Raises :class:`BenchmarkInputError` on bad input (one line each).
    """
    from tqdm import tqdm

    t_start = time.time()
    inp, fold = _inputs(req)
    synthetic_digest = provenance.dataset_digest(inp.train_cfg.synthetic)  # the clips as they were at the start
    to_run = run_order([req.method], 1 if fold.shots else 0)
    people = _labelled_people(inp.real.rows, fold)
    rule = req.select if req.select != "auto" else "cv" if len(people) >= 2 else "label-free"
    if rule == "label-free" and fold.shots and not fold.unlabelled:
        print("simgen adapt: warning: every clip is labelled, so the label-free rule measures prediction entropy on "
              "the clips it trains on and tends to keep the unadapted start (README: simgen adapt, measured); add "
              "unlabelled clips (rows with an empty label), or label clips of a second person for --select cv",
              file=sys.stderr)
    bar = tqdm(total=len(to_run) * (1 + (len(people) if rule == "cv" else 0)), desc="adapt", unit="run",
               disable=not req.progress)
    cv = None
    if rule == "cv":
        cv = cross_validate(inp, fold, to_run, bar)
    data = _fold_data(inp, fold)
    done: dict[str, MethodResult] = {}
    runs = []
    for name in to_run:
        bar.set_postfix_str(name)
        data.select_step = cv["methods"][name]["step"] if cv and name in cv["methods"] else None
        result, seconds = _run(name, data, inp, done)
        done[name] = result
        bar.update(1)
        runs.append(dict(method=name, seconds=round(seconds, 1), not_applicable=result.not_applicable,
                         selection=result.selection, chosen_step=result.chosen_step, picked=result.picked,
                         chosen_by="cross-validation" if data.select_step is not None else "label-free",
                         history=result.history, **({"info": result.info} if result.info is not None else {})))
    bar.close()
    final = done[req.method]
    if final.state is None:
        raise BenchmarkInputError(f"--method {req.method}: {final.not_applicable or 'made no model'}"
                                  + ("; label some clips in labels.csv" if not fold.shots else ""))
    paths = lambda idx: [inp.real.rows[i].path for i in idx]  # noqa: E731
    record = dict(method=req.method, picked=final.picked, from_checkpoint=str(req.checkpoint),
                  synthetic=str(inp.train_cfg.synthetic), real=str(req.real), seed=req.seed,
                  subjects=req.subjects, exclude_subjects=req.exclude_subjects, select=rule,
                  shots=paths(fold.shots), unlabelled=paths(fold.unlabelled), cross_validation=cv,
                  start_selection=data.sim_selection, selection=final.selection, chosen_step=final.chosen_step,
                  settings=asdict(req.settings), seconds=round(time.time() - t_start, 1),
                  synthetic_digest=synthetic_digest,
                  machine=provenance.machine(req.device))
    out_ckpt = dict(meta=dict(inp.meta, adapt={k: v for k, v in record.items() if k not in ("unlabelled",)}),
                    model=final.state)
    return out_ckpt, dict(record, runs=runs)

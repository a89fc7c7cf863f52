"""Adapt a trained model to your own real clips with one of the benchmark's methods (``simgen adapt``).

The sim-to-real benchmark (:mod:`simgen.adapt.benchmark`) measures each method on people it keeps
out of training; this module applies one of them to every clip you have, to make the model you
deploy. The start is a ``simgen train`` run (its ``model.pt`` and ``config.yaml``: the synthetic
clips and the training/validation split it used). Your labelled clips are the method's shots
(all of them, or ``shots`` per class), the other clips of the chosen people are its unlabelled
real clips (labels hidden from batches and samplers), and the checkpoint is chosen by the
benchmark's label-free rule (synthetic validation accuracy minus the mean prediction entropy on
the unlabelled real clips; :mod:`simgen.adapt.benchmark.selection`), so no clip is needed for
testing here: keep the clips you will test on out (``exclude_subjects``) and score them with
``simgen evaluate``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from simgen.adapt.benchmark.folds import BenchmarkInputError, Fold, RealRow, sample_shots
from simgen.adapt.benchmark.methods import METHODS, FoldData, MethodResult, Settings, run_method, run_order

#: the methods that make one adapted network (``sim-only`` is the start itself; ``ensemble`` is no single
#: network: give ``simgen evaluate``/``predict`` several checkpoints instead)
ADAPT_METHODS = tuple(m for m in METHODS if m not in ("sim-only", "ensemble"))


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
    settings: Settings = field(default_factory=Settings)
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


def adapt_checkpoint(req: AdaptRequest) -> tuple[dict, dict]:
    """Run ``req.method`` (after the methods it needs) from ``req.checkpoint`` on ``req.real``.

    Returns ``(checkpoint, record)``: the adapted checkpoint (``meta.adapt`` says how it was made) and a
    JSON-ready record of every method run (label-free scores, chosen step, pseudo-labels kept, seconds).
    Raises :class:`BenchmarkInputError` on bad input (one line each).
    """
    from tqdm import tqdm

    from simgen.adapt.benchmark.data import RealClips, fold_training_sets
    from simgen.adapt.benchmark.runner import _clip, _synthetic_clips
    from simgen.adapt.benchmark.scoring import ModelInput
    from simgen.adapt.benchmark.selection import SelectionSet, selection_score
    from simgen.train.checkpoint import load_checkpoint, model_from_checkpoint
    from simgen.train.data.cache import FrameCache
    from simgen.train.errors import TrainDataError
    from simgen.train.fit import build_datasets

    if req.method not in ADAPT_METHODS:
        raise BenchmarkInputError(f"--method: unknown method '{req.method}' (methods: {', '.join(ADAPT_METHODS)})")
    t_start = time.time()
    cfg = start_run_config(req.checkpoint, req.synthetic)
    try:
        ckpt = load_checkpoint(req.checkpoint)
        start_model, meta = model_from_checkpoint(ckpt, req.checkpoint)
    except TrainDataError as exc:
        raise BenchmarkInputError(f"--checkpoint {exc}") from None
    classes = list(meta["classes"])
    cache = FrameCache(req.cache_dir)
    try:
        real = RealClips(req.real, classes, req.label_map, size=meta["size"], cache=cache)
    except TrainDataError as exc:
        raise BenchmarkInputError(str(exc)) from None
    where = str(Path(req.real) / "labels.csv")
    fold = own_fold(real.rows, classes, shots=req.shots, subjects=req.subjects, exclude_subjects=req.exclude_subjects,
                    rng=np.random.default_rng((req.seed, 1)), where=where)
    real.decode_all(indices=(*fold.shots, *fold.unlabelled))
    train_cfg = cfg.model_copy(update=dict(seed=cfg.seed, progress=False, cache_dir=req.cache_dir))
    try:
        syn_train, syn_val, syn_classes, _ = build_datasets(train_cfg)
    except TrainDataError as exc:
        raise BenchmarkInputError(f"--synthetic {train_cfg.synthetic}: {exc}") from None
    if list(syn_classes) != classes:
        raise BenchmarkInputError(f"--synthetic {train_cfg.synthetic}: classes {', '.join(syn_classes)} differ from "
                                  f"the model's ({', '.join(classes)})")
    spec = ModelInput.from_meta(meta)
    selection = SelectionSet(synthetic_val=_synthetic_clips(syn_val) if syn_val is not None else [],
                             real_unlabelled=[_clip(real, i) for i in (fold.unlabelled or fold.shots)])
    shots_ds, real_train = fold_training_sets(real, fold, sampler=train_cfg.sampler, num_frames=meta["num_frames"],
                                              stride=meta["stride"], fps=train_cfg.fps, seed=req.seed)
    head = meta.get("head") or {}
    data = FoldData(seed=req.seed, classes=classes, input_mode=meta["input"], backbone=meta["backbone"],
                    size=meta["size"], sim_state=start_model.state_dict(), synthetic_train=syn_train, shots=shots_ds,
                    real_train=real_train, selection=selection, spec=spec, device=req.device,
                    model_options=dict(frame_head=meta["frame_head"], frame_background=bool(meta.get("frame_background")),
                                       head=head.get("name", "linear"), causal=bool(head.get("causal")),
                                       positions=head.get("positions", "relative")),
                    augment=train_cfg.augment)
    data.sim_selection = selection_score(start_model, selection, spec, req.device)
    to_run = run_order([req.method], 1 if fold.shots else 0)
    done: dict[str, MethodResult] = {}
    runs = []
    bar = tqdm(to_run, desc="adapt", unit="method", disable=not req.progress)
    for name in bar:
        bar.set_postfix_str(name)
        t0 = time.time()
        torch.manual_seed(req.seed * 10_000 + METHODS.index(name))  # as the benchmark seeds a method
        result = run_method(name, data, req.settings, done)
        done[name] = result
        runs.append(dict(method=name, seconds=round(time.time() - t0, 1), not_applicable=result.not_applicable,
                         selection=result.selection, chosen_step=result.chosen_step, picked=result.picked,
                         history=result.history, **({"info": result.info} if result.info is not None else {})))
    bar.close()
    final = done[req.method]
    if final.state is None:
        raise BenchmarkInputError(f"--method {req.method}: {final.not_applicable or 'made no model'}"
                                  + ("; label some clips in labels.csv" if not fold.shots else ""))
    paths = lambda idx: [real.rows[i].path for i in idx]  # noqa: E731
    record = dict(method=req.method, picked=final.picked, from_checkpoint=str(req.checkpoint),
                  synthetic=str(train_cfg.synthetic), real=str(req.real), seed=req.seed,
                  subjects=req.subjects, exclude_subjects=req.exclude_subjects,
                  shots=paths(fold.shots), unlabelled=paths(fold.unlabelled),
                  start_selection=data.sim_selection, selection=final.selection, chosen_step=final.chosen_step,
                  settings=asdict(req.settings), seconds=round(time.time() - t_start, 1))
    out_ckpt = dict(meta=dict(meta, adapt={k: v for k, v in record.items() if k not in ("unlabelled",)}),
                    model=final.state)
    return out_ckpt, dict(record, runs=runs)

"""The benchmark loop: per seed a sim-only model, per fold every method, each scored on the fold's test clips.

Everything that can be wrong with the input (folders, labels, subjects, shots, videos) is
checked in :func:`prepare`, before any training.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from simgen.adapt.benchmark import provenance
from simgen.adapt.benchmark.data import RealClips, fold_training_sets
from simgen.adapt.benchmark.folds import BenchmarkInputError, Fold, make_folds, fold_splits
from simgen.adapt.benchmark.methods import (AUTO_CANDIDATES, BEST_RECIPE, BEST_ZERO_SHOT, METHODS, FoldData, MethodResult,
                                             Settings, describe_selection, model_options, run_method, run_order)
from simgen.adapt.benchmark.picks import pick_fold_shots
from simgen.adapt.benchmark.results import summarise
from simgen.adapt.benchmark.scoring import Clip, Condition, ModelInput, condition_record, score_conditions
from simgen.adapt.benchmark.segment import (SegmentSettings, chain_test_clips, check_chained, check_test_people,
                                            score_segmentation)
from simgen.adapt.benchmark.selection import SelectionSet, selection_score
from simgen.train import evaluate
from simgen.train.memo import remembered_inputs


@dataclass
class BenchmarkConfig:
    synthetic: str
    real: str
    shots: int
    methods: list[str]
    seeds: int = 1
    first_seed: int = 0  # seeds first_seed .. first_seed + seeds - 1 (so that more seeds can be added later)
    test_subjects: list[str] | None = None
    leave_one_subject_out: bool = False
    label_map: dict[str, str] = field(default_factory=dict)
    save_models: str | None = None
    #: with ``save_models``: take ``DIR/sim-only-seedS/model.pt`` of an earlier run trained with the same
    #: settings instead of training it again (so the methods can be split over runs under a time limit)
    reuse_sim: bool = False
    model: str = "tiny3d"
    input: str = "diff"
    augment: str = "light"  # training augmentation of every method (simgen.train.config.AUGMENT_PRESETS)
    #: the adapting methods' augmentation when not the sim-only run's (``--adapt-augment``); sim-only keeps ``augment``
    adapt_augment: str | None = None
    size: int = 64
    num_frames: int = 16
    stride: int = 2
    device: str = "cpu"
    #: the sim-only trainings' autocast precision (``simgen train --precision``); the adapting methods run in fp32
    precision: str = "auto"
    cache_dir: str | None = None
    progress: bool = True
    shot_picker: str = "class-balanced"  # see .picks
    settings: Settings = field(default_factory=Settings)
    #: ``classify`` (clip accuracy) or ``segment`` (that, plus segmentation of joined test videos)
    task: str = "classify"
    head: str = "linear"  # the sim-only model's per-frame head (``simgen train --head``)
    segment: SegmentSettings = field(default_factory=SegmentSettings)


@dataclass
class Prepared:
    """The checked inputs: class list, real clips, the test people of each fold, folds per seed."""

    classes: list[str]
    real: RealClips
    splits: list[tuple[str, ...]]
    folds: dict[int, list[Fold]]
    train_config: object  # TrainConfig of the sim-only runs (without out/seed)


def _train_config(cfg: BenchmarkConfig, synthetic: str, out: str, seed: int, cache_dir: str | None = None):
    from simgen.train.config import TrainConfig

    return TrainConfig(synthetic=synthetic, out=out, model=cfg.model, input=cfg.input, augment=cfg.augment,
                       epochs=cfg.settings.sim_epochs,
                       size=cfg.size, num_frames=cfg.num_frames, stride=cfg.stride, head=cfg.head,
                       select=cfg.settings.sim_select, val_every=5, seed=seed, device=cfg.device,
                       precision=cfg.precision, progress=False,
                       cache_dir=cache_dir or cfg.cache_dir).with_backbone_defaults()[0]


def prepare(cfg: BenchmarkConfig) -> Prepared:
    """Open and check every input; decode the real clips. Raises :class:`BenchmarkInputError`."""
    from simgen.train.data.cache import FrameCache
    from simgen.train.data.synthetic import SyntheticReader
    from simgen.train.errors import TrainDataError

    from pydantic import ValidationError

    try:
        probe = _train_config(cfg, cfg.synthetic, "unused", 0)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BenchmarkInputError(f"--{'.'.join(map(str, first['loc'])).replace('_', '-')}: {first['msg']}") from None
    try:
        synthetic = SyntheticReader(cfg.synthetic)
        real = RealClips(cfg.real, synthetic.classes, cfg.label_map, size=probe.size, cache=FrameCache(cfg.cache_dir))
    except TrainDataError as exc:
        raise BenchmarkInputError(str(exc)) from None
    where = str(Path(cfg.real) / "labels.csv")
    splits = fold_splits(real.rows, test_subjects=cfg.test_subjects, leave_one_out=cfg.leave_one_subject_out,
                         where=where)
    if cfg.task == "segment":
        check_test_people(real.rows, splits, list(synthetic.classes), where)
    folds = {s: make_folds(real.rows, splits, synthetic.classes, cfg.shots, np.random.default_rng((s, 1)))
             for s in _seeds(cfg)}
    real.decode_all()
    return Prepared(classes=list(synthetic.classes), real=real, splits=splits, folds=folds, train_config=probe)


def saved_folders_in_use(cfg: BenchmarkConfig) -> list[Path]:
    """The ``--save-models`` folders this run would write that an earlier run already filled.

    A run at another K or with another recipe into the same folder would replace that run's models
    without a word (``best-seedS`` at K = 0 over the one at K = 1, say), so the CLI refuses them.
    """
    if not cfg.save_models:
        return []
    not_saved = {"sim-only", "ensemble"} | ({"real-only", "finetune"} if cfg.shots == 0 else set())
    root = Path(cfg.save_models)
    return [root / f"{m}-seed{s}" for s in _seeds(cfg) for m in cfg.methods
            if m not in not_saved and (root / f"{m}-seed{s}").exists()]


def _seeds(cfg: BenchmarkConfig) -> list[int]:
    return list(range(cfg.first_seed, cfg.first_seed + cfg.seeds))


def synthetic_clips(ds) -> list[Clip]:
    """Every clip of a synthetic ``ClipDataset`` as a :class:`Clip` (for selection)."""
    out = []
    for i in ds.indices:
        frames, ann = ds.load(i)
        out.append(Clip(key=str(ds.reader.rows[i]["key"]), frames=np.asarray(frames), fps=float(ann.get("fps") or 25.0),
                        label=ds.reader.label_index(i)))
    return out


def _save(state: dict, meta: dict, path: Path) -> None:
    from simgen.train.checkpoint import save_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(dict(meta=meta, model=state), path)


def run_benchmark(cfg: BenchmarkConfig, prepared: Prepared, conditions: dict[str, Condition] | None = None) -> dict:
    """Train and score every (method, fold, seed); returns ``{"methods", "config", "runs"}``."""
    # every method's checkpoints are scored on a fold's same selection and test clips: their inputs built once
    with remembered_inputs():
        return _run_benchmark(cfg, prepared, conditions)


def _run_benchmark(cfg: BenchmarkConfig, prepared: Prepared, conditions: dict[str, Condition] | None) -> dict:
    from simgen.train.checkpoint import load_model
    from simgen.train.fit import build_datasets, fit

    conditions = conditions or {}
    classes, real = prepared.classes, prepared.real
    synthetic_digest = provenance.dataset_digest(cfg.synthetic)  # the clips as they were when training began
    to_run = run_order(cfg.methods, cfg.shots)  # each method after the ones it needs
    n_runs = cfg.seeds * (1 + len(prepared.splits) * len(to_run))
    bar = tqdm(total=n_runs, desc="sim2real", unit="run", disable=not cfg.progress)
    test_clips = {split: None for split in prepared.splits}
    runs: list[dict] = []
    t_start = time.time()
    scratch = tempfile.TemporaryDirectory(prefix="sim2real-")
    save_root = Path(cfg.save_models) if cfg.save_models else None
    multi = len(prepared.splits) > 1
    try:
        for seed in _seeds(cfg):
            bar.set_postfix_str(f"seed {seed}: sim-only training")
            t0 = time.time()
            run_dir = (save_root if save_root else Path(scratch.name)) / f"sim-only-seed{seed}"
            # decoded synthetic frames on disk: the sim-only run and the adaptation runs share them
            train_cfg = _train_config(cfg, cfg.synthetic, str(run_dir), seed, str(Path(scratch.name) / "cache"))
            reused = cfg.reuse_sim and _same_sim_run(run_dir, train_cfg)
            if cfg.reuse_sim:  # say which: a silent retrain would cost the time the flag was meant to save
                bar.write(f"seed {seed}: sim-only model " + (f"reused from {run_dir / 'model.pt'}" if reused else
                          f"trained: {run_dir} holds no finished run of these training settings"), file=sys.stderr)
            if not reused:
                torch.manual_seed(seed)
                fit(train_cfg)
            sim_model, meta = load_model(run_dir / "model.pt")
            sim_seconds = time.time() - t0
            bar.update(1)
            syn_train, syn_val, _, _ = build_datasets(train_cfg.model_copy(update=dict(progress=False)))
            syn_val_clips = synthetic_clips(syn_val) if syn_val is not None else []
            spec = ModelInput.from_meta(meta)
            options = model_options(meta)
            common = dict(num_frames=train_cfg.num_frames, stride=train_cfg.stride, fps=train_cfg.fps, seed=seed)
            for f_index, fold in enumerate(prepared.folds[seed]):
                fold = pick_fold_shots(cfg.shot_picker, fold, real.rows, model=sim_model, spec=spec, seed=seed,
                                       fold_index=f_index, clip_of=real.clip, device=cfg.device)
                if test_clips[fold.test_subjects] is None:
                    test_clips[fold.test_subjects] = [real.clip(i) for i in fold.test]
                clips = test_clips[fold.test_subjects]
                selection = SelectionSet(synthetic_val=syn_val_clips,
                                         real_unlabelled=[real.clip(i) for i in (fold.unlabelled or fold.shots)])
                shots, real_train = fold_training_sets(real, fold, sampler=train_cfg.sampler, **common)
                data = FoldData(seed=seed, classes=classes, input_mode=train_cfg.input, backbone=train_cfg.model,
                                size=train_cfg.size, sim_state=sim_model.state_dict(), synthetic_train=syn_train,
                                shots=shots, real_train=real_train, selection=selection, spec=spec, device=cfg.device,
                                model_options=options, augment=cfg.adapt_augment or train_cfg.augment)
                data.sim_selection = selection_score(sim_model, selection, spec, cfg.device)
                videos = None
                if cfg.task == "segment":  # the same joined videos for every method of this (seed, fold)
                    videos, video_fps = chain_test_clips(clips, spec.fps, np.random.default_rng((seed, f_index, 2)),
                                                         cfg.segment)
                    check_chained(videos, fold, real.rows)
                done: dict[str, MethodResult] = {}
                for method in to_run:
                    bar.set_postfix_str(f"seed {seed} fold {fold.name}: {method}")
                    t0 = time.time()
                    # initialisation and dropout from (seed, fold, method): a method's result does not
                    # depend on which other methods ran before it
                    torch.manual_seed(seed * 10_000 + f_index * 100 + METHODS.index(method))
                    result = run_method(method, data, cfg.settings, done)
                    done[method] = result
                    seconds = time.time() - t0 + (sim_seconds / len(prepared.splits) if method == "sim-only" else 0.0)
                    record = dict(method=method, seed=seed, fold=fold.name, test_subjects=list(fold.test_subjects),
                                  shots=[real.rows[i].path for i in fold.shots], seconds=round(seconds, 2),
                                  not_applicable=result.not_applicable, selection=result.selection,
                                  chosen_step=result.chosen_step, picked=result.picked, history=result.history)
                    if result.info is not None:
                        record["info"] = result.info
                    if result.state is not None:
                        model = (result.model if result.model is not None
                                 else sim_model if method == "sim-only" else _load(data, result.state))
                        scored = score_conditions(model, clips, classes, spec, conditions, (seed, f_index), cfg.device)
                        record["conditions"] = {k: condition_record(v, with_predictions=k != "clean")
                                               for k, v in scored.items()}
                        record["predictions"] = scored["clean"]["predictions"]
                        if videos is not None and result.model is None:  # an ensemble has no per-frame output
                            record["segment"] = score_segmentation(model, videos, video_fps, spec, len(classes),
                                                                   cfg.segment, cfg.device)
                        if save_root is not None and method != "sim-only" and method in cfg.methods and result.model is None:
                            m_meta = dict(meta, sim2real=dict(method=method, seed=seed, test_subjects=list(fold.test_subjects),
                                                              shots=record["shots"], picked=result.picked))
                            folder = save_root / f"{method}-seed{seed}"
                            _save(result.state, m_meta, (folder / f"test-{fold.name}" if multi else folder) / "model.pt")
                    if method in cfg.methods:
                        runs.append(record)
                    bar.update(1)
    finally:
        bar.close()
        scratch.cleanup()
    summary = summarise(runs, [m for m in METHODS if m in cfg.methods], classes)
    config = dict(synthetic=str(cfg.synthetic), synthetic_digest=synthetic_digest,
                  real=str(cfg.real), shots=cfg.shots, seeds=_seeds(cfg),
                  methods=[m for m in METHODS if m in cfg.methods],
                  folds=[dict(name="+".join(s), test_subjects=list(s)) for s in prepared.splits],
                  leave_one_subject_out=cfg.leave_one_subject_out, label_map=cfg.label_map, shot_picker=cfg.shot_picker,
                  test_conditions=list(conditions), task=cfg.task, head=cfg.head,
                  segment=(dict(asdict(cfg.segment), orders="numpy default_rng((seed, fold index, 2))",
                               videos="each test person's clips, each once per video, no class after itself")
                           if cfg.task == "segment" else None), model=cfg.model, input=cfg.input, augment=cfg.augment,
                  adapt_augment=cfg.adapt_augment or cfg.augment, size=cfg.size, crop_span=evaluate.CROP_SPAN,
                  num_frames=cfg.num_frames, stride=cfg.stride, device=cfg.device, precision=cfg.precision,
                  settings=asdict(cfg.settings), classes=classes,
                  selection_rule=describe_selection(cfg.settings.select, cfg.shots),
                  auto_candidates=list(AUTO_CANDIDATES), best_recipe=dict(zero_shot=BEST_ZERO_SHOT, with_shots=BEST_RECIPE), seconds=round(time.time() - t_start, 1),
                  machine=provenance.machine(cfg.device))
    return dict(methods=summary, config=config, runs=runs)


def _same_sim_run(run_dir: Path, train_cfg) -> bool:
    """Whether ``run_dir`` holds a finished sim-only run of ``train_cfg`` (all but its cache folder and the
    folder it was first written to: a run copied into another ``--save-models`` folder is the same run)."""
    import yaml

    if not (run_dir / "model.pt").is_file() or not (run_dir / "config.yaml").is_file():
        return False
    try:
        saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    except yaml.YAMLError:
        return False
    if not isinstance(saved, dict):
        return False
    want = train_cfg.model_dump()
    # the saved config has "auto" precision resolved (fp32 on the CPU); the cache folder is per run
    same = {k: saved.get(k) == v or (k == "precision" and v == "auto") for k, v in want.items()
            if k not in ("cache_dir", "out")}
    return all(same.values())


def _load(data: FoldData, state: dict):
    from simgen.adapt.benchmark.methods import load_state

    return load_state(data, state)

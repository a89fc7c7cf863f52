"""The fit loop: data, model, AMP, checkpoints every epoch + best, resume, DDP, logs.

Run under ``torchrun --nproc_per_node N`` for multi-GPU data parallel training; rank 0
alone writes files.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import yaml
from tqdm import tqdm

from simgen.train.augment.pipeline import AugmentingCollate, batch_generator, create_clip_augmentation
from simgen.train.background import background_label
from simgen.train.checkpoint import load_checkpoint, model_meta, save_atomic
from simgen.train.config import AUGMENT_PRESETS, TrainConfig
from simgen.train.data.batch import ClipDataset, collate_clips
from simgen.train.data.cache import FrameCache
from simgen.train.data.curriculum import CurriculumSampler, clip_records, difficulty
from simgen.train.data.synthetic import open_reader
from simgen.train.ddp import (gather_rng_states, restore_rng_state, sum_across_ranks, sync_buffers_from_rank0,
                              validate_sharded)
from simgen.train.device import AUTOCAST_DTYPES, dist_env, resolve_device, resolve_precision
from simgen.train.errors import TrainDataError
from simgen.train.evaluate import evaluate_dataset, split_size_warning
from simgen.train.frame_rate import training_fps
from simgen.train.inputs import luma_only
from simgen.train.memo import INPUT_MEMO_BYTES, InputMemo, remembered_inputs
from simgen.train.models import create_action_model
from simgen.train.objective import TrainObjective
from simgen.train.objectives.supervised import ClassificationLoss, class_balance_weights

log = logging.getLogger(__name__)

#: what ``last.pt`` holds beyond the model, for ``--resume``
RESUME_FIELDS = ("objective", "optimizer", "scheduler", "scaler", "epoch", "best", "best_epoch", "history")


def build_datasets(cfg: TrainConfig) -> tuple[torch.utils.data.Dataset, ClipDataset | None, list[str], list]:
    """Training set (synthetic + real), validation set, class list, skipped clips."""
    if not cfg.synthetic and not cfg.real:
        raise TrainDataError("no training data: give --synthetic DIR and/or --real DIR")
    cache = FrameCache(cfg.cache_dir)
    common = dict(num_frames=cfg.num_frames, stride=cfg.stride, fps=cfg.fps, seed=cfg.seed, strict=cfg.strict)
    # open every source (cheap: label files, manifests) before decoding any, so that a bad
    # --real or --val folder fails at once, not after the synthetic set was decoded
    readers, classes = [], None
    for root, people in ((cfg.synthetic, {}), (cfg.real, dict(subjects=cfg.subjects, exclude_subjects=cfg.exclude_subjects))):
        if root:
            readers.append(open_reader(root, classes=classes, size=cfg.size, **people))
            classes = classes or readers[-1].classes
    val_reader = open_reader(cfg.val, classes=classes, size=cfg.size) if cfg.val else None
    common["background_label"] = background_label(cfg.frame_background, readers, frame_head=cfg.frame_head)
    parts = []
    for reader in readers:
        ds = ClipDataset(reader, cache, sampler=cfg.sampler, **common)
        ds.prepare(progress=cfg.progress)
        parts.append(ds)
    skipped = [s for p in parts for s in p.skipped]
    val = None
    if val_reader is not None:
        val = ClipDataset(val_reader, cache, sampler="uniform", **common)
        val.prepare(progress=cfg.progress)
        skipped += val.skipped
    elif cfg.val_fraction > 0 and len(parts[0]) >= 10:
        # hold out a seeded random subset of the first training source for model selection
        first = parts[0]
        order = np.random.default_rng(cfg.seed).permutation(first.indices)
        n_val = max(1, int(round(len(order) * cfg.val_fraction)))
        val = ClipDataset(first.reader, cache, sampler="uniform", **common)
        val.indices = sorted(order[:n_val].tolist())
        first.indices = sorted(order[n_val:].tolist())
    if sum(len(p) for p in parts) == 0:
        raise TrainDataError("no readable training clips (all were skipped as corrupt)")
    train = parts[0] if len(parts) == 1 else torch.utils.data.ConcatDataset(parts)
    return train, val, list(classes), skipped


def _labels_of(train) -> list[int]:
    parts = train.datasets if isinstance(train, torch.utils.data.ConcatDataset) else [train]
    return [p.reader.label_index(i) for p in parts for i in p.indices]


def _class_counts(labels: list[int], classes: list[str]) -> dict[str, int]:
    return {c: sum(1 for k in labels if k == i) for i, c in enumerate(classes)}


def _set_epoch(train, epoch: int) -> None:
    for p in (train.datasets if isinstance(train, torch.utils.data.ConcatDataset) else [train]):
        p.set_epoch(epoch)


def curriculum_sampler(cfg: TrainConfig, train, rank: int = 0, world: int = 1) -> CurriculumSampler:
    """The ``--curriculum`` sampler over ``train``: every clip scored from its recorded factors."""
    c = cfg.curriculum
    span = (cfg.num_frames - 1) * cfg.stride + 1
    weights = c.weights.model_dump()
    scores = [difficulty(r, weights, window_span=span) for r in clip_records(train)]
    return CurriculumSampler(scores, _labels_of(train), start=c.start, full_epoch=c.full_epoch, pacing=c.pacing,
                             seed=cfg.seed, rank=rank, world=world)


def warmup_steps(warmup_epochs: float, steps_per_epoch: int, total_steps: int) -> int:
    """Steps of linear warm-up: ``warmup_epochs`` worth, but at most a tenth of a (short) run, at least 1."""
    return max(1, min(round(warmup_epochs * steps_per_epoch), total_steps // 10 + 1))


def _lr_lambda(total_steps: int, warmup: int, cycles: int = 1):
    """Learning-rate factor per step: linear warm-up, then cosine decay to 0.

    ``cycles > 1``: the cosine restarts at the peak ``cycles`` times (SGDR, Loshchilov & Hutter,
    ICLR 2017), each cycle ``total_steps // cycles`` long (warm-up in the first only); the end of
    each cycle, at a low rate, is one snapshot of a snapshot ensemble (Huang et al., ICLR 2017).
    """
    length = max(1, total_steps // cycles)

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        c = min(step // length, cycles - 1)
        start = warmup if c == 0 else c * length
        end = total_steps if c == cycles - 1 else (c + 1) * length
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - start) / max(1, end - start))))
    return f


def snapshot_epochs(epochs: int, snapshots: int) -> list[int]:
    """The epochs (1-based) that end a cosine cycle: where snapshots are saved."""
    return [epochs // snapshots * (k + 1) for k in range(snapshots)] if snapshots > 1 else []


def optimizer_step(loss: torch.Tensor, optimizer, scheduler, scaler: torch.amp.GradScaler) -> bool:
    """Backward, step, and advance the schedule only if the optimizer really stepped.

    An fp16 GradScaler skips the steps whose gradients overflowed (always the first few,
    while it finds its scale); stepping the scheduler then would shift the schedule and
    makes PyTorch warn that ``lr_scheduler.step()`` ran before ``optimizer.step()``.

    Returns:
        whether the parameters were updated.
    """
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scale = scaler.get_scale() if scaler.is_enabled() else None
    scaler.step(optimizer)
    scaler.update()
    stepped = scale is None or scaler.get_scale() >= scale  # the scale drops exactly when a step was skipped
    if stepped:
        scheduler.step()
    return stepped


class _CsvLog:
    """``log.csv``, one row per epoch. On resume it is rewritten from the checkpoint's history:
    a kill between an epoch's row and its checkpoint would otherwise leave that epoch twice."""

    def __init__(self, path: Path, resume: bool, history: list[dict] = ()):
        self.path = path
        if not resume:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="") as fh:
            if history:
                w = csv.DictWriter(fh, fieldnames=list(history[0]))
                w.writeheader()
                w.writerows(history)
        if history:
            os.replace(tmp, path)
        else:
            tmp.unlink()
            path.unlink(missing_ok=True)

    def write(self, row: dict) -> None:
        new = not self.path.exists()
        with self.path.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)


def fit(cfg: TrainConfig, *, resume: bool = False) -> dict:
    """Train; write ``RUN/model.pt``, ``config.yaml``, ``metrics.json``, ``log.csv``, ``last.pt``, ``best.pt``.

    Returns:
        the metrics written to ``metrics.json``.
    """
    world, rank, local_rank = dist_env()
    device = resolve_device(cfg.device, local_rank, world)
    cfg = cfg.model_copy(update=dict(precision=resolve_precision(cfg.precision, device)))
    cfg, defaulted = cfg.with_backbone_defaults()
    cfg = cfg.with_curriculum_resolved()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    own_group = world > 1 and not dist.is_initialized()  # a caller's process group is the caller's to end
    if own_group:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main = rank == 0
    out = Path(cfg.out)
    torch.manual_seed(cfg.seed + rank)

    train_ds, val_ds, classes, skipped = build_datasets(cfg)
    if main:
        out.mkdir(parents=True, exist_ok=True)  # after the data is read: a data error leaves no empty run
        note = (f"# from the {cfg.model} defaults (simgen.train.config.BACKBONE_DEFAULTS): {', '.join(defaulted)}\n"
                if defaulted else "")
        (out / "config.yaml").write_text(note + yaml.safe_dump(cfg.dump(), sort_keys=False))
        for path, reason in skipped:
            log.warning("skipped %s: %s", path, reason)
        if val_ds is not None and (warning := split_size_warning(val_ds)):
            log.warning(warning)
        elif val_ds is None and cfg.val_fraction > 0:
            log.warning("warning: no validation split (fewer than 10 clips to hold out from); give --val DIR "
                        "to select epochs on held-out clips")

    first_part = train_ds.datasets[0] if isinstance(train_ds, torch.utils.data.ConcatDataset) else train_ds
    background = first_part.background_label
    model = create_action_model(backbone=cfg.model, num_classes=len(classes), input_mode=cfg.input,
                                frame_head=cfg.frame_head, frame_background=background is not None,
                                weights=cfg.weights, head=cfg.head, causal=cfg.causal, positions=cfg.positions,
                                temporal_dropout=cfg.temporal_dropout,
                                temporal_dropout_mode=cfg.temporal_dropout_mode)
    weights = class_balance_weights(_labels_of(train_ds), len(classes)) if cfg.class_balance else None
    augment = create_clip_augmentation(size=cfg.size, luma_only=luma_only(cfg.input),
                                       **AUGMENT_PRESETS[cfg.augment])
    # on the CPU the "device" is the host: augment in the workers so it overlaps the step
    augment_in_workers = device.type == "cpu" and cfg.workers > 0 and not cfg.selfsup
    collate = AugmentingCollate(augment, cfg.seed) if augment_in_workers else collate_clips
    objective = TrainObjective(model, augment=augment, input_mode=cfg.input,
                               clip_loss=ClassificationLoss(label_smoothing=cfg.label_smoothing, class_weights=weights),
                               weak=cfg.weak, selfsup=cfg.selfsup, selfsup_weight=cfg.selfsup_weight,
                               channels_last=cfg.channels_last, consistency_weight=cfg.consistency_weight,
                               smoothing_weight=cfg.smoothing_weight).to(device)
    shuffle_gen = torch.Generator()
    sampler = torch.utils.data.DistributedSampler(train_ds, world, rank, seed=cfg.seed) if world > 1 else None
    if cfg.curriculum is not None:
        sampler = curriculum_sampler(cfg, train_ds, rank, world)
    loader = torch.utils.data.DataLoader(
        train_ds, batch_size=cfg.batch_size, shuffle=sampler is None, sampler=sampler, drop_last=len(train_ds) > cfg.batch_size,
        num_workers=cfg.workers, collate_fn=collate, pin_memory=device.type == "cuda",
        generator=shuffle_gen)  # not persistent: workers must see set_epoch
    optimizer = torch.optim.AdamW(objective.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(steps, warmup_steps(cfg.warmup_epochs, len(loader), steps), cfg.snapshots))
    amp_dtype = AUTOCAST_DTYPES[cfg.precision]
    # only fp16 needs loss scaling; bf16 has fp32's exponent range
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
    start_epoch, best, best_epoch, history = 0, -1.0, -1, []
    val_details: dict[int, dict] = {}  # epoch -> per-class validation figures, for the summary

    if resume:
        if not (out / "last.pt").is_file():
            raise TrainDataError(f"{out / 'last.pt'}: nothing to resume (no checkpoint from an earlier run)")
        ck = load_checkpoint(out / "last.pt")
        lacking = [k for k in RESUME_FIELDS if k not in ck]
        if lacking:
            raise TrainDataError(f"{out / 'last.pt'}: field '{lacking[0]}' missing; not a checkpoint a run can resume from")
        # the schedule is a function of (data, settings, seed, epoch); a resume that changed any of them
        # would silently train on another one
        if ck.get("curriculum") != (sampler.fingerprint() if cfg.curriculum is not None else None):
            raise TrainDataError(f"{out / 'last.pt'}: field 'curriculum' does not match this run's curriculum "
                                 "(--curriculum on/off, its settings, the seed or the data changed); "
                                 "resume with the run's own settings")
        objective.load_state_dict(ck["objective"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        restore_rng_state(ck, rank, world, device)
        start_epoch, best, best_epoch, history = ck["epoch"] + 1, ck["best"], ck["best_epoch"], ck["history"]
    net = objective
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(objective, device_ids=[local_rank] if device.type == "cuda" else None,
                                                        find_unused_parameters=False)
    writer = None
    if cfg.tensorboard and main:
        from torch.utils.tensorboard import SummaryWriter  # optional: needs the tensorboard package

        writer = SummaryWriter(str(out / "tb"))
    if resume and main:
        for stale in out.glob("*.pt.tmp*"):  # a checkpoint a killed run did not finish writing
            stale.unlink()
    csv_log = _CsvLog(out / "log.csv", resume, history) if main else None
    meta = model_meta(cfg, classes, defaulted, train_fps=training_fps(cfg.fps, train_ds), frame_background=background)
    t_start = time.time()
    val_inputs = InputMemo(INPUT_MEMO_BYTES)  # the same clips every validation: their model inputs built once

    for epoch in range(start_epoch, cfg.epochs):
        _set_epoch(train_ds, epoch)
        shuffle_gen.manual_seed(cfg.seed * 7919 + epoch)  # epoch order independent of resumes
        if sampler is not None:
            sampler.set_epoch(epoch)
        objective.train()
        # running sums stay on the device: reading them every step would wait for the GPU each time
        sums = torch.zeros(4, dtype=torch.float64, device=device)  # loss * clips, clips, correct, labelled
        t0 = time.time()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not (main and cfg.progress), leave=False,
                   unit="batch")
        for batch in bar:
            video = batch["video"].to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                loss, stats = net(video, batch["label"].to(device), batch["frame_labels"].to(device),
                                  batch_generator(cfg.seed, epoch, batch["key"]))
            optimizer_step(loss, optimizer, scheduler, scaler)
            n = video.shape[0]
            sums += torch.stack([loss.detach().double() * n, torch.tensor(n, dtype=torch.float64, device=device),
                                 torch.as_tensor(stats.get("correct", 0), device=device).double(),
                                 stats["labelled"].double()])
            if not bar.disable and bar.n % 10 == 0:
                s_loss, s_clips, s_correct, s_lab = sums.tolist()
                bar.set_postfix(loss=f"{s_loss / s_clips:.3f}", acc=f"{s_correct / max(s_lab, 1):.2f}")
        train_time = time.time() - t0
        # every rank's share counts: loss and accuracy of the whole epoch, not of rank 0's shard
        tot_loss, clips, correct, labelled = sum_across_ranks(sums.tolist(), device)
        row = dict(epoch=epoch + 1, train_loss=round(tot_loss / max(clips, 1), 5),
                   train_accuracy=round(correct / max(labelled, 1), 5), lr=scheduler.get_last_lr()[0],
                   clips_per_s=round(clips / max(train_time, 1e-9), 2), val_accuracy="", val_macro_f1="")
        score = row["train_accuracy"]
        has_val = val_ds is not None and len(val_ds) > 0
        # validating every epoch costs as much as training a small model for one on the CPU
        validate = has_val and ((epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs)
        if cfg.curriculum is not None:
            row["curriculum_pool"] = len(sampler.pool(epoch))
        if validate:  # every rank scores its share of the clips, so none waits idle for rank 0
            sync_buffers_from_rank0(model)
            with remembered_inputs(val_inputs):
                vm = validate_sharded(evaluate_dataset, model, val_ds, input_mode=cfg.input,
                                      num_frames=cfg.num_frames, stride=cfg.stride, device=device)
            row.update(val_accuracy=round(vm["accuracy"], 5), val_macro_f1=round(vm["macro_f1"], 5))
            val_details[epoch + 1] = dict(val_per_class=vm["per_class"], val_confusion_counts=vm["confusion_counts"])
            score = vm["accuracy"]
        rng_states = gather_rng_states(device)
        if main:
            history.append(row)
            csv_log.write(row)
            if writer is not None:
                for k, v in row.items():
                    if isinstance(v, (int, float)):
                        writer.add_scalar(k, v, epoch + 1)
            state = dict(meta=meta, model=model.state_dict())
            if (validate or not has_val) and score >= best:
                best, best_epoch = score, epoch + 1
                save_atomic(state, out / "best.pt")
            if cfg.keep_snapshots:
                save_atomic(state, out / f"epoch{epoch + 1:03d}.pt")
            if epoch + 1 in snapshot_epochs(cfg.epochs, cfg.snapshots):
                k = snapshot_epochs(cfg.epochs, cfg.snapshots).index(epoch + 1) + 1
                save_atomic(dict(meta=dict(meta, snapshot=dict(index=k, of=cfg.snapshots, epoch=epoch + 1)),
                                 model=model.state_dict()), out / f"snapshot{k}.pt")
            save_atomic(dict(meta=meta, model=model.state_dict(), objective=objective.state_dict(),
                             optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                             scaler=scaler.state_dict(), rng=rng_states, epoch=epoch,
                             best=best, best_epoch=best_epoch, history=history,
                             **(dict(curriculum=sampler.fingerprint()) if cfg.curriculum is not None else {})),
                        out / "last.pt")
            log.info("epoch %d: %s", epoch + 1, row)
        if world > 1:
            dist.barrier()

    metrics: dict = {}
    if main:
        if cfg.select == "best":
            shutil.copyfile(out / "best.pt", out / "model.pt")
        else:
            save_atomic(dict(meta=meta, model=model.state_dict()), out / "model.pt")
        selected = best_epoch if cfg.select == "best" else (history[-1]["epoch"] if history else -1)
        metrics = dict(classes=classes, optim=meta["optim"], model_epoch=selected, select=cfg.select, best_epoch=best_epoch,
                       best_score=best,
                       best_score_on="val_accuracy" if val_ds is not None and len(val_ds) else "train_accuracy",
                       n_train_clips=len(train_ds), n_val_clips=len(val_ds) if val_ds is not None else 0,
                       train_seconds=round(time.time() - t_start, 2), history=history,
                       skipped=[dict(path=p, reason=r) for p, r in skipped],
                       snapshots=[str(out / f"snapshot{k + 1}.pt") for k in range(len(snapshot_epochs(cfg.epochs, cfg.snapshots)))])
        metrics.update(clips_per_class=dict(train=_class_counts(_labels_of(train_ds), classes),
                                            val=_class_counts(_labels_of(val_ds), classes) if val_ds is not None else {}))
        metrics.update(val_details.get(selected, {}))
        row = next((h for h in history if h["epoch"] == selected), None)
        if row is not None:
            metrics.update(train_accuracy=row["train_accuracy"])
            if row["val_accuracy"] != "":
                metrics.update(val_accuracy=row["val_accuracy"], val_macro_f1=row["val_macro_f1"])
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
        if writer is not None:
            writer.close()
    if own_group:
        # rank 0 is still writing the summary: tearing gloo down under a peer's feet aborts the
        # early rank ("terminate called without an active exception", seen once in CI)
        dist.barrier()
        dist.destroy_process_group()
    return metrics

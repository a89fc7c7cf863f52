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
from simgen.train.checkpoint import load_checkpoint, model_meta, save_atomic
from simgen.train.config import AUGMENT_PRESETS, TrainConfig
from simgen.train.data.batch import ClipDataset, collate_clips
from simgen.train.data.cache import FrameCache
from simgen.train.data.synthetic import open_reader
from simgen.train.errors import TrainDataError
from simgen.train.evaluate import evaluate_dataset, split_size_warning
from simgen.train.models import create_action_model
from simgen.train.objective import TrainObjective
from simgen.train.objectives.supervised import ClassificationLoss, class_balance_weights

log = logging.getLogger(__name__)


def _dist_info() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


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


def _lr_lambda(total_steps: int, warmup: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total_steps - warmup))))
    return f


class _CsvLog:
    def __init__(self, path: Path, resume: bool):
        self.path = path
        if not resume and path.exists():
            path.unlink()

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
    world, rank, local_rank = _dist_info()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cfg.device.startswith("cuda") else "gloo")
    device = torch.device(f"cuda:{local_rank}" if cfg.device.startswith("cuda") and world > 1 else cfg.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    main = rank == 0
    out = Path(cfg.out)
    torch.manual_seed(cfg.seed + rank)

    train_ds, val_ds, classes, skipped = build_datasets(cfg)
    if main:
        out.mkdir(parents=True, exist_ok=True)  # after the data is read: a data error leaves no empty run
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.model_dump(), sort_keys=False))
        for path, reason in skipped:
            log.warning("skipped %s: %s", path, reason)
        if val_ds is not None and (warning := split_size_warning(val_ds)):
            log.warning(warning)
        elif val_ds is None and cfg.val_fraction > 0:
            log.warning("warning: no validation split (fewer than 10 clips to hold out from); give --val DIR "
                        "to select epochs on held-out clips")

    model = create_action_model(backbone=cfg.model, num_classes=len(classes), input_mode=cfg.input,
                                frame_head=cfg.frame_head, weights=cfg.weights)
    weights = class_balance_weights(_labels_of(train_ds), len(classes)) if cfg.class_balance else None
    augment = create_clip_augmentation(size=cfg.size, luma_only=cfg.input in ("gray", "diff"),
                                       **AUGMENT_PRESETS[cfg.augment])
    # on the CPU the "device" is the host: augment in the workers so it overlaps the step
    augment_in_workers = device.type == "cpu" and cfg.workers > 0 and not cfg.selfsup
    collate = AugmentingCollate(augment, cfg.seed) if augment_in_workers else collate_clips
    objective = TrainObjective(model, augment=augment, input_mode=cfg.input,
                               clip_loss=ClassificationLoss(label_smoothing=cfg.label_smoothing, class_weights=weights),
                               weak=cfg.weak, selfsup=cfg.selfsup, selfsup_weight=cfg.selfsup_weight,
                               channels_last=cfg.channels_last).to(device)
    shuffle_gen = torch.Generator()
    sampler = torch.utils.data.DistributedSampler(train_ds, world, rank, seed=cfg.seed) if world > 1 else None
    loader = torch.utils.data.DataLoader(
        train_ds, batch_size=cfg.batch_size, shuffle=sampler is None, sampler=sampler, drop_last=len(train_ds) > cfg.batch_size,
        num_workers=cfg.workers, collate_fn=collate, pin_memory=device.type == "cuda",
        generator=shuffle_gen)  # not persistent: workers must see set_epoch
    optimizer = torch.optim.AdamW(objective.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(steps, min(len(loader), steps // 10 + 1)))
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    start_epoch, best, best_epoch, history = 0, -1.0, -1, []
    val_details: dict[int, dict] = {}  # epoch -> per-class validation figures, for the summary

    if resume:
        if not (out / "last.pt").is_file():
            raise TrainDataError(f"{out / 'last.pt'}: nothing to resume (no checkpoint from an earlier run)")
        ck = load_checkpoint(out / "last.pt")
        objective.load_state_dict(ck["objective"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        torch.set_rng_state(ck["torch_rng"])  # dropout draws from the global RNG
        start_epoch, best, best_epoch, history = ck["epoch"] + 1, ck["best"], ck["best_epoch"], ck["history"]
    net = objective
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(objective, device_ids=[local_rank] if device.type == "cuda" else None,
                                                        find_unused_parameters=False)
    writer = None
    if cfg.tensorboard and main:
        from torch.utils.tensorboard import SummaryWriter  # optional: needs the tensorboard package

        writer = SummaryWriter(str(out / "tb"))
    csv_log = _CsvLog(out / "log.csv", resume) if main else None
    meta = model_meta(cfg, classes)
    t_start = time.time()

    for epoch in range(start_epoch, cfg.epochs):
        _set_epoch(train_ds, epoch)
        shuffle_gen.manual_seed(cfg.seed * 7919 + epoch)  # epoch order independent of resumes
        if sampler is not None:
            sampler.set_epoch(epoch)
        objective.train()
        tot_loss, correct, labelled, clips, t0 = 0.0, 0, 0, 0, time.time()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not (main and cfg.progress), leave=False,
                   unit="batch")
        for batch in bar:
            video = batch["video"].to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                loss, stats = net(video, batch["label"].to(device), batch["frame_labels"].to(device),
                                  batch_generator(cfg.seed, epoch, batch["key"]))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            n = video.shape[0]
            tot_loss += float(loss.detach()) * n
            clips += n
            correct += int(stats.get("correct", 0))
            labelled += int(stats["labelled"])
            bar.set_postfix(loss=f"{tot_loss / clips:.3f}", acc=f"{correct / max(labelled, 1):.2f}")
        train_time = time.time() - t0
        row = dict(epoch=epoch + 1, train_loss=round(tot_loss / max(clips, 1), 5),
                   train_accuracy=round(correct / max(labelled, 1), 5), lr=scheduler.get_last_lr()[0],
                   clips_per_s=round(clips * world / max(train_time, 1e-9), 2), val_accuracy="", val_macro_f1="")
        if main:
            score = row["train_accuracy"]
            has_val = val_ds is not None and len(val_ds) > 0
            # validating every epoch costs as much as training a small model for one on the CPU
            validate = has_val and ((epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs)
            if validate:
                vm = evaluate_dataset(model, val_ds, input_mode=cfg.input, num_frames=cfg.num_frames,
                                      stride=cfg.stride, device=device)
                row.update(val_accuracy=round(vm["accuracy"], 5), val_macro_f1=round(vm["macro_f1"], 5))
                val_details[epoch + 1] = dict(val_per_class=vm["per_class"], val_confusion_counts=vm["confusion_counts"])
                score = vm["accuracy"]
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
            save_atomic(dict(meta=meta, model=model.state_dict(), objective=objective.state_dict(),
                             optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                             scaler=scaler.state_dict(), torch_rng=torch.get_rng_state(), epoch=epoch,
                             best=best, best_epoch=best_epoch, history=history), out / "last.pt")
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
        metrics = dict(classes=classes, model_epoch=selected, select=cfg.select, best_epoch=best_epoch,
                       best_score=best,
                       best_score_on="val_accuracy" if val_ds is not None and len(val_ds) else "train_accuracy",
                       n_train_clips=len(train_ds), n_val_clips=len(val_ds) if val_ds is not None else 0,
                       train_seconds=round(time.time() - t_start, 2), history=history,
                       skipped=[dict(path=p, reason=r) for p, r in skipped])
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
    if world > 1:
        dist.destroy_process_group()
    return metrics

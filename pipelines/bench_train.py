"""Training throughput benchmark.

1. Whole data path (read from the frame cache, collate, augment, input transform,
   forward/backward/step) against the model step alone on tensors already in memory,
   same model, same run. Target: ratio >= 0.8.
2. Clip augmentation (``simgen.train.augment``) against bare kornia ``VideoSequential`` with the
   same transforms.

Prints a table and writes JSON::

    python -m simgen.pipelines.bench_train --data ../shared/data/weizmann4_dev --out bench_results/train.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_training(args, device: torch.device) -> dict:
    from simgen.train.augment.pipeline import AugmentingCollate, batch_generator, create_clip_augmentation
    from simgen.train.config import AUGMENT_PRESETS
    from simgen.train.data.batch import ClipDataset, collate_clips, to_float_video
    from simgen.train.data.cache import FrameCache
    from simgen.train.data.synthetic import open_reader
    from simgen.train.models import create_action_model
    from simgen.train.objective import TrainObjective
    from simgen.train.objectives.supervised import ClassificationLoss

    reader = open_reader(args.data, size=args.size)
    cache = FrameCache(args.cache_dir)
    ds = ClipDataset(reader, cache, num_frames=args.num_frames, stride=args.stride, seed=0)
    t0 = time.perf_counter()
    ds.prepare(progress=False)
    decode_s = time.perf_counter() - t0
    augment = create_clip_augmentation(size=args.size, luma_only=args.input in ("gray", "diff"),
                                       **AUGMENT_PRESETS[args.augment])
    # same placement rule as train.fit: on the CPU with workers, augmentation runs in the workers
    in_workers = device.type == "cpu" and args.workers > 0
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, drop_last=True,
                                         num_workers=args.workers,
                                         collate_fn=AugmentingCollate(augment, 0) if in_workers else collate_clips,
                                         pin_memory=device.type == "cuda", persistent_workers=args.workers > 0)
    torch.manual_seed(0)
    model = create_action_model(backbone=args.model, num_classes=len(reader.classes), input_mode=args.input)
    objective = TrainObjective(model, augment=augment, input_mode=args.input,
                               clip_loss=ClassificationLoss(label_smoothing=0.1), channels_last=True).to(device).train()
    opt = torch.optim.AdamW(objective.parameters(), lr=1e-3)
    from simgen.train.device import AUTOCAST_DTYPES, resolve_precision

    precision = resolve_precision(args.precision, device)  # the fit loop's rule: bf16 on a GPU that has it
    amp_dtype = AUTOCAST_DTYPES[precision]
    use_amp = amp_dtype is not None
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    def step(video, label, frame_labels, keys):
        with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
            loss, _ = objective(video, label, frame_labels, batch_generator(0, 0, keys))
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    def full_path(n_steps: int) -> float:
        done, clips = 0, 0
        _sync(device)
        t = time.perf_counter()
        while done < n_steps:
            for batch in loader:
                step(batch["video"].to(device, non_blocking=True), batch["label"].to(device),
                     batch["frame_labels"].to(device), batch["key"])
                clips += batch["video"].shape[0]
                done += 1
                if done == n_steps:
                    break
        _sync(device)
        return clips / (time.perf_counter() - t)

    # model step alone: the same objective with augmentation off, on a batch already on the device in
    # model-input form, so only forward/backward/optimizer remain
    fixed = collate_clips([ds[i] for i in range(args.batch_size)])
    x = objective.model_input(to_float_video(fixed["video"].to(device)))
    y = fixed["label"].to(device)
    fl = fixed["frame_labels"].to(device)

    def model_only(n_steps: int) -> float:
        _sync(device)
        t = time.perf_counter()
        for _ in range(n_steps):
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                out = model(x)
                loss = objective.clip_loss(out["clip"], y) + objective.frame_loss(out["frame"], fl)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        _sync(device)
        return n_steps * x.shape[0] / (time.perf_counter() - t)

    full_path(args.warmup)
    model_only(args.warmup)
    # interleave repeats so both see the same machine load
    full, alone = [], []
    for _ in range(args.repeats):
        full.append(full_path(args.steps))
        alone.append(model_only(args.steps))
    full_cps, alone_cps = max(full), max(alone)
    return dict(precision=precision, clips=len(ds), decode_seconds=round(decode_s, 3), full_path_clips_per_s=round(full_cps, 2),
                model_step_clips_per_s=round(alone_cps, 2), ratio=round(full_cps / alone_cps, 3),
                all_full=[round(v, 2) for v in full], all_model=[round(v, 2) for v in alone])


def bench_augmentation(args, device: torch.device) -> dict:
    import kornia.augmentation as K

    from simgen.train.augment.pipeline import ClipAugmentation
    from simgen.train.augment.spatial import create_spatial_augment

    video = torch.rand(args.batch_size, 3, args.num_frames, args.size, args.size, device=device)
    luma = args.input in ("gray", "diff")
    ours = ClipAugmentation(spatial=create_spatial_augment(size=args.size, luma_only=luma)).to(device)
    colour = ([K.RandomBrightness((0.7, 1.3), p=0.8), K.RandomContrast((0.7, 1.3), p=0.8)] if luma
              else [K.ColorJitter(0.3, 0.3, 0.3, 0.03, p=0.8), K.RandomGrayscale(p=0.1)])
    bare = K.VideoSequential(  # the same transforms and settings as create_spatial_augment's defaults
        K.RandomAffine(degrees=8.0, translate=(0.08, 0.08), scale=(1.0, 1.3), padding_mode="reflection", p=1.0),
        K.RandomHorizontalFlip(p=0.5), *colour, data_format="BCTHW", same_on_frame=True).to(device)
    gen = torch.Generator().manual_seed(0)

    def rate(fn) -> float:
        for _ in range(args.warmup):
            fn()
        best = 0.0
        for _ in range(args.repeats):
            _sync(device)
            t = time.perf_counter()
            for _ in range(args.steps):
                fn()
            _sync(device)
            best = max(best, args.steps * video.shape[0] / (time.perf_counter() - t))
        return best

    with torch.no_grad():
        ours_cps = rate(lambda: ours(video, generator=gen))
        bare_cps = rate(lambda: bare(video))
    return dict(transforms="affine+flip+" + ("brightness+contrast" if luma else "colorjitter+grayscale"),
                ours_clips_per_s=round(ours_cps, 2), kornia_clips_per_s=round(bare_cps, 2),
                ratio=round(ours_cps / bare_cps, 3))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = Path(__file__).resolve().parents[1].parent / "shared/data/weizmann4_dev"
    p.add_argument("--data", default=str(default_data), help="synthetic dataset or real folder")
    p.add_argument("--model", default="tiny3d")
    p.add_argument("--input", default="diff")
    p.add_argument("--augment", default="light", choices=["none", "light", "default", "strong"])
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--num-frames", type=int, default=16)
    p.add_argument("--stride", type=int, default=2)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20, help="steps per timed repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp16", "fp32"],
                   help="as simgen train --precision (auto: bf16 on a GPU that supports it, fp32 on the CPU)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    p.add_argument("--out", default="bench_results/train.json")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not Path(args.data).exists():
        print(f"bench_train: error: --data {args.data}: not found", file=sys.stderr)
        return 2
    from simgen.train.device import DeviceError, resolve_device

    try:
        device = resolve_device(args.device)
    except DeviceError as exc:
        print(f"bench_train: error: {exc}", file=sys.stderr)
        return 2
    train = bench_training(args, device)
    aug = bench_augmentation(args, device)
    result = dict(device=str(device), device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
                  threads=torch.get_num_threads(), torch=torch.__version__,
                  settings={k: getattr(args, k) for k in ("data", "model", "input", "augment", "batch_size", "num_frames",
                                                          "size", "steps", "repeats", "workers")},
                  training=train, augmentation=aug, target_ratio=0.8, meets_target=train["ratio"] >= 0.8)
    rows = [
        ("training: whole data path", f"{train['full_path_clips_per_s']:.1f} clips/s"),
        ("training: model step alone", f"{train['model_step_clips_per_s']:.1f} clips/s"),
        ("ratio (target >= 0.8)", f"{train['ratio']:.3f}"),
        ("augmentation: train.augment", f"{aug['ours_clips_per_s']:.1f} clips/s"),
        ("augmentation: bare kornia", f"{aug['kornia_clips_per_s']:.1f} clips/s"),
        ("ratio", f"{aug['ratio']:.3f}"),
    ]
    print(f"device: {result['device_name']} ({device}), {args.model}/{args.input}, batch {args.batch_size}, "
          f"T={args.num_frames}, {args.size}px")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>16}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

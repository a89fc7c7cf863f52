"""``simgen adabn``: re-estimate a trained model's batch-norm statistics on your own unlabelled clips.

The weights stay; each batch-norm layer's running mean and variance are recomputed from windows of
the clips, read exactly as ``simgen evaluate`` reads them (the model's size, frame rate, window and
input). See :mod:`simgen.adapt.adabn`. Bad input (a missing checkpoint or folder, no clip, a clip that
cannot be decoded, a model without batch norm, an unwritable output) is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import check_input, check_output_file, comma_list


def _real_clips(root: Path, size: int, subjects, exclude_subjects) -> list:
    """Every clip of a real folder (labels.csv, class folders or loose videos), labels unused."""
    from types import SimpleNamespace

    from simgen.adapt.calibrate.clips import check_real_decodable, list_real
    from simgen.train.data.video_io import decode_video

    rows = list_real(root, "--real")
    have = sorted({r["subject"] for r in rows if r["subject"]})
    for option, chosen in (("--subjects", subjects), ("--exclude-subjects", exclude_subjects)):
        unknown = [s for s in chosen or [] if s not in have]
        if unknown:
            raise SimgenError(f"{option}: {', '.join(unknown)} not among the subjects of {root} ({', '.join(have) or 'none'})")
    rows = [r for r in rows if (subjects is None or r["subject"] in subjects)
            and (exclude_subjects is None or r["subject"] not in exclude_subjects)]
    if not rows:
        raise SimgenError(f"--real {root}: no clip to re-estimate the statistics from")
    check_real_decodable(root, rows, "--real")
    clips = []
    for r in rows:
        frames, fps = decode_video(root / r["path"], size=size)
        clips.append(SimpleNamespace(key=r["path"], frames=frames, fps=fps))
    return clips


def cmd_adabn(args: argparse.Namespace) -> int:
    from simgen.adapt.adabn import clip_windows, norm_layers, recompute_batch_norm
    from simgen.train.checkpoint import load_checkpoint, model_from_checkpoint, save_atomic
    from simgen.train.errors import TrainDataError
    from simgen.train.frame_rate import model_fps

    check_input(args.checkpoint, "--checkpoint", folder=False)
    check_input(args.real, "--real", folder=True)
    out = check_output_file(args.out, "--out", suffixes=(".pt",))
    if out.resolve() == Path(args.checkpoint).resolve():
        raise SimgenError(f"--out {out}: is the --checkpoint itself; write the renormalised model next to it")
    start = time.perf_counter()
    try:
        ckpt = load_checkpoint(args.checkpoint)
        model, meta = model_from_checkpoint(ckpt, args.checkpoint)
    except TrainDataError as exc:
        raise SimgenError(f"--checkpoint {exc}") from None
    layers = len(norm_layers(model))
    if layers == 0:
        raise SimgenError(f"--checkpoint {args.checkpoint}: the {meta['backbone']} model has no batch-norm layer to re-estimate")
    clips = _real_clips(Path(args.real), meta["size"], args.subjects, args.exclude_subjects)
    batches = clip_windows(clips, input_mode=meta["input"], num_frames=meta["num_frames"], stride=meta["stride"],
                           fps=model_fps(meta), seed=args.seed)
    adapted, _ = recompute_batch_norm(model, batches)
    ckpt["model"] = adapted.state_dict()
    windows = sum(len(b) for b in batches)
    ckpt["meta"] = dict(ckpt["meta"], adabn=dict(real=str(args.real), clips=len(clips), windows=windows,
                                                 subjects=args.subjects, exclude_subjects=args.exclude_subjects,
                                                 from_checkpoint=str(args.checkpoint)))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(ckpt, out)
    print(f"re-estimated the statistics of {layers} batch-norm layers from {windows} windows of {len(clips)} clips "
          f"in {time.perf_counter() - start:.1f} s; wrote {out}")
    return 0


def register(sub) -> None:
    """Add ``adabn`` to an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "adabn", help="re-estimate a model's batch-norm statistics on your unlabelled clips (no label needed)",
        description="AdaBN (Li et al. 2017): keep RUN/model.pt's weights, recompute each batch-norm layer's "
                    "running statistics from windows of the clips in --real, read as `simgen evaluate` reads them. "
                    "A sim-only model then normalises real features as it normalised synthetic ones in training. "
                    "Use clips of the footage you will run the model on, never the clips you test it with.")
    p.add_argument("--checkpoint", required=True, metavar="RUN/model.pt", help="the trained model")
    p.add_argument("--real", required=True, metavar="DIR",
                   help="your clips: labels.csv (labels unused), one sub-folder per class, or loose videos")
    p.add_argument("--out", required=True, metavar="FILE.pt", help="the renormalised checkpoint to write")
    p.add_argument("--subjects", type=comma_list, metavar="A,B", help="only these people of labels.csv (default: all)")
    p.add_argument("--exclude-subjects", dest="exclude_subjects", type=comma_list, metavar="A,B",
                   help="leave these people out (e.g. the ones you test on)")
    p.add_argument("--seed", type=int, default=0, help="shuffle of the windows into batches")
    p.set_defaults(func=cmd_adabn)

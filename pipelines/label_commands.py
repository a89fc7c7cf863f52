"""``simgen suggest-labels``: rank unlabelled real clips for a person to label (active labelling).

Scores every video under ``--real DIR`` (those already labelled in ``DIR/labels.csv`` are left
out unless ``--include-labelled``) with the model, then picks ``--budget`` clips by
uncertainty x distance in feature space (simgen.adapt.active). Writes a CSV
``rank,path,score,predicted,confidence,uncertainty,distance,why``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import check_input, check_output_file, int_at_least, print_error


def candidate_clips(root: Path, *, include_labelled: bool) -> list[str]:
    """Video paths under ``root`` (relative, sorted), without the ones ``root/labels.csv`` labels."""
    from simgen.train.data.real import VIDEO_SUFFIXES, _read_csv
    from simgen.train.errors import TrainDataError

    found = sorted(f.relative_to(root).as_posix() for f in root.rglob("*")
                   if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
    labelled: set[str] = set()
    if not include_labelled and (root / "labels.csv").is_file():
        try:
            labelled = {r["path"] for r in _read_csv(root / "labels.csv", ("path", "label")) if r["label"]}
        except TrainDataError as exc:
            raise SimgenError(str(exc)) from None
    clips = [p for p in found if p not in labelled]
    if not found:
        raise SimgenError(f"--real {root}: no video files found")
    if not clips:
        raise SimgenError(f"--real {root}: all {len(found)} clips are labelled in labels.csv; nothing to suggest "
                          "(--include-labelled ranks them anyway)")
    return clips


def cmd_suggest_labels(args: argparse.Namespace) -> int:
    """Handler of ``simgen suggest-labels``."""
    check_input(args.checkpoint, "--checkpoint", folder=False)
    root = check_input(args.real, "--real", folder=True)
    out = check_output_file(args.out, "--out", suffixes=(".csv",))
    clips = candidate_clips(root, include_labelled=args.include_labelled)
    if args.budget > len(clips):
        raise SimgenError(f"--budget {args.budget}: only {len(clips)} unlabelled clip(s) in {root}")
    import numpy as np
    import torch
    from tqdm import tqdm

    from simgen.adapt.active import clip_probs_and_features, pick_for_labelling, why
    from simgen.pipelines.train_commands import _resolve_device
    from simgen.train.checkpoint import load_model
    from simgen.train.data.video_io import decode_video
    from simgen.train.errors import TrainDataError, VideoDecodeError
    from simgen.train.frame_rate import model_fps, to_model_rate

    device, msg = _resolve_device(args.device, distributed=False)
    if msg is not None:
        return print_error("suggest-labels", msg)
    try:
        model, meta = load_model(args.checkpoint)
    except TrainDataError as exc:
        return print_error("suggest-labels", f"--checkpoint {exc}")
    model = model.to(device).eval()
    kept, probs, feats, skipped = [], [], [], []
    for rel in tqdm(clips, desc="score", unit="clip", disable=not args.progress):
        try:
            frames, fps = decode_video(root / rel, size=meta["size"])
        except VideoDecodeError as exc:
            skipped.append(rel)
            print(f"simgen suggest-labels: skipped {exc}", file=sys.stderr)
            continue
        frames, _ = to_model_rate(torch.from_numpy(frames), fps, model_fps(meta))
        p, f = clip_probs_and_features(model, meta, frames, device=device)
        kept.append(rel)
        probs.append(p)
        feats.append(f)
    if not kept:
        return print_error("suggest-labels", f"--real {root}: no clip could be decoded")
    probs_a, feats_a = np.stack(probs), np.stack(feats)
    picks = pick_for_labelling(probs_a, feats_a, args.budget, kind=args.uncertainty)
    classes = meta["classes"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "path", "score", "predicted", "confidence", "uncertainty", "distance", "why"])
        for rank, pk in enumerate(picks, start=1):
            p = probs_a[pk["index"]]
            w.writerow([rank, kept[pk["index"]], f"{pk['score']:.4f}", classes[int(p.argmax())], f"{p.max():.4f}",
                        f"{pk['uncertainty']:.4f}", "" if pk["distance"] is None else f"{pk['distance']:.4f}",
                        why(pk, p, classes, args.uncertainty)])
    print(f"wrote {out}: {len(picks)} of {len(kept)} clips to label first")
    for rank, pk in enumerate(picks[:10], start=1):
        print(f"  {rank:2d}. {kept[pk['index']]}  {why(pk, probs_a[pk['index']], classes, args.uncertainty)}")
    return 2 if skipped else 0


def register(sub) -> None:
    """Add ``suggest-labels`` to an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "suggest-labels", help="rank unlabelled real clips for you to label first (uncertainty + diversity)",
        description="Score every video under --real DIR with RUN/model.pt and pick --budget clips to label: each "
                    "pick is the clip of highest uncertainty x feature distance to the clips already picked, so "
                    "the list covers different unsure cases rather than near-copies of one. Clips labelled in "
                    "DIR/labels.csv are left out. Writes CSV rank,path,score,predicted,confidence,uncertainty,"
                    "distance,why (path relative to DIR).")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="RUN/model.pt")
    p.add_argument("--real", required=True, metavar="DIR", help="folder of real videos (any layout)")
    p.add_argument("--budget", required=True, type=int_at_least(1), metavar="K", help="clips to pick")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the ranked picks")
    p.add_argument("--uncertainty", choices=["entropy", "margin"], default="entropy",
                   help="entropy of the clip's class probabilities, or 1 - (top-1 minus top-2)")
    p.add_argument("--include-labelled", dest="include_labelled", action="store_true",
                   help="also rank clips labels.csv already labels")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=cmd_suggest_labels)

"""``simgen predict``: label a person's own videos with a trained model.

For each VIDEO: ``OUT/NAME.frames.csv`` (per-frame label + confidence), ``OUT/NAME.segments.json``
and ``.segments.csv`` (start, end, label, confidence), ``OUT/NAME.labelled.mp4`` (the video with
the labels drawn on); ``OUT/predictions.json`` lists every video's clip label, top-k and files.
A video that cannot be decoded is one line on stderr and skipped; the others are still done,
and the command then exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import check_input, check_output_folder, int_at_least, print_error


def _videos(paths: list[str]) -> list[Path]:
    """The files given, with folders expanded to the videos inside them (sorted)."""
    from simgen.train.data.real import VIDEO_SUFFIXES

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                raise SimgenError(f"VIDEO {p}: folder holds no video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
            out += found
        else:
            out.append(p)  # a missing or undecodable file is a listed skip, not a stop
    return out


def _unique_names(videos: list[Path]) -> list[str]:
    """Output name per video: its stem, made unique (``a``, ``a-2``) when two videos share it."""
    seen: dict[str, int] = {}
    names = []
    for v in videos:
        seen[v.stem] = seen.get(v.stem, 0) + 1
        names.append(v.stem if seen[v.stem] == 1 else f"{v.stem}-{seen[v.stem]}")
    return names


def cmd_predict(args: argparse.Namespace) -> int:
    """Handler of ``simgen predict``."""
    for path in args.checkpoint:
        check_input(path, "--checkpoint", folder=False)
    out = check_output_folder(args.out, "--out")
    videos = _videos(args.videos)
    from tqdm import tqdm

    from simgen.pipelines.ensemble_options import ensemble_option_error, load_ensemble
    from simgen.pipelines.predict_outputs import write_frames_csv, write_labelled_mp4, write_segments
    from simgen.pipelines.train_commands import _resolve_device
    from simgen.train.checkpoint import load_model
    from simgen.train.errors import TrainDataError, VideoDecodeError
    from simgen.train.frame_rate import model_fps
    from simgen.train.predict import predict_frames, read_video

    device, msg = _resolve_device(args.device, distributed=False)
    if msg is not None:
        return print_error("predict", msg)
    if (problem := ensemble_option_error(args)) is not None:
        return print_error("predict", problem)
    try:
        if len(args.checkpoint) > 1:  # e.g. the two recipes' models: members may differ in input and window
            model, meta = load_ensemble(args.checkpoint, "mean", args.camera_gate, args.member_weights,
                                        args.clip_stability, args.clutter_gate)
            if model.frame_head is None:
                return print_error("predict", "--checkpoint: with several checkpoints every model needs its "
                                              "per-frame head (trained without --no-frame-head)")
        else:
            model, meta = load_model(args.checkpoint[0])
    except (TrainDataError, ValueError) as exc:  # unreadable, or models that cannot be averaged
        return print_error("predict", f"--checkpoint {exc}")
    if args.top_k > len(meta["classes"]):
        return print_error("predict", f"--top-k {args.top_k}: the model has only {len(meta['classes'])} classes")
    if model_fps(meta) is None:
        print(f"note: {args.checkpoint[0]} does not record the frame rate it was trained at; "
              "videos are scored at their own rate", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    results, skipped = [], []
    for video, name in tqdm(list(zip(videos, _unique_names(videos))), desc="predict", unit="video",
                            disable=not args.progress):
        try:
            frames, display, fps = read_video(video, size=meta["size"])
        except VideoDecodeError as exc:
            skipped.append(dict(video=str(video), reason=str(exc)))
            print(f"simgen predict: skipped {exc}", file=sys.stderr)
            continue
        pred = predict_frames(model, meta, frames, fps, device=device, smoothing=args.smoothing,
                              median_size=args.median_size, min_duration=args.min_duration, top_k=args.top_k)
        if pred["sees_nothing_move"]:
            print(f"warning: {video}: every frame is the same picture (a still, or a codec that never updated it); "
                  f"the model reads frame differences only and gives every such video the same label",
                  file=sys.stderr)
        files = dict(frames_csv=out / f"{name}.frames.csv", segments_json=out / f"{name}.segments.json",
                     segments_csv=out / f"{name}.segments.csv", video=out / f"{name}.labelled.mp4")
        write_frames_csv(pred, files["frames_csv"])
        write_segments(pred, str(video), files["segments_json"], files["segments_csv"])
        if args.video:
            write_labelled_mp4(display, pred, meta["classes"], files["video"])
        else:
            del files["video"]
        results.append(dict(video=str(video), label=pred["clip"]["label"], confidence=pred["clip"]["confidence"],
                            top_k=pred["clip"]["top_k"], segments=len(pred["segments"]), frames=pred["frames"],
                            fps=pred["fps"], model_fps=pred["model_fps"], frames_scored=pred["frames_scored"],
                            frozen=pred["frozen"], sees_nothing_move=pred["sees_nothing_move"],
                            files={k: str(v) for k, v in files.items()},
                            **{k: pred[k] for k in ("members", "member_stability", "clutter") if k in pred}))
    checkpoints = [str(c) for c in args.checkpoint]
    summary = dict(checkpoint=checkpoints if len(checkpoints) > 1 else checkpoints[0], classes=meta["classes"],
                   videos=results, skipped=skipped)
    (out / "predictions.json").write_text(json.dumps(summary, indent=2))
    for r in results:
        top = ", ".join(f"{c} {p:.2f}" for c, p in r["top_k"])
        print(f"{r['video']}: {r['label']} ({top}); {r['segments']} segment(s), {r['frames']} frames")
    print(f"wrote {len(results)} video(s) to {out}" + (f"; skipped {len(skipped)}" if skipped else ""))
    return 2 if skipped else 0


def register(sub) -> None:
    """Add ``predict`` to an ``argparse`` subparsers object."""
    from simgen.pipelines.ensemble_options import (add_camera_gate_option, add_clip_stability_option,
                                                   add_clutter_gate_option, add_member_weights_option)

    p = sub.add_parser(
        "predict", help="label your own videos with a trained model (per-frame labels, segments, labelled MP4)",
        description="Label VIDEOs (any size and frame rate PyAV reads) with RUN/model.pt. Each video is replayed at "
                    "the model's training frame rate, scored window by window, and per-frame labels are decoded "
                    "and mapped back onto every frame. Writes OUT/NAME.frames.csv, OUT/NAME.segments.json, "
                    "OUT/NAME.segments.csv (start,end in seconds,label,confidence), OUT/NAME.labelled.mp4 and "
                    "OUT/predictions.json (clip label and top-k per video). Undecodable videos are skipped with "
                    "one line each; the exit status is then 2.")
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files, or folders of them")
    p.add_argument("--checkpoint", required=True, action="append", metavar="FILE",
                   help="RUN/model.pt; repeat it for an ensemble: the models' class and per-frame probabilities are "
                        "averaged (e.g. the default and the robust recipe's models); they must share classes, frame "
                        "size and frame rate")
    add_camera_gate_option(p)
    add_member_weights_option(p)
    add_clip_stability_option(p)
    add_clutter_gate_option(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs (made if missing)")
    p.add_argument("--top-k", dest="top_k", type=int_at_least(1), default=3, help="clip labels listed per video")
    p.add_argument("--smoothing", choices=["none", "median", "viterbi"], default="viterbi",
                   help="decoding of the per-frame scores")
    p.add_argument("--median-size", dest="median_size", type=int_at_least(1), default=5,
                   help="median filter length in frames (--smoothing median)")
    p.add_argument("--min-duration", dest="min_duration", type=int_at_least(1), default=8,
                   help="Viterbi minimum segment length in model frames (--smoothing viterbi)")
    p.add_argument("--no-video", dest="video", action="store_false", help="skip the labelled MP4")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=cmd_predict)

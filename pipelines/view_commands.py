"""Commands for looking at actions and clips: `simgen export`, `simgen actions --preview`,
`simgen preview --no-overlays`; and `simgen assets`, the files a user copies and edits.

``register(subparsers)`` adds `export` and `assets` and extends the `actions` and `preview` parsers
that `cli.py` made (so they must exist first). Errors are `SimgenError`s: one line, exit 2.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simgen.errors import SimgenError


def cmd_export(args: argparse.Namespace) -> int:
    from simgen.export import export_clip

    from simgen.pipelines.cli_support import check_input, check_output_file

    check_input(args.dataset, "dataset", folder=True)
    check_output_file(args.out, "--out")
    start = time.perf_counter()
    path = export_clip(args.dataset, args.key, args.out, overlays=args.overlays, min_side=args.min_side)
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_action_preview(args: argparse.Namespace) -> int:
    from simgen.action_preview import action_frames
    from simgen.clip_file import check_clip_path, write_clip
    from simgen.motion.library import ActionLibrary

    if args.out is None:
        raise SimgenError("--preview needs --out FILE.gif or FILE.mp4", field="--out")
    out = check_clip_path(args.out)
    if not 64 <= args.size <= 512:
        raise SimgenError(f"must be in [64, 512] pixels, got {args.size}", field="--size")
    start = time.perf_counter()
    library = ActionLibrary(args.actions)
    if args.preview not in library.names:
        import difflib

        close = difflib.get_close_matches(args.preview, library.names, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `simgen actions`"
        raise SimgenError(f"unknown action '{args.preview}'; {hint}", field="--preview")
    fps = 25.0
    frames = action_frames(library, args.preview, size=args.size, fps=fps)
    write_clip(frames, out, fps)
    print(f"wrote {out}: {args.preview}, {len(frames)} frames (one cycle at speed 1), front and side, in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_assets(args: argparse.Namespace) -> int:
    import shutil

    from simgen.assets import ROOT

    if args.copy is None:
        print(f"{ROOT}")
        for path in sorted(ROOT.rglob("*")):
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                print(f"  {path.relative_to(ROOT)}")
        return 0
    if args.copy.exists() and any(args.copy.iterdir()):
        raise SimgenError("exists and is not empty; give a new folder", file=str(args.copy), field="--copy")
    try:
        shutil.copytree(ROOT, args.copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"), dirs_exist_ok=True)
    except OSError as exc:
        raise SimgenError(f"cannot copy: {exc.strerror}", file=str(args.copy), field="--copy") from None
    print(f"copied {ROOT} to {args.copy}: edit them, then --actions {args.copy / 'actions'}, --config {args.copy / 'presets' / 'demo.yaml'}")
    return 0


def _extend_actions(parser: argparse.ArgumentParser) -> None:
    listing = parser.get_default("func")

    def cmd_actions(args: argparse.Namespace) -> int:
        return cmd_action_preview(args) if args.preview else listing(args)

    parser.add_argument("--preview", metavar="NAME", help="render one action (physics off) from a front and a side camera, no overlays; needs --out")
    parser.add_argument("--out", type=Path, help="with --preview: the clip to write, FILE.gif or FILE.mp4")
    parser.add_argument("--size", type=int, default=160, help="with --preview: pixels per view (default 160)")
    parser.set_defaults(func=cmd_actions)


def register(subparsers) -> None:
    from simgen.pipelines.cli_support import int_at_least

    """Add `export` and `assets`; extend `actions` (--preview) and `preview` (--no-overlays, read by cli.cmd_preview)."""
    e = subparsers.add_parser(
        "export",
        help="write one clip of a dataset as an MP4 or GIF to watch (optionally with keypoints, box and captions)",
        description="Write clip KEY of dataset DIR (keys: manifest.jsonl) to a .mp4 or .gif at the clip's fps.",
    )
    e.add_argument("dataset", type=Path, metavar="DIR")
    e.add_argument("key", metavar="KEY")
    e.add_argument("--out", type=Path, required=True, help="clip.mp4 or clip.gif")
    e.add_argument("--overlays", action="store_true", help="draw keypoints, skeleton, box and per-frame captions")
    e.add_argument("--min-side", type=int_at_least(0), default=128, help="enlarge smaller frames (nearest neighbour) to at least this many pixels; 0 keeps the stored size")
    e.set_defaults(func=cmd_export)

    a = subparsers.add_parser(
        "assets",
        help="show where the shipped action programs, presets, backgrounds and props are, or copy them out to edit",
    )
    a.add_argument("--copy", type=Path, metavar="DIR", help="copy them all into DIR (a new or empty folder)")
    a.set_defaults(func=cmd_assets)

    _extend_actions(subparsers.choices["actions"])
    pv = subparsers.choices["preview"]
    pv.add_argument("--no-overlays", action="store_true", help="frames and captions only: no keypoints, skeleton or box")

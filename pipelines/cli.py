"""The `simgen` command line: generate, validate, preview, list actions/presets, train, evaluate.

Every user error prints one line naming the file, field or option and exits with status 2,
before any long work starts. `generate`, `train` and `evaluate` end with a short table on
stdout (`--json`: one JSON line instead); progress bars and warnings go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

import simgen
from simgen.errors import DiskFullError, SimgenError, disk_full, is_disk_full
from simgen.untrusted import parse_yaml
from simgen.pipelines.cli_support import (
    EXIT_USAGE,
    CliParser,
    check_input,
    check_output_file,
    harden,
    int_at_least,
    print_error,
    unknown_word,
)

#: generate's options that override a spec field of the same name
SPEC_OPTIONS = ("clips", "seed", "frames", "fps", "size")


def _parse_set(items: list[str]) -> dict:
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SimgenError(f"expected KEY=VALUE, got '{item}'", field="--set")
        try:
            overrides[key.strip()] = parse_yaml(value, file=f"--set {item}")
        except SimgenError:
            raise SimgenError(f"value of '{key}' is not valid YAML", field="--set") from None
    return overrides


def _spec_source(args) -> str:
    return str(args.config) if args.config is not None else f"preset '{args.preset}'"


def _blame(exc: SimgenError, args) -> SimgenError:
    """Point a spec error at what set the field: an option (--size, --set), else the spec file."""
    from simgen.spec import GenerationSpec

    field = exc.field or ""
    if field in SPEC_OPTIONS and getattr(args, field, None) is not None:
        return SimgenError(f"--{field} {getattr(args, field)}: {exc.message}")
    for item in args.set or []:
        key = item.partition("=")[0].strip()
        if field == key or field.startswith(key + "."):
            return SimgenError(f"--set {item}: field '{field}': {exc.message}")
    if field.split(".")[0] not in GenerationSpec.model_fields or exc.file == _spec_source(args):
        return exc
    # e.g. an action or asset the spec names: the spec file is where to fix it
    message = f"{exc.file}: {exc.message}" if exc.file else exc.message
    return SimgenError(message, file=_spec_source(args), field=field)


def _spec_from_args(args):
    from simgen.spec import load_spec

    overrides = _parse_set(args.set)
    for name in SPEC_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    try:
        return load_spec(preset=args.preset, path=args.config, overrides=overrides)
    except SimgenError as exc:
        raise _blame(exc, args) from None


def cmd_generate(args) -> int:
    from simgen.jobs.runner import generate_dataset
    from simgen.pipelines.summaries import generate_summary

    if args.actions is not None:
        check_input(args.actions, "--actions", folder=True)
    spec = _spec_from_args(args)
    try:
        summary = generate_dataset(
            spec,
            args.out,
            workers=args.workers,
            backend=args.backend,
            ray_address=args.ray_address,
            actions_dir=args.actions,
            progress=not args.quiet,
        )
    except SimgenError as exc:
        raise _blame(exc, args) from None
    if args.json:
        print(json.dumps(summary))
    else:
        print(generate_summary(summary, json.loads((Path(args.out) / "dataset.json").read_text())))
    return 0


def cmd_validate(args) -> int:
    from simgen.dataset.validate import validate_dataset

    check_input(args.dataset, "dataset", folder=True)
    faults = validate_dataset(args.dataset, decode=not args.no_decode, progress=not args.quiet)
    for fault in faults:
        print(f"{args.dataset}: {fault}", file=sys.stderr)
    if faults:
        print(f"INVALID: {len(faults)} fault(s) in {args.dataset}", file=sys.stderr)
        return 1
    print(f"OK: {args.dataset} is valid")
    return 0


def cmd_preview(args) -> int:
    from simgen.preview import contact_sheet

    check_input(args.dataset, "dataset", folder=True)
    check_output_file(args.out, "--out", suffixes=(".png", ".jpg", ".jpeg"))
    path = contact_sheet(args.dataset, args.out, clips=args.clips, columns=args.columns,
                         overlays=not args.no_overlays)
    print(f"wrote {path}")
    return 0


def cmd_actions(args) -> int:
    from simgen.motion.library import ActionLibrary

    library = ActionLibrary(args.actions)
    for name in library.names:
        action = library.get(name)
        source = action.source
        desc = getattr(source, "description", "") or f"motion capture: {action.path.name}"
        print(f"{name:16s} {action.kind:8s} {desc}")
    return 0


def cmd_presets(args) -> int:
    from simgen.spec import load_spec, preset_names

    if args.show:
        # YAML only, so that `simgen presets --show NAME > spec.yaml` is a spec `generate --config` takes
        text = yaml.safe_dump(load_spec(preset=args.show).model_dump(mode="json"), sort_keys=False)
        print(f"# simgen preset '{args.show}', every default included (simgen {simgen.__version__})\n{text}", end="")
        return 0
    for name in preset_names():
        spec = load_spec(preset=name)
        print(f"{name:12s} {spec.clips} clips x {spec.frames} frames at {spec.size[1]}x{spec.size[0]}: {', '.join(spec.classes)}")
    return 0


def cmd_stats(args) -> int:
    from simgen import stats

    check_input(args.dataset, "dataset", folder=True)
    for option, path in (("--out", args.out), ("--png", args.png)):
        if path is not None:
            check_output_file(path, option)
    return stats.run(args)


def _size(text: str):
    try:
        if "x" in text.lower():
            w, h = text.lower().split("x")
            return [int(h), int(w)]
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or WxH, got '{text}'") from None


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="simgen",
        description="Generate physically simulated, fully annotated synthetic action clips; train and evaluate action models on them.",
    )
    parser.add_argument("--version", action="version", version=f"simgen {simgen.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser(
        "generate",
        help="generate a synthetic dataset (resumable: re-run the same command after a crash)",
        description="Generate a dataset of labelled clips from a preset or a YAML spec. Output: OUT/dataset.json, "
        "OUT/manifest.jsonl and OUT/shards/*.tar (WebDataset: KEY.mp4, KEY.json, KEY.npz).",
    )
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", help="a built-in spec (see `simgen presets`)")
    src.add_argument("--config", type=Path, help="a YAML generation spec")
    g.add_argument("--out", type=Path, required=True, help="output folder (new, or a partial run of the same spec to resume)")
    g.add_argument("--clips", type=int, help="number of clips (default: the spec's)")
    g.add_argument("--seed", type=int, help="dataset seed (default: the spec's)")
    g.add_argument("--frames", type=int, help="frames per clip (default: the spec's)")
    g.add_argument("--fps", type=float, help="frames per second (default: the spec's)")
    g.add_argument("--size", type=_size, help="frame size: N (square) or WxH (default: the spec's)")
    g.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any spec field, e.g. --set camera.fov_deg=[30,50]")
    g.add_argument("--workers", type=int_at_least(1), default=os.cpu_count() or 1,
                   help=f"parallel worker processes (default: CPU count, {os.cpu_count() or 1} here)")
    g.add_argument("--backend", choices=["local", "ray"], default="local", help="local process pool or Ray")
    g.add_argument("--ray-address", help="address of a running Ray cluster (default: start a local instance)")
    g.add_argument("--actions", type=Path, help="folder of extra action files (*.yaml motion programs, *.txt motion capture)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--json", action="store_true", help="end with one JSON line (the job summary) instead of the table")
    g.set_defaults(func=cmd_generate)

    v = sub.add_parser("validate", help="check every clip against the manifest; non-zero exit on any fault")
    v.add_argument("dataset", type=Path, help="dataset folder written by `simgen generate`")
    v.add_argument("--no-decode", action="store_true", help="skip decoding videos and dense maps (faster)")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func=cmd_validate)

    pv = sub.add_parser("preview", help="draw a labelled contact sheet with keypoints and boxes")
    pv.add_argument("dataset", type=Path, help="dataset folder written by `simgen generate`")
    pv.add_argument("--out", type=Path, required=True, help="image file to write (.png or .jpg)")
    pv.add_argument("--clips", type=int_at_least(1), default=12, help="clips (rows) to show")
    pv.add_argument("--columns", type=int_at_least(1), default=4, help="frames per clip")
    pv.set_defaults(func=cmd_preview)

    from simgen import stats

    st = sub.add_parser(
        "stats",
        help="summarise a dataset's variety: clips per class and factor bin, visibility, motion energy, rejection rate, diversity",
    )
    stats.add_arguments(st)
    st.set_defaults(func=cmd_stats)

    a = sub.add_parser("actions", help="list the available actions (built-in and from --actions DIR)")
    a.add_argument("--actions", type=Path, help="folder of extra action files")
    a.set_defaults(func=cmd_actions)

    pr = sub.add_parser("presets", help="list the built-in generation specs")
    pr.add_argument("--show", metavar="NAME", help="print one preset in full, with every default, as YAML only "
                    "(`simgen presets --show demo > spec.yaml` makes a spec to edit)")
    pr.set_defaults(func=cmd_presets)

    try:
        from simgen.pipelines import train_commands
    except ImportError:
        train_commands = None
    if train_commands is not None:
        train_commands.register(sub)
    from simgen.pipelines import view_commands

    view_commands.register(sub)
    if train_commands is not None:  # predict and suggest-labels need torch, as train does
        from simgen.pipelines import label_commands, predict_commands

        predict_commands.register(sub)
        label_commands.register(sub)
        from simgen.pipelines import monitor_commands, update_commands

        monitor_commands.register(sub)
        update_commands.register(sub)
        from simgen.pipelines import adabn_commands

        adabn_commands.register(sub)
        from simgen.pipelines import adapt_commands

        adapt_commands.register(sub)
    from simgen.pipelines import calibrate_commands

    calibrate_commands.register(sub)
    from simgen.pipelines import sim2real_commands

    sim2real_commands.register(sub)
    if train_commands is not None:  # a recipe trains
        from simgen.pipelines import run_commands

        run_commands.register(sub)
    harden(parser)  # also the subcommands other modules registered
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if (typo := unknown_word(parser, argv)) is not None:
        print(typo, file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SimgenError as exc:
        print_error(args.command, str(exc))
        return exc.exit_status
    except KeyboardInterrupt as exc:  # a generate job's message says what it kept
        print(f"simgen: interrupted; {exc or 'finished shards are kept - re-run the same command to resume'}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `simgen presets --show demo | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush cannot fail
        return 0
    except OSError as exc:  # only a full disk is expected here; any other OSError is a bug to see
        if not is_disk_full(exc):
            raise
        print_error(args.command, str(disk_full(exc, None)))
        return DiskFullError.exit_status


if __name__ == "__main__":
    sys.exit(main())

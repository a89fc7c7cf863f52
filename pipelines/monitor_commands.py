"""``simgen monitor``: has the footage drifted from what the model was validated on?

Scores ``--reference`` and ``--stream`` clips with the model and tests feature statistics,
prediction confidence and class frequencies for a shift (simgen.adapt.drift); writes
``OUT/report.json``, ``OUT/report.html`` and ``OUT/clips.csv``. Exit status: 0 no drift,
1 drift flagged, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import check_input, check_output_folder, comma_list, int_at_least, print_error

EXIT_FLAGGED = 1


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {value}")
    return value


def cmd_monitor(args: argparse.Namespace) -> int:
    """Handler of ``simgen monitor``."""
    check_input(args.checkpoint, "--checkpoint", folder=False)
    check_input(args.reference, "--reference", folder=True)
    check_input(args.stream, "--stream", folder=True)
    out = check_output_folder(args.out, "--out")
    from simgen.adapt.monitor import run_monitor
    from simgen.pipelines.train_commands import _resolve_device
    from simgen.train.errors import TrainDataError

    device, msg = _resolve_device(args.device, distributed=False)
    if msg is not None:
        return print_error("monitor", msg)
    try:
        report = run_monitor(args.checkpoint, args.reference, args.stream, out,
                             reference_subjects=args.reference_subjects, stream_subjects=args.stream_subjects,
                             max_reference=args.max_reference, permutations=args.permutations, alpha=args.alpha,
                             k=args.k, budget=args.budget, seed=args.seed, device=device, progress=args.progress)
    except TrainDataError as exc:
        raise SimgenError(str(exc)) from None
    src = report["sources"]
    print(f"reference {src['n_reference']} clips, stream {src['n_stream']} clips, {report['permutations']} "
          f"permutations, each statistic at p < {report['level_per_statistic']:.4f}")
    for name, s in report["statistics"].items():
        flag = "  FLAGGED" if s["flagged"] else ""
        print(f"  {name:9s} ({s['what']}): {s['value']:.4g}  p = {s['p_value']:.4f}{flag}")
    print(f"  novel clips: {report['novel_clips']} of {src['n_stream']}")
    for note in report["notes"]:
        print(f"  note: {note}")
    print(f"{'DRIFT FLAGGED' if report['flagged'] else 'no drift'}; wrote {out}/report.json, report.html, clips.csv")
    for p in report["label_first"]:
        print(f"  label {p['rank']}: {p['path']}{' (novel)' if p['novel'] else ''}")
    return EXIT_FLAGGED if report["flagged"] else 0


def register(sub) -> None:
    """Add ``monitor`` to an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "monitor", help="test whether new clips have drifted from the model's reference clips (exit 1 if so)",
        description="Score --reference clips (what the model was validated on) and --stream clips with the model, "
                    "then test four statistics for a shift, each against its permutation null distribution: MMD and "
                    "k-NN distance of the clip features, mean prediction entropy, and the predicted-class shares. "
                    "Writes OUT/report.json (flagged, statistics, per-clip novelty, clips to label first), "
                    "OUT/report.html and OUT/clips.csv. Exit status 0: no drift; 1: drift flagged; 2: bad input.")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="RUN/model.pt")
    p.add_argument("--reference", required=True, metavar="DIR",
                   help="clips the model was validated on: a synthetic dataset, a real folder, or a folder of videos")
    p.add_argument("--stream", required=True, metavar="DIR", help="the new clips (labels not needed)")
    p.add_argument("--out", default="runs/monitor", metavar="DIR", help="report folder")
    p.add_argument("--reference-subjects", dest="reference_subjects", type=comma_list, metavar="A,B",
                   help="only these people of a real --reference folder (labels.csv subject column; default: all)")
    p.add_argument("--stream-subjects", dest="stream_subjects", type=comma_list, metavar="A,B",
                   help="only these people of a real --stream folder (default: all)")
    p.add_argument("--max-reference", dest="max_reference", type=int_at_least(2), metavar="N",
                   help="score a random N of the reference clips (default: all)")
    p.add_argument("--alpha", type=_alpha, default=0.05,
                   help="false-alarm rate of the whole test (each of the 4 statistics at alpha/4)")
    p.add_argument("--permutations", type=int_at_least(99), default=2000, help="re-splits for the null distributions")
    p.add_argument("--k", type=int_at_least(1), default=3, help="neighbours of the k-NN distance")
    p.add_argument("--budget", type=int_at_least(0), default=5, help="stream clips to suggest labelling")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seeds the permutations and --max-reference")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=cmd_monitor)

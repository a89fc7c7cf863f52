"""``simgen update``: add newly labelled clips (and new classes) to a trained model, with rehearsal.

Bad input (a missing checkpoint or folder, a label outside the classes, a run folder in the way)
is one line on stderr and exit status 2, before any training.
"""

from __future__ import annotations

import argparse
import sys

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import (fraction, check_input, claim_run_folder, comma_list, int_at_least, print_error)


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be above 0, got 0")
    return value


def cmd_update(args: argparse.Namespace) -> int:
    """Handler of ``simgen update``."""
    check_input(args.checkpoint, "--checkpoint", folder=False)
    for root in args.new:
        check_input(root, "--new", folder=True)
    for root in args.replay or []:
        check_input(root, "--replay", folder=True)
    if args.eval:
        check_input(args.eval, "--eval", folder=True)
    elif args.eval_subjects:
        raise SimgenError("--eval-subjects needs --eval DIR")
    out = claim_run_folder(args.out, resume=False, force=args.force)
    from simgen.adapt.update import run_update
    from simgen.pipelines.train_commands import _resolve_device
    from simgen.train.errors import TrainDataError

    device, msg = _resolve_device(args.device, distributed=False)
    if msg is not None:
        return print_error("update", msg)
    try:
        m = run_update(args.checkpoint, args.new, out, replay=args.replay or [], replay_per_class=args.replay_per_class,
                       eval_dir=args.eval, eval_subjects=args.eval_subjects, steps=args.steps,
                       batch_size=args.batch_size, lr=args.lr, trainable=args.train, distill=args.distill,
                       real_share=args.real_share, seed=args.seed, device=device, cache_dir=args.cache_dir)
    except TrainDataError as exc:
        raise SimgenError(str(exc)) from None
    for warning in m["warnings"]:
        print(warning, file=sys.stderr)
    added = ", ".join(m["added_classes"]) or "none"
    print(f"classes {', '.join(m['classes'])} (added: {added}); {m['drawn']['total']} clips drawn, "
          f"{m['drawn']['replay']} from the replay buffer; {m['seconds']:.0f} s")
    ev = m["evaluation"]
    if ev is not None:
        def pct(x):
            return "-" if x is None else f"{100 * x:.1f}%"
        for part in ("old", "new", "all"):
            b, a = ev["before"][part], ev["after"][part]
            print(f"  {part:3s} classes ({a['n_clips']} clips): before {pct(b['accuracy'])}, "
                  f"after {pct(a['accuracy'])}")
    print(f"wrote {out}/model.pt, metrics.json")
    return 0


def register(sub) -> None:
    """Add ``update`` to an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "update", help="add newly labelled clips and classes to a trained model, rehearsing earlier clips",
        description="Grow RUN/model.pt by the labelled clips of --new (classes the model lacks are added: the heads "
                    "grow, the old classes' rows kept, a new class's row imprinted from its clips' mean feature), "
                    "fine-tuning only the heads and the backbone's last stage (--train) at a low learning rate, with "
                    "every batch class-balanced over the new clips and a replay buffer drawn from --replay, and the "
                    "old classes' outputs distilled from the starting model. With --eval, scores old- and new-class "
                    "accuracy before and after. Writes OUT/model.pt and OUT/metrics.json.")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="RUN/model.pt to grow")
    p.add_argument("--new", required=True, action="append", metavar="DIR",
                   help="newly labelled clips: a real folder (labels.csv) or a synthetic dataset; repeat for several")
    p.add_argument("--out", required=True, metavar="DIR", help="the grown run (model.pt, metrics.json)")
    p.add_argument("--replay", action="append", metavar="DIR",
                   help="earlier clips to rehearse (synthetic and/or real); repeat for several (default: none)")
    p.add_argument("--replay-per-class", dest="replay_per_class", type=int_at_least(1), default=20,
                   help="replay buffer: clips kept per class and domain (synthetic / real)")
    p.add_argument("--eval", metavar="DIR", help="labelled clips to score before and after (default: none)")
    p.add_argument("--eval-subjects", dest="eval_subjects", type=comma_list, metavar="A,B",
                   help="only these people of --eval (default: all)")
    g = p.add_argument_group("fine-tuning")
    g.add_argument("--steps", type=int_at_least(1), default=1200,
                   help="optimiser steps (chosen on synthetic validation clips: UPDATE_STEPS in adapt/update.py)")
    g.add_argument("--batch-size", dest="batch_size", type=int_at_least(1), default=8, help="clips per step")
    g.add_argument("--lr", type=_positive, default=1e-3, help="peak learning rate (warm-up, cosine decay)")
    g.add_argument("--train", choices=["head", "last", "all"], default="last",
                   help="what trains: the heads, + the backbone's last stage, or everything")
    g.add_argument("--distill", type=_non_negative, default=1.0,
                   help="weight of distilling the old classes' outputs from the starting model (0: off)")
    g.add_argument("--real-share", dest="real_share", type=fraction, default=0.5,
                   help="share of a class's draws that go to its real clips when it has real and synthetic ones")
    r = p.add_argument_group("run")
    r.add_argument("--seed", type=int_at_least(0), default=0, help="replay buffer, batches, augmentation, dropout")
    r.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    r.add_argument("--cache-dir", dest="cache_dir", help="keep decoded frames here (default: a temporary folder)")
    r.add_argument("--force", action="store_true", help="replace a run already in --out")
    p.set_defaults(func=cmd_update)

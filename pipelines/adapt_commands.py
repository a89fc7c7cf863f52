"""``simgen adapt``: adapt a trained model to your own real clips with a sim-to-real method.

The benchmark (``simgen sim2real``) says which method holds on people it never trained on; this
command runs that method on every clip you have and writes the model to deploy
(:mod:`simgen.adapt.own_clips`). Bad input (a missing checkpoint or folder, a run without its
config.yaml, real labels outside the model's classes, too few clips of a class for ``--shots``, an
unknown person, a video that cannot be decoded, a method that needs labels you do not have) is one
line and exit status 2, before any training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import (check_input, check_output_file, comma_list, fraction, int_at_least,
                                          print_error)
from simgen.pipelines.sim2real_commands import METHODS, SCHEDULES

#: kept in step with simgen.adapt.own_clips.ADAPT_METHODS (tested; not imported: --help must not load torch)
ADAPT_METHODS = tuple(m for m in METHODS if m not in ("sim-only", "ensemble"))
SELECT_RULES = ("auto", "cv", "label-free")  # simgen.adapt.own_clips.SELECT_RULES (tested)


def _summary(record: dict, out: Path) -> str:
    sel, start = record["selection"] or {}, record["start_selection"] or {}
    how = record["method"] + (f" (= {record['picked']})" if record.get("picked") else "")
    lines = [f"adapted with {how} from {record['from_checkpoint']}: {len(record['shots'])} labelled and "
             f"{len(record['unlabelled'])} unlabelled real clips, in {record['seconds']:.0f} s"]
    for run in record["runs"]:
        info = run.get("info") or {}
        step = (f"kept its start ({info.get('start', 'the start model')})" if run["chosen_step"] == 0
                else f"step {run['chosen_step']}") + " by cross-validation" * (run["chosen_by"] == "cross-validation")
        if run.get("not_applicable"):
            step = f"not applicable: {run['not_applicable']}"
        kept = info.get("pseudo_labels") or {}
        extra = f", pseudo-labels kept {kept['kept']} of {kept['candidates']}" if kept else ""
        lines.append(f"  {run['method']}: {step}{extra} ({run['seconds']:.0f} s)")
    fmt = lambda s: (f"score {s.get('score', float('nan')):.3f} (synthetic validation "  # noqa: E731
                     f"{(s.get('synthetic_val_accuracy') or 0) * 100:.1f}%, real entropy {s.get('real_entropy', 0):.3f})")
    lines.append(f"label-free scores: start {fmt(start)}; adapted {fmt(sel)}")
    cv = record.get("cross_validation")
    if cv:
        steps = ", ".join(f"{m} step {c['step']}" for m, c in cv["methods"].items())
        estimate = "n/a" if cv["estimate"] is None else f"{100 * cv['estimate']:.1f}%"
        lines.append(f"cross-validation over {len(cv['people'])} people ({', '.join(cv['people'])}): {steps or 'no trained step'}; "
                     f"held-out accuracy at the chosen steps {estimate} (optimistic: the steps were chosen on it)")
    lines.append(f"wrote {out} and {out.with_suffix('.json')}")
    return "\n".join(lines)


def cmd_adapt(args: argparse.Namespace) -> int:
    """Handler of ``simgen adapt``."""
    try:
        check_input(args.checkpoint, "--checkpoint", folder=False)
        check_input(args.real, "--real", folder=True)
        if args.synthetic is not None:
            check_input(args.synthetic, "--synthetic", folder=True)
        out = check_output_file(args.out, "--out", suffixes=(".pt",))
        if out.resolve() == Path(args.checkpoint).resolve():
            raise SimgenError(f"--out {out}: is the --checkpoint itself; write the adapted model next to it")
    except SimgenError as exc:
        return print_error("adapt", str(exc))
    from simgen.adapt.benchmark.folds import BenchmarkInputError, parse_label_map
    from simgen.adapt.own_clips import AdaptRequest, adapt_checkpoint, adapt_settings
    from simgen.train.checkpoint import save_atomic

    try:
        settings = adapt_settings(finetune_schedule=args.finetune_schedule, finetune_steps=args.finetune_steps,
                                  align_steps=args.align_steps, pseudo_threshold=args.pseudo_threshold)
        req = AdaptRequest(checkpoint=Path(args.checkpoint), real=Path(args.real), method=args.method,
                           synthetic=Path(args.synthetic) if args.synthetic else None, shots=args.shots,
                           subjects=args.subjects, exclude_subjects=args.exclude_subjects,
                           label_map=parse_label_map(args.label_map), seed=args.seed, select=args.select,
                           settings=settings,
                           device=args.device, cache_dir=args.cache_dir, progress=args.progress)
        ckpt, record = adapt_checkpoint(req)
    except BenchmarkInputError as exc:
        return print_error("adapt", str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(ckpt, out)
    out.with_suffix(".json").write_text(json.dumps(record, indent=1))
    print(_summary(record, out))
    return 0


def register(sub) -> None:
    """Add ``adapt`` to an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "adapt", help="adapt a trained model to your own real clips (labelled and unlabelled) with a sim-to-real method",
        description="Start from a `simgen train` run's model.pt (trained on synthetic clips; its config.yaml names "
                    "them and their validation split) and adapt it with one of the sim2real benchmark's methods to the "
                    "clips of --real: every labelled clip is a shot (or --shots K per class), every other clip of the "
                    "chosen people is unlabelled (labels.csv rows with an empty label, or labelled clips not drawn as "
                    "shots). The checkpoint is chosen without test labels: synthetic validation accuracy minus the "
                    "mean prediction entropy on the unlabelled real clips. Writes --out FILE.pt (meta.adapt records "
                    "how) and FILE.json (every method run). Test the result on people it never saw "
                    "(--exclude-subjects here, --subjects in `simgen evaluate`).")
    p.add_argument("--checkpoint", required=True, metavar="RUN/model.pt", help="the trained model (config.yaml beside it)")
    p.add_argument("--real", required=True, metavar="DIR",
                   help="your clips: labels.csv (path,label[,subject]; an empty label = unlabelled) or one folder per class")
    p.add_argument("--out", required=True, metavar="FILE.pt", help="the adapted checkpoint to write (and FILE.json)")
    p.add_argument("--method", choices=ADAPT_METHODS, default="best",
                   help="best (default): the benchmark's recommended method - pseudo (fine-tuned on the labelled clips, "
                        "then on confident, window-consistent pseudo-labels of the unlabelled ones) with labels, adabn "
                        "without; or any method of `simgen sim2real --methods`")
    p.add_argument("--synthetic", metavar="DIR", help="the synthetic clips the model was trained on, if moved since "
                   "(default: the folder its config.yaml names)")
    p.add_argument("--shots", type=int_at_least(1), metavar="K",
                   help="use K labelled clips per class, drawn with --seed (default: every labelled clip)")
    p.add_argument("--subjects", type=comma_list, metavar="A,B", help="only these people of labels.csv (default: all)")
    p.add_argument("--exclude-subjects", dest="exclude_subjects", type=comma_list, metavar="A,B",
                   help="leave these people out (the ones you will test on)")
    p.add_argument("--label-map", dest="label_map", metavar="REAL=SYN,...",
                   help="rename real labels to the model's classes, e.g. wave=wave1 (default: names must match)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="shots drawn, initialisation and batches")
    p.add_argument("--select", choices=SELECT_RULES, default="auto",
                   help="how each trained method's checkpoint is chosen: cv (leave one of your labelled people out at "
                        "a time, keep the step with the most held-out clips right, then train on everyone), label-free "
                        "(the benchmark's rule), auto (default: cv when at least 2 people have labelled clips)")
    s = p.add_argument_group("training lengths (the benchmark's defaults)")
    s.add_argument("--finetune-schedule", dest="finetune_schedule", choices=SCHEDULES, default="discriminative",
                   help="head, gradual or discriminative (see `simgen sim2real --help`)")
    s.add_argument("--finetune-steps", dest="finetune_steps", type=int_at_least(1), default=60,
                   help="steps of finetune and of pseudo")
    s.add_argument("--align-steps", dest="align_steps", type=int_at_least(1), default=120,
                   help="steps of dann / coral / mmd / selfsup")
    s.add_argument("--pseudo-threshold", dest="pseudo_threshold", type=fraction, default=0.8,
                   help="pseudo: least mean window confidence of a kept pseudo-label (its windows must also agree)")
    r = p.add_argument_group("run")
    r.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    r.add_argument("--cache-dir", dest="cache_dir", help="keep decoded frames here as memory maps (default: none)")
    r.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=cmd_adapt)

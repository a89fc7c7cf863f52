"""`simgen calibrate`: how far synthetic clips are from real footage, and which factors cause it.

``register(subparsers)`` adds the command. Inputs are checked before any clip is decoded; every
user error is a ``SimgenError`` (one line, exit status 2).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def cmd_tune(args: argparse.Namespace) -> int:
    from simgen.adapt.calibrate.tune import tune_spec
    from simgen.errors import SimgenError
    from simgen.pipelines.cli_support import check_input, check_output_folder

    if args.spec is None:
        raise SimgenError("--tune needs --spec SPEC.yaml (the spec whose factor ranges to tune)")
    check_input(args.spec, "--spec", folder=False)
    check_input(args.real, "--real", folder=True)
    check_output_folder(args.out, "--out")
    start = time.perf_counter()
    if args.eval_real is not None:
        return _eval_real(args, start)
    result = tune_spec(args.spec, args.real, args.out, budget=args.budget, factors=args.factors,
                       probe_clips=args.probe_clips, seed=args.seed, workers=args.workers, progress=not args.quiet)
    for name, r in result["factors"].items():
        print(f"  {name}: [{r['before'][0]:.4g}, {r['before'][1]:.4g}] -> [{r['after'][0]:.4g}, {r['after'][1]:.4g}]")
    if result["probes_failed"]:
        print(f"  {result['probes_failed']} probes could not be generated and count as the worst (reasons in tuning.json)")
    print(f"gap {result['gap_before']:.4f} -> {result['gap_after']:.4f} in {len(result['probes'])} probes; "
          f"wrote {Path(args.out) / 'calibrated.yaml'}, tuning.json and tuning.html in {time.perf_counter() - start:.1f} s")
    return 0


def _eval_real(args: argparse.Namespace, start: float) -> int:
    from simgen.adapt.calibrate.eval_real import eval_real
    from simgen.pipelines.cli_support import check_input

    check_input(args.eval_real, "--eval-real", folder=True)
    metrics = eval_real(args.spec, args.real, args.eval_real, args.out, folds=args.folds, budget=args.budget,
                        factors=args.factors, probe_clips=args.probe_clips, train_clips=args.train_clips,
                        epochs=args.epochs, seed=args.seed, train_seeds=args.train_seeds, workers=args.workers,
                        progress=not args.quiet)["eval_real"]
    for subject, f in metrics["folds"].items():
        print(f"  held out {subject}: accuracy {f['before']:.2f} untuned -> {f['after']:.2f} tuned ({f['n_clips']} clips)"
              + (f"; per training seed {f['before_per_seed']} -> {f['after_per_seed']}" if "before_per_seed" in f else ""))
    if metrics["folds_done"]:
        print(f"pooled over {metrics['folds_done']} of {metrics['folds_total']} folds: {metrics['before']['accuracy']:.3f} -> "
              f"{metrics['after']['accuracy']:.3f}; per class " + ", ".join(
                  f"{c} {metrics['before']['per_class'][c]:.2f}->{metrics['after']['per_class'].get(c, float('nan')):.2f}"
                  for c in metrics["before"]["per_class"])
              + (f"; per training seed {metrics['before']['per_seed']} -> {metrics['after']['per_seed']}"
                 if "per_seed" in metrics["before"] else ""))
    print(f"wrote {Path(args.out) / 'metrics.json'} and report.html in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from simgen.errors import SimgenError
    from simgen.pipelines.cli_support import check_input, check_output_folder

    if args.tune:
        return cmd_tune(args)
    if args.eval_real is not None:
        raise SimgenError("--eval-real needs --tune --spec SPEC.yaml (it compares the untuned and the tuned spec)")
    if args.synthetic is None:
        raise SimgenError("--synthetic DIR is required (or --tune --spec SPEC.yaml to tune a spec)")
    check_input(args.synthetic, "--synthetic", folder=True)
    check_input(args.real, "--real", folder=True)
    check_output_folder(args.out, "--out")
    if args.model is not None:
        check_input(args.model, "--model", folder=False)
    from simgen.adapt.calibrate.report import run_calibration

    start = time.perf_counter()
    metrics = run_calibration(args.synthetic, args.real, args.out, model=args.model, seed=args.seed,
                              max_synthetic=args.max_synthetic, resamples=args.bootstrap, progress=not args.quiet)
    fd, mmd, pad = metrics["frechet_distance"], metrics["mmd"], metrics["proxy_a_distance"]
    print(f"synthetic {metrics['sets']['synthetic']['clips']} clips, real {metrics['sets']['real']['clips']} clips; "
          f"features: {metrics['features']['kind']}")
    for name, entry in (("Fréchet distance", fd), ("MMD²", mmd), ("proxy A-distance", pad)):
        lo, hi = entry["ci95"]
        print(f"  {name:17s} {entry['value']:.4g}  [95% CI {lo:.4g}, {hi:.4g}]")
    for line in metrics["findings"][:8]:
        print(f"  - {line}")
    for note in metrics["notes"]:
        print(f"  note: {note}")
    print(f"wrote {Path(args.out) / 'report.html'} and metrics.json in {time.perf_counter() - start:.1f} s")
    return 0


def register(subparsers) -> None:
    from simgen.pipelines.cli_support import comma_list, int_at_least

    c = subparsers.add_parser(
        "calibrate",
        help="measure how far synthetic clips are from real footage and which factors cause it; write an HTML report",
        description="Compare a synthetic dataset with real clips: low-level statistics, feature-level distances "
        "(Fréchet, MMD², proxy A-distance) with bootstrap intervals, the gap per factor bin, and pictures. "
        "Writes OUT/report.html (self-contained) and OUT/metrics.json.",
    )
    c.add_argument("--synthetic", type=Path, metavar="DIR", help="dataset folder written by `simgen generate` (required unless --tune)")
    c.add_argument("--real", type=Path, required=True, metavar="DIR",
                   help="real clips: labels.csv (path,label[,subject]), one sub-folder per class, or loose videos (unlabelled)")
    c.add_argument("--out", type=Path, required=True, metavar="REPORT_DIR", help="report folder (report.html and metrics.json are replaced)")
    c.add_argument("--model", type=Path, metavar="RUN/model.pt",
                   help="compare the features of this trained model (default: a fixed random-weight tiny3d network)")
    c.add_argument("--max-synthetic", type=int_at_least(2), metavar="N", help="use at most N synthetic clips, spread over the dataset (default: all)")
    c.add_argument("--bootstrap", type=int_at_least(10), default=200, help="bootstrap resamples for the intervals")
    c.add_argument("--seed", type=int, default=0, help="seed of the bootstraps and subsamples")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    t = c.add_argument_group("tuning (--tune)")
    t.add_argument("--tune", action="store_true", help="search --spec's factor ranges to shrink the gap to --real; writes OUT/calibrated.yaml")
    t.add_argument("--spec", type=Path, metavar="SPEC.yaml", help="with --tune: the generation spec to tune (`simgen presets --show NAME > spec.yaml`)")
    t.add_argument("--budget", type=int_at_least(2), default=20, help="with --tune: probe batches to generate")
    t.add_argument("--factors", type=comma_list, metavar="A,B",
                   help="with --tune: dotted [low, high] spec fields to tune (default: those of camera.actor_height_fraction, "
                        "camera.vertical_offset, camera.elevation_deg, actor.torso_girth, actor.limb_girth that are ranges)")
    t.add_argument("--probe-clips", type=int_at_least(4), default=32,
                   help="with --tune: clips per probe batch (16 left one of six stand-in searches off the truth: see PROBE_CLIPS in adapt/calibrate/tune.py)")
    t.add_argument("--workers", type=int_at_least(1), default=1, help="with --tune: generation worker processes")
    e = c.add_argument_group("sim-to-real accuracy before and after tuning (--tune --eval-real)")
    e.add_argument("--eval-real", type=Path, metavar="DIR",
                   help="with --tune: labelled real clips with subjects; per held-out person, tune on --real without that "
                        "person, train tiny3d on clips of the untuned and the tuned spec, and score both on that person; "
                        "writes OUT/metrics.json and OUT/report.html; resumes stage by stage")
    e.add_argument("--folds", type=comma_list, metavar="S0,S1", help="with --eval-real: hold out these subjects only (default: every one)")
    e.add_argument("--train-clips", type=int_at_least(8), default=200,
                   help="with --eval-real: synthetic training clips per model (64 clips and 30 epochs trained tiny3d to chance on weizmann4_dev)")
    e.add_argument("--epochs", type=int_at_least(1), default=80, help="with --eval-real: training epochs per model (simgen train's default)")
    e.add_argument("--train-seeds", type=int_at_least(1), default=3,
                   help="with --eval-real: models trained per arm, seeds --seed, --seed+1, ... on the same clips; accuracies "
                        "are their mean (one seed is noise: EVAL_TRAIN_SEEDS in adapt/calibrate/eval_real.py)")
    c.set_defaults(func=cmd_calibrate)

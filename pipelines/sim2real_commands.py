"""``simgen sim2real``: the sim-to-real benchmark (``simgen.adapt.benchmark``) as a subcommand.

Every input is checked (folders, labels, subjects, shots, videos) before any training;
bad input is one line on stderr and exit status 2. Ends with a table on stdout and the
full results in the ``--out`` JSON.
"""

from __future__ import annotations

import argparse
import json

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import (AUGMENTS, PRECISIONS, fraction, check_input, check_output_file,
                                          check_output_folder, comma_list, did_you_mean, int_at_least, print_error)

#: kept in step with simgen.adapt.benchmark.methods (not imported here: --help must not load torch)
METHODS = ("sim-only", "real-only", "finetune", "dann", "coral", "mmd", "selfsup", "auto", "best", "pseudo", "ensemble",
           "adabn", "adabn-pseudo")
SCHEDULES = ("head", "gradual", "discriminative")
HEADS = ("linear", "transformer", "gru", "mstcn")  # simgen.train.models.sequence (not imported: see above)
#: kept in step with simgen.train.inputs.INPUT_MODES (tested)
INPUT_MODES = ("rgb", "gray", "diff", "sdiff", "pdiff", "psdiff", "rgb+diff", "psrgb+diff")
SHOT_PICKERS = ("class-balanced", "random", "active")  # simgen.adapt.benchmark.picks
SELECT_RULES = ("label-free", "adapted")  # simgen.adapt.benchmark.methods.SELECT_RULES (tested)


def _methods(text: str) -> list[str]:
    names = comma_list(text)
    if names == ["all"]:
        return list(METHODS)
    for n in names:
        if n not in METHODS:
            raise argparse.ArgumentTypeError(f"unknown method '{n}'{did_you_mean(n, METHODS)} "
                                             f"(methods: {', '.join(METHODS)}, or all)")
    return names


def _perturbation_conditions(kinds: list[str]) -> dict:
    """``{"KIND@LEVEL": condition}`` for each requested perturbation and each of its severity levels."""
    try:
        from simgen.adapt.perturb import PERTURBATIONS
    except ImportError:
        raise SimgenError("--test-perturb: the perturbation module (simgen.adapt.perturb) is not in this build yet") from None
    from simgen.adapt.benchmark.scoring import perturbation_conditions

    for kind in kinds:
        if kind not in PERTURBATIONS:
            raise SimgenError(f"--test-perturb: unknown perturbation '{kind}'{did_you_mean(kind, PERTURBATIONS)} "
                              f"(known: {', '.join(PERTURBATIONS)})")
    return perturbation_conditions(kinds)


def cmd_sim2real(args: argparse.Namespace) -> int:
    """Handler of ``simgen sim2real``."""
    try:
        check_input(args.synthetic, "--synthetic", folder=True)
        check_input(args.real, "--real", folder=True)
        out = check_output_file(args.out, "--out", suffixes=(".json",))
        if args.save_models:
            check_output_folder(args.save_models, "--save-models")
        elif args.reuse_sim:
            raise SimgenError("--reuse-sim-only: give --save-models DIR (the sim-only model is looked up there)")
    except SimgenError as exc:
        return print_error("sim2real", str(exc))
    from simgen.train.device import DeviceError, resolve_device, resolve_precision

    try:  # before the real clips are decoded: fp16 on the CPU, bf16 on a GPU without it, an unknown device
        resolve_precision(args.precision, resolve_device(args.device))
    except DeviceError as exc:
        return print_error("sim2real", str(exc))
    from simgen.adapt.benchmark.folds import BenchmarkInputError, parse_label_map
    from simgen.adapt.benchmark.methods import Settings
    from simgen.adapt.benchmark.results import table
    from simgen.adapt.benchmark.runner import BenchmarkConfig, prepare, run_benchmark, saved_folders_in_use
    from simgen.adapt.benchmark.segment import SegmentSettings

    try:
        conditions = _perturbation_conditions(args.test_perturb) if args.test_perturb else {}
        settings = Settings(sim_epochs=args.sim_epochs, sim_select=args.sim_select,
                            finetune_schedule=args.finetune_schedule, finetune_steps=args.finetune_steps,
                            align_steps=args.align_steps, real_only_steps=args.real_only_steps,
                            pseudo_threshold=args.pseudo_threshold, pseudo_min_kept=args.pseudo_min_kept,
                            select=args.select)
        cfg = BenchmarkConfig(synthetic=args.synthetic, real=args.real, shots=args.shots, methods=args.methods,
                              seeds=args.seeds, first_seed=args.first_seed, test_subjects=args.test_subjects,
                              leave_one_subject_out=args.leave_one_subject_out,
                              label_map=parse_label_map(args.label_map), save_models=args.save_models,
                              reuse_sim=args.reuse_sim,
                              model=args.model, input=args.input, augment=args.augment,
                              adapt_augment=args.adapt_augment, size=args.size,
                              num_frames=args.num_frames, stride=args.stride,
                              device=args.device, precision=args.precision, cache_dir=args.cache_dir,
                              progress=args.progress,
                              settings=settings, shot_picker=args.shot_picker, task=args.task, head=args.head,
                              segment=SegmentSettings(videos_per_subject=args.chain_videos, max_gap=args.chain_gap,
                                                      median_size=args.median_size, min_duration=args.min_duration))
        in_use = saved_folders_in_use(cfg)
        if in_use:
            raise SimgenError(f"--save-models {args.save_models}: {in_use[0]} already holds an earlier run's models "
                              f"({len(in_use)} such folder(s)); give another folder (copy sim-only-seedS into it "
                              "for --reuse-sim-only) or remove them")
        prepared = prepare(cfg)
    except (SimgenError, BenchmarkInputError) as exc:
        return print_error("sim2real", str(exc))
    results = run_benchmark(cfg, prepared, conditions)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(table(results["methods"], [f["name"] for f in results["config"]["folds"]]))
    print(f"wrote {out} ({results['config']['seconds']:.0f} s)")
    return 0


def register(sub) -> None:
    """Add ``sim2real`` to an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "sim2real", help="benchmark sim-to-real methods on real clips, testing on people kept out of training",
        description="Train each method on the synthetic clips plus real clips of the training people (K labelled "
                    "shots per class, the rest unlabelled) and score it on the test people's clips. Model selection "
                    "uses only synthetic validation clips and the training people's real clips (labels unused): "
                    "synthetic-validation accuracy minus mean normalised prediction entropy. Writes --out JSON "
                    "{methods: {NAME: {accuracy_mean, accuracy_std, per_fold, per_class, confusion}}, config, runs}. "
                    "--task segment also joins each test person's clips into multi-action videos and scores every "
                    "method's per-frame output on them: methods.NAME.segment.DECODING.METRIC.{mean,std,per_seed,per_fold}.")
    p.add_argument("--synthetic", required=True, metavar="DIR", help="synthetic dataset folder (dataset.json + shards)")
    p.add_argument("--real", required=True, metavar="DIR", help="real clips folder with labels.csv (path,label,subject)")
    p.add_argument("--shots", required=True, type=int_at_least(0), metavar="K",
                   help="labelled real clips per class from the training people (0: none)")
    folds = p.add_mutually_exclusive_group(required=True)
    folds.add_argument("--test-subjects", dest="test_subjects", type=comma_list, metavar="A,B",
                       help="test on these people (one fold)")
    folds.add_argument("--leave-one-subject-out", dest="leave_one_subject_out", action="store_true",
                       help="one fold per person, tested on that person")
    p.add_argument("--methods", type=_methods, default=list(METHODS), metavar="LIST",
                   help=f"comma list from {', '.join(METHODS)}, or all (default: all). auto: per fold, the method "
                        "with the best label-free score; best: the recommended recipe (README, section sim2real); "
                        "pseudo: fine-tuned on the shots plus confident, window-consistent pseudo-labels of the "
                        "unlabelled clips; ensemble: mean class "
                        "probabilities of finetune (sim-only at --shots 0), dann, coral, mmd; adabn: batch-norm "
                        "statistics re-estimated on the unlabelled clips; adabn-pseudo: pseudo from the adabn model, "
                        "then adabn again")
    p.add_argument("--seeds", type=int_at_least(1), default=1, help="seeds 0..N-1 (shots, initialisation, batches)")
    p.add_argument("--first-seed", dest="first_seed", type=int_at_least(0), default=0,
                   help="start the seeds here (seeds S..S+N-1), e.g. to add seeds to an earlier run")
    p.add_argument("--out", required=True, metavar="FILE", help="results JSON to write")
    p.add_argument("--save-models", dest="save_models", metavar="DIR",
                   help="keep DIR/METHOD-seedS/model.pt (one fold) or DIR/METHOD-seedS/test-PERSON/model.pt "
                        "(leave-one-subject-out), usable by `simgen evaluate` (default: not kept)")
    p.add_argument("--reuse-sim-only", dest="reuse_sim", action="store_true",
                   help="with --save-models DIR: use DIR/sim-only-seedS/model.pt of an earlier run when its config.yaml "
                        "has the same training settings, instead of training it again (to split --methods over runs)")
    p.add_argument("--label-map", dest="label_map", metavar="REAL=SYN,...",
                   help="rename real labels to synthetic classes, e.g. wave=wave1 (default: names must match)")
    p.add_argument("--test-perturb", dest="test_perturb", type=comma_list, metavar="LIST",
                   help="also score perturbed copies of the test clips at every severity level of each named "
                        "perturbation: occlusion, camera, scale, fps, compression (levels: simgen.adapt.perturb."
                        "PERTURBATIONS); results.json methods.NAME.perturbations.KIND.LEVEL, and "
                        "methods.NAME.difference_ceiling.KIND.LEVEL: clips left frozen (every frame one picture) and "
                        "the most a model of frame differences alone can score there (default: clean only)")
    p.add_argument("--shot-picker", dest="shot_picker", choices=SHOT_PICKERS, default="class-balanced",
                   help="which training-people clips get labelled: class-balanced (K per class), random (K x classes "
                        "drawn uniformly), active (K x classes ranked by the fold's sim-only model: uncertainty x "
                        "diversity, as suggest-labels); default class-balanced")
    p.add_argument("--task", choices=["classify", "segment"], default="classify",
                   help="classify: clip accuracy; segment: that too, plus temporal segmentation (frame accuracy, "
                        "F1@10/25/50, edit; raw, median, Viterbi) of multi-action videos joined from each test "
                        "person's clips")
    g = p.add_argument_group("segment task")
    g.add_argument("--chain-videos", dest="chain_videos", type=int_at_least(1), default=2,
                   help="joined videos per test person, each with all their clips once, in a fresh seeded order")
    g.add_argument("--chain-gap", dest="chain_gap", type=int_at_least(0), default=0,
                   help="up to this many cross-fade frames (unlabelled) between joined clips")
    g.add_argument("--median-size", dest="median_size", type=int_at_least(1), default=5,
                   help="median filter length in frames (median decoding)")
    g.add_argument("--min-duration", dest="min_duration", type=int_at_least(1), default=25,
                   help="Viterbi minimum segment length in frames at the model's rate (default 25: 1 s at 25 fps)")
    s = p.add_argument_group("training lengths (defaults sized for 2 CPU cores)")
    s.add_argument("--sim-epochs", dest="sim_epochs", type=int_at_least(1), default=80,
                   help="epochs of the sim-only model (trained once per seed, shared by the folds)")
    s.add_argument("--sim-select", dest="sim_select", choices=("best", "last"), default="best",
                   help="the sim-only epoch kept: best accuracy on the synthetic validation clips (every 5 epochs) "
                        "or the last one; a small validation split can make best keep an early, weak epoch")
    s.add_argument("--finetune-schedule", dest="finetune_schedule", choices=SCHEDULES, default="discriminative",
                   help="head: clip head only; gradual: unfreeze one stage more every steps/stages; discriminative: "
                        "all layers, the learning rate halved per stage down from the head")
    s.add_argument("--finetune-steps", dest="finetune_steps", type=int_at_least(1), default=60, help="steps of finetune")
    s.add_argument("--align-steps", dest="align_steps", type=int_at_least(1), default=120,
                   help="steps of dann / coral / mmd")
    s.add_argument("--pseudo-threshold", dest="pseudo_threshold", type=fraction, default=0.8,
                   help="pseudo: least mean window confidence of a kept pseudo-label (its windows must also agree)")
    s.add_argument("--pseudo-min-kept", dest="pseudo_min_kept", type=fraction, default=1 / 3,
                   help="pseudo: when fewer than this share of the unlabelled clips is kept, keep the start model "
                        "instead of fine-tuning (default a third)")
    s.add_argument("--select", choices=SELECT_RULES, default="adapted",
                   help="which checkpoints the label-free rule compares: adapted (default: every scored step and the "
                        "method's starting model, but with --shots >= 1 a method that starts from the sim-only model "
                        "never returns it unchanged), label-free (the start always a candidate; the default until "
                        "2026-12-02)")
    s.add_argument("--real-only-steps", dest="real_only_steps", type=int_at_least(1), default=200,
                   help="steps of real-only")
    r = p.add_argument_group("run")
    r.add_argument("--model", default="tiny3d", help="backbone (see `simgen train --help`)")
    r.add_argument("--head", choices=HEADS, default="linear",
                   help="the sim-only model's per-frame head (`simgen train --head`); every method keeps it and "
                        "trains it on its own features while it adapts")
    r.add_argument("--input", choices=INPUT_MODES, default="diff",
                   help="input of every method's model: diff, sdiff (differences after cancelling the camera's "
                        "motion, at training and test time alike), pdiff (each window zoomed onto its moving "
                        "region), psdiff (both), psrgb+diff (psdiff beside the RGB clip stabilised and cropped "
                        "alike); see `simgen train --help`")
    r.add_argument("--augment", choices=AUGMENTS, default="light",
                   help="training augmentation of every method (as `simgen train --augment`): light, or robust "
                        "(+ a slower camera, a box in front of the person, JPEG 10-60, an H.264 round trip at CRF 28-51, noise, "
                        "blur)")
    r.add_argument("--adapt-augment", dest="adapt_augment", choices=AUGMENTS, default=None,
                   help="augmentation of the adapting methods' steps, if not --augment's (the sim-only model, and "
                        "--reuse-sim-only's check, keep --augment's): e.g. occluded, robust with more, taller, slower "
                        "boxes in front of the person")
    r.add_argument("--size", type=int_at_least(16), default=64, help="square frame side")
    r.add_argument("--num-frames", dest="num_frames", type=int_at_least(2), default=16, help="frames per window T")
    r.add_argument("--stride", type=int_at_least(1), default=2, help="frame gap inside a window")
    r.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    r.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="the sim-only trainings' autocast precision (`simgen train --precision`): auto = bf16 on a GPU "
                        "that has it, else fp16 on a GPU, fp32 on the CPU; on a CPU with AVX512-BF16 or AMX, bf16 "
                        "trained the sim-only models in 0.66-0.84 of fp32's time (2-core VM, 2026-12-03). The "
                        "adapting methods run in fp32")
    r.add_argument("--cache-dir", dest="cache_dir", help="keep decoded frames here as memory maps (default: a "
                   "temporary folder)")
    r.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=cmd_sim2real)

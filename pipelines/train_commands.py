"""``simgen train`` and ``simgen evaluate``: argparse subcommands over ``simgen.train.fit`` / ``simgen.train.evaluate``.

``register(subparsers)`` adds both; each handler returns an exit code (0 ok, 2 bad input
with one clear line on stderr). Inputs and the output path are checked before any clip is
decoded; each command ends with a short table on stdout (``--json``: one JSON line instead).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import (
    AUGMENTS,
    PRECISIONS,
    check_input,
    check_output_file,
    claim_run_folder,
    comma_list,
    int_at_least,
)

#: ``--crop-span`` choices, the default first: kept in step with simgen.train.evaluate.CROP_SPANS (tested; a copy
#: so that building the parser does not import torch)
CROP_SPANS = ("clip", "window")


def _error(cmd: str, message: str) -> int:
    print(f"simgen {cmd}: error: {message}", file=sys.stderr)
    return 2


def _validation_message(exc) -> str:
    first = exc.errors()[0]
    parts = [str(x) for x in first.get("loc", ())]
    # the curriculum block's fields are the --curriculum-* options; a weight is named after its option
    loc = "-".join(parts[:2]) + "".join(f" {x}" for x in parts[2:]) if parts[:1] == ["curriculum"] else ".".join(parts)
    return f"--{loc.replace('_', '-')}: {first['msg']}" if loc else first["msg"]


def _resolve_device(option: str, *, distributed: bool):
    """``(torch.device, None)``, or ``(None, one-line error)`` for a ``--device`` this process cannot use.

    ``distributed``: honour torchrun's ``LOCAL_RANK``/``WORLD_SIZE`` (training; evaluation is one process).
    """
    from simgen.train.device import DeviceError, dist_env, resolve_device

    world, _, local_rank = dist_env() if distributed else (1, 0, 0)
    try:
        return resolve_device(option, local_rank, world), None
    except DeviceError as exc:
        return None, str(exc)


def cmd_train(args: argparse.Namespace) -> int:
    """Handler of ``simgen train``."""
    from pydantic import ValidationError

    from simgen.train.config import TrainConfig
    from simgen.train.errors import TrainDataError

    fields = {k: getattr(args, k) for k in TrainConfig.model_fields if hasattr(args, k) and getattr(args, k) is not None}
    fields["selfsup"] = [t for t in (args.selfsup or "").split(",") if t]
    try:
        fields["curriculum"] = _curriculum_fields(args)
        cfg = TrainConfig(**fields)
    except ValueError as exc:  # a --curriculum-* option without --curriculum, or a malformed weight list
        if isinstance(exc, ValidationError):
            return _error("train", _validation_message(exc))
        return _error("train", str(exc))
    device, msg = _resolve_device(cfg.device, distributed=True)
    if msg is None:
        from simgen.train.device import DeviceError, resolve_precision

        try:
            resolve_precision(cfg.precision, device)
        except DeviceError as exc:
            msg = str(exc)
    if msg is not None:
        return _error("train", msg)
    for flag, path in (("--synthetic", cfg.synthetic), ("--real", cfg.real), ("--val", cfg.val), ("--weights", cfg.weights)):
        if path and not Path(path).exists():
            return _error("train", f"{flag} {path}: not found")
    if (cfg.subjects or cfg.exclude_subjects) and not cfg.real:
        return _error("train", "--subjects/--exclude-subjects select people of the --real folder; give --real DIR")
    try:
        _open_sources(cfg)  # label files and manifests only: bad data fails before any decoding
        claim_run_folder(cfg.out, resume=args.resume, force=args.force)
        if args.resume and not (Path(cfg.out) / "last.pt").is_file():
            raise TrainDataError(f"{Path(cfg.out) / 'last.pt'}: nothing to resume (no checkpoint from an earlier run)")
    except (TrainDataError, SimgenError) as exc:
        return _error("train", str(exc))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    from simgen.pipelines.summaries import train_summary
    from simgen.train.fit import fit

    from simgen.train.errors import WeightsFileError

    try:
        if cfg.weights:  # fail before decoding the data, not after
            from simgen.train.models.torchvision_video import load_weights_file

            load_weights_file(cfg.weights)
        metrics = fit(cfg, resume=args.resume)
    except WeightsFileError as exc:
        return _error("train", f"--weights {exc}")
    except (TrainDataError, FileNotFoundError) as exc:
        return _error("train", str(exc))
    except ImportError as exc:  # e.g. --tensorboard without the tensorboard package
        return _error("train", f"missing optional package: {exc}")
    if metrics:
        if args.json:
            summary = {k: metrics[k] for k in ("model_epoch", "val_accuracy", "best_epoch", "best_score", "train_seconds")
                       if k in metrics}
            print(json.dumps(summary))
        else:
            print(train_summary(metrics, cfg.out))
        if metrics.get("skipped"):
            print(f"skipped {len(metrics['skipped'])} corrupt clip(s):", file=sys.stderr)
            for s in metrics["skipped"]:
                print(f"  {s['reason']}", file=sys.stderr)
    return 0


def _curriculum_fields(args: argparse.Namespace) -> dict | None:
    """The ``curriculum`` config block from ``--curriculum`` and its ``--curriculum-*`` options (None: off)."""
    given = {k: getattr(args, f"curriculum_{k}", None) for k in ("pacing", "start", "full_epoch", "weights")}
    given = {k: v for k, v in given.items() if v is not None}
    if not getattr(args, "curriculum_on", False):
        if given:
            raise ValueError(f"--curriculum-{next(iter(given)).replace('_', '-')} needs --curriculum")
        return None
    if "weights" in given:
        weights = {}
        for item in given["weights"].split(","):
            name, _, value = item.partition("=")
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                raise ValueError(f"--curriculum-weights: expected NAME=NUMBER,... (occlusion, camera, chained, "
                                 f"length), got {item!r}") from None
        given["weights"] = weights
    return given


def _open_sources(cfg) -> None:
    """Open every data source the way the fit loop will (cheap), so that errors come first."""
    from simgen.train.data.synthetic import open_reader

    classes = None
    for root, people in ((cfg.synthetic, {}), (cfg.real, dict(subjects=cfg.subjects, exclude_subjects=cfg.exclude_subjects))):
        if root:
            reader = open_reader(root, classes=classes, size=cfg.size, **people)
            classes = classes or reader.classes
    if cfg.val:
        open_reader(cfg.val, classes=classes, size=cfg.size)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Handler of ``simgen evaluate``."""
    import simgen.train.evaluate as evaluate

    # every clip score of this command (one model, an ensemble, perturbed copies) crops this way; restored after,
    # so a caller running several commands in one process (tests, recipes) is not left with it
    before, evaluate.CROP_SPAN = evaluate.CROP_SPAN, args.crop_span
    try:
        return _evaluate(args)
    finally:
        evaluate.CROP_SPAN = before


def _evaluate(args: argparse.Namespace) -> int:
    from simgen.train.checkpoint import load_model
    from simgen.train.data.batch import ClipDataset
    from simgen.train.data.cache import FrameCache
    from simgen.train.data.synthetic import open_reader
    from simgen.train.errors import TrainDataError
    from simgen.train.evaluate import evaluate_dataset
    from simgen.train.frame_rate import model_fps
    from simgen.pipelines.robustness_options import robustness_metrics, uses_chaining

    device, msg = _resolve_device(args.device, distributed=False)
    if msg is not None:
        return _error("evaluate", msg)
    try:
        for path in args.checkpoint:
            check_input(path, "--checkpoint", folder=False)
        check_input(args.data, "--data", folder=True)
        out = check_output_file(args.out, "--out")
        predictions_path = out.with_name(out.stem + ".predictions.csv")
        check_output_file(predictions_path, "--out")
    except SimgenError as exc:
        return _error("evaluate", str(exc))
    try:
        from simgen.pipelines.ensemble_options import ensemble_option_error, load_ensemble

        ensemble = None
        if (problem := ensemble_option_error(args)) is not None:
            raise ValueError(problem)
        if len(args.checkpoint) > 1:  # members may differ in window length, frame gap, backbone and head
            ensemble, meta = load_ensemble(args.checkpoint, args.fusion, args.camera_gate, args.member_weights,
                                           args.clip_stability, args.clutter_gate)
            model = ensemble
        else:
            model, meta = load_model(args.checkpoint[0])
        reader = open_reader(args.data, classes=meta["classes"], size=meta["size"], subjects=args.subjects,
                             exclude_subjects=args.exclude_subjects)
        ds = ClipDataset(reader, FrameCache(args.cache_dir), num_frames=meta["num_frames"], sampler="uniform",
                         stride=meta["stride"], fps=model_fps(meta), strict=args.strict)
        ds.prepare(progress=args.progress)
        if len(ds) == 0:
            return _error("evaluate", f"{args.data}: no readable clips")
        chain = uses_chaining(args.task, reader)  # a real folder without segments.csv: chain its clips
        metrics = evaluate_dataset(model, ds, input_mode=meta["input"], num_frames=meta["num_frames"],
                                   stride=meta["stride"], device=device, task="classify" if chain else args.task,
                                   smoothing=args.smoothing, median_size=args.median_size,
                                   min_duration=args.min_duration, progress=args.progress)
        metrics.update(robustness_metrics(args, model, meta, ds, device, chain=chain))
        if ensemble is not None:
            from simgen.pipelines.ensemble_options import ensemble_metrics

            metrics["ensemble"] = ensemble_metrics(args, ensemble, meta, ds, device, chain=chain)
    except (TrainDataError, FileNotFoundError, ValueError) as exc:
        return _error("evaluate", str(exc))
    from simgen.pipelines.summaries import evaluate_summary
    from simgen.train.evaluate import write_predictions

    metrics.update(checkpoint=[str(c) for c in args.checkpoint], data=str(args.data), task=args.task,
                   subjects=args.subjects, exclude_subjects=args.exclude_subjects, crop_span=args.crop_span,
                   predictions_csv=str(predictions_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2))
    write_predictions(metrics["per_clip"], metrics["classes"], predictions_path)
    if args.json:
        keys = ["accuracy", "macro_f1", "n_clips"] + (["frame_accuracy", "f1@10", "f1@25", "f1@50", "edit"] if args.task == "segment" else [])
        from simgen.pipelines.robustness_options import robustness_json

        print(json.dumps({**{k: metrics[k] for k in keys if k in metrics}, **robustness_json(metrics)}))
    else:
        from simgen.pipelines.robustness_options import robustness_summary

        ens = ""
        if "ensemble" in metrics:
            from simgen.pipelines.ensemble_options import ensemble_summary

            ens = ensemble_summary(metrics["ensemble"], metrics["classes"]) + "\n"
        print(robustness_summary(metrics) + ens + evaluate_summary(metrics, str(out), str(predictions_path)))
    for s in metrics.get("skipped", []):
        print(f"skipped: {s['reason']}", file=sys.stderr)
    return 0


def _add_train(sub) -> None:
    from simgen.train.config import BACKBONE_DEFAULTS

    p = sub.add_parser(
        "train", help="train a temporal action model on synthetic (and real) clips",
        description="Train a temporal action model. Writes RUN/model.pt (last epoch, or best with --select best), "
                    "RUN/best.pt, RUN/config.yaml, "
                    "RUN/metrics.json, RUN/log.csv and RUN/last.pt (for --resume).",
    )
    d = p.add_argument_group("data")
    d.add_argument("--synthetic", metavar="DIR", help="synthetic dataset folder (dataset.json + shards)")
    d.add_argument("--real", metavar="DIR", help="real clips folder (labels.csv or class subfolders); labelled clips "
                   "join the supervised loss, all clips the self-supervised ones")
    d.add_argument("--subjects", type=comma_list, metavar="A,B",
                   help="train on these people of --real only (labels.csv's subject column; default: all)")
    d.add_argument("--exclude-subjects", dest="exclude_subjects", type=comma_list, metavar="A,B",
                   help="keep these people of --real out of training, e.g. to test on them (default: none)")
    d.add_argument("--val", metavar="DIR", help="validation folder for model selection (default: hold out "
                   "--val-fraction of the first training source)")
    d.add_argument("--val-fraction", dest="val_fraction", type=float, default=0.1,
                   help="share of the first training source held out for validation when there is no --val "
                        "(0 for none; needs at least 10 clips)")
    d.add_argument("--val-every", dest="val_every", type=int_at_least(1), default=5,
                   help="validate every N epochs (and after the last)")
    d.add_argument("--select", choices=["last", "best"], default="last",
                   help="weights saved as model.pt: last epoch, or best validation epoch (best.pt is always kept)")
    d.add_argument("--num-frames", dest="num_frames", type=int_at_least(2), default=16, help="frames per training clip T")
    d.add_argument("--stride", type=int_at_least(1), default=2, help="frame gap inside a clip window")
    d.add_argument("--fps", type=float, default=None,
                   help="resample every clip to this frame rate first (default: each clip's own rate)")
    d.add_argument("--size", type=int_at_least(16), default=64, help="square frame side after resizing")
    d.add_argument("--sampler", choices=["random_window", "uniform", "tsn"], default="random_window",
                   help="how a training clip's frames are picked: a random window, evenly spread, or TSN segments")
    d.add_argument("--cache-dir", dest="cache_dir", help="keep decoded frames here as memory maps (default: in memory)")
    d.add_argument("--workers", type=int_at_least(0), default=0,
                   help="DataLoader worker processes (0: load in the main process)")
    d.add_argument("--strict", action="store_true", help="stop at the first corrupt clip instead of skipping it")
    m = p.add_argument_group("model")
    m.add_argument("--out", required=True, metavar="RUN",
                   help="run folder (new or empty; an earlier run needs --resume or --force)")
    m.add_argument("--model", default="tiny3d", help="tiny3d | tiny3d_2rate (slow + fast pathways, SlowFast-style) | "
                   "tsm_r18 | r3d_18 | mc3_18 | r2plus1d_18 | s3d")
    m.add_argument("--input", default="diff", help="rgb | gray | diff | sdiff (difference after cancelling camera "
                   "motion, also at test time) | pdiff (difference of each window zoomed onto its moving region: "
                   "a smaller or off-centre person looks as in training) | psdiff (both) | rgb+diff (two streams) | "
                   "psrgb+diff (two streams, both stabilised and cropped as psdiff)")
    m.add_argument("--weights", metavar="FILE", help="backbone weights (torchvision state dict), loaded weights_only "
                   "(default: random init)")
    m.add_argument("--no-frame-head", dest="frame_head", action="store_false", help="no per-frame head")
    m.add_argument("--frame-background", dest="frame_background", choices=["auto", "on", "off"], default="auto",
                   help="a background output on the per-frame head for transition/idle frames (auto: on when the "
                        "synthetic dataset chains actions)")
    m.add_argument("--head", choices=["linear", "transformer", "gru", "mstcn"], default="linear",
                   help="per-frame head: linear (per window) or a sequence head over the whole video's stitched "
                        "features: transformer, gru (bidirectional), mstcn (multi-stage temporal convolutions)")
    m.add_argument("--causal", action="store_true", help="sequence heads see no future frames")
    m.add_argument("--positions", choices=["relative", "learned"], default="relative",
                   help="transformer head's position encoding (relative: any video length)")
    m.add_argument("--temporal-dropout", dest="temporal_dropout", type=float, default=0.0,
                   help="while training, drop this share of time steps (whole steps, every channel), in [0, 1)")
    m.add_argument("--temporal-dropout-mode", dest="temporal_dropout_mode", choices=["features", "frames"],
                   default="features", help="drop backbone feature steps or input frames")
    m.add_argument("--consistency-weight", dest="consistency_weight", type=float, default=0.0,
                   help="weight of the loss keeping per-frame probabilities steady between neighbouring frames")
    m.add_argument("--smoothing-weight", dest="smoothing_weight", type=float, default=0.15,
                   help="weight of MS-TCN's truncated-MSE smoothing loss (--head mstcn)")
    per = "; ".join(f"{name} {d['lr']:g}/{d['warmup_epochs']:g}/{d['batch_size']}/{d['weight_decay']:g}"
                    for name, d in BACKBONE_DEFAULTS.items())
    o = p.add_argument_group(
        "optimisation",
        "AdamW, linear warm-up then cosine decay. --lr, --warmup-epochs, --batch-size and --weight-decay "
        f"default per backbone (lr/warm-up/batch/decay): {per}. RUN/config.yaml and the checkpoints "
        "record the values used.")
    o.add_argument("--epochs", type=int_at_least(1), default=80, help="passes over the training clips")
    o.add_argument("--batch-size", dest="batch_size", type=int_at_least(1), default=argparse.SUPPRESS,
                   help="clips per optimiser step (default: per backbone)")
    o.add_argument("--lr", type=float, default=argparse.SUPPRESS, help="peak AdamW learning rate (default: per backbone)")
    o.add_argument("--warmup-epochs", dest="warmup_epochs", type=float, default=argparse.SUPPRESS,
                   help="linear warm-up length (at most a tenth of the run; default: per backbone)")
    o.add_argument("--weight-decay", dest="weight_decay", type=float, default=argparse.SUPPRESS,
                   help="AdamW weight decay (default: per backbone)")
    o.add_argument("--snapshots", type=int_at_least(1), default=1,
                   help="snapshot ensemble: restart the cosine schedule N times (N must divide --epochs) and save "
                        "the end of each cycle as RUN/snapshotK.pt; evaluate them together with "
                        "`simgen evaluate --checkpoint RUN/snapshot1.pt RUN/snapshot2.pt ...`")
    o.add_argument("--augment", choices=AUGMENTS, default="light",
                   help="light: per-clip geometry + brightness/contrast; default/strong add temporal and camera-realism transforms; "
                        "robust: light + a slower camera, a box in front of the person, JPEG 10-60, an H.264 round trip (CRF 28-51), "
                        "noise, blur; occluded: robust with more, taller, slower boxes (60%% of clips, 0.7-1.0 of "
                        "the height); light-occluder: light + robust's box (30%% of clips)")
    o.add_argument("--label-smoothing", dest="label_smoothing", type=float, default=0.1,
                   help="cross-entropy label smoothing, in [0, 1)")
    o.add_argument("--class-balance", dest="class_balance", action="store_true", help="inverse-frequency class weights")
    o.add_argument("--selfsup", default="", help="comma list of pretext tasks: order,speed,arrow,contrastive")
    o.add_argument("--selfsup-weight", dest="selfsup_weight", type=float, default=0.5,
                   help="weight of the self-supervised losses against the supervised one")
    o.add_argument("--weak", action="store_true", help="train the per-frame head from clip tags (weak labels)")
    c = p.add_argument_group(
        "curriculum",
        "Easy-to-hard sampling (Bengio et al. 2009; pacing as Hacohen & Weinshall 2019): each synthetic clip is "
        "scored from its recorded factors (occlusion, camera motion, chained actions, share of the clip outside "
        "one window; real clips last); each epoch draws as many clips as the whole set from the easiest share of "
        "every class. RUN/config.yaml records the block.")
    # dest is not the config field's name: the field is a block (None or a dict), the flag a switch
    c.add_argument("--curriculum", dest="curriculum_on", action="store_true", help="train easy clips first (default: off)")
    c.add_argument("--curriculum-pacing", dest="curriculum_pacing", choices=["linear", "root", "step"],
                   help="how the pool grows: linear, root (fast at first) or one step at the full epoch (default linear)")
    c.add_argument("--curriculum-start", dest="curriculum_start", type=float, metavar="SHARE",
                   help="share of each class's clips in the pool at the first epoch, in (0, 1] (default 0.3)")
    c.add_argument("--curriculum-full-epoch", dest="curriculum_full_epoch", type=int, metavar="EPOCH",
                   help="1-based epoch from which every clip is in the pool (default: half the epochs)")
    c.add_argument("--curriculum-weights", dest="curriculum_weights", metavar="NAME=W,...",
                   help="difficulty weights, e.g. occlusion=1,camera=1,chained=1,length=1 (the default; "
                        "names left out keep theirs)")
    r = p.add_argument_group("run")
    r.add_argument("--device", default="cpu",
                   help="cpu | cuda | cuda:N; under torchrun give cuda: each process takes the GPU of its LOCAL_RANK")
    r.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="auto: bf16 on a GPU that supports it (fp16 with loss scaling on one that does not), fp32 on "
                        "the CPU; RUN/config.yaml records the choice")
    r.add_argument("--no-amp", dest="precision", action="store_const", const="fp32", help="same as --precision fp32")
    r.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                   help="keep the default (channels-first) memory format for 3D convs")
    r.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of the model's initialisation, clip sampling, augmentation and the validation split")
    r.add_argument("--resume", action="store_true", help="continue RUN from RUN/last.pt")
    r.add_argument("--force", action="store_true", help="replace the run already in RUN (its model, checkpoints and logs)")
    r.add_argument("--tensorboard", action="store_true", help="also log to RUN/tb (needs tensorboard)")
    r.add_argument("--keep-snapshots", dest="keep_snapshots", action="store_true", help="keep every epoch's weights")
    r.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    r.add_argument("-v", "--verbose", action="store_true", help="log every epoch's figures")
    r.add_argument("--json", action="store_true", help="end with one JSON line (model epoch, validation accuracy, "
                   "time) instead of the table")
    p.set_defaults(func=cmd_train)


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="evaluate a trained model on a synthetic dataset or a real folder",
        description="Evaluate RUN/model.pt on DIR. Writes accuracy, per_class, macro_f1, confusion, classes, n_clips "
                    "and per_clip (every clip's prediction and class scores) to the --out JSON, the same per-clip rows "
                    "to OUT.predictions.csv beside it (e.g. metrics.json -> metrics.predictions.csv), and prints "
                    "per-class accuracy and the confusion matrix; with --task segment also frame_accuracy, f1@10, "
                    "f1@25, f1@50, edit. All metrics are fractions.",
    )
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="FILE",
                   help="RUN/model.pt; several files (RUN/snapshotK.pt of --snapshots, --keep-snapshots epochs, or "
                        "runs with other --num-frames / --stride / --model / --head) are an ensemble: each scores "
                        "clips with its own window, the scores are fused (--fusion); they must share classes, "
                        "--size, --fps and the background output")
    p.add_argument("--data", required=True, metavar="DIR", help="synthetic dataset or real folder")
    p.add_argument("--subjects", type=comma_list, metavar="A,B",
                   help="evaluate on these people of a real --data folder only (default: all)")
    p.add_argument("--exclude-subjects", dest="exclude_subjects", type=comma_list, metavar="A,B",
                   help="leave these people of a real --data folder out, e.g. those trained on (default: none)")
    p.add_argument("--out", required=True, metavar="FILE", help="metrics JSON to write")
    p.add_argument("--task", choices=["classify", "segment"], default="classify",
                   help="segment: per-frame labels from the shards or segments.csv; a real folder without segments.csv "
                        "has each person's clips joined into multi-action videos (--chain-videos)")
    p.add_argument("--smoothing", choices=["none", "median", "viterbi"], default="none",
                   help="decoding of per-frame scores (segment task)")
    p.add_argument("--median-size", dest="median_size", type=int_at_least(1), default=5,
                   help="median filter length in frames (--smoothing median)")
    p.add_argument("--min-duration", dest="min_duration", type=int_at_least(1), default=8,
                   help="Viterbi minimum segment length in frames (--smoothing viterbi)")
    p.add_argument("--crop-span", dest="crop_span", choices=CROP_SPANS, default=CROP_SPANS[0],
                   help="person-centred inputs (pdiff, psdiff, psrgb+diff), clip scores: clip = one crop box from "
                        "the motion of all the clip's windows (each counted the same) for every window when the "
                        "camera is still (an occluder hiding one arm for a window does not move it onto the other), "
                        "window = each window its own box, as in training (the only way before session 15)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--cache-dir", dest="cache_dir", help="keep decoded frames here as memory maps (default: in memory)")
    p.add_argument("--strict", action="store_true", help="stop at the first corrupt clip")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    p.add_argument("--json", action="store_true", help="end with one JSON line (accuracy, macro-F1, clips) "
                   "instead of the tables")
    from simgen.pipelines.ensemble_options import add_options as add_ensemble_options
    from simgen.pipelines.robustness_options import add_options

    add_ensemble_options(p)
    add_options(p)
    p.set_defaults(func=cmd_evaluate)


def register(subparsers) -> None:
    """Add ``train`` and ``evaluate`` to an ``argparse`` subparsers object."""
    _add_train(subparsers)
    _add_evaluate(subparsers)

"""``simgen evaluate --checkpoint A.pt B.pt ...``: score ensembles, with every member and fusion reported.

Kept apart from ``train_commands.py``: :func:`load_ensemble` builds the
:class:`~simgen.train.ensemble_scores.ScoreEnsemble`, :func:`ensemble_metrics` scores each
member alone, the mean and the vote (per-class accuracy, and the segmentation figures when
the task is ``segment``) from the same passes, :func:`ensemble_summary` prints them.
"""

from __future__ import annotations

import argparse

from simgen.pipelines.summaries import percent, table

#: what a row keeps of :func:`simgen.train.evaluate.evaluate_dataset`'s metrics
_CLIP_KEYS = ("accuracy", "macro_f1", "per_class", "n_clips")
_SEGMENT_KEYS = ("frame_accuracy", "f1@10", "f1@25", "f1@50", "edit")


#: ``--camera-gate`` default: camera speed (fraction of the frame width per frame) above which a clip counts
#: as filmed by a moving camera. About the 99th percentile of the default recipe's 200 synthetic ``weizmann4``
#: training clips (0.0082; 5 of them are faster, up to 0.0099: the range a ``diff`` model of it was trained
#: on), over the still-camera real clips' 0.0020 and under the mildest moving crop's 0.0096 (see
#: :func:`simgen.adapt.stabilise.camera_speed`).
CAMERA_GATE = 0.008


def camera_gate(text: str) -> float | None:
    """``--camera-gate``: a camera speed > 0 (fraction of the frame width per frame), or ``off``."""
    if text.strip().lower() in ("off", "none", "0"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a camera speed such as 0.008, or off; got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a camera speed between 0 and 1 (fraction of the frame width "
                                         f"per frame), or off; got {text!r}")
    return value


def clutter_gate_value(text: str) -> float | None:
    """``--clutter-gate``: a share of a clip's motion in (0, 1), or ``off``."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.25, or off; got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1 (of the moving pixel-steps), or off; "
                                         f"got {text!r}")
    return value


def add_camera_gate_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--camera-gate", dest="camera_gate", type=camera_gate, default=CAMERA_GATE, metavar="SPEED",
                   help="with models of stabilised (sdiff, psdiff, psrgb+diff) and of plain inputs: a clip whose "
                        "camera moves faster than SPEED (fraction of the frame width per frame, LK flow + RANSAC) "
                        "is scored by the stabilised models alone, since plain frame differences fall to chance under a moving "
                        "camera; off: always every model")


def member_weights(text: str) -> list[float]:
    """``--member-weights``: numbers >= 0, comma-separated, not all 0."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, such as 0.65,0.97; got {text!r}") from None
    if min(values) < 0 or not sum(values) > 0:
        raise argparse.ArgumentTypeError(f"expected numbers >= 0, not all 0; got {text!r}")
    return values


def add_member_weights_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--member-weights", dest="member_weights", type=member_weights, metavar="W,W,...",
                   help="with several --checkpoint files: one weight per checkpoint, in order, for the fusion (e.g. "
                        "the prediction stability python -m simgen.adapt.benchmark.stability prints); default equal")


#: the seed of ``--clip-stability``'s perturbed copies: fixed, so that a clip gets the same weights in every run
CLIP_STABILITY_SEED = 0


def add_clip_stability_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clip-stability", dest="clip_stability", action="store_const", const=CLIP_STABILITY_SEED,
                   default=None,
                   help="with several --checkpoint files: weight each member, clip by clip, by --member-weights times "
                        "the share of 5 perturbed copies of that clip (occlusion, camera, scale, fps, compression) on "
                        "which it keeps its answer, as the benchmark's recipe ensemble does (labels unread). Measured "
                        "only on clips whose models name different classes (no weighting changes an agreed one): "
                        "there about 6x the scoring work. Per-frame labels keep --member-weights")


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fusion", choices=["mean", "vote"], default="mean",
                   help="with several --checkpoint files: fuse their scores by mean probability or by majority vote "
                        "(per clip, and per frame for --task segment); the JSON's 'ensemble' has both and each member")
    add_camera_gate_option(p)
    add_member_weights_option(p)
    add_clip_stability_option(p)
    add_clutter_gate_option(p)


def add_clutter_gate_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clutter-gate", dest="clutter_gate", type=clutter_gate_value, default=None, metavar="SHARE",
                   help="with models of person-cropped (pdiff, psdiff, psrgb+diff) and of whole-frame inputs: a clip "
                        "whose clutter (the share of its motion outside the person box) exceeds SHARE is scored by "
                        "the cropped models alone, since whole-frame differences read an occluder or a passer-by as "
                        "the action; e.g. 0.25, as the benchmark recipe ensemble at K = 0 (default: off)")


def ensemble_option_error(args) -> str | None:
    """Why the ensemble options of ``evaluate``/``predict`` do not fit the ``--checkpoint`` files given, or ``None``:
    one weight per checkpoint, and a second checkpoint for the options that weigh or narrow members."""
    n = len(args.checkpoint)
    if args.member_weights and len(args.member_weights) != n:
        return (f"--member-weights: {len(args.member_weights)} weight(s) for {n} --checkpoint file(s) "
                "(one per member of an ensemble)")
    if args.clip_stability is not None and n < 2:
        return "--clip-stability weights the members of an ensemble: give two or more --checkpoint files"
    if args.clutter_gate is not None and n < 2:
        return "--clutter-gate narrows the members of an ensemble: give two or more --checkpoint files"
    return None


def load_ensemble(paths, fusion: str, camera_gate: float | None = None, weights: list[float] | None = None,
                  clip_stability: int | None = None, clutter_gate: float | None = None):
    """``(ScoreEnsemble, meta of the fused outputs)`` of the checkpoints; ``ValueError`` naming a member that does not fit."""
    from simgen.train.checkpoint import load_model
    from simgen.train.ensemble_scores import Member, ScoreEnsemble, check_members, ensemble_meta
    from simgen.train.frame_rate import model_fps

    names = [str(p) for p in paths]
    loaded = [load_model(p) for p in paths]
    check_members([meta for _, meta in loaded], names, model_fps)
    return (ScoreEnsemble([Member(m, meta, n) for (m, meta), n in zip(loaded, names)], fusion, camera_gate=camera_gate,
                          weights=weights, clip_stability=clip_stability, clutter_gate=clutter_gate),
            ensemble_meta([meta for _, meta in loaded]))


def _member_info(member) -> dict:
    meta = member.meta
    return dict(checkpoint=member.name, backbone=meta["backbone"], head=(meta.get("head") or {}).get("name", "linear"),
                input=meta["input"], num_frames=meta["num_frames"], stride=meta["stride"],
                snapshot=meta.get("snapshot"))


def ensemble_metrics(args, ensemble, meta: dict, dataset, device, *, chain: bool) -> dict:
    """Each member alone, the ``mean`` and the ``vote`` fusion, on the same clips.

    Returns:
        ``{"fusion": headline fusion, "camera_gate": {speed, fused, gated}, "rows": [{name, accuracy, macro_f1,
        per_class, n_clips, [frame_accuracy, f1@10/25/50, edit], [segment_chained: {raw, median, viterbi}],
        [member info]}]}``; ``camera_gate``: the gate, how many clips or videos the headline ensemble fused before
        this call, and how many of them the gate narrowed.
    """
    from simgen.pipelines.robustness_options import robustness_metrics
    from simgen.train.evaluate import evaluate_dataset

    quiet = argparse.Namespace(**{**vars(args), "test_perturb": None, "progress": False})
    views = [(f"member {i + 1}", ensemble.view(only=i), _member_info(ensemble.members[i])) for i in ensemble.active]
    views += [(fusion, ensemble.view(fusion=fusion), {}) for fusion in ("mean", "vote")]
    rows = []
    for name, view, info in views:
        m = evaluate_dataset(view, dataset, input_mode=meta["input"], num_frames=meta["num_frames"],
                             stride=meta["stride"], device=device, task="classify" if chain else args.task,
                             smoothing=args.smoothing, median_size=args.median_size, min_duration=args.min_duration)
        row = dict(name=name, **info, **{k: m[k] for k in _CLIP_KEYS + _SEGMENT_KEYS if k in m})
        if chain:
            seg = robustness_metrics(quiet, view, meta, dataset, device, chain=True)
            row.update({k: seg[k] for k in _SEGMENT_KEYS})
            row["segment_chained"] = seg["segment_chained"]["clean"]
        rows.append(row)
    # what the headline ensemble fused so far (clean and perturbed clips, chained videos): how often the gate cut
    gate = dict(speed=ensemble.camera_gate, fused=ensemble.gate_counts["clips"], gated=ensemble.gate_counts["gated"])
    clutter = dict(share=ensemble.clutter_gate, gated=ensemble.gate_counts["clutter_gated"])
    return dict(fusion=args.fusion, camera_gate=gate, member_weights=ensemble.weights,
                clip_stability=ensemble.clip_stability is not None, clutter_gate=clutter, rows=rows)


def ensemble_summary(report: dict, classes: list[str]) -> str:
    """One line per member and fusion: accuracy, per-class accuracy (and F1@25 / edit when segmented)."""
    segment = any("f1@25" in r for r in report["rows"])
    head = ["model", "window", "accuracy", *classes] + (["F1@25", "edit"] if segment else [])
    rows = []
    for r in report["rows"]:
        window = f"{r['num_frames']}x{r['stride']}" if "num_frames" in r else "-"
        rows.append([r["name"], window, percent(r["accuracy"]), *(percent(r["per_class"].get(c, 0.0)) for c in classes)]
                    + ([f"{r['f1@25']:.3f}", f"{r['edit']:.3f}"] if segment else []))
    return f"ensemble members and fusions (headline: {report['fusion']})\n" + table(head, rows) + "\n"

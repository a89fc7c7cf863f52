"""``simgen evaluate --test-perturb LIST`` and ``--task segment`` on a real folder of single-action clips.

Kept apart from ``train_commands.py`` so the evaluate command only gains a few lines:
:func:`add_options` adds the options, :func:`uses_chaining` says whether segmentation
must chain clips (a real folder without ``segments.csv``), :func:`robustness_metrics`
computes what goes into the JSON, :func:`robustness_summary` the printed table.
"""

from __future__ import annotations

import argparse

from simgen.pipelines.cli_support import int_at_least
from simgen.pipelines.summaries import percent, table


def _perturb_list(text: str) -> list[str]:
    from simgen.adapt.perturb import PERTURBATIONS

    names = [t.strip() for t in text.split(",") if t.strip()]
    if names == ["all"]:
        return list(PERTURBATIONS)
    for n in names:
        if n not in PERTURBATIONS:
            raise argparse.ArgumentTypeError(f"unknown perturbation {n!r}; choices: {', '.join(PERTURBATIONS)} (or all)")
    if not names:
        raise argparse.ArgumentTypeError(f"give a comma list of: {', '.join(PERTURBATIONS)} (or all)")
    return list(dict.fromkeys(names))


def add_options(p: argparse.ArgumentParser) -> None:
    """The evaluate options of test-side perturbations and chained segmentation videos."""
    g = p.add_argument_group(
        "robustness",
        "--test-perturb also scores perturbed copies of every clip, at each level of each kind (severities: "
        "occlusion = occluder bar width / frame width; camera = moving-crop zoom strength; scale = how much smaller "
        "the person gets; fps = frame-rate divisor; compression = H.264 CRF). With --task segment on a real folder "
        "without segments.csv, each person's clips are joined into multi-action videos with known boundaries.")
    g.add_argument("--test-perturb", dest="test_perturb", type=_perturb_list, metavar="LIST",
                   help="comma list of occlusion,camera,scale,fps,compression (or all); default: none")
    g.add_argument("--stabilise", action="store_true",
                   help="undo global (camera) motion before scoring the clips of the robustness tables: LK flow + "
                        "RANSAC similarity between consecutive frames, frames warped to the first")
    g.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of the perturbations' random choices and of the chained videos' orders")
    g.add_argument("--chain-videos", dest="chain_videos", type=int_at_least(1), default=2,
                   help="chained videos per person (each joins all their clips, in a fresh order)")
    g.add_argument("--chain-gap", dest="chain_gap", type=int_at_least(0), default=0,
                   help="up to this many cross-fade frames (unlabelled) between joined clips")


def uses_chaining(task: str, reader) -> bool:
    """Segmentation on a real folder with no per-frame labels: chain its clips instead."""
    from simgen.train.data.real import RealFolderReader

    return task == "segment" and isinstance(reader, RealFolderReader) and not reader.segments


def robustness_metrics(args, model, meta: dict, dataset, device, *, chain: bool) -> dict:
    """What ``--test-perturb`` and chained ``--task segment`` add to the evaluate JSON.

    Returns:
        ``perturbed`` (classification under each perturbation; see
        :func:`simgen.adapt.robustness.evaluate_perturbed`) and, when ``chain``, ``segment_chained``
        (see :func:`simgen.adapt.robustness.evaluate_chained`, plus the chaining settings) and
        the headline ``frame_accuracy``, ``f1@10/25/50``, ``edit`` of the clean videos under
        ``--smoothing`` (``none`` = raw).
    """
    from simgen.adapt.robustness import chained_videos, evaluate_chained, evaluate_perturbed
    from simgen.adapt.stabilise import stabilise
    from simgen.train.frame_rate import model_fps

    kinds = args.test_perturb or []
    common = dict(input_mode=meta["input"], num_frames=meta["num_frames"], stride=meta["stride"], device=device,
                  seed=args.seed, target_fps=model_fps(meta), progress=args.progress,
                  preprocess=stabilise if getattr(args, "stabilise", False) else None)
    out: dict = {}
    if chain:
        videos, fps = chained_videos(dataset, seed=args.seed, videos_per_subject=args.chain_videos,
                                     gap=(0, args.chain_gap))
        seg = evaluate_chained(model, videos, fps=fps, median_size=args.median_size, min_duration=args.min_duration,
                               kinds=kinds, num_classes=len(meta["classes"]), **common)
        seg["videos"] = [dict(subject=v.subject, sources=v.sources, frames=len(v.frames)) for v in videos]
        seg["settings"] = dict(videos_per_subject=args.chain_videos, max_gap=args.chain_gap, seed=args.seed,
                               stabilised=bool(common["preprocess"]),
                               median_size=args.median_size, min_duration=args.min_duration)
        out["segment_chained"] = seg
        headline = seg["clean"][{"none": "raw"}.get(args.smoothing, args.smoothing)]
        out.update({k: headline[k] for k in ("frame_accuracy", "f1@10", "f1@25", "f1@50", "edit")})
    if kinds:
        out["perturbed"] = evaluate_perturbed(model, dataset, kinds=kinds, **common)
        out["perturbed"]["stabilised"] = bool(common["preprocess"])
    return out


def robustness_json(metrics: dict) -> dict:
    """The ``--json`` line's extra field: ``perturbed_accuracy`` ``{KIND: {LEVEL: accuracy}}`` (with ``clean``)."""
    r = metrics.get("perturbed")
    if not r:
        return {}
    acc = {"clean": r["clean"]["accuracy"]}
    acc.update({k: {lv: r[k][lv]["accuracy"] for lv in levels} for k, levels in r["levels"].items()})
    return {"perturbed_accuracy": acc}


def robustness_summary(metrics: dict) -> str:
    """The perturbation table (classification), or the chained segmentation table; ``""`` when neither ran."""
    lines = []
    if "perturbed" in metrics:
        r = metrics["perturbed"]
        rows = [["clean", "-", percent(r["clean"]["accuracy"]), "-"]]
        for kind, levels in r["levels"].items():
            rows += [[kind, lv, percent(r[kind][lv]["accuracy"]), f"{r[kind][lv]['drop']:.1f}"] for lv in levels]
        lines += [table(["perturbation", "level", "accuracy", "drop (points)"], rows)]
        from simgen.adapt.perturb import frozen_note

        lines += [frozen_note(f"{kind}@{lv}", r[kind][lv]["frozen"], r[kind][lv]["n_clips"],
                              r[kind][lv]["difference_ceiling"])
                  for kind, levels in r["levels"].items() for lv in levels if r[kind][lv].get("frozen")]
        lines += [""]
    if "segment_chained" in metrics:
        s = metrics["segment_chained"]
        rows = []
        for kind, by_level in [("clean", {"-": s["clean"]}), *((k, s[k]) for k in s.get("levels", {}))]:
            for lv, by_dec in by_level.items():
                for dec in ("raw", "median", "viterbi"):
                    m = by_dec[dec]
                    rows.append([kind, lv, dec, percent(m["frame_accuracy"]), f"{m['f1@10']:.3f}", f"{m['f1@25']:.3f}",
                                 f"{m['f1@50']:.3f}", f"{m['edit']:.3f}"])
        n = s["clean"]["raw"]
        lines += [f"segmentation of {n['n_videos']} chained videos ({n['n_frames']} labelled frames)",
                  table(["perturbation", "level", "decoding", "frame acc", "F1@10", "F1@25", "F1@50", "edit"], rows), ""]
    return "\n".join(lines)

"""Score several ensembles of the same checkpoints in one process: each member scores each clip once.

``simgen evaluate --checkpoint A B C`` scores one ensemble (its members, mean and vote); a table
of several ensembles drawn from the same runs would score every member again for each. This
script builds one :class:`~simgen.train.ensemble_scores.ScoreEnsemble` of all the checkpoints
and reports each group as a sub-ensemble (:meth:`~simgen.train.ensemble_scores.ScoreEnsemble.view`),
through the very functions ``simgen evaluate`` uses (:func:`simgen.pipelines.ensemble_options.ensemble_metrics`),
so a group's figures equal ``simgen evaluate --checkpoint <its members>``'s.

    python -m simgen.pipelines.bench_ensembles --member a=runs/a/model.pt --member b=runs/b/model.pt \\
        --group ab=a,b --synthetic runs/test --real ../shared/data/weizmann4_dev --out ens.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def per_class_frame_accuracy(view, videos, fps: float, target_fps, classes: list[str], *, median_size: int,
                             min_duration: int) -> dict:
    """``{DECODING: {class: share of its frames labelled right}}`` on the chained videos (the frames
    :func:`simgen.adapt.robustness.evaluate_chained` scores, from the same cached member scores)."""
    import numpy as np
    import torch

    from simgen.adapt.robustness import decode
    from simgen.train.data.samplers import resample_fps
    from simgen.train.evaluate import frame_scores

    hits: dict = {}
    for v in videos:
        keep = resample_fps(len(v.frames), fps, target_fps) if target_fps else np.arange(len(v.frames))
        frames, labels = v.frames[keep], v.labels[keep]
        probs = frame_scores(view, None, torch.from_numpy(np.ascontiguousarray(frames)), num_frames=0, stride=0,
                             device="cpu").numpy()
        for name, pred in decode(probs, median_size=median_size, min_duration=min_duration,
                                 num_classes=len(classes)).items():
            for k, c in enumerate(classes):
                mask = labels == k
                right, total = hits.setdefault(name, {}).get(c, (0, 0))
                hits[name][c] = (right + int((pred[mask] == k).sum()), total + int(mask.sum()))
    return {name: {c: round(r / t, 4) if t else None for c, (r, t) in per.items()} for name, per in hits.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--member", type=_pair, action="append", required=True, metavar="NAME=CHECKPOINT")
    p.add_argument("--group", type=_pair, action="append", default=[], metavar="NAME=M1,M2,...",
                   help="an ensemble of members (each member alone is always reported)")
    p.add_argument("--synthetic", metavar="DIR", help="clip classification on this dataset")
    p.add_argument("--real", metavar="DIR", help="a real folder: clip classification and, its clips joined per "
                   "person, segmentation (raw / median / Viterbi)")
    p.add_argument("--synthetic-task", dest="synthetic_task", choices=["classify", "segment"], default="classify",
                   help="segment: also per-frame metrics of the synthetic clips (their frame labels), raw and Viterbi")
    p.add_argument("--synthetic-min-duration", dest="synthetic_min_duration", type=int, default=8)
    p.add_argument("--min-duration", dest="min_duration", type=int, default=25)
    p.add_argument("--median-size", dest="median_size", type=int, default=5)
    p.add_argument("--chain-videos", dest="chain_videos", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    import torch

    from simgen.pipelines.ensemble_options import ensemble_metrics, load_ensemble
    from simgen.train.data.batch import ClipDataset
    from simgen.train.data.cache import FrameCache
    from simgen.train.data.synthetic import open_reader
    from simgen.train.frame_rate import model_fps

    torch.set_num_threads(1)
    names = [n for n, _ in args.member]
    ensemble, meta = load_ensemble([c for _, c in args.member], "mean")
    groups = {n: [names.index(m) for m in members.split(",")] for n, members in args.group}
    result: dict = dict(members=dict(args.member), groups={n: m for n, m in args.group}, settings=vars(args))
    for kind, root in (("synthetic", args.synthetic), ("real", args.real)):
        if not root:
            continue
        t0 = time.time()
        reader = open_reader(root, classes=meta["classes"], size=meta["size"])
        ds = ClipDataset(reader, FrameCache(None), num_frames=meta["num_frames"], sampler="uniform",
                         stride=meta["stride"], fps=model_fps(meta))
        ds.prepare()
        chain = kind == "real"
        ns = argparse.Namespace(task="segment" if chain else "classify", smoothing="viterbi",
                                median_size=args.median_size, min_duration=args.min_duration, fusion="mean",
                                seed=args.seed, chain_videos=args.chain_videos, chain_gap=0, test_perturb=None,
                                progress=False, stabilise=False)
        # every member alone (scores cached), then each group's fusions from the same scores
        segment_synthetic = not chain and args.synthetic_task == "segment"
        if segment_synthetic:
            ns.task = "segment"
        decodings = ([("raw", "none", 1), ("viterbi", "viterbi", args.synthetic_min_duration)]
                     if segment_synthetic else [(None, "viterbi", args.min_duration)])

        def score(view) -> list[dict]:
            """ensemble_metrics' rows; synthetic segmentation: raw and Viterbi under ``segment``."""
            merged = None
            for label, smoothing, min_duration in decodings:
                rows = ensemble_metrics(argparse.Namespace(**{**vars(ns), "smoothing": smoothing,
                                                              "min_duration": min_duration}),
                                        view, meta, ds, "cpu", chain=chain)["rows"]
                if merged is None:
                    merged = rows
                if label is not None:
                    for row, new in zip(merged, rows):
                        row.setdefault("segment", {})[label] = {k: new[k] for k in
                                                                ("frame_accuracy", "f1@10", "f1@25", "f1@50", "edit")}
            return merged

        rows = score(ensemble)
        out = dict(members={names[int(r["name"].split()[1]) - 1]: r for r in rows if r["name"].startswith("member")})
        for name, idx in groups.items():
            out[name] = {r["name"]: r for r in score(ensemble.view(active=idx)) if r["name"] in ("mean", "vote")}
        if chain:  # per class: where each member and ensemble helps, frame by frame
            from simgen.adapt.robustness import chained_videos

            videos, fps = chained_videos(ds, seed=args.seed, videos_per_subject=args.chain_videos)
            common = dict(median_size=args.median_size, min_duration=args.min_duration)
            for i, name in enumerate(names):
                out["members"][name]["per_class_frames"] = per_class_frame_accuracy(
                    ensemble.view(only=i), videos, fps, model_fps(meta), meta["classes"], **common)
            for name, idx in groups.items():
                for fusion in ("mean", "vote"):
                    out[name][fusion]["per_class_frames"] = per_class_frame_accuracy(
                        ensemble.view(active=idx, fusion=fusion), videos, fps, model_fps(meta), meta["classes"],
                        **common)
        out["seconds"] = round(time.time() - t0, 1)
        result[kind] = out
        print(f"{kind}: {out['seconds']} s", flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``simgen monitor``'s work: score a reference set and a stream with a model, test them for drift
(:mod:`simgen.adapt.drift`), and write ``report.json``, ``report.html``, ``clips.csv`` and ``scores.npz`` (the per-clip
probabilities and features the tests used).

Clips are read from any folder the toolkit knows: a synthetic dataset (``dataset.json``), a real
folder (``labels.csv`` or one sub-folder per class; ``subjects`` selects people), or a plain
folder of videos (labels are never needed). Every clip is replayed at the model's frame rate and
scored like ``simgen evaluate`` scores it (mean over non-overlapping windows).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from simgen.adapt.active import clip_probs_and_features
from simgen.adapt.drift import STATISTICS, clips_to_label, drift_tests
from simgen.train.data.real import VIDEO_SUFFIXES
from simgen.train.errors import TrainDataError, VideoDecodeError


@dataclass
class Clip:
    """A clip to score: its path (relative to its folder), known label (or ``None``) and a loader."""

    path: str
    label: str | None
    load: Callable[[], tuple[np.ndarray, float]]  # -> (frames uint8[T,S,S,3], fps)


def folder_clips(root: str | Path, *, size: int, subjects: list[str] | None = None) -> list[Clip]:
    """The clips of ``root`` (see the module docstring), frames resized to ``size``.

    Raises:
        TrainDataError: no such folder, no video in it, or a bad ``labels.csv`` / subject
            selection (the message names the file).
    """
    from simgen.train.data.real import RealFolderReader
    from simgen.train.data.synthetic import open_reader

    root = Path(root)
    if not root.is_dir():
        raise TrainDataError(f"{root}: folder not found")
    structured = (root / "dataset.json").is_file() or (root / "labels.csv").is_file() or any(
        p.is_dir() and any(f.suffix.lower() in VIDEO_SUFFIXES for f in p.iterdir()) for p in root.iterdir())
    if structured:
        reader = open_reader(root, size=size, subjects=subjects)

        def loader(i: int):
            def load():
                frames, ann = reader.read(i)
                return frames, float(ann.get("fps") or 25.0)
            return load

        return [Clip(str(r.get("path", r["key"])), r.get("label") or None, loader(i))
                for i, r in enumerate(reader.rows)]
    if subjects is not None:
        raise TrainDataError(f"{root}: no labels.csv, so no clip has a subject to select by")
    from simgen.train.data.video_io import decode_video

    files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
    if not files:
        raise TrainDataError(f"{root}: no video files found ({', '.join(sorted(VIDEO_SUFFIXES))})")
    return [Clip(f.relative_to(root).as_posix(), None, lambda f=f: decode_video(f, size=size)) for f in files]


def subsample(clips: list[Clip], limit: int | None, rng: np.random.Generator) -> list[Clip]:
    """At most ``limit`` clips, drawn without replacement (kept in folder order)."""
    if limit is None or len(clips) <= limit:
        return clips
    return [clips[i] for i in sorted(rng.choice(len(clips), size=limit, replace=False))]


def score_clips(model, meta: dict, clips: list[Clip], *, device="cpu", progress: bool = False,
                desc: str = "score") -> tuple[np.ndarray, np.ndarray, list[Clip], list[tuple[str, str]]]:
    """``(probs (n,K), features (n,D), clips kept, [(path, why skipped)])``; undecodable clips are skipped."""
    from tqdm import tqdm

    from simgen.train.frame_rate import model_fps, to_model_rate

    probs, feats, kept, skipped = [], [], [], []
    for clip in tqdm(clips, desc=desc, unit="clip", disable=not progress, leave=False):
        try:
            frames, fps = clip.load()
        except (VideoDecodeError, TrainDataError) as exc:
            skipped.append((clip.path, str(exc)))
            continue
        frames, _ = to_model_rate(torch.from_numpy(np.ascontiguousarray(frames)), fps, model_fps(meta))
        p, f = clip_probs_and_features(model, meta, frames, device=device)
        probs.append(p)
        feats.append(f)
        kept.append(clip)
    k, d = len(meta["classes"]), model.out_features
    return (np.stack(probs) if probs else np.zeros((0, k)), np.stack(feats) if feats else np.zeros((0, d)),
            kept, skipped)


def build_report(tests: dict, *, classes: list[str], stream: list[Clip], stream_probs: np.ndarray,
                 stream_feats: np.ndarray, budget: int, sources: dict) -> dict:
    """``report.json``'s content: the flag, each statistic, per-clip scores and the clips to label first."""
    novelty = np.asarray(tests["novelty"]["p_values"])
    picks = clips_to_label(stream_probs, stream_feats, novelty, min(budget, len(stream)), alpha=tests["alpha"])
    per_clip = []
    for i, clip in enumerate(stream):
        p = stream_probs[i]
        per_clip.append(dict(path=clip.path, label=clip.label, predicted=classes[int(p.argmax())],
                             confidence=round(float(p.max()), 4), entropy=round(tests["stream_entropy"][i], 4),
                             knn_distance=round(tests["novelty"]["stream_scores"][i], 4),
                             novelty_p=round(float(novelty[i]), 4), novel=bool(novelty[i] < tests["alpha"])))
    labelled = [c for c in per_clip if c["label"] is not None]
    accuracy = (sum(c["label"] == c["predicted"] for c in labelled) / len(labelled)) if labelled else None
    notes = []
    n_ref = len(tests["novelty"]["reference_scores"])
    if 1.0 / (n_ref + 1) >= tests["alpha"]:
        notes.append(f"{n_ref} reference clips: a clip's novelty p-value cannot go below 1/{n_ref + 1} = "
                     f"{1 / (n_ref + 1):.3f}, not below alpha {tests['alpha']}, so no single clip can be called novel; "
                     f"give at least {int(np.ceil(1 / tests['alpha']))} reference clips for per-clip flags")
    reasons = [f"{name} ({s['what']}): p = {s['p_value']:.4f} < {tests['level']:.4f}"
               for name, s in tests["statistics"].items() if s["flagged"]]
    return dict(
        flagged=tests["flagged"], reasons=reasons, notes=notes, alpha=tests["alpha"],
        level_per_statistic=tests["level"],
        permutations=tests["permutations"], k=tests["k"], classes=classes, sources=sources,
        statistics={n: {k_: (round(v, 6) if isinstance(v, float) else v) for k_, v in s.items()}
                    for n, s in tests["statistics"].items()},
        class_frequencies=dict(reference=dict(zip(classes, np.round(tests["reference_classes"], 4).tolist())),
                               stream=dict(zip(classes, np.round(tests["stream_classes"], 4).tolist()))),
        mean_entropy=dict(reference=round(float(np.mean(tests["reference_entropy"])), 4),
                          stream=round(float(np.mean(tests["stream_entropy"])), 4)),
        novel_clips=int(sum(c["novel"] for c in per_clip)), stream_accuracy_where_labelled=accuracy,
        label_first=[dict(rank=r + 1, path=stream[pk["index"]].path, novel=pk["novel"],
                          uncertainty=round(pk["uncertainty"], 4), novelty_p=per_clip[pk["index"]]["novelty_p"],
                          predicted=per_clip[pk["index"]]["predicted"]) for r, pk in enumerate(picks)],
        per_clip=per_clip)


def write_clips_csv(report: dict, path: Path) -> None:
    cols = ["path", "label", "predicted", "confidence", "entropy", "knn_distance", "novelty_p", "novel"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for c in report["per_clip"]:
            w.writerow(["" if c[k] is None else c[k] for k in cols])


def run_monitor(checkpoint: str | Path, reference: str | Path, stream: str | Path, out: str | Path, *,
                reference_subjects: list[str] | None = None, stream_subjects: list[str] | None = None,
                max_reference: int | None = None, permutations: int = 2000, alpha: float = 0.05, k: int = 3,
                budget: int = 5, seed: int = 0, device="cpu", progress: bool = False) -> dict:
    """Score, test and write the report (see the module docstring); returns ``report.json``'s content.

    Raises:
        TrainDataError: an unreadable checkpoint or folder, or too few readable clips
            (the message names which).
    """
    from simgen.adapt.drift_report import build_html
    from simgen.train.checkpoint import load_model

    model, meta = load_model(checkpoint)
    model = model.to(device).eval()
    rng = np.random.default_rng(seed)
    ref_clips = subsample(folder_clips(reference, size=meta["size"], subjects=reference_subjects), max_reference, rng)
    stream_clips = folder_clips(stream, size=meta["size"], subjects=stream_subjects)
    ref_probs, ref_feats, ref_kept, ref_skipped = score_clips(model, meta, ref_clips, device=device, progress=progress,
                                                              desc="reference")
    s_probs, s_feats, s_kept, s_skipped = score_clips(model, meta, stream_clips, device=device, progress=progress,
                                                      desc="stream")
    if len(ref_kept) < 2:
        raise TrainDataError(f"{reference}: {len(ref_kept)} readable reference clip(s); need at least 2")
    if not s_kept:
        raise TrainDataError(f"{stream}: no readable stream clip")
    tests = drift_tests(ref_probs, ref_feats, s_probs, s_feats, rng, permutations=permutations, alpha=alpha, k=k)
    sources = dict(checkpoint=str(checkpoint), reference=str(reference), stream=str(stream),
                   reference_subjects=reference_subjects, stream_subjects=stream_subjects,
                   n_reference=len(ref_kept), n_stream=len(s_kept), seed=seed,
                   skipped=[dict(path=p, reason=r) for p, r in ref_skipped + s_skipped])
    report = build_report(tests, classes=list(meta["classes"]), stream=s_kept, stream_probs=s_probs,
                          stream_feats=s_feats, budget=budget, sources=sources)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    write_clips_csv(report, out / "clips.csv")
    # what the statistics were computed from, to re-test or plot without re-running the model
    np.savez_compressed(out / "scores.npz", reference_probs=ref_probs, reference_features=ref_feats,
                        stream_probs=s_probs, stream_features=s_feats)
    (out / "report.html").write_text(build_html(report, tests, ref_feats, s_feats))
    return report


def flag_table(rows: list[tuple[str, dict]]) -> str:
    """A Markdown table: one row per (stream name, report), a p-value column per statistic, the flag."""
    head = "| stream | n | " + " | ".join(f"{s} p" for s in STATISTICS) + " | novel clips | flagged |"
    lines = [head, "|" + "---|" * (len(STATISTICS) + 4)]
    for name, rep in rows:
        cells = []
        for s in STATISTICS:
            st = rep["statistics"][s]
            cells.append(f"{st['p_value']:.4f}" + (" *" if st["flagged"] else ""))
        lines.append(f"| {name} | {rep['sources']['n_stream']} | " + " | ".join(cells)
                     + f" | {rep['novel_clips']} | {'**yes**' if rep['flagged'] else 'no'} |")
    return "\n".join(lines)

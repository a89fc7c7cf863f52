"""Per-frame (temporal segmentation) metrics as MS-TCN defines them.

Farha & Gall, "MS-TCN: Multi-Stage Temporal Convolutional Network for Action
Segmentation", CVPR 2019 (and Lea et al., CVPR 2017 for the segmental edit score).
Same definitions as MS-TCN's ``eval.py``, reported as fractions in ``[0, 1]``.
Frames labelled ``ignore`` (default ``-1``) in the ground truth are background: they
count neither for accuracy nor as segments.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def segments_of(labels: Sequence[int], *, ignore: int = -1) -> list[tuple[int, int, int]]:
    """Runs of equal labels as ``(label, start, end)`` (end exclusive), background runs left out."""
    labels = np.asarray(labels)
    out = []
    start = 0
    for t in range(1, len(labels) + 1):
        if t == len(labels) or labels[t] != labels[start]:
            if labels[start] != ignore:
                out.append((int(labels[start]), start, t))
            start = t
    return out


def edit_score(pred: Sequence[int], true: Sequence[int], *, ignore: int = -1) -> float:
    """Segmental edit score: ``1 - Levenshtein(seg labels) / max(len)`` (order of segments only)."""
    p = [s[0] for s in segments_of(pred, ignore=ignore)]
    y = [s[0] for s in segments_of(true, ignore=ignore)]
    if not p and not y:
        return 1.0
    d = np.zeros((len(p) + 1, len(y) + 1))
    d[:, 0] = np.arange(len(p) + 1)
    d[0, :] = np.arange(len(y) + 1)
    for i in range(1, len(p) + 1):
        for j in range(1, len(y) + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (p[i - 1] != y[j - 1]))
    return float(1 - d[-1, -1] / max(len(p), len(y)))


def segment_counts(pred: Sequence[int], true: Sequence[int], overlap: float, *, ignore: int = -1) -> tuple[int, int, int]:
    """``(tp, fp, fn)`` at IoU threshold ``overlap``, greedily in predicted order (MS-TCN ``f_score``).

    Each predicted segment matches the same-label true segment of highest IoU; it is a
    true positive when that IoU reaches ``overlap`` and the true segment is not taken yet.
    """
    p = segments_of(pred, ignore=ignore)
    y = segments_of(true, ignore=ignore)
    hits = np.zeros(len(y), dtype=bool)
    tp = fp = 0
    for label, ps, pe in p:
        best, best_j = 0.0, -1
        for j, (yl, ys, ye) in enumerate(y):
            if yl != label:
                continue
            inter = min(pe, ye) - max(ps, ys)
            union = max(pe, ye) - min(ps, ys)
            iou = inter / union if inter > 0 else 0.0
            if iou > best:
                best, best_j = iou, j
        if best_j >= 0 and best >= overlap and not hits[best_j]:
            tp += 1
            hits[best_j] = True
        else:
            fp += 1
    return tp, fp, int(len(y) - hits.sum())


def f1_from_counts(tp: int, fp: int, fn: int) -> float:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def segmentation_metrics(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], *, ignore: int = -1,
                         overlaps: Sequence[float] = (0.10, 0.25, 0.50)) -> dict:
    """Aggregate over videos: frame accuracy (pooled frames), mean edit, F1@k from summed counts.

    Args:
        pairs: ``(predicted, true)`` per-frame label sequences per video.

    Returns:
        ``frame_accuracy``, ``edit``, ``f1@10``, ``f1@25``, ``f1@50``, ``n_videos``, ``n_frames``.

    Example:
        >>> segmentation_metrics([([0, 0, 1, 1], [0, 0, 1, 1])])["f1@50"]
        1.0
    """
    correct = total = 0
    edits = []
    counts = {o: np.zeros(3, dtype=np.int64) for o in overlaps}
    for pred, true in pairs:
        pred, true = np.asarray(pred), np.asarray(true)
        if pred.shape != true.shape:
            raise ValueError(f"prediction length {pred.shape} != truth length {true.shape}")
        known = true != ignore
        correct += int((pred[known] == true[known]).sum())
        total += int(known.sum())
        edits.append(edit_score(pred, true, ignore=ignore))
        for o in overlaps:
            counts[o] += segment_counts(pred, true, o, ignore=ignore)
    out = dict(frame_accuracy=correct / total if total else 0.0, edit=float(np.mean(edits)) if edits else 0.0)
    for o in overlaps:
        out[f"f1@{int(round(o * 100))}"] = f1_from_counts(*counts[o].tolist())
    out.update(n_videos=len(pairs), n_frames=total)
    return out

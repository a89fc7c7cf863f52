"""Clip-level classification metrics."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of clips of true class ``i`` predicted as ``j`` (``int64[K,K]``)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def clip_metrics(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str]) -> dict:
    """Top-1 accuracy, per-class accuracy (recall), macro-F1 and confusion matrix.

    Args:
        y_true, y_pred: class indices (clips with unknown truth must be removed first).
        classes: class names, index order.

    Returns:
        ``accuracy``, ``macro_f1`` (mean F1 over classes present in truth or prediction),
        ``per_class`` (name -> accuracy, ``None`` for classes with no clip),
        ``confusion`` (row-normalised, fractions; rows without clips are zeros),
        ``confusion_counts``, ``classes``, ``n_clips``.

    Example:
        >>> clip_metrics([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])["accuracy"]
        0.75
    """
    k = len(classes)
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    cm = confusion_matrix(y_true, y_pred, k)
    support = cm.sum(1)
    predicted = cm.sum(0)
    tp = np.diag(cm)
    f1 = []
    for i in range(k):
        if support[i] == 0 and predicted[i] == 0:
            continue
        f1.append(2 * tp[i] / (support[i] + predicted[i]))
    rows = np.where(support[:, None] > 0, cm / np.maximum(support[:, None], 1), 0.0)
    return dict(
        accuracy=float(tp.sum() / max(len(y_true), 1)),
        macro_f1=float(np.mean(f1)) if f1 else 0.0,
        per_class={c: (float(tp[i] / support[i]) if support[i] else None) for i, c in enumerate(classes)},
        confusion=rows.round(6).tolist(),
        confusion_counts=cm.tolist(),
        classes=list(classes),
        n_clips=int(len(y_true)),
    )

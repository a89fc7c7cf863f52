"""Clip-level classification metrics."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _class_indices(name: str, values: Sequence[int], num_classes: int) -> np.ndarray:
    """``values`` as ``int64[N]``; a float, negative or too-large index is an error (numpy would wrap -1)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of class indices, got shape {arr.shape}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)):
        raise ValueError(f"{name}: class indices must be integers, got {arr[np.mod(arr, 1) != 0][0].item()!r}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < 0) | (arr >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is not a class index in 0..{num_classes - 1} "
                         f"({bad.size} such value(s))")
    return arr


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of clips of true class ``i`` predicted as ``j`` (``int64[K,K]``).

    Raises:
        ValueError: the sequences differ in length, or hold an index outside ``0..K-1``.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    y_true = _class_indices("y_true", y_true, num_classes)
    y_pred = _class_indices("y_pred", y_pred, num_classes)
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
        accuracy=float(tp.sum() / max(cm.sum(), 1)),
        macro_f1=float(np.mean(f1)) if f1 else 0.0,
        per_class={c: (float(tp[i] / support[i]) if support[i] else None) for i, c in enumerate(classes)},
        confusion=rows.round(6).tolist(),
        confusion_counts=cm.tolist(),
        classes=list(classes),
        n_clips=int(cm.sum()),
    )

"""Smoothing and decoding of per-frame class scores."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter as _median


def median_smooth(scores: np.ndarray, size: int) -> np.ndarray:
    """Median filter each class's score over time.

    Args:
        scores: ``(T, K)`` per-frame scores (probabilities or logits).
        size: odd window length in frames.

    Returns:
        ``(T, K)``, same dtype; edges are padded by reflection.
    """
    if size <= 1:
        return scores
    return _median(scores, size=(size, 1), mode="nearest")


def median_smooth_labels(labels: np.ndarray, size: int, num_classes: int) -> np.ndarray:
    """Majority (mode) filter of a label sequence: removes flickers shorter than ``size // 2 + 1``."""
    one_hot = np.eye(num_classes)[np.asarray(labels)]
    return median_smooth(one_hot, size).argmax(1) if size > 1 else np.asarray(labels)


def viterbi_decode(log_probs: np.ndarray, *, min_duration: int | np.ndarray = 1,
                   switch_penalty: float = 0.0) -> np.ndarray:
    """Most likely label sequence with a minimum segment duration prior.

    An HMM whose state ``(k, d)`` means "in class ``k`` for ``d`` frames so far" (``d``
    capped at ``D_k``); leaving class ``k`` is only allowed from ``d = D_k`` and costs
    ``switch_penalty`` (in log units). The first segment must also last ``D_k`` frames;
    the last may be cut short, since a video can stop in the middle of an action.

    Args:
        log_probs: ``(T, K)`` per-frame log-probabilities.
        min_duration: ``D`` for all classes, or ``int[K]``.
        switch_penalty: non-negative cost of each label change.

    Returns:
        ``int64[T]`` labels.

    Example:
        >>> lp = np.log(np.array([[.9, .1], [.9, .1], [.4, .6], [.9, .1], [.9, .1]]))
        >>> viterbi_decode(lp, min_duration=2).tolist()
        [0, 0, 0, 0, 0]
    """
    t_len, k = log_probs.shape
    dur = np.broadcast_to(np.asarray(min_duration, dtype=np.int64), (k,)).copy()
    dur = np.maximum(dur, 1)
    d_max = int(dur.max())
    neg = -np.inf
    # score[k, d-1]; states with d > dur[k] are unreachable
    valid = np.arange(1, d_max + 1)[None, :] <= dur[:, None]
    score = np.full((k, d_max), neg)
    score[:, 0] = log_probs[0]
    back = np.zeros((t_len, k, d_max, 2), dtype=np.int64)
    for t in range(1, t_len):
        new = np.full((k, d_max), neg)
        arg = np.zeros((k, d_max, 2), dtype=np.int64)
        # stay: (k, d-1) -> (k, d); and (k, D) -> (k, D)
        new[:, 1:] = score[:, :-1]
        arg[:, 1:, 0] = np.arange(k)[:, None]
        arg[:, 1:, 1] = np.arange(d_max - 1)[None, :]
        full = score[np.arange(k), dur - 1]
        keep_full = full >= new[np.arange(k), dur - 1]
        idx = np.where(keep_full)[0]
        new[idx, dur[idx] - 1] = full[idx]
        arg[idx, dur[idx] - 1, 0] = idx
        arg[idx, dur[idx] - 1, 1] = dur[idx] - 1
        # switch: best completed other class -> (j, 1)
        leave = full - switch_penalty
        order = np.argsort(-leave)
        best, second = order[0], (order[1] if k > 1 else order[0])
        for j in range(k):
            src = best if best != j else second
            if src != j and leave[src] > new[j, 0]:
                new[j, 0] = leave[src]
                arg[j, 0] = (src, dur[src] - 1)
        new = np.where(valid, new + log_probs[t][:, None], neg)
        score, back[t] = new, arg
    state = np.unravel_index(np.argmax(score), score.shape)
    labels = np.empty(t_len, dtype=np.int64)
    for t in range(t_len - 1, -1, -1):
        labels[t] = state[0]
        if t:
            state = tuple(back[t, state[0], state[1]])
    return labels


def decode_frame_scores(probs: np.ndarray, num_classes: int, *, smoothing: str = "none", median_size: int = 5,
                        min_duration: int = 8) -> np.ndarray:
    """Per-frame labels from per-frame probabilities ``(T, K[+1])``; ``-1`` marks background.

    Column ``K`` (when present) is the per-frame head's background output (train/background.py):
    it competes with the actions like any class, then its frames become ``-1``, which the
    segment metrics leave out of the segments. A background run may be shorter than an action
    (a transition lasts 0.25-0.6 s), so Viterbi requires only half of ``min_duration`` of it.

    Args:
        smoothing: ``none`` | ``median`` (filter of length ``median_size``) | ``viterbi``
            (segments of at least ``min_duration`` frames).
    """
    if smoothing == "median":
        probs = median_smooth(probs, median_size)
    if smoothing == "viterbi":
        durations = np.full(probs.shape[1], min_duration)
        durations[num_classes:] = max(1, min_duration // 2)
        pred = viterbi_decode(np.log(probs + 1e-9), min_duration=durations)
    elif smoothing == "none" or smoothing == "median":
        pred = probs.argmax(1)
    else:
        raise ValueError(f"unknown smoothing {smoothing!r}; expected none, median or viterbi")
    return np.where(pred >= num_classes, -1, pred)

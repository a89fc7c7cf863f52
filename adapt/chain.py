"""Multi-action test videos made from single-action real clips, with known per-frame labels.

Real footage rarely comes cut at action boundaries. Joining one person's clips end to
end (in a random order, optionally with a short cross-fade between them) gives videos
whose every frame's action and every boundary are known, so temporal segmentation
(frame accuracy, F1@k, edit) can be scored on real people without annotating anything.
The cross-fade frames are labelled ``-1`` (background): the metrics ignore them.

Example:
    >>> rng = np.random.default_rng(0)
    >>> a, b = np.zeros((4, 8, 8, 3), np.uint8), np.full((3, 8, 8, 3), 255, np.uint8)
    >>> video = chain_clips([(a, 0), (b, 1)], rng, gap=(2, 2))
    >>> video.labels.tolist()
    [0, 0, 0, 0, -1, -1, 1, 1, 1]
    >>> video.segments
    [(0, 0, 4), (1, 6, 9)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class ChainedVideo:
    """One multi-action video.

    Attributes:
        frames: ``uint8[N,H,W,3]``.
        labels: ``int64[N]`` class index per frame, ``-1`` in the gaps between clips.
        segments: ``(label, start, end)`` of each joined clip (end exclusive).
        sources: keys of the joined clips, in order.
        subject: the person, when known.
    """

    frames: np.ndarray
    labels: np.ndarray
    segments: list[tuple[int, int, int]]
    sources: list[str] = field(default_factory=list)
    subject: str | None = None


def _crossfade(a: np.ndarray, b: np.ndarray, length: int) -> np.ndarray:
    """``length`` frames blending frame ``a`` into frame ``b`` (both ends excluded)."""
    w = (np.arange(1, length + 1) / (length + 1))[:, None, None, None]
    return np.round((1 - w) * a[None].astype(np.float32) + w * b[None].astype(np.float32)).astype(np.uint8)


def chain_clips(clips: Sequence[tuple[np.ndarray, int]], rng: np.random.Generator, *,
                gap: tuple[int, int] = (0, 0), sources: Sequence[str] | None = None,
                subject: str | None = None) -> ChainedVideo:
    """Join clips in the given order into one video.

    Args:
        clips: ``(frames uint8[T,H,W,3], class index >= 0)`` each; all frames the same size.
        rng: draws each gap's length.
        gap: ``(min, max)`` frames of cross-fade between consecutive clips (labelled ``-1``).
        sources, subject: carried into the result.

    Raises:
        ValueError: no clips, a negative label, frames of different sizes, or a bad gap range.
    """
    if not clips:
        raise ValueError("chain_clips needs at least one clip")
    lo, hi = gap
    if not 0 <= lo <= hi:
        raise ValueError(f"gap must be (min, max) frames with 0 <= min <= max, got {gap}")
    shape = clips[0][0].shape[1:]
    parts, labels, segments = [], [], []
    n = 0
    for k, (frames, label) in enumerate(clips):
        if frames.shape[1:] != shape or len(frames) == 0:
            raise ValueError(f"clip {k}: frames {list(frames.shape)} do not match {list(shape)} (or are empty)")
        if label < 0:
            raise ValueError(f"clip {k}: label {label} is not a class index")
        if k:
            g = int(rng.integers(lo, hi + 1))
            if g:
                parts.append(_crossfade(parts[-1][-1], frames[0], g))
                labels.append(np.full(g, -1, np.int64))
                n += g
        parts.append(np.asarray(frames))
        labels.append(np.full(len(frames), int(label), np.int64))
        segments.append((int(label), n, n + len(frames)))
        n += len(frames)
    return ChainedVideo(np.concatenate(parts), np.concatenate(labels), segments,
                        list(sources) if sources is not None else [], subject)


def _order_without_repeats(labels: Sequence[int], rng: np.random.Generator, tries: int = 50) -> np.ndarray:
    """A random order of ``labels``' positions in which no class follows itself, when one exists
    (a repeat would merge two segments into one and change what "a boundary" means)."""
    order = rng.permutation(len(labels))
    for _ in range(tries):
        if all(labels[a] != labels[b] for a, b in zip(order, order[1:])):
            return order
        order = rng.permutation(len(labels))
    return order


def chain_by_subject(items: Sequence[dict], rng: np.random.Generator, *, videos_per_subject: int = 1,
                     gap: tuple[int, int] = (0, 0)) -> list[ChainedVideo]:
    """Videos joining each person's clips, every clip once per video, in a fresh random order.

    Args:
        items: dicts with ``frames``, ``label`` (class index; ``< 0`` items are left out),
            ``subject`` (``None``/empty: all such clips count as one person) and ``key``.
        rng: draws orders and gaps.
        videos_per_subject: how many videos (orders) per person.
        gap: see :func:`chain_clips`.

    Returns:
        Videos sorted by subject name, ``videos_per_subject`` each.
    """
    if videos_per_subject < 1:
        raise ValueError(f"videos_per_subject must be >= 1, got {videos_per_subject}")
    groups: dict[str, list[dict]] = {}
    for it in items:
        if it["label"] >= 0:
            groups.setdefault(it.get("subject") or "", []).append(it)
    videos = []
    for subject in sorted(groups):
        clips = groups[subject]
        for _ in range(videos_per_subject):
            order = _order_without_repeats([c["label"] for c in clips], rng)
            picked = [clips[i] for i in order]
            videos.append(chain_clips([(c["frames"], c["label"]) for c in picked], rng, gap=gap,
                                      sources=[c["key"] for c in picked], subject=subject or None))
    return videos

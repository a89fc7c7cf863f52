"""What scoring computes from a clip's frames alone, kept by content so that scoring the same clip again
(another checkpoint, method or member) skips it.

A benchmark fold scores the same clips many times: each checkpoint a method weighs is scored on the same
synthetic validation and unlabelled real clips, and every method on the same (perturbed) test clips. For a
stabilised input (``sdiff``, ``psdiff``) the model input of a window (a motion estimate per frame pair, a
warp, a crop) costs several times the model's forward pass on 2 CPU cores, and deciding whether one crop
serves the whole clip (:func:`~simgen.train.inputs.crop_spans_clip`) estimates the camera's speed over the
clip once more. Both depend on the frames alone, so they are kept:

* camera speeds (:func:`camera_speed`), always (a float per clip);
* window inputs, inside :func:`remembered_inputs` only (the benchmark, a training run's validation), within
  a byte budget, least recently used first out: a one-pass evaluation of a large folder would only fill
  memory.

Kept values are what the computation returned, so scores are identical with and without the memo.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np


def content_key(frames) -> tuple:
    """A key for caching what is computed from ``frames`` (array or CPU tensor): their shape and a hash of
    their bytes."""
    frames = np.ascontiguousarray(frames)
    return frames.shape, hashlib.blake2b(frames.tobytes(), digest_size=16).digest()


_SPEEDS: dict[tuple, float] = {}
_MAX_SPEEDS = 200_000  # a float and a key each: a few tens of MB at most


def camera_speed(frames: np.ndarray, key: tuple | None = None) -> float:
    """:func:`simgen.adapt.stabilise.camera_speed` of ``frames`` (``uint8[N,H,W,3]``), computed once per
    content (``key``: their :func:`content_key`, when the caller has it)."""
    from simgen.adapt.stabilise import camera_speed as measure  # numpy/OpenCV only; no model code

    key = content_key(frames) if key is None else key
    if key not in _SPEEDS:
        if len(_SPEEDS) >= _MAX_SPEEDS:
            _SPEEDS.clear()
        _SPEEDS[key] = measure(np.asarray(frames))
    return _SPEEDS[key]


class InputMemo:
    """Model inputs by key, least recently used dropped first once they pass ``max_bytes``."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple, list] = OrderedDict()

    def get(self, key: tuple, make) -> list:
        """The batches ``make()`` gives for ``key`` (a list of tensors), made on the first call only."""
        if key in self._items:
            self.hits += 1
            self._items.move_to_end(key)
            return self._items[key]
        self.misses += 1
        batches = list(make())
        size = sum(b.numel() * b.element_size() for b in batches)
        if size <= self.max_bytes:
            self._items[key] = batches
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.bytes -= sum(b.numel() * b.element_size() for b in old)
        return batches


_ACTIVE: list[InputMemo] = []


def active_inputs() -> InputMemo | None:
    """The memo of the innermost :func:`remembered_inputs`, or ``None`` outside one."""
    return _ACTIVE[-1] if _ACTIVE else None


#: the default budget of a :class:`InputMemo`: a ``psdiff`` window of 16 frames at 64 x 64 is 256 KiB
INPUT_MEMO_BYTES = 768 * 2**20


@contextmanager
def remembered_inputs(memo: InputMemo | None = None):
    """Keep the window inputs scoring builds (:func:`simgen.train.evaluate.clip_scores`) in ``memo`` while
    inside (default: a new one of :data:`INPUT_MEMO_BYTES`, or the enclosing one when one is active)."""
    if memo is None and _ACTIVE:
        yield _ACTIVE[-1]
        return
    memo = InputMemo(INPUT_MEMO_BYTES) if memo is None else memo
    _ACTIVE.append(memo)
    try:
        yield memo
    finally:
        _ACTIVE.pop()

"""Test-side perturbations of real clips: what footage looks like outside the lab.

A model that holds on clean, person-centred, static-camera clips can still fall apart
when an object crosses the person, the camera moves, the person is smaller, the frame
rate is lower or the codec is harsh. :func:`apply_perturbation` makes such copies of a
clip so a benchmark can score each condition at several stated levels.

Severity levels (``PERTURBATIONS``), per kind; ``0`` always leaves the clip unchanged:

* ``occlusion``: width of an opaque vertical bar, as a fraction of the frame width. The
  bar spans the full height and sweeps at constant speed from one side to the other over
  the clip (direction and colour drawn from ``rng``), so it covers exactly that fraction
  of each frame's pixels and crosses the (centred) person midway.
* ``camera``: strength ``s`` of a moving virtual camera. A crop of side ``1 - s/2`` of the
  frame at the start zooms in to ``1 - s`` by the end, its centre pans across up to the
  room the crop leaves (direction drawn from ``rng``) and shakes (independent jitter of
  ``s/15`` of the frame, standard deviation, per frame); the crop is resized back to the
  frame size.
* ``scale``: how much smaller the person gets: the frame is shrunk by ``1 - s`` about its
  centre and the border filled with its own edge pixels, replicated then blurred (a static
  background stays static; a mirror fill would add a second, mirrored person, plain
  replication streaks of feet touching the frame's edge).
* ``fps``: the frame-rate divisor: ``2`` keeps every 2nd frame (half the rate), ``3``
  every 3rd; the returned fps is divided too (``1`` is also accepted: unchanged).
* ``compression``: the libx264 constant rate factor (CRF) of an H.264 re-encode, decoded
  back (YUV 4:2:0, ``preset=veryfast``); 23 is x264's default, 51 its worst.

Example:
    >>> rng = np.random.default_rng(0)
    >>> clip = np.zeros((10, 64, 64, 3), np.uint8)
    >>> out, fps = apply_perturbation(clip, 25.0, "fps", 2, rng)
    >>> out.shape, fps
    ((5, 64, 64, 3), 12.5)
"""

from __future__ import annotations

import io
from collections import Counter

import cv2
import numpy as np

PERTURBATIONS: dict[str, tuple[float, ...]] = {
    "occlusion": (0.15, 0.3, 0.45),
    "camera": (0.1, 0.2, 0.3),
    "scale": (0.25, 0.4, 0.55),
    "fps": (2.0, 3.0),
    "compression": (32.0, 40.0, 48.0),
}

_IDENTITY = {"fps": (0.0, 1.0)}  # severities that leave the clip unchanged, besides 0


def check_perturbation(kind: str, severity: float) -> None:
    """Raise ``ValueError`` naming the kind or level and the choices when either is unknown."""
    if kind not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {kind!r}; choices: {', '.join(PERTURBATIONS)}")
    allowed = (*_IDENTITY.get(kind, (0.0,)), *PERTURBATIONS[kind])
    if not any(abs(float(severity) - a) < 1e-9 for a in allowed):
        raise ValueError(f"unknown {kind} level {severity!r}; choices: {', '.join(f'{a:g}' for a in allowed)}")


def _is_identity(kind: str, severity: float) -> bool:
    return any(abs(float(severity) - a) < 1e-9 for a in _IDENTITY.get(kind, (0.0,)))


def occluder_columns(num_frames: int, width: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Left column of the bar in each frame (``int64[T]``): constant speed, across the whole frame."""
    bar = max(1, int(round(fraction * width)))
    x = np.round(np.linspace(0, width - bar, num_frames)).astype(np.int64)
    return x[::-1].copy() if rng.random() < 0.5 else x


def _occlusion(frames: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    t, _, w, _ = frames.shape
    bar = max(1, int(round(fraction * w)))
    colour = rng.integers(0, 256, size=3).astype(np.uint8)
    out = frames.copy()
    for i, x in enumerate(occluder_columns(t, w, fraction, rng)):
        out[i, :, x : x + bar] = colour
    return out


def camera_path(num_frames: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    """The virtual camera's crop per frame, ``float[T, 3]`` = (centre x, centre y, side), in frame fractions.

    The crop always stays inside the frame.
    """
    ramp = np.linspace(0.0, 1.0, num_frames)
    side = 1.0 - strength * (0.5 + 0.5 * ramp)  # zoom in from 1-s/2 to 1-s
    room = (1.0 - side) / 2  # how far the centre may move from 0.5
    angle = rng.uniform(0, 2 * np.pi)
    pan = (2 * ramp - 1) * 0.8 * room  # sweep across most of the room, in a random direction
    shake = rng.normal(0.0, strength / 15, size=(num_frames, 2))  # hand-held jitter about the path
    shake[0] = 0.0
    cx = 0.5 + pan * np.cos(angle) + shake[:, 0]
    cy = 0.5 + pan * np.sin(angle) + shake[:, 1]
    cx = np.clip(cx, 0.5 - room, 0.5 + room)
    cy = np.clip(cy, 0.5 - room, 0.5 + room)
    return np.stack([cx, cy, side], axis=1)


def _camera(frames: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    t, h, w, _ = frames.shape
    out = np.empty_like(frames)
    for i, (cx, cy, side) in enumerate(camera_path(t, strength, rng)):
        # affine map sending the crop (sub-pixel) onto the whole frame
        s = 1.0 / side
        m = np.array([[s, 0, w / 2 - s * cx * w], [0, s, h / 2 - s * cy * h]], dtype=np.float64)
        out[i] = cv2.warpAffine(frames[i], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def _scale(frames: np.ndarray, shrink: float) -> np.ndarray:
    t, h, w, _ = frames.shape
    s = 1.0 - shrink
    m = np.array([[s, 0, (1 - s) * w / 2], [0, s, (1 - s) * h / 2]], dtype=np.float64)
    inside = cv2.warpAffine(np.ones((h, w), np.uint8), m, (w, h), flags=cv2.INTER_NEAREST) > 0
    sigma = max(1.0, (1 - s) * min(h, w) / 4)
    out = np.empty_like(frames)
    for i, f in enumerate(frames):
        small = cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
        # the replicated edge pixels, blurred: surroundings in the frame's own colours, without the
        # streaks a replicated foot or hand would leave across the border
        fill = cv2.GaussianBlur(small, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        out[i] = np.where(inside[..., None], small, fill)
    return out


def kept_frames(num_frames: int, kind: str, severity: float) -> np.ndarray:
    """Indices of the input frames a perturbation keeps (all but for ``fps``), e.g. to drop per-frame labels alike."""
    check_perturbation(kind, severity)
    if kind == "fps" and not _is_identity(kind, severity):
        return np.arange(0, num_frames, int(round(severity)), dtype=np.int64)
    return np.arange(num_frames, dtype=np.int64)


def h264_roundtrip(frames: np.ndarray, fps: float, crf: float) -> np.ndarray:
    """Encode ``frames`` with libx264 at ``crf`` in memory and decode them back (same shape)."""
    import av
    from fractions import Fraction

    from simgen.video import filled_heap, rgb_arrays

    t, h, w, _ = frames.shape
    # 4:2:0 needs even sides: pad by replication, crop after decoding
    ph, pw = h + h % 2, w + w % 2
    padded = np.pad(frames, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    buf = io.BytesIO()
    rate = Fraction(fps).limit_denominator(1000) if fps > 0 else Fraction(25)
    with filled_heap(), av.open(buf, "w", format="mp4") as out:  # x264 reads memory it never wrote
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = pw, ph, "yuv420p"
        stream.options = {"crf": str(int(round(crf))), "preset": "veryfast", "threads": "1"}
        for f in padded:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")))
        out.mux(stream.encode())
    buf.seek(0)
    with av.open(buf, "r") as inp:
        decoded = list(rgb_arrays(inp.decode(video=0)))
    if len(decoded) != t:
        raise RuntimeError(f"H.264 round trip returned {len(decoded)} frames for {t}")
    return np.stack(decoded)[:, :h, :w]


def apply_perturbation(frames: np.ndarray, fps: float, kind: str, severity: float,
                       rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A perturbed copy of a clip.

    Args:
        frames: ``uint8[T,H,W,3]``.
        fps: the clip's frame rate.
        kind: a key of :data:`PERTURBATIONS`.
        severity: one of ``PERTURBATIONS[kind]``, or ``0`` (unchanged); see the module doc.
        rng: every random choice (occluder colour and direction, camera path) comes from it.

    Returns:
        ``(frames uint8[T',H,W,3], fps')``; only ``fps`` changes ``T'`` and ``fps'``.

    Raises:
        ValueError: unknown ``kind`` or ``severity`` (the message lists the choices), or
            frames that are not ``uint8[T,H,W,3]``.
    """
    check_perturbation(kind, severity)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"expected frames uint8[T,H,W,3] with T > 0, got {frames.dtype}{list(frames.shape)}")
    if _is_identity(kind, severity):
        return frames.copy(), float(fps)
    severity = float(severity)
    if kind == "occlusion":
        return _occlusion(frames, severity, rng), float(fps)
    if kind == "camera":
        return _camera(frames, severity, rng), float(fps)
    if kind == "scale":
        return _scale(frames, severity), float(fps)
    if kind == "fps":
        return frames[kept_frames(len(frames), kind, severity)].copy(), float(fps) / round(severity)
    return h264_roundtrip(frames, fps, severity), float(fps)


def difference_ceiling(predictions: list[dict]) -> tuple[int, int]:
    """``(frozen clips, most clips right)`` of one model on ``predictions`` (each with ``label`` and ``frozen``)
    for a model that sees frame differences alone: it gives all the frozen clips one label, so at most the
    largest class among them is right, and every other clip may be."""
    frozen = Counter(p["label"] for p in predictions if p["frozen"])
    n_frozen = sum(frozen.values())
    return n_frozen, len(predictions) - n_frozen + max(frozen.values(), default=0)


def frozen_note(condition: str, frozen: float, clips: float, ceiling: float) -> str:
    """The line a report prints for a perturbed level that left ``frozen`` of ``clips`` test clips frozen, where
    a model of frame differences alone scores at most ``ceiling`` (a fraction). The modes it names are a copy of
    :data:`simgen.train.inputs.DIFFERENCE_INPUTS` (this module loads no torch; tests/sim2real/test_frozen_clips.py
    checks the line names exactly them)."""
    return (f"{condition}: {frozen:g} of {clips:g} test clips frozen (every frame one picture); a model of frame "
            f"differences alone (diff, sdiff, pdiff, psdiff) labels them all alike: at most {100 * ceiling:.1f}% there")

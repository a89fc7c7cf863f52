"""Global-motion compensation: undo a moving camera before frame differences are taken.

A frame difference sees the camera's motion everywhere, so a pan, zoom or shake buries
the person's motion (on weizmann4_dev a zero-shot tiny3d on differences falls from 90% to
chance under the mildest moving crop). Estimating the global motion between consecutive
frames and warping every frame into the first one's coordinates leaves mostly the
person's own motion (the "motion-compensated differences" / flow residuals of the
literature, e.g. Wang & Schmid, "Action Recognition with Improved Trajectories", ICCV 2013,
which cancels camera motion with a homography before computing trajectories).

The estimate: Lucas-Kanade flow (OpenCV's pyramidal LK) of a grid of points every 3 px
between consecutive grey frames, then a similarity transform (translation, rotation,
uniform scale: what a pan, zoom or shake does) fitted by RANSAC, so the person's own
moving pixels are outliers as long as the background is most of the frame; chained from
frame 0. Pure CPU numpy/OpenCV: under 1 ms per 64x64 frame pair. (ECC alignment of the
whole frame, tried first, follows the person's arms: on clean weizmann4_dev clips its
chained warp drifted by 11-29 grey levels per pixel against 0.9-2.5 for LK + RANSAC.)
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

_GRID_STEP = 3  # px between tracked points
_RANSAC_PX = 0.5  # inlier distance: sub-pixel, the background moves rigidly
_CUT_SUPPORT = 0.1  # below this share of agreeing points, a pair of frames straddles a cut


def _gray(frame: np.ndarray) -> np.ndarray:
    """Luma of an RGB frame; a grey frame (``H,W``) is taken as it is."""
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


@functools.lru_cache(maxsize=64)
def _grid(h: int, w: int, grid_step: int) -> np.ndarray:
    """The tracked points ``float32[P,1,2]`` (x, y) of an ``h x w`` frame: the same for every frame pair, so
    made once per size (read-only: OpenCV only reads them)."""
    ys, xs = np.mgrid[2 : h - 2 : grid_step, 2 : w - 2 : grid_step]
    points = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)[:, None]
    points.setflags(write=False)
    return points


def motion_and_support(prev: np.ndarray, cur: np.ndarray, grid_step: int = _GRID_STEP) -> tuple[np.ndarray, float]:
    """Similarity ``A`` (3x3) with ``cur(A x) ~ prev(x)`` (where a point of ``prev`` went in ``cur``),
    and the share of grid points that agree with it (RANSAC inliers).

    Identity and support 0 when too few points track or RANSAC finds no model (flat frames).
    """
    g0, g1 = _gray(prev), _gray(cur)
    p0 = _grid(*g0.shape, grid_step)
    p1, status, _ = cv2.calcOpticalFlowPyrLK(g0, g1, p0, None, winSize=(9, 9), maxLevel=2)
    ok = status.ravel() == 1
    if ok.sum() < 6:
        return np.eye(3), 0.0
    m, inliers = cv2.estimateAffinePartial2D(p0[ok], p1[ok], method=cv2.RANSAC, ransacReprojThreshold=_RANSAC_PX,
                                             maxIters=500, refineIters=10)
    if m is None:
        return np.eye(3), 0.0
    return np.vstack([m, [0.0, 0.0, 1.0]]), float(inliers.sum()) / len(p0)


def pairwise_motion(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The similarity of :func:`motion_and_support` alone."""
    return motion_and_support(prev, cur)[0]


def camera_motion(frames: np.ndarray, grid_step: int = _GRID_STEP) -> np.ndarray:
    """``float[T,3,3]``: for each frame, the map from its reference frame's coordinates to its own.

    The reference is frame 0, or the first frame after the last cut: a pair of frames on
    which under ``_CUT_SUPPORT`` of the grid agrees on one motion (on weizmann4_dev, within
    clips >= 0.50 of the points agree with a still camera, >= 0.21 under the strongest
    moving crop; across a cut between two clips 0.015-0.018).
    """
    out = np.empty((len(frames), 3, 3))
    out[0] = np.eye(3)
    for t in range(1, len(frames)):
        m, support = motion_and_support(frames[t - 1], frames[t], grid_step)
        out[t] = m @ out[t - 1] if support >= _CUT_SUPPORT else np.eye(3)
    return out


def camera_speed(frames: np.ndarray, grid_step: int = 6) -> float:
    """How fast the camera moves: the median, over consecutive frame pairs, of how far the fitted global
    motion (:func:`motion_and_support`) moves an even grid of points (root mean square), as a fraction of
    the frame width per frame. Pairs across a cut (support under ``_CUT_SUPPORT``) are left out; ``0.0``
    for fewer than two frames.

    The person's own motion is an outlier to the fit, so a still camera gives nearly 0 whatever the
    person does. Measured at 64 x 64 (median / largest clip): still-camera ``weizmann4_dev`` clips
    0.0007 / 0.0011, also under occluders, smaller people, lower frame rates and codecs (largest 0.0020);
    the benchmark's moving crop at strength 0.1 0.0115 / 0.0165 (smallest 0.0096), 0.3 0.042; the 200
    synthetic ``weizmann4`` training clips of the default recipe (a quarter hand-held or panning): 99th
    percentile 0.0082, largest 0.0099.
    """
    frames = np.asarray(frames)
    if len(frames) < 2:
        return 0.0
    h, w = frames.shape[1:3]
    ys, xs = np.mgrid[0:h:8, 0:w:8]
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)]).astype(np.float64)
    shifts = []
    for t in range(1, len(frames)):
        m, support = motion_and_support(frames[t - 1], frames[t], grid_step)
        if support >= _CUT_SUPPORT:
            shifts.append(np.sqrt(((m @ points - points)[:2] ** 2).sum(0).mean()))
    return float(np.median(shifts)) / w if shifts else 0.0


def stabilise(frames: np.ndarray, *, values: np.ndarray | None = None, grid_step: int = _GRID_STEP) -> np.ndarray:
    """Every frame warped into its reference frame's coordinates (borders replicated): a static-camera copy.

    The reference is frame 0, or the first frame after a cut (chained clips), see :func:`camera_motion`.

    Args:
        frames: ``uint8[T,H,W,3]`` (or grey ``uint8[T,H,W]``): the motion is estimated on them.
        values: what is warped instead of ``frames`` (same ``T,H,W``, any dtype OpenCV warps,
            e.g. ``float32`` grey levels, so that no precision is lost to uint8); default ``frames``.
        grid_step: px between tracked points (LK flow is most of the cost: 6 tracks a quarter
            of the points of the default 3, ~4x faster).

    Returns:
        the warped ``frames`` (or ``values``); a clip from a still camera comes back nearly unchanged.
    """
    frames = np.asarray(frames)
    h, w = frames.shape[1:3]
    values = frames if values is None else np.asarray(values)
    out = np.empty_like(values)
    for t, m in enumerate(camera_motion(frames, grid_step)):
        out[t] = cv2.warpAffine(values[t], m[:2], (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
    return out

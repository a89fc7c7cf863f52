"""Low-level statistics of one clip: colour, brightness, contrast, sharpness, noise, motion,
person scale and position, frame rate and compression.

Each function takes ``uint8[T, H, W, 3]`` frames and returns plain floats, so the two domains are
compared statistic by statistic (:func:`clip_statistics`), and the definitions are tested on
hand-made frames.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from simgen.adapt.calibrate.person import person_masks, person_statistics

#: bins per RGB channel of the colour histogram
COLOUR_BINS = 16
#: at most this many frame pairs per clip go through optical flow (spread over the clip)
MAX_FLOW_PAIRS = 24

#: name -> (what it is, unit); the order is the report's
STATISTICS = {
    "brightness": ("mean luma", "0-255"),
    "contrast": ("standard deviation of luma within a frame", "0-255"),
    "saturation": ("mean HSV saturation", "0-255"),
    "sharpness": ("variance of the Laplacian of luma", "luma²"),
    "noise": ("noise sigma (Immerkær's fast estimate)", "0-255"),
    "frame_difference": ("mean absolute luma change between consecutive frames", "0-255 per frame"),
    "flow_magnitude": ("mean Farnebäck optical-flow speed", "frame heights per second"),
    "person_height": ("person box height (label-free estimate)", "share of frame height"),
    "person_width": ("person box width (label-free estimate)", "share of frame width"),
    "person_centre_x": ("person box centre, left to right", "share of frame width"),
    "person_bottom": ("person box lowest row, top to bottom", "share of frame height"),
    "person_bulk": ("person region area / box height²", "ratio"),
    "person_found": ("frames where a person region was found", "share"),
    "fps": ("frame rate", "frames per second"),
    "bits_per_pixel": ("compressed size per pixel", "bits"),
}


def luma(frames: np.ndarray) -> np.ndarray:
    """float32[T, H, W] in 0-255 (ITU-R BT.601 weights, as OpenCV's grey conversion)."""
    f = np.asarray(frames, dtype=np.float32)
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114


def colour_histogram(frames: np.ndarray, bins: int = COLOUR_BINS) -> np.ndarray:
    """float[3, bins]: the share of pixels per intensity bin, per RGB channel (each row sums to 1)."""
    f = np.asarray(frames).reshape(-1, 3)
    out = np.stack([np.bincount((f[:, c].astype(np.int64) * bins) // 256, minlength=bins)[:bins] for c in range(3)])
    return out / max(1, len(f))


def sharpness(gray: np.ndarray) -> float:
    """Mean over frames of the variance of the Laplacian (blur lowers it)."""
    return float(np.mean([cv2.Laplacian(np.asarray(g, np.float32), cv2.CV_32F).var() for g in gray]))


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkær (1996), "Fast noise variance estimation": sigma of additive Gaussian noise.

    The 3x3 mask [[1,-2,1],[-2,4,-2],[1,-2,1]] (a difference of two Laplacians) cancels smooth
    image structure, so what is left is mostly noise: sigma = sqrt(pi/2) / (6 (W-2)(H-2)) * sum |I * N|.
    """
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    values = []
    for g in gray:
        h, w = g.shape
        if h < 3 or w < 3:
            continue
        response = cv2.filter2D(np.asarray(g, np.float32), cv2.CV_32F, mask)[1:-1, 1:-1]
        values.append(math.sqrt(math.pi / 2) * np.abs(response).sum() / (6.0 * (w - 2) * (h - 2)))
    return float(np.mean(values)) if values else 0.0


def frame_difference(gray: np.ndarray) -> float:
    """Mean absolute change of luma between consecutive frames (0 for a still clip)."""
    if len(gray) < 2:
        return 0.0
    return float(np.abs(np.diff(gray, axis=0)).mean())


def flow_magnitude(gray: np.ndarray, fps: float) -> float:
    """Mean Farnebäck optical-flow speed in frame heights per second (independent of size and frame rate)."""
    if len(gray) < 2:
        return 0.0
    pairs = np.unique(np.linspace(0, len(gray) - 2, min(MAX_FLOW_PAIRS, len(gray) - 1)).round().astype(int))
    g8 = np.clip(gray, 0, 255).astype(np.uint8)
    speeds = []
    for i in pairs:
        flow = cv2.calcOpticalFlowFarneback(g8[i], g8[i + 1], None, pyr_scale=0.5, levels=2, winsize=9,
                                            iterations=3, poly_n=5, poly_sigma=1.1, flags=0)
        speeds.append(float(np.linalg.norm(flow, axis=-1).mean()))
    return float(np.mean(speeds)) * fps / gray.shape[1]


def clip_statistics(frames: np.ndarray, fps: float, bits_per_pixel: float | None) -> dict:
    """Every statistic of :data:`STATISTICS` for one clip, plus ``colour_histogram`` (float[3, bins])."""
    frames = np.asarray(frames)
    gray = luma(frames)
    hsv_saturation = np.mean([cv2.cvtColor(f, cv2.COLOR_RGB2HSV)[..., 1].mean() for f in frames])
    stats = dict(
        brightness=float(gray.mean()),
        contrast=float(gray.reshape(len(gray), -1).std(axis=1).mean()),
        saturation=float(hsv_saturation),
        sharpness=sharpness(gray),
        noise=noise_sigma(gray),
        frame_difference=frame_difference(gray),
        flow_magnitude=flow_magnitude(gray, fps),
        **person_statistics(person_masks(frames)),
        fps=float(fps),
        bits_per_pixel=bits_per_pixel,
    )
    stats["colour_histogram"] = colour_histogram(frames)
    return stats

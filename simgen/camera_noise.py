"""What a real camera adds after the exposure: sensor noise and JPEG compression (per clip factors).

Motion blur is not here: it comes from averaging sub-frame renders while the clip is
filmed (`simgen.clip`), and H.264 compression from the encoder's per-clip `crf`.
"""

from __future__ import annotations

import cv2
import numpy as np


def apply_camera_noise(frames: np.ndarray, factors: dict) -> np.ndarray:
    """Add Gaussian sensor noise (std in 0-255 units), then JPEG round trips, to uint8[T,H,W,3]."""
    out = frames
    std = float(factors.get("sensor_noise_std", 0.0))
    if std > 0:
        rng = np.random.default_rng(factors["noise_seed"])
        noise = rng.standard_normal(out.shape, dtype=np.float32)
        noise *= std
        noise += out
        out = np.clip(np.rint(noise, out=noise), 0, 255, out=noise).astype(np.uint8)
    quality = factors.get("jpeg_quality")
    if quality:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        out = np.stack([cv2.imdecode(cv2.imencode(".jpg", f, params)[1], cv2.IMREAD_UNCHANGED) for f in out])
    return out

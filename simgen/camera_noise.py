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
        # OpenCV's generator, seeded per clip, draws the noise already rounded to integers
        # (the same as rounding after adding it to integer pixels) at a third of numpy's cost.
        cv2.setRNGSeed(int(factors["noise_seed"]) % 2**31)
        rows = out.reshape(-1, out.shape[-2] * out.shape[-1])
        noise = np.empty(rows.shape, np.int16)
        cv2.randn(noise, 0.0, std)
        out = cv2.add(rows, noise, dtype=cv2.CV_8U).reshape(frames.shape)  # saturates at 0 and 255
    quality = factors.get("jpeg_quality")
    if quality:
        out = np.stack([jpeg_round_trip(f, int(quality)) for f in out])
    return out


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode one uint8[H, W, 3] RGB frame as a JPEG of `quality` (1-100).

    OpenCV's codec takes BGR: handing it RGB would compute luma with red's and blue's
    weights swapped and keep the wrong colour at full resolution.
    """
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    _, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

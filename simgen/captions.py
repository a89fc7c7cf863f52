"""Text bands drawn next to images (never over them), sized to stay legible at any frame size."""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
BAND_RGB = (30, 30, 30)
TEXT_RGB = (235, 235, 235)


def text_band(lines: list[str], width: int, *, scale: float = 0.4, rgb=TEXT_RGB) -> np.ndarray:
    """uint8[H, width, 3]: `lines` in white on dark grey, one per row, clipped to `width`.

    At scale 0.4 Hershey glyphs are ~9 px tall with 1 px strokes: the smallest size that
    reads cleanly without anti-aliasing blurring it, so bands never shrink below it.
    """
    line_height = int(round(22 * scale / 0.4 * 0.75)) + 4
    band = np.full((line_height * len(lines) + 4, width, 3), BAND_RGB, np.uint8)
    for i, line in enumerate(lines):
        text = _fit(line, width - 6, scale)
        cv2.putText(band, text, (3, (i + 1) * line_height - 2), FONT, scale, rgb, 1, cv2.LINE_AA)
    return band


def _fit(text: str, width: int, scale: float) -> str:
    """Cut `text` (ending it with '~') until it fits `width` pixels."""
    if cv2.getTextSize(text, FONT, scale, 1)[0][0] <= width:
        return text
    while text and cv2.getTextSize(text + "~", FONT, scale, 1)[0][0] > width:
        text = text[:-1]
    return text + "~"


def upscale(frame: np.ndarray, min_side: int) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor so the shorter side is >= min_side
    (pixels stay sharp squares: a 64 px clip is shown as it is, only bigger)."""
    factor = max(1, int(np.ceil(min_side / min(frame.shape[:2]))))
    if factor == 1:
        return frame
    return cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)

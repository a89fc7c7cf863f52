"""What `simgen predict` writes for one video: per-frame CSV, segments JSON + CSV, labelled MP4."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

BAR_HEIGHT = 10  # timeline strip under the picture, px
BACKGROUND_RGB = (70, 70, 70)


def class_colours(classes: list[str]) -> dict[str, tuple[int, int, int]]:
    """A distinct, bright colour per class (HSV hues spread evenly), grey for background."""
    import colorsys

    colours = {}
    for i, c in enumerate(classes):
        r, g, b = colorsys.hsv_to_rgb(i / max(1, len(classes)), 0.75, 0.95)
        colours[c] = (int(r * 255), int(g * 255), int(b * 255))
    colours.setdefault("background", BACKGROUND_RGB)
    return colours


def write_frames_csv(pred: dict, path: Path) -> None:
    """``frame,time,label,confidence``: one row per frame of the video (time in seconds)."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "time", "label", "confidence"])
        for t, (label, conf) in enumerate(zip(pred["frame_labels"], pred["frame_confidence"])):
            w.writerow([t, f"{t / pred['fps']:.3f}", label, f"{conf:.4f}"])


def write_segments(pred: dict, video: str, json_path: Path, csv_path: Path) -> None:
    """Segments as JSON (with the clip label, top-k and frame rates) and as CSV
    ``start,end,label,confidence,start_frame,end_frame`` (start/end in seconds, end exclusive)."""
    doc = dict(video=video, fps=pred["fps"], model_fps=pred["model_fps"], frames=pred["frames"],
               frames_scored=pred["frames_scored"], clip=pred["clip"], segments=pred["segments"])
    json_path.write_text(json.dumps(doc, indent=2))
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["start", "end", "label", "confidence", "start_frame", "end_frame"])
        for s in pred["segments"]:
            w.writerow([f"{s['start']:.3f}", f"{s['end']:.3f}", s["label"], f"{s['confidence']:.4f}",
                        s["start_frame"], s["end_frame"]])


def _timeline_strip(labels: list[str], width: int, colours: dict) -> np.ndarray:
    """``uint8[BAR_HEIGHT, width, 3]``: the whole video's per-frame labels as coloured columns."""
    n = len(labels)
    cols = np.minimum((np.arange(width) * n) // max(width, 1), n - 1)
    row = np.array([colours.get(labels[c], BACKGROUND_RGB) for c in cols], dtype=np.uint8)
    return np.repeat(row[None], BAR_HEIGHT, axis=0)


def labelled_frames(display: np.ndarray, pred: dict, classes: list[str]) -> np.ndarray:
    """Frames with the labels drawn on: a text band (frame label + confidence, clip label + top-k)
    above the picture and a timeline of the per-frame labels below it, with a cursor."""
    from simgen.captions import text_band

    colours = class_colours(classes)
    n, h, w, _ = display.shape
    strip = _timeline_strip(pred["frame_labels"], w, colours)
    top = ", ".join(f"{c} {p:.2f}" for c, p in pred["clip"]["top_k"])
    out = []
    for t in range(n):
        label, conf = pred["frame_labels"][t], pred["frame_confidence"][t]
        band = text_band([f"{t / pred['fps']:5.2f}s  {label} {conf:.2f}", f"clip: {top}"], w)
        band[:, -6:] = colours.get(label, BACKGROUND_RGB)  # the frame label's colour, as on the timeline
        bar = strip.copy()
        x = min(w - 1, (t * w) // n)
        bar[:, max(0, x - 1) : x + 1] = 255
        out.append(np.concatenate([band, display[t], bar], axis=0))
    return np.stack(out)


def write_labelled_mp4(display: np.ndarray, pred: dict, classes: list[str], path: Path) -> Path:
    """The labelled video as H.264 MP4, one frame per video frame, at the video's frame rate."""
    from simgen.clip_file import write_clip

    return write_clip(labelled_frames(display, pred, classes), path, pred["fps"])

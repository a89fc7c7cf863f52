"""The joint-axes picture in the README: every joint channel of a motion program at a
negative and a positive value, right and left side, each from the front and the side.

Each pose is made from a one-keyframe motion program, so the picture shows exactly what
an action file with that value does. Regenerate with

    python -m simgen.pipelines.joint_axes_figure --out docs/joint_axes.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from simgen.action_preview import PoseStage
from simgen.captions import text_band
from simgen.motion.program import parse_program

CELL = 100  # pixels per view; a cell is a front and a side view
ANGLE = 60
# (row title, joint without side or None for the trunk, axis index or None for a hinge, values)
ROWS = [
    ("chest x", "chest", 0, (-ANGLE, ANGLE)),
    ("chest y", "chest", 1, (-ANGLE, ANGLE)),
    ("chest z", "chest", 2, (-ANGLE, ANGLE)),
    ("neck x", "neck", 0, (-ANGLE, ANGLE)),
    ("neck y", "neck", 1, (-ANGLE, ANGLE)),
    ("neck z", "neck", 2, (-ANGLE, ANGLE)),
    ("shoulder x", "shoulder", 0, (-ANGLE, ANGLE)),
    ("shoulder y", "shoulder", 1, (-ANGLE, ANGLE)),
    ("shoulder z", "shoulder", 2, (-ANGLE, ANGLE)),
    ("elbow", "elbow", None, (0, 90)),
    ("hip x", "hip", 0, (-ANGLE, ANGLE)),
    ("hip y", "hip", 1, (-ANGLE, ANGLE)),
    ("hip z", "hip", 2, (-ANGLE, ANGLE)),
    ("knee", "knee", None, (-90, 0)),
    ("ankle x", "ankle", 0, (-ANGLE, ANGLE)),
    ("ankle y", "ankle", 1, (-ANGLE, ANGLE)),
    ("ankle z", "ankle", 2, (-ANGLE, ANGLE)),
]
# A twist about a hanging limb's length shows only with the next joint bent.
BENT_WITH = {"shoulder": ("elbow", 90), "hip": ("knee", -60)}
# An arm raised sideways by x alone bends its elbow towards the camera; z after x turns it up.
ARM_OUT = [("right", [-90, 0, 0]), ("right", [-90, 0, 90]), ("left", [90, 0, 0]), ("left", [90, 0, 90])]
FIT = (np.array([-0.5, 0.0, -0.5]), np.array([0.5, 2.0, 0.5]))


def _pose(channels: dict):
    return parse_program({"name": "figure", "keyframes": [{"t": 0.0, **channels}]}).sample(np.zeros(1))


def _cell(stage: PoseStage, channels: dict, title: str) -> np.ndarray:
    film = stage.film(_pose(channels), size=CELL, fit=FIT)[0]
    cv2.line(film, (CELL, 0), (CELL, CELL - 1), (180, 180, 180), 1)
    return np.concatenate([text_band([title], film.shape[1]), film], axis=0)


def _row(title: str, cells: list[np.ndarray], columns: int) -> np.ndarray:
    height = cells[0].shape[0]
    blank = np.full_like(cells[0], 255)
    cells = cells + [blank] * (columns - len(cells))
    label = np.full((height, 120, 3), 255, np.uint8)
    lines = title.replace(" (", "\n(").split("\n")
    for i, line in enumerate(lines):
        y = height // 2 + 5 + (i - (len(lines) - 1) / 2) * 18
        cv2.putText(label, line, (4, int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    gap = np.full((height, 4, 3), 255, np.uint8)
    parts = [label]
    for cell in cells:
        parts += [cell, gap]
    return np.concatenate(parts, axis=1)


def _value(joint: str, axis, value: float):
    if axis is None:
        return value
    xyz = [0, 0, 0]
    xyz[axis] = value
    return xyz


def joint_axes_figure() -> np.ndarray:
    stage = PoseStage()
    try:
        rows = []
        for title, joint, axis, values in ROWS:
            cells = []
            sides = [""] if joint in ("chest", "neck") else ["right_", "left_"]
            for side in sides:
                for v in values:
                    channels = {f"{side}{joint}": _value(joint, axis, v)}
                    if axis == 1 and joint in BENT_WITH:
                        bent, angle = BENT_WITH[joint]
                        channels[f"{side}{bent}"] = angle
                    cells.append(_cell(stage, channels, f"{side or 'value '}{v:+d}".replace("_", " ")))
            rows.append(_row(title if axis != 1 or joint not in BENT_WITH else f"{title} ({BENT_WITH[joint][0]} bent)", cells, 4))
        cells = [_cell(stage, {f"{side}_shoulder": xyz, f"{side}_elbow": 90}, f"{side} [{xyz[0]},{xyz[1]},{xyz[2]}]") for side, xyz in ARM_OUT]
        rows.append(_row("arm out, elbow 90", cells, 4))
    finally:
        stage.close()
    header = text_band(["Each cell: front view | side view from the actor's right. Red = right limbs, blue = left."], rows[0].shape[1])
    return np.concatenate([header] + [np.pad(r, ((0, 2), (0, 0), (0, 0)), constant_values=255) for r in rows], axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/joint_axes.png"))
    args = parser.parse_args(argv)
    image = joint_axes_figure()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} ({image.shape[1]}x{image.shape[0]}, {args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

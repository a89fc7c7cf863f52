"""Reader for DeepMimic motion-capture files (`pybullet_data/data/motions/humanoid3d_*.txt`).

The file is JSON: {"Loop": "wrap"|"none", "Frames": [[dt, root_pos(3), root_rot(wxyz),
chest(wxyz), neck(wxyz), right_hip(wxyz), right_knee, right_ankle(wxyz), right_shoulder(wxyz),
right_elbow, left_hip(wxyz), left_knee, left_ankle(wxyz), left_shoulder(wxyz), left_elbow], ...]}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simgen import rotations as rot
from simgen.errors import SimgenError
from simgen.motion.pose import PoseSequence
from simgen.untrusted import load_json

# Order of the joint channels after the root in a DeepMimic frame.
FRAME_LAYOUT: tuple[tuple[str, int], ...] = (
    ("chest", 4),
    ("neck", 4),
    ("right_hip", 4),
    ("right_knee", 1),
    ("right_ankle", 4),
    ("right_shoulder", 4),
    ("right_elbow", 1),
    ("left_hip", 4),
    ("left_knee", 1),
    ("left_ankle", 4),
    ("left_shoulder", 4),
    ("left_elbow", 1),
)
FRAME_WIDTH = 1 + 3 + 4 + sum(width for _, width in FRAME_LAYOUT)  # 44


def _wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    return rot.normalize(np.concatenate([q[..., 1:4], q[..., :1]], axis=-1))


@dataclass
class MocapClip:
    """A parsed motion-capture clip: keyframe times (s) and per-keyframe pose channels."""

    path: Path
    loop: bool
    times: np.ndarray  # float[K], starts at 0
    root_pos: np.ndarray  # float[K, 3]
    root_rot: np.ndarray  # float[K, 4] xyzw
    joints: dict[str, np.ndarray]

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    def sample(self, times_s: np.ndarray) -> PoseSequence:
        """Interpolate the clip at arbitrary times; looping clips repeat and carry on moving."""
        t = np.asarray(times_s, dtype=np.float64)
        duration = max(self.duration, 1e-6)
        if self.loop:
            cycles = np.floor(t / duration)
            local = t - cycles * duration
        else:
            cycles = np.zeros_like(t)
            local = np.clip(t, 0.0, duration)
        idx = np.clip(np.searchsorted(self.times, local, side="right") - 1, 0, len(self.times) - 2)
        span = np.maximum(self.times[idx + 1] - self.times[idx], 1e-9)
        w = np.clip((local - self.times[idx]) / span, 0.0, 1.0)
        root_pos = self.root_pos[idx] * (1 - w[:, None]) + self.root_pos[idx + 1] * w[:, None]
        if self.loop:
            # Each completed cycle carries the horizontal displacement of one cycle forward.
            shift = self.root_pos[-1] - self.root_pos[0]
            shift[1] = 0.0
            root_pos = root_pos + cycles[:, None] * shift
        joints = {}
        for name, values in self.joints.items():
            a, b = values[idx], values[idx + 1]
            joints[name] = rot.slerp(a, b, w) if values.shape[1] == 4 else a * (1 - w[:, None]) + b * w[:, None]
        return PoseSequence(
            root_pos=root_pos,
            root_rot=rot.slerp(self.root_rot[idx], self.root_rot[idx + 1], w),
            joints=joints,
            ground=False,
            lift=np.zeros(len(t)),
        )


LOOP_BLEND_SECONDS = 0.2


def _close_loop(times: np.ndarray, joints: dict[str, np.ndarray]) -> None:
    """Blend the last 0.2 s of a looping clip's rotations (joints, and the root's own) into
    its first frame, so that it wraps without a snap (joints: walk 28 degrees in one
    instant, spinkick 58, where a frame's step is ~10; root: walk 6.9, run 11, spin 21).
    The root's path is left as recorded: each cycle carries its displacement forward."""
    ramp = np.clip((times - (times[-1] - LOOP_BLEND_SECONDS)) / LOOP_BLEND_SECONDS, 0.0, 1.0)
    weight = ramp * ramp * (3.0 - 2.0 * ramp)
    for name, values in joints.items():
        first = np.broadcast_to(values[0], values.shape)
        if values.shape[1] == 4:
            joints[name] = rot.slerp(values, first, weight)
        else:
            joints[name] = values + weight[:, None] * (first - values)


def load_mocap(path: str | Path) -> MocapClip:
    """Parse a DeepMimic motion file, with errors that name the file and the frame."""
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, dict) or "Frames" not in data:
        raise SimgenError("expected a JSON object with a 'Frames' list", file=str(path), field="Frames")
    frames = data["Frames"]
    if not isinstance(frames, list) or len(frames) < 2:
        raise SimgenError("needs at least 2 frames", file=str(path), field="Frames")
    for i, frame in enumerate(frames):
        if not isinstance(frame, list) or len(frame) != FRAME_WIDTH:
            got = len(frame) if isinstance(frame, list) else type(frame).__name__
            raise SimgenError(f"frame {i} has {got} values, expected {FRAME_WIDTH}", file=str(path), field="Frames")
        bad = next((j for j, v in enumerate(frame) if not isinstance(v, (int, float)) or isinstance(v, bool)), None)
        if bad is not None:
            raise SimgenError(f"frame {i}, value {bad} is {frame[bad]!r}, not a number", file=str(path), field="Frames")
    arr = np.asarray(frames, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise SimgenError("contains non-finite values", file=str(path), field="Frames")
    durations = arr[:, 0]
    if np.any(durations[:-1] <= 0):
        raise SimgenError("frame durations must be positive", file=str(path), field="Frames")
    times = np.concatenate([[0.0], np.cumsum(durations[:-1])])
    col = 8
    chunks = {"root": arr[:, 4:8]}
    for name, width in FRAME_LAYOUT:
        chunks[name] = arr[:, col : col + width]
        col += width
    for name, chunk in chunks.items():  # a zero quaternion has no rotation to normalise
        zero = np.linalg.norm(chunk, axis=1) < 1e-6 if chunk.shape[1] == 4 else np.zeros(len(chunk), bool)
        if zero.any():
            raise SimgenError(f"frame {int(np.argmax(zero))}: the {name} rotation is a zero quaternion", file=str(path), field="Frames")
    root_rot = _wxyz_to_xyzw(chunks.pop("root"))
    joints = {name: _wxyz_to_xyzw(chunk) if chunk.shape[1] == 4 else chunk.copy() for name, chunk in chunks.items()}
    loop = str(data.get("Loop", "none")).lower() == "wrap"
    if loop:
        channels = {**joints, "root": root_rot}
        _close_loop(times, channels)
        root_rot = channels.pop("root")
        joints = channels
    return MocapClip(
        path=path,
        loop=loop,
        times=times,
        root_pos=arr[:, 1:4].copy(),
        root_rot=root_rot,
        joints=joints,
    )

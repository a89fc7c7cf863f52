"""Parametric motion programs: joint rotations keyframed over normalised time, in YAML.

Example (`wave1.yaml`)::

    name: wave1
    description: waves one hand overhead
    cycle_seconds: 1.0          # one cycle at speed 1.0
    loop: true
    amplitudes:                 # named amplitudes; each clip samples a value in `range`
      wave: {range: [0.7, 1.3], channels: [right_shoulder, right_elbow]}
    keyframes:                  # t in [0, 1), strictly increasing; every keyframe sets the same channels
      - {t: 0.0, right_shoulder: [-150, 0, 0], right_elbow: 60}
      - {t: 0.5, right_shoulder: [-175, 0, 0], right_elbow: 10}

Spherical joints take [x, y, z] degrees (rotate about x, then y, then z, in the parent's
axes: +y up, the actor faces +x, its right is +z). Knees and elbows take one angle in degrees
(knees bend negative, elbows positive). Root channels: `root_height` (m, lift above the
floor), `root_pitch` (deg, positive leans forward), `root_roll`, `root_yaw` (deg),
`root_forward`, `root_side` (m). An amplitude scales its channels about their cycle mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from simgen import rotations as rot
from simgen.errors import SimgenError
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import MOVABLE, REVOLUTE, REVOLUTE_LIMITS, SPHERICAL
from simgen.untrusted import is_finite_number, load_yaml

ROOT_CHANNELS = ("root_height", "root_pitch", "root_roll", "root_yaw", "root_forward", "root_side")
TOP_LEVEL_FIELDS = {"name", "description", "cycle_seconds", "loop", "amplitudes", "keyframes"}


@dataclass
class MotionProgram:
    name: str
    description: str
    cycle_seconds: float
    loop: bool
    times: np.ndarray  # float[K] in [0, 1)
    channels: dict[str, np.ndarray]  # channel -> float[K, 3] (spherical, deg) or float[K] (scalar)
    amplitudes: dict[str, tuple[tuple[float, float], tuple[str, ...]]]
    path: Path | None = None

    def sample(self, phase: np.ndarray, amplitudes: dict[str, float] | None = None) -> PoseSequence:
        """Evaluate at normalised phases (any real numbers; looping wraps them)."""
        phase = np.asarray(phase, dtype=np.float64)
        phase = np.mod(phase, 1.0) if self.loop else np.clip(phase, 0.0, 1.0)
        amplitudes = amplitudes or {}
        scale: dict[str, float] = {}
        for amp_name, (_, channel_names) in self.amplitudes.items():
            for channel in channel_names:
                scale[channel] = scale.get(channel, 1.0) * float(amplitudes.get(amp_name, 1.0))
        values = {}
        for name, keys in self.channels.items():
            v = _interpolate(self.times, keys, phase, self.loop)
            if name in scale:
                mean = keys.mean(axis=0)
                v = mean + scale[name] * (v - mean)
            values[name] = v
        n = len(phase)
        pose = PoseSequence.rest(n)
        spherical = [name for name in SPHERICAL if name in values]
        if spherical:  # all joints in one call: numpy's per-call cost dominates at these sizes
            quats = rot.from_euler_xyz_deg(np.stack([values[name] for name in spherical]))
            pose.joints.update(zip(spherical, quats))
        for name in REVOLUTE:
            if name in values:
                lo, hi = REVOLUTE_LIMITS[name]
                pose.joints[name] = np.clip(np.radians(values[name]), lo, hi)[:, None]
        zeros = np.zeros(n)
        pitch = np.radians(values.get("root_pitch", zeros))
        roll = np.radians(values.get("root_roll", zeros))
        yaw = np.radians(values.get("root_yaw", zeros))
        # Positive pitch leans forward: rotate +y towards +x, i.e. negative angle about +z.
        pose.root_rot = rot.from_euler_xyz_deg(np.degrees(np.stack([roll, yaw, -pitch], axis=-1)))
        pose.root_pos[:, 0] += values.get("root_forward", zeros)
        pose.root_pos[:, 2] += values.get("root_side", zeros)
        pose.lift = np.maximum(values.get("root_height", zeros), 0.0)
        pose.ground = True
        return pose


def _interpolate(times: np.ndarray, keys: np.ndarray, phase: np.ndarray, loop: bool) -> np.ndarray:
    """Catmull-Rom spline through the keyframes (periodic when looping) for smooth motion."""
    k = len(times)
    if k == 1:
        return np.repeat(keys[:1], len(phase), axis=0)
    if loop:
        ext_t = np.concatenate([times[-2:] - 1.0, times, times[:2] + 1.0])
        ext_v = np.concatenate([keys[-2:], keys, keys[:2]])
        offset = 2
    else:
        ext_t = np.concatenate([[times[0] - 1e-3], times, [times[-1] + 1e-3]])
        ext_v = np.concatenate([keys[:1], keys, keys[-1:]])
        offset = 1
        phase = np.clip(phase, times[0], times[-1])
    seg = np.searchsorted(ext_t, phase, side="right") - 1
    seg = np.clip(seg, offset - 1 if loop else offset, len(ext_t) - 3)
    t0, t1 = ext_t[seg], ext_t[seg + 1]
    u = np.clip((phase - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)
    p0, p1, p2, p3 = ext_v[seg - 1], ext_v[seg], ext_v[seg + 1], ext_v[seg + 2]
    if keys.ndim == 2:
        u = u[:, None]
    u2, u3 = u * u, u * u * u
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2 + (-p0 + 3 * p1 - 3 * p2 + p3) * u3)


def load_program(path: str | Path) -> MotionProgram:
    path = Path(path)
    return parse_program(load_yaml(path), path)


def parse_program(data, path: Path | None = None) -> MotionProgram:
    file = str(path) if path else "<motion program>"

    def fail(field: str, message: str):
        raise SimgenError(message, file=file, field=field)

    if not isinstance(data, dict):
        fail("<top>", "expected a mapping with name, cycle_seconds and keyframes")
    unknown = set(data) - TOP_LEVEL_FIELDS
    if unknown:
        fail(sorted(unknown)[0], f"unknown field; allowed: {', '.join(sorted(TOP_LEVEL_FIELDS))}")
    name = data.get("name") or (path.stem if path else None)
    if not isinstance(name, str) or not name:
        fail("name", "must be a non-empty string")
    cycle = data.get("cycle_seconds", 1.0)
    if not is_finite_number(cycle) or not 0.05 <= cycle <= 60:
        fail("cycle_seconds", f"must be a number in [0.05, 60], got {cycle!r}")
    keyframes = data.get("keyframes")
    if not isinstance(keyframes, list) or not keyframes:
        fail("keyframes", "must be a non-empty list")
    channel_names: list[str] | None = None
    times = []
    values: dict[str, list] = {}
    for i, frame in enumerate(keyframes):
        where = f"keyframes[{i}]"
        if not isinstance(frame, dict) or "t" not in frame:
            fail(where, "each keyframe needs a 't' (normalised time in [0, 1))")
        t = frame["t"]
        if not is_finite_number(t) or not 0 <= t < 1:
            fail(f"{where}.t", f"must be in [0, 1), got {t!r}")
        if times and t <= times[-1]:
            fail(f"{where}.t", f"keyframe times must increase strictly ({t} after {times[-1]})")
        times.append(float(t))
        for k in frame:
            if not isinstance(k, str):
                fail(f"{where}.{k}", "joint names must be text")
        names = sorted(k for k in frame if k != "t")
        for k in names:
            if k not in MOVABLE and k not in ROOT_CHANNELS:
                fail(f"{where}.{k}", f"unknown joint; known: {', '.join(MOVABLE + ROOT_CHANNELS)}")
        if channel_names is None:
            channel_names = names
            if not names:
                fail(where, "sets no joint")
        elif names != channel_names:
            missing = sorted(set(channel_names) - set(names))
            extra = sorted(set(names) - set(channel_names))
            detail = f"lacks joint {missing[0]}" if missing else f"sets joint {extra[0]} that keyframes[0] does not"
            fail(where, f"{detail}: every keyframe must set the same joints")
        for k in names:
            v = frame[k]
            if k in SPHERICAL:
                # finite too: a NaN angle would put NaN in every keypoint and camera matrix
                if not (isinstance(v, list) and len(v) == 3 and all(is_finite_number(x) for x in v)):
                    fail(f"{where}.{k}", f"spherical joint takes [x, y, z] finite degrees, got {v!r}")
            else:
                if not is_finite_number(v):
                    fail(f"{where}.{k}", f"takes one finite number, got {v!r}")
                if k in REVOLUTE:
                    lo, hi = (np.degrees(x) for x in REVOLUTE_LIMITS[k])
                    if not lo - 1e-6 <= v <= hi + 1e-6:
                        fail(f"{where}.{k}", f"{v} degrees is outside the joint's limits [{lo:.0f}, {hi:.0f}]")
            values.setdefault(k, []).append(v)
    amplitudes = {}
    raw_amps = data.get("amplitudes") or {}
    if not isinstance(raw_amps, dict):
        fail("amplitudes", "must be a mapping name -> {range: [min, max], channels: [...]}")
    for amp_name, amp in raw_amps.items():
        field = f"amplitudes.{amp_name}"
        if not isinstance(amp, dict) or "range" not in amp or "channels" not in amp:
            fail(field, "needs 'range' and 'channels'")
        r = amp["range"]
        if not (isinstance(r, list) and len(r) == 2 and all(is_finite_number(x) for x in r) and 0 <= r[0] <= r[1]):
            fail(f"{field}.range", f"must be [min, max] with 0 <= min <= max, got {r!r}")
        if not isinstance(amp["channels"], list):
            fail(f"{field}.channels", f"must be a list of animated joints, got {amp['channels']!r}")
        for c in amp["channels"]:
            if c not in (channel_names or []):
                fail(f"{field}.channels", f"'{c}' is not animated by the keyframes")
        amplitudes[amp_name] = ((float(r[0]), float(r[1])), tuple(amp["channels"]))
    loop = data.get("loop", True)
    if not isinstance(loop, bool):
        fail("loop", f"must be true or false, got {loop!r}")
    return MotionProgram(
        name=name,
        description=str(data.get("description", "")),
        cycle_seconds=float(cycle),
        loop=loop,
        times=np.asarray(times),
        channels={k: np.asarray(v, dtype=np.float64) for k, v in values.items()},
        amplitudes=amplitudes,
        path=path,
    )

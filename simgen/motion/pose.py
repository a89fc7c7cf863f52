"""A pose sequence: root trajectory plus joint rotations for T frames, and operations on it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simgen import rotations as rot
from simgen.motion.skeleton import MOVABLE, REVOLUTE, SPHERICAL, mirror_name


@dataclass
class PoseSequence:
    """Kinematic target for T frames.

    Attributes:
        root_pos: float[T, 3], metres, in the default body's scale.
        root_rot: float[T, 4], (x, y, z, w).
        joints: name -> float[T, 4] (spherical) or float[T, 1] (revolute, radians).
        ground: whether the feet should be put on the floor frame by frame (motion
            programs) rather than trusting the root height (motion capture).
        lift: float[T], extra height above the grounded position (jumps).
    """

    root_pos: np.ndarray
    root_rot: np.ndarray
    joints: dict[str, np.ndarray]
    ground: bool = True
    lift: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.root_pos)

    @classmethod
    def rest(cls, frames: int) -> "PoseSequence":
        joints = {n: np.tile(rot.IDENTITY, (frames, 1)) for n in SPHERICAL}
        joints.update({n: np.zeros((frames, 1)) for n in REVOLUTE})
        return cls(
            root_pos=np.tile([0.0, 0.847, 0.0], (frames, 1)),
            root_rot=np.tile(rot.IDENTITY, (frames, 1)),
            joints=joints,
            lift=np.zeros(frames),
        )

    def mirrored(self) -> "PoseSequence":
        """Swap left and right: reflect through the body's sagittal (x-y) plane."""
        pos = self.root_pos.copy()
        pos[:, 2] *= -1
        joints = {}
        for name, values in self.joints.items():
            target = mirror_name(name)
            joints[target] = rot.mirror_z(values) if values.shape[1] == 4 else values.copy()
        return PoseSequence(pos, rot.mirror_z(self.root_rot), joints, self.ground, self.lift, list(self.labels))

    def with_amplitude(self, factor: float) -> "PoseSequence":
        """Scale every joint rotation away from the rest pose by `factor`."""
        joints = {name: values * factor for name, values in self.joints.items() if values.shape[1] != 4}
        spherical = [name for name, values in self.joints.items() if values.shape[1] == 4]
        if spherical:  # one call for all joints (numpy's per-call cost dominates at these sizes)
            joints.update(zip(spherical, rot.scale_rotation(np.stack([self.joints[n] for n in spherical]), factor)))
        joints = {name: joints[name] for name in self.joints}  # the original order
        return PoseSequence(self.root_pos, self.root_rot, joints, self.ground, self.lift, list(self.labels))


def _blend_rotations(qa: np.ndarray, qb: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slerp two animated rotation tracks along one continuous path.

    Taking the shortest arc frame by frame jumps when the two rotations pass 180 degrees
    apart; instead both tracks are made sign-continuous and b's sign is fixed once, where
    the blend starts.
    """
    qa, qb = rot.sign_continuous(qa), rot.sign_continuous(qb)
    moving = np.flatnonzero((w > 0) & (w < 1))
    start = moving[0] if len(moving) else 0
    if np.dot(qa[start], qb[start]) < 0:
        qb = -qb
    return rot.slerp(qa, qb, w, shortest=False)


def blend(a: PoseSequence, b: PoseSequence, weight: np.ndarray) -> PoseSequence:
    """Per-frame blend: weight 0 gives a, 1 gives b (slerp for rotations)."""
    w = np.asarray(weight, dtype=np.float64)
    joints = {}
    for name in MOVABLE:
        qa, qb = a.joints[name], b.joints[name]
        joints[name] = _blend_rotations(qa, qb, w) if qa.shape[1] == 4 else qa * (1 - w[:, None]) + qb * w[:, None]
    lift_a = a.lift if a.lift is not None else np.zeros(len(a))
    lift_b = b.lift if b.lift is not None else np.zeros(len(b))
    return PoseSequence(
        root_pos=a.root_pos * (1 - w[:, None]) + b.root_pos * w[:, None],
        root_rot=_blend_rotations(a.root_rot, b.root_rot, w),
        joints=joints,
        ground=a.ground and b.ground,
        lift=lift_a * (1 - w) + lift_b * w,
    )


def pose_between(pose: PoseSequence, t: int, w: float) -> PoseSequence:
    """A one-frame pose a share w of the way from frame t-1 to frame t (for sub-frame renders)."""
    a = max(t - 1, 0)
    joints = {}
    for name, values in pose.joints.items():
        pair = values[[a, t]]
        joints[name] = rot.slerp(pair[0], pair[1], w)[None] if values.shape[1] == 4 else (pair[0] * (1 - w) + pair[1] * w)[None]
    return PoseSequence(
        root_pos=(pose.root_pos[a] * (1 - w) + pose.root_pos[t] * w)[None],
        root_rot=rot.slerp(pose.root_rot[a], pose.root_rot[t], w)[None],
        joints=joints,
        ground=pose.ground,
    )

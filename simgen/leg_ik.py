"""Two-link inverse kinematics for the humanoid's legs (hip, knee, ankle)."""

from __future__ import annotations

import numpy as np

from simgen import rotations as rot
from simgen.motion.skeleton import JOINT_INDEX

LEGS = (("right_hip", "right_knee", "right_ankle"), ("left_hip", "left_knee", "left_ankle"))
_KNEE_AXIS = np.array([0.0, 0.0, 1.0])


class LegGeometry:
    """Where the hips sit on the pelvis and the thigh and shin vectors, read from the body
    itself (posed at rest, at the origin): the inverse kinematics fits any body shape.
    Leaves the body in that rest pose."""

    def __init__(self, client, body: int):
        client.resetBasePositionAndOrientation(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
        names = [n for leg in LEGS for n in leg]
        values = [[0.0] if "knee" in n else [0.0, 0.0, 0.0, 1.0] for n in names]
        client.resetJointStatesMultiDof(body, [JOINT_INDEX[n] for n in names], values)
        origin = np.asarray(client.getBasePositionAndOrientation(body)[0])
        at = {n: np.asarray(client.getLinkState(body, JOINT_INDEX[n], computeForwardKinematics=1)[4]) - origin for n in names}
        self.hip = [at[leg[0]] for leg in LEGS]  # in the pelvis (base) frame
        self.thigh = [at[leg[1]] - at[leg[0]] for leg in LEGS]  # hip to knee, in the hip's frame
        self.shin = [at[leg[2]] - at[leg[1]] for leg in LEGS]  # knee to ankle, in the knee's frame


def _conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def _arc(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The shortest rotations taking directions u[..., 3] to directions v[..., 3]."""
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(s, np.sum(u * v, axis=-1, keepdims=True))
    unit = np.where(s > 1e-9, axis / np.maximum(s, 1e-12), [1.0, 0.0, 0.0])
    return np.concatenate([unit * np.sin(angle / 2), np.cos(angle / 2)], axis=-1)


def knee_for_reach(a: np.ndarray, b: np.ndarray, d, near):
    """The knee angles k in [-pi, 0] (knees bend backwards), nearest `near`, at which
    hip-to-ankle, a + Rz(k) b, is d long; as near as the leg allows where it cannot be.
    `d`, `near`: floats or float[N]."""
    # |a + Rz(k) b|^2 = |a|^2 + |b|^2 + 2 (A cos k + B sin k + a_z b_z)
    big_a = a[0] * b[0] + a[1] * b[1]
    big_b = a[1] * b[0] - a[0] * b[1]
    d, near = np.asarray(d, dtype=np.float64), np.asarray(near, dtype=np.float64)
    want = (d * d - a @ a - b @ b) / 2.0 - a[2] * b[2]
    r, phi = float(np.hypot(big_a, big_b)), float(np.arctan2(big_b, big_a))
    spread = np.arccos(np.clip(want / max(r, 1e-9), -1.0, 1.0))
    options = np.stack([(phi + spread + np.pi) % (2 * np.pi) - np.pi, (phi - spread + np.pi) % (2 * np.pi) - np.pi])
    valid = (options >= -np.pi) & (options <= 0.0)
    cost = np.where(valid, np.abs(options - near), np.inf)
    best = np.take_along_axis(options, np.argmin(cost, axis=0)[None], axis=0)[0]
    return np.where(valid.any(axis=0), best, np.clip(phi, -np.pi, 0.0))


def reach(geometry: LegGeometry, leg: int, root_pos, root_rot, hip_q, knee, ankle_q, ankle_target):
    """Hip quaternion, knee angle and ankle quaternion that put leg `leg`'s ankle at
    `ankle_target` (world) with the pelvis at (root_pos, root_rot), from the given angles:
    the knee's swivel is kept and the foot keeps its world orientation. One pose, or N
    at once (arrays with a leading N axis)."""
    root_rot, hip_q, ankle_q = (np.asarray(q, dtype=np.float64) for q in (root_rot, hip_q, ankle_q))
    knee = np.asarray(knee, dtype=np.float64)
    hip_world = np.asarray(root_pos) + rot.rotate(root_rot, geometry.hip[leg])
    v = np.asarray(ankle_target) - hip_world
    new_knee = knee_for_reach(geometry.thigh[leg], geometry.shin[leg], np.linalg.norm(v, axis=-1), knee)
    in_hip = geometry.thigh[leg] + rot.rotate(rot.from_axis_angle(_KNEE_AXIS, new_knee), geometry.shin[leg])
    pelvis_hip = rot.multiply(root_rot, hip_q)
    new_hip = rot.normalize(rot.multiply(_conj(root_rot), rot.multiply(_arc(rot.rotate(pelvis_hip, in_hip), v), pelvis_hip)))
    foot = rot.multiply(pelvis_hip, rot.multiply(rot.from_axis_angle(_KNEE_AXIS, knee), ankle_q))
    shank = rot.multiply(root_rot, rot.multiply(new_hip, rot.from_axis_angle(_KNEE_AXIS, new_knee)))
    return new_hip, new_knee, rot.normalize(rot.multiply(_conj(shank), foot))

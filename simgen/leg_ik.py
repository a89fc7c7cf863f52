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
    return np.array([-q[0], -q[1], -q[2], q[3]])


def _arc(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The shortest rotation taking direction u to direction v."""
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    axis = np.cross(u, v)
    s = float(np.linalg.norm(axis))
    if s < 1e-9:
        return rot.IDENTITY.copy()
    return rot.from_axis_angle(axis, np.arctan2(s, float(np.dot(u, v))))


def knee_for_reach(a: np.ndarray, b: np.ndarray, d: float, near: float) -> float:
    """The knee angle k in [-pi, 0] (knees bend backwards), nearest `near`, at which
    hip-to-ankle, a + Rz(k) b, is d long; as near as the leg allows when it cannot be."""
    # |a + Rz(k) b|^2 = |a|^2 + |b|^2 + 2 (A cos k + B sin k + a_z b_z)
    big_a = a[0] * b[0] + a[1] * b[1]
    big_b = a[1] * b[0] - a[0] * b[1]
    want = (d * d - a @ a - b @ b) / 2.0 - a[2] * b[2]
    r, phi = float(np.hypot(big_a, big_b)), float(np.arctan2(big_b, big_a))
    spread = float(np.arccos(np.clip(want / max(r, 1e-9), -1.0, 1.0)))
    options = [(phi + s + np.pi) % (2 * np.pi) - np.pi for s in (spread, -spread)]
    options = [k for k in options if -np.pi <= k <= 0.0] or [float(np.clip(phi, -np.pi, 0.0))]
    return float(min(options, key=lambda k: abs(k - near)))


def reach(geometry: LegGeometry, leg: int, root_pos, root_rot, hip_q, knee: float, ankle_q, ankle_target) -> tuple[np.ndarray, float, np.ndarray]:
    """Hip quaternion, knee angle and ankle quaternion that put leg `leg`'s ankle at
    `ankle_target` (world) with the pelvis at (root_pos, root_rot), from the given angles:
    the knee's swivel is kept and the foot keeps its world orientation."""
    hip_world = np.asarray(root_pos) + rot.rotate(root_rot, geometry.hip[leg])
    v = np.asarray(ankle_target) - hip_world
    new_knee = knee_for_reach(geometry.thigh[leg], geometry.shin[leg], float(np.linalg.norm(v)), knee)
    in_hip = geometry.thigh[leg] + rot.rotate(rot.from_axis_angle(_KNEE_AXIS, new_knee), geometry.shin[leg])
    pelvis_hip = rot.multiply(root_rot, hip_q)
    new_hip = rot.normalize(rot.multiply(_conj(root_rot), rot.multiply(_arc(rot.rotate(pelvis_hip, in_hip), v), pelvis_hip)))
    foot = rot.multiply(pelvis_hip, rot.multiply(rot.from_axis_angle(_KNEE_AXIS, knee), ankle_q))
    shank = rot.multiply(root_rot, rot.multiply(new_hip, rot.from_axis_angle(_KNEE_AXIS, new_knee)))
    return new_hip, new_knee, rot.normalize(rot.multiply(_conj(shank), foot))

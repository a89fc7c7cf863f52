"""Keep the target's legs from passing through each other.

Motion capture was recorded on a thin skeleton; the bodies made here have thicker limbs
(`actor.limb_girth` 1.2-1.6) and wider hips. In the shipped punch the stepping foot then
brushes through the standing shin in 24 of 30 draws (17 by more than 3 cm). A simulated
foot cannot do that: it catches on the shin, the step lands ~0.6 m short of its target
and the body is dragged after it (skating 2-4 m/s). Where the legs come closer than the
spec's `actor.leg_clearance_m`, the leg in the air (the higher ankle) is turned outward
at the hip (abduction) just far enough, and the turn is eased in and out over
neighbouring frames. The target keypoints, the joint motors and a kinematic (physics
off) clip all follow the corrected pose.
"""

from __future__ import annotations

import numpy as np

from simgen import rotations as rot
from simgen.leg_ik import LEGS
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import JOINT_INDEX

# The turn is eased in and out over this long either side of the frames that need it.
EASE_S = 0.2
# Abduction: about the pelvis's forward (x) axis, outward for each side (+z is the right).
OUTWARD = (np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]))
MAX_TURN_RAD = np.radians(20.0)


def legs_gap(client, body: int, margin: float) -> tuple[float, np.ndarray | None, int]:
    """The smallest signed distance (m) between a right-leg and a left-leg link, if under
    `margin`: (gap, the closest point on the higher leg's link, which leg is higher: 0
    right, 1 left). (margin, None, -1) when the legs are at least `margin` apart."""
    best, point, leg = margin, None, -1
    ankles = [client.getLinkState(body, JOINT_INDEX[side[2]])[4][1] for side in LEGS]
    higher = int(ankles[1] > ankles[0])
    for a in LEGS[0]:
        for b in LEGS[1]:
            for c in client.getClosestPoints(body, body, margin, JOINT_INDEX[a], JOINT_INDEX[b]):
                if c[8] < best:
                    best, point = c[8], np.asarray(c[5] if higher == 0 else c[6])
    return best, point, (higher if point is not None else -1)


def clear_legs(actor, pose: PoseSequence, fps: float, margin: float) -> PoseSequence:
    """`pose` with each hip turned outward where the legs would otherwise come closer than
    `margin` (m). Poses the actor (kinematically, at the origin)."""
    client, body = actor.client, actor.body
    frames = len(pose)
    need = np.zeros((frames, 2))  # radians of abduction per frame, per leg
    for t in range(frames):
        for _ in range(8):  # the turn is a linear guess, and can bring another pair closer: check again
            actor.set_pose(_turned(pose, need[t], t), 0, np.zeros(3))
            gap, point, leg = legs_gap(client, body, margin)
            if point is None:
                break
            hip = np.asarray(client.getLinkState(body, JOINT_INDEX[LEGS[leg][0]])[4])
            lever = max(float(np.linalg.norm(point - hip)), 0.1)
            need[t, leg] = min(need[t, leg] + (margin - gap) / lever, MAX_TURN_RAD)
    if not need.any():
        return pose
    eased = ease(need, max(int(round(EASE_S * fps)), 1))
    joints = dict(pose.joints)
    for leg, side in enumerate(LEGS):
        if eased[:, leg].any():
            turn = rot.from_axis_angle(OUTWARD[leg], eased[:, leg])
            joints[side[0]] = rot.multiply(turn, pose.joints[side[0]])
    return PoseSequence(pose.root_pos, pose.root_rot, joints, pose.ground, pose.lift, list(pose.labels))


def _turned(pose: PoseSequence, angles: np.ndarray, t: int) -> PoseSequence:
    """Frame t of `pose` alone, hips turned outward by `angles` (right, left; radians)."""
    joints = {name: values[t : t + 1] for name, values in pose.joints.items()}
    for leg, side in enumerate(LEGS):
        if angles[leg]:
            joints[side[0]] = rot.multiply(rot.from_axis_angle(OUTWARD[leg], angles[leg]), joints[side[0]])
    return PoseSequence(pose.root_pos[t : t + 1], pose.root_rot[t : t + 1], joints, pose.ground)


def ease(need: np.ndarray, width: int) -> np.ndarray:
    """Per column, the smallest curve at or above `need` that ramps up and down over
    `width` frames (a max of smoothstep tents): no frame's turn is cut short."""
    frames = len(need)
    out = need.copy()
    offsets = np.arange(-width, width + 1)
    x = 1.0 - np.abs(offsets) / (width + 1)
    tent = x * x * (3.0 - 2.0 * x)
    for t in np.flatnonzero(need.any(axis=1)):
        lo, hi = max(t - width, 0), min(t + width + 1, frames)
        window = tent[lo - (t - width) : hi - (t - width)]
        out[lo:hi] = np.maximum(out[lo:hi], need[t][None, :] * window[:, None])
    return out

"""Lift a moving foot clear of the floor in the physics target.

A simulated body sits a few centimetres lower than its target and pitches a few degrees
further forward (its knees give under load; see the README's physics section), so a
stepping foot that the motion capture swings low over the floor touches it early, is
dragged along it (skating) and holds the body back (the root assist then pulls it along).
Where a foot moves more than SLOW_MPS faster than the other one, its ankle is raised by
inverse kinematics (hip and knee; the foot keeps its orientation) until the foot's lowest
point is `physics.swing_clearance_m` above the floor (in full from FAST_MPS, none at
SLOW_MPS), eased in and out. A standing foot is left where the target puts it. Physics clips only:
a posed (kinematic) clip keeps the motion as captured.
"""

from __future__ import annotations

import numpy as np

from simgen.leg_clearance import ease
from simgen.leg_ik import LEGS, LegGeometry, reach
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import JOINT_INDEX

SLOW_MPS = 0.1  # m/s: a foot moving this fast (and this much faster than the other) gets lift ...
FAST_MPS = 0.3  # ... from this fast, all of it
EASE_S = 0.12


def foot_heights(actor, pose: PoseSequence, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame and foot (right, left): the lowest point's height float[T, 2] and the
    ankle's world position float[T, 2, 3], with the body posed at `offset`."""
    client, body = actor.client, actor.body
    lowest, ankles = np.zeros((len(pose), 2)), np.zeros((len(pose), 2, 3))
    for t in range(len(pose)):
        actor.set_pose(pose, t, offset[t])
        for leg, names in enumerate(LEGS):
            link = JOINT_INDEX[names[2]]
            lowest[t, leg] = client.getAABB(body, link)[0][1]
            ankles[t, leg] = client.getLinkState(body, link, computeForwardKinematics=1)[4]
    return lowest, ankles


def lift_swing_feet(actor, pose: PoseSequence, offset: np.ndarray, fps: float, clearance_m: float) -> PoseSequence:
    """`pose` with moving feet lifted (see the module). `offset`: float[T, 3], the per-frame
    root offsets that put the pose on the floor. Poses the actor."""
    lowest, ankles = foot_heights(actor, pose, offset)
    frames = len(pose)
    speed = np.linalg.norm(np.gradient(ankles[:, :, [0, 2]], axis=0), axis=2) * fps if frames > 1 else np.zeros((frames, 2))
    swinging = speed > speed[:, ::-1] + SLOW_MPS
    want = clearance_m * np.clip((speed - SLOW_MPS) / (FAST_MPS - SLOW_MPS), 0.0, 1.0)
    need = np.where(swinging, np.clip(want - lowest, 0.0, None), 0.0)
    if not need.any():
        return pose
    lift = ease(need, max(int(round(EASE_S * fps)), 1))
    geometry = LegGeometry(actor.client, actor.body)
    joints = {name: values.copy() for name, values in pose.joints.items()}
    root_pos = pose.root_pos * actor.shape.size_scale + offset
    for leg, (hip, knee, ankle) in enumerate(LEGS):
        t = np.flatnonzero(lift[:, leg])
        if len(t):
            goal = ankles[t, leg] + lift[t, leg, None] * np.array([0.0, 1.0, 0.0])
            new_hip, new_knee, new_ankle = reach(geometry, leg, root_pos[t], pose.root_rot[t], joints[hip][t], joints[knee][t, 0], joints[ankle][t], goal)
            joints[hip][t], joints[knee][t, 0], joints[ankle][t] = new_hip, new_knee, new_ankle
    return PoseSequence(pose.root_pos, pose.root_rot, joints, pose.ground, pose.lift, list(pose.labels))

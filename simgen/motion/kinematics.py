"""Forward kinematics of the stock humanoid in numpy: keypoints of a pose sequence without a
physics world, for planning (how far apart two poses are, how fast joints move).

Matches `Actor.keypoints_world` for the default body with no offsets (tests/simgen/test_sequence.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache

import numpy as np

from simgen import rotations as rot
from simgen.body import BASE_SCALE, _stock_urdf_text
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import JOINTS, REVOLUTE

HEAD_OFFSET = np.array([0.0, 0.7, 0.0])  # the head sphere's centre in the neck link's frame (URDF units)


@lru_cache(maxsize=1)
def _chain() -> tuple[list[int], np.ndarray]:
    """Per joint (JOINTS order): its parent joint's index (-1 for the base) and its origin
    float[J, 3] in the parent link's frame, in metres of the default body."""
    root = ET.fromstring(_stock_urdf_text())
    joints = {j.attrib["name"]: j for j in root.iter("joint")}
    link_joint = {j.find("child").attrib["link"]: name for name, j in joints.items()}
    index = {name: i for i, (name, _) in enumerate(JOINTS)}
    parents, origins = [], []
    for name, _ in JOINTS:
        joint = joints[name]
        parents.append(index.get(link_joint.get(joint.find("parent").attrib["link"]), -1))
        origin = joint.find("origin")
        origins.append([float(v) for v in origin.attrib["xyz"].split()] if origin is not None else [0.0, 0.0, 0.0])
    return parents, np.asarray(origins) * BASE_SCALE


def keypoints(pose: PoseSequence) -> np.ndarray:
    """float[T, J, 3]: the KEYPOINT_NAMES positions of the default body in every frame of
    `pose` (root path as given, in the default body's metres, no floor offsets)."""
    parents, origins = _chain()
    frames = len(pose)
    pos = np.zeros((frames, len(JOINTS), 3))
    quat = np.zeros((frames, len(JOINTS), 4))
    for i, (name, kind) in enumerate(JOINTS):
        if parents[i] < 0:
            base_pos, base_rot = pose.root_pos, pose.root_rot
        else:
            base_pos, base_rot = pos[:, parents[i]], quat[:, parents[i]]
        pos[:, i] = base_pos + rot.rotate(base_rot, np.broadcast_to(origins[i], (frames, 3)))
        if kind == "spherical":
            local = pose.joints[name]
        elif name in REVOLUTE:
            local = rot.from_axis_angle([0.0, 0.0, 1.0], pose.joints[name][:, 0])
        else:
            local = np.tile(rot.IDENTITY, (frames, 1))
        quat[:, i] = rot.multiply(base_rot, local)
    neck = [n for n, _ in JOINTS].index("neck")
    head = pos[:, neck] + rot.rotate(quat[:, neck], np.broadcast_to(HEAD_OFFSET * BASE_SCALE, (frames, 3)))
    return np.concatenate([pos, head[:, None]], axis=1)


def joint_speeds(points: np.ndarray, fps: float) -> np.ndarray:
    """float[T-1]: the fastest keypoint's speed (m/s) over each frame step of points float[T, J, 3]."""
    return np.linalg.norm(np.diff(points, axis=0), axis=2).max(axis=1) * fps

"""The DeepMimic humanoid's joints, in pybullet joint-index order.

World convention (DeepMimic's): +y is up, the actor faces +x, its right side is +z.
"""

from __future__ import annotations

# (name, kind): "spherical" joints take a quaternion, "revolute" joints one angle in radians.
JOINTS: tuple[tuple[str, str], ...] = (
    ("root", "fixed"),
    ("chest", "spherical"),
    ("neck", "spherical"),
    ("right_hip", "spherical"),
    ("right_knee", "revolute"),
    ("right_ankle", "spherical"),
    ("right_shoulder", "spherical"),
    ("right_elbow", "revolute"),
    ("right_wrist", "fixed"),
    ("left_hip", "spherical"),
    ("left_knee", "revolute"),
    ("left_ankle", "spherical"),
    ("left_shoulder", "spherical"),
    ("left_elbow", "revolute"),
    ("left_wrist", "fixed"),
)
JOINT_INDEX = {name: i for i, (name, _) in enumerate(JOINTS)}
MOVABLE = tuple(name for name, kind in JOINTS if kind != "fixed")
SPHERICAL = tuple(name for name, kind in JOINTS if kind == "spherical")
REVOLUTE = tuple(name for name, kind in JOINTS if kind == "revolute")

# Keypoints written to the annotations: every link frame (the joint centres) plus the head.
KEYPOINT_NAMES: tuple[str, ...] = ("pelvis",) + tuple(name for name, _ in JOINTS[1:]) + ("head",)


def mirror_name(name: str) -> str:
    """left_x <-> right_x; other names unchanged."""
    if name.startswith("left_"):
        return "right_" + name[len("left_"):]
    if name.startswith("right_"):
        return "left_" + name[len("right_"):]
    return name


# Revolute limits (radians) from the URDF; knees bend backwards (negative), elbows forwards.
REVOLUTE_LIMITS = {
    "right_knee": (-3.14, 0.0),
    "left_knee": (-3.14, 0.0),
    "right_elbow": (0.0, 3.14),
    "left_elbow": (0.0, 3.14),
}

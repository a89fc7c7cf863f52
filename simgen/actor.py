"""The actor: a DeepMimic humanoid in a PyBullet world, posed frame by frame."""

from __future__ import annotations

import os
import tempfile

import numpy as np
from simgen.native import pybullet as p

from simgen.body import BodyShape, body_urdf
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import JOINT_INDEX, MOVABLE
from simgen.visibility import world_aabb

# Which links wear which colour.
CLOTHING = {
    "skin": ("neck", "right_wrist", "left_wrist"),
    "shirt": ("chest", "right_shoulder", "left_shoulder"),
    "sleeves": ("right_elbow", "left_elbow"),
    "trousers": ("root", "right_hip", "left_hip", "right_knee", "left_knee"),
    "shoes": ("right_ankle", "left_ankle"),
}
_MOVABLE_INDICES = [JOINT_INDEX[n] for n in MOVABLE]


class Actor:
    """One humanoid body in client `client`. Poses are set kinematically (`set_pose`)."""

    def __init__(self, client, shape: BodyShape, colors: dict, textures: dict[str, int] | None = None):
        """`colors`: part -> rgb (CLOTHING parts) and optionally colors["textures"]: part -> bank
        texture name; `textures`: the world's texture bank (name -> id)."""
        self.client = client
        self.shape = shape
        fd, path = tempfile.mkstemp(suffix=".urdf", prefix="simgen_body_")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(body_urdf(shape))
            self.body = client.loadURDF(
                path,
                [0, 1, 0],
                globalScaling=shape.global_scale,
                # Self-collision between limbs (not between a link and its ancestors, which
                # touch by construction).
                flags=p.URDF_MAINTAIN_LINK_ORDER | p.URDF_USE_SELF_COLLISION | p.URDF_USE_SELF_COLLISION_EXCLUDE_ALL_PARENTS,
            )
        finally:
            os.unlink(path)
        self.num_links = client.getNumJoints(self.body)
        patterns = dict(colors.get("textures", {}))
        if colors["sleeves"] == colors["shirt"]:  # long sleeves are cut from the shirt's fabric
            patterns["sleeves"] = patterns.get("shirt", "plain")
        for part, links in CLOTHING.items():
            options = {"rgbaColor": list(colors[part]) + [1.0]}
            if textures:
                options["textureUniqueId"] = textures[patterns.get(part, "plain")]
            for link in links:
                client.changeVisualShape(self.body, JOINT_INDEX[link], **options)

    def set_pose(self, pose: PoseSequence, frame: int, offset: np.ndarray) -> None:
        """Put the body in frame `frame` of `pose`, translated by `offset` (world metres)."""
        pos = pose.root_pos[frame] * self.shape.size_scale + offset
        self.client.resetBasePositionAndOrientation(self.body, pos.tolist(), pose.root_rot[frame].tolist())
        values = [pose.joints[n][frame].tolist() for n in MOVABLE]
        self.client.resetJointStatesMultiDof(self.body, _MOVABLE_INDICES, values)

    def aabb(self) -> tuple[np.ndarray, np.ndarray]:
        """World box (lo float[3], hi float[3]) around all links."""
        lo, hi = world_aabb(self.client, self.body)
        return lo, hi

    def feet(self) -> list[dict]:
        """Per foot (right, left): `lowest` point y, the foot's `pose` (position float[3],
        quaternion float[4]) and its `contacts`, float[K, 3] world points where it touches
        anything but the actor (from the contact solver, not a height guess)."""
        out = []
        for name in ("right_ankle", "left_ankle"):
            link = JOINT_INDEX[name]
            state = self.client.getLinkState(self.body, link)
            points = [c[5] for c in self.client.getContactPoints(bodyA=self.body, linkIndexA=link) if c[2] != self.body]
            out.append(
                {
                    "lowest": self.client.getAABB(self.body, link)[0][1],
                    "pose": (np.asarray(state[4]), np.asarray(state[5])),
                    "contacts": np.asarray(points, dtype=np.float64).reshape(-1, 3),
                }
            )
        return out

    def keypoints_world(self) -> np.ndarray:
        """float[J, 3]: the link frames (joint centres) in KEYPOINT_NAMES order, then the head."""
        states = self.client.getLinkStates(self.body, list(range(self.num_links)), computeForwardKinematics=1)
        frames = [s[4] for s in states]
        head = states[JOINT_INDEX["neck"]][0]  # the neck link's centre of mass is the head sphere
        return np.asarray(frames + [head], dtype=np.float64)


def ground_offsets(pose: PoseSequence, lowest: np.ndarray, shape: BodyShape) -> np.ndarray:
    """Vertical offsets that put the actor on the floor.

    Motion programs are grounded frame by frame (lowest point on the floor, plus their lift);
    motion capture is shifted once per clip, keeping its own vertical motion (jumps), and
    frames that hover a little (a standing foot) are put down (`stance_snap`).

    Args:
        lowest: float[T], the lowest point of the body when posed without offset.
    """
    if pose.ground:
        lift = pose.lift if pose.lift is not None else np.zeros(len(lowest))
        return -lowest + lift * shape.size_scale
    return -lowest.min() - stance_snap(lowest - lowest.min())


# Motion capture grounded once per clip leaves the standing foot hovering up to ~7 cm in
# other frames (the floor of the capture is not flat, nor the retargeted feet exact); a
# simulated body then sags that far below its root target and the root assist holds it up.
STANCE_SNAP_M = 0.08


def stance_snap(hover: np.ndarray, margin: float | None = None) -> np.ndarray:
    """How far to lower each frame whose lowest point hovers `hover` (m, >= 0) above the
    clip's floor: all of it up to `margin` (a foot that should be standing), then less
    and less, none beyond 2 x margin (a jump keeps its height); continuous throughout."""
    margin = STANCE_SNAP_M if margin is None else margin
    return np.where(hover <= margin, hover, np.clip(2.0 * margin - hover, 0.0, None))


# An ankle within this of its lowest height in the clip is taken to be standing on the floor.
PLANTED_M = 0.03


def planted_feet_shift(ankles: np.ndarray, planted_m: float | None = None) -> np.ndarray:
    """float[T, 2]: a horizontal (x, z) shift per frame that keeps standing feet where they
    stand. Targets often slide a standing foot (a programmed squat folds the legs under a
    root that does not move back; retargeted motion capture slides); a simulated foot
    holds by friction, and the root assist then drags the body after the target. Each frame
    moves by minus the mean slide of the feet standing in it and the frame before.

    Args:
        ankles: float[T, 2, 3], world positions of the two ankles (y up).
    """
    planted_m = PLANTED_M if planted_m is None else planted_m
    height = ankles[:, :, 1]
    planted = height < height.min(axis=0) + planted_m
    shift = np.zeros((len(ankles), 2))
    for t in range(1, len(ankles)):
        both = planted[t] & planted[t - 1]
        slide = (ankles[t, both][:, [0, 2]] - ankles[t - 1, both][:, [0, 2]]).mean(axis=0) if both.any() else 0.0
        shift[t] = shift[t - 1] - slide
    return shift

"""Per-frame ground truth derived from the render: keypoints with visibility, boxes."""

from __future__ import annotations

import cv2
import numpy as np

from simgen.camera import NEAR, CameraPath

ACTOR = 1
_NEIGHBOURS = np.ones((3, 3), np.uint8)
# A joint centre lies inside its limb: up to about a torso's half depth (~0.15 m for the
# bulkiest bodies) behind the actor's own surface where it is seen. Further behind, that
# surface belongs to something in front of it (the torso before the far arm).
DEPTH_TOLERANCE_M = 0.2


def project_keypoints(camera: CameraPath, t: int, points_world: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float[J, 3]: x, y in pixels and a 0/1 visibility flag.

    A keypoint is visible when it projects inside the image, in front of the camera, and
    the pixel it falls on (or one of its 8 neighbours, for limbs a pixel wide) shows the
    actor rather than another object or the ground.
    """
    uv, z = camera.project(t, points_world)
    h, w = mask.shape
    col = np.floor(uv[:, 0]).astype(np.int64)
    row = np.floor(uv[:, 1]).astype(np.int64)
    inside = (z > NEAR) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
    near_actor = cv2.dilate((mask == ACTOR).view(np.uint8), _NEIGHBOURS) > 0
    visible = np.zeros(len(uv), dtype=bool)
    visible[inside] = near_actor[row[inside], col[inside]]
    return np.concatenate([uv, visible[:, None].astype(np.float64)], axis=1)


def in_frame(camera: CameraPath, t: int, points_world: np.ndarray) -> np.ndarray:
    """uint8[J]: 1 where a keypoint projects inside the image in front of the camera,
    whether or not anything hides it (0: cut off by the frame, as in a close-up)."""
    uv, z = camera.project(t, points_world)
    h, w = camera.height, camera.width
    return ((z > NEAR) & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)).astype(np.uint8)


def mask_bbox(mask: np.ndarray, value: int = ACTOR) -> list[int]:
    """[x0, y0, x1, y1] in pixels (x1, y1 exclusive) around the pixels equal to `value`; zeros if none."""
    x, y, w, h = cv2.boundingRect((mask == value).view(np.uint8))
    return [x, y, x + w, y + h] if w else [0, 0, 0, 0]


def depth_visible(camera: CameraPath, t: int, points_world: np.ndarray, mask: np.ndarray, depth: np.ndarray, tolerance_m: float = DEPTH_TOLERANCE_M) -> np.ndarray:
    """uint8[J]: 1 where a keypoint is seen, depth-tested: it projects inside the image, in
    front of the camera, and its pixel or one of its 8 neighbours shows the actor's own
    surface no more than `tolerance_m` in front of it (z along the optical axis). Unlike the
    mask flag of `project_keypoints`, a joint behind the actor's own body (the far arm, seen
    through the torso) is not visible."""
    uv, z = camera.project(t, points_world)
    h, w = mask.shape
    col = np.floor(uv[:, 0]).astype(np.int64)
    row = np.floor(uv[:, 1]).astype(np.int64)
    inside = (z > NEAR) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
    visible = np.zeros(len(uv), dtype=np.uint8)
    # Depth of the actor's surface per pixel, -inf elsewhere; the farthest of each 3x3
    # neighbourhood is the most lenient test for limbs a pixel wide.
    surface = np.where(mask == ACTOR, depth, -np.inf).astype(np.float32)
    farthest = cv2.dilate(surface, _NEIGHBOURS)
    i = np.flatnonzero(inside)
    visible[i] = farthest[row[i], col[i]] >= z[i] - tolerance_m
    return visible

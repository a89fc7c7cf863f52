"""One rendered frame: RGB, metric depth and an instance mask, from pybullet's TinyRenderer."""

from __future__ import annotations

import cv2
import numpy as np
from simgen.native import pybullet as p

from simgen.camera import FAR, NEAR, CameraPath


def render_frame(client, camera: CameraPath, t: int, light: dict, instance_of: dict[int, int], scene=None):
    """Render frame t.

    Args:
        instance_of: pybullet body id -> mask value (1 the actor, 2+ other objects);
            bodies not listed (the ground) and empty pixels become 0.
        scene: composites its background where nothing (or only the ground) was hit;
            None leaves those pixels as rendered (for masks that need no colour).

    Returns:
        rgb uint8[H, W, 3], depth float32[H, W] (z in metres, 0 where nothing was hit),
        mask uint8[H, W].
    """
    w, h = camera.width, camera.height
    _, _, rgba, zbuf, seg = client.getCameraImage(
        w,
        h,
        camera.view_matrix_gl(t),
        camera.projection_matrix_gl(t),
        renderer=p.ER_TINY_RENDERER,
        **light,
    )
    # pybullet hands back flat numpy arrays; OpenCV and table lookups keep this step at a
    # few percent of the render itself (boolean-mask numpy was a tenth of it).
    rgb = cv2.cvtColor(np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4), cv2.COLOR_RGBA2RGB)
    seg = np.asarray(seg, dtype=np.int32).reshape(h, w)
    zbuf = np.asarray(zbuf, dtype=np.float32).reshape(h, w)
    depth = _DEPTH_NUM / (np.float32(FAR) - np.float32(FAR - NEAR) * zbuf)
    depth[seg < 0] = 0.0
    if scene is not None:
        rgb = scene.composite(rgb, seg)
    return rgb, depth, instance_mask(seg, instance_of)


_DEPTH_NUM = np.float32(FAR * NEAR)


def instance_mask(seg: np.ndarray, instance_of: dict[int, int]) -> np.ndarray:
    """uint8 mask from pybullet's segmentation (body ids, -1 for nothing) by table lookup."""
    table = np.zeros(max(instance_of, default=0) + 3, np.uint8)  # index = body id + 1; the last entry is 0
    for body, value in instance_of.items():
        table[body + 1] = value
    return np.take(table, seg + 1, mode="clip")

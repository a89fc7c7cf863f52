"""One rendered frame: RGB, metric depth and an instance mask, from pybullet's TinyRenderer."""

from __future__ import annotations

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
    rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[:, :, :3].copy()
    seg = np.asarray(seg, dtype=np.int32).reshape(h, w)
    zbuf = np.asarray(zbuf, dtype=np.float32).reshape(h, w)
    empty = seg < 0
    depth = (FAR * NEAR / (FAR - (FAR - NEAR) * zbuf)).astype(np.float32)
    depth[empty] = 0.0
    if scene is not None:
        rgb = scene.composite(rgb, seg)
    mask = np.zeros((h, w), np.uint8)
    for body, value in instance_of.items():
        mask[seg == body] = value
    return rgb, depth, mask

"""The world around the actor: ground plane, sky colour, light. Built per clip from factors."""

from __future__ import annotations

import colorsys
import math
import os
import tempfile
from functools import lru_cache

import numpy as np
from simgen.native import pybullet as p

# The DeepMimic convention is y-up; pybullet's plane is z-up, so turn it.
_Z_UP_TO_Y_UP = p.getQuaternionFromEuler([-math.pi / 2, 0, 0])


def hsv_to_rgb(h: float, s: float, v: float) -> list[float]:
    return list(colorsys.hsv_to_rgb(h % 1.0, s, v))


@lru_cache(maxsize=None)
def _texture_file(kind: str) -> str:
    """A small texture image on disk (pybullet loads textures from files): plain white or a checker."""
    import cv2

    size = 64
    if kind == "plain":
        img = np.full((size, size, 3), 255, np.uint8)
    else:
        yy, xx = np.mgrid[:size, :size]
        img = np.where(((yy // 32 + xx // 32) % 2)[..., None] == 0, 255, 150).astype(np.uint8).repeat(3, axis=2)
    path = os.path.join(tempfile.gettempdir(), f"simgen_texture_{kind}_{os.getpid()}.png")
    cv2.imwrite(path, img)
    return path


class Scene:
    """Ground and light for one clip; `light` holds the getCameraImage lighting arguments."""

    def __init__(self, client, factors: dict):
        self.client = client
        self.ground = client.loadURDF("plane.urdf", [0, 0, 0], _Z_UP_TO_Y_UP)
        # Load every texture in a fixed order in every world: the renderer keeps textures across
        # resetSimulation, so loading only the one needed would make ids depend on earlier clips.
        textures = {kind: client.loadTexture(_texture_file(kind)) for kind in ("plain", "checker")}
        texture = textures["checker" if factors["ground_checker"] else "plain"]
        client.changeVisualShape(self.ground, -1, textureUniqueId=texture, rgbaColor=list(factors["ground_rgb"]) + [1.0])
        self.sky_rgb = np.asarray(factors["sky_rgb"], dtype=np.float64)
        az, el = math.radians(factors["light_azimuth_deg"]), math.radians(factors["light_elevation_deg"])
        self.light = dict(
            lightDirection=[math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)],
            lightColor=[1.0, 1.0, 1.0],
            lightDistance=10.0,
            shadow=int(factors["shadows"]),
            lightAmbientCoeff=float(factors["ambient"]),
            lightDiffuseCoeff=float(factors["diffuse"]),
            lightSpecularCoeff=float(factors["specular"]),
        )

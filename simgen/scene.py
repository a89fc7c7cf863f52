"""The world around the actor: ground, background, light and distractor objects, per clip."""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from simgen.native import pybullet as p
from simgen.props import create_shape
from simgen.textures import image_background, load_bank, procedural_background

# The DeepMimic convention is y-up; pybullet's plane is z-up, so turn it.
_Z_UP_TO_Y_UP = p.getQuaternionFromEuler([-math.pi / 2, 0, 0])


def hsv_to_rgb(h: float, s: float, v: float) -> list[float]:
    return list(colorsys.hsv_to_rgb(h % 1.0, s, v))


class Scene:
    """Ground, light and background of one clip.

    Attributes:
        light: the lighting arguments of getCameraImage.
        textures: bank texture name -> id in this world (for clothing too).
        distractors: body ids of static distractor objects (they get mask ids 2+).
    """

    def __init__(self, client, factors: dict):
        self.client = client
        self.factors = factors
        self.textures = load_bank(client)
        self.ground = client.loadURDF("plane.urdf", [0, 0, 0], _Z_UP_TO_Y_UP)
        client.changeVisualShape(
            self.ground, -1, textureUniqueId=self.textures[factors["ground_texture"]], rgbaColor=list(factors["ground_rgb"]) + [1.0]
        )
        az, el = math.radians(factors["light_azimuth_deg"]), math.radians(factors["light_elevation_deg"])
        self.light = dict(
            lightDirection=[math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)],
            lightColor=list(factors["light_rgb"]),
            lightDistance=10.0,
            shadow=int(factors["shadows"]),
            lightAmbientCoeff=float(factors["ambient"]),
            lightDiffuseCoeff=float(factors["diffuse"]),
            lightSpecularCoeff=float(factors["specular"]),
        )
        self.sky_rgb = np.asarray(factors["sky_rgb"], dtype=np.float64)
        self.distractors: list[int] = []
        self._background: np.ndarray | None = None

    def add_distractors(self, centre: np.ndarray, toward_camera: np.ndarray, lateral: np.ndarray) -> None:
        """Static objects behind and beside the actor (never between it and the camera)."""
        for d in self.factors["distractors"]:
            pos = centre - toward_camera * d["behind_m"] + lateral * d["lateral_m"]
            size = d["size"]
            dims = {"box": [size, size, size], "cylinder": [size * 0.6, size * 2.0], "sphere": [size]}[d["shape"]]
            lift = {"box": size, "cylinder": size, "sphere": size}[d["shape"]]
            body = create_shape(self.client, d["shape"], dims, [pos[0], lift, pos[2]], d["rgb"], texture=self.textures[d["texture"]])
            self.distractors.append(body)

    def background(self, height: int, width: int) -> np.ndarray:
        """uint8[H, W, 3] shown where the render hit nothing (and over the ground in 'behind' mode)."""
        if self._background is None:
            f = self.factors
            kind = f["background"]
            if kind == "image":
                self._background = image_background(f["background_image"], f["background_crop"], f["background_flip"], height, width)
            elif kind in ("gradient", "noise"):
                self._background = procedural_background(kind, f["background_seed"], height, width, f["sky_rgb"], f["sky_rgb_2"])
            else:
                self._background = np.broadcast_to(np.clip(self.sky_rgb * 255 + 0.5, 0, 255).astype(np.uint8), (height, width, 3)).copy()
        return self._background

    def composite(self, rgb: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Put the background behind everything that is not the actor or an object."""
        behind = seg < 0
        if self.factors["background_mode"] == "behind":
            behind |= seg == self.ground
        cv2.copyTo(self.background(*rgb.shape[:2]), behind.view(np.uint8), rgb)
        return rgb

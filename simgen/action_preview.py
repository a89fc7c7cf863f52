"""Look at an action without generating a dataset: the stock body posed kinematically
(no physics) and filmed by fixed front and side cameras, no overlays.

The right limbs are drawn red and the left ones blue, so that a sign error in an action
file shows at a glance. Used by `simgen actions --preview` and the joint-axes figure.
"""

from __future__ import annotations

import math

import numpy as np
import pybullet_data

from simgen.actor import Actor, ground_offsets
from simgen.body import BodyShape
from simgen.camera import CameraPath
from simgen.captions import text_band
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import JOINT_INDEX
from simgen.native import Client
from simgen.native import pybullet as p
from simgen.render import render_frame

# Each view: the direction from the actor to the camera (the actor faces +x, its right is +z).
VIEWS = {"front": np.array([1.0, 0.0, 0.0]), "side": np.array([0.0, 0.0, 1.0])}
VIEW_TITLES = {"front": "front", "side": "side (its right)"}
FOV_DEG = 40.0
BACKGROUND_RGB = np.array([236, 236, 232], np.uint8)
CLOTHES = {"skin": (0.85, 0.68, 0.55), "shirt": (0.75, 0.75, 0.72), "sleeves": (0.75, 0.75, 0.72), "trousers": (0.35, 0.35, 0.4), "shoes": (0.2, 0.2, 0.2)}
SIDE_RGB = {"right": (0.85, 0.2, 0.15), "left": (0.15, 0.35, 0.85)}
_Z_UP_TO_Y_UP = p.getQuaternionFromEuler([-math.pi / 2, 0, 0])


class PoseStage:
    """A bare world (floor, one stock-shaped actor, a fixed light) that films poses."""

    def __init__(self):
        self.client = Client(p.DIRECT)
        self.client.setAdditionalSearchPath(pybullet_data.getDataPath())
        self.floor = self.client.loadURDF("plane.urdf", [0, 0, 0], _Z_UP_TO_Y_UP)
        self.client.changeVisualShape(self.floor, -1, rgbaColor=[0.78, 0.78, 0.74, 1.0], textureUniqueId=-1)
        # The middle of the specs' girth ranges: the stock body is stick-thin.
        self.shape = BodyShape(torso_girth=1.5, limb_girth=1.4)
        self.actor = Actor(self.client, self.shape, CLOTHES)
        for side, rgb in SIDE_RGB.items():
            for limb in ("shoulder", "elbow", "hip", "knee"):
                self.client.changeVisualShape(self.actor.body, JOINT_INDEX[f"{side}_{limb}"], rgbaColor=list(rgb) + [1.0])
        self.light = dict(lightDirection=[0.6, 1.0, 0.4], lightColor=[1, 1, 1], lightDistance=10.0, shadow=0,
                          lightAmbientCoeff=0.55, lightDiffuseCoeff=0.5, lightSpecularCoeff=0.05)

    def close(self) -> None:
        self.client.disconnect()

    def _grounded(self, pose: PoseSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-frame floor offsets and the box (lo, hi float[3]) the whole motion fills."""
        frames = len(pose)
        lo, hi = np.zeros((frames, 3)), np.zeros((frames, 3))
        for t in range(frames):
            self.actor.set_pose(pose, t, np.zeros(3))
            lo[t], hi[t] = self.actor.aabb()
        lift = ground_offsets(pose, lo[:, 1].copy(), self.shape)
        lo[:, 1] += lift
        hi[:, 1] += lift
        return lift, lo.min(axis=0), hi.max(axis=0)

    def film(self, pose: PoseSequence, *, size: int = 160, views=("front", "side"), fit: tuple | None = None) -> np.ndarray:
        """uint8[T, size, size * len(views), 3]: each view side by side, same scale in all.

        `fit` (lo, hi) frames that box instead of the motion's own (to keep a figure's
        cells at one scale)."""
        lift, lo, hi = self._grounded(pose)
        if fit is not None:
            lo, hi = np.minimum(lo, fit[0]), np.maximum(hi, fit[1])
        centre = (lo + hi) / 2.0
        # The camera distance that fits the box's largest extent, whatever the view.
        radius = 0.5 * float(np.max(hi - lo)) * 1.05
        distance = radius / math.tan(math.radians(FOV_DEG) / 2.0) + 0.5 * radius
        frames = len(pose)
        out = np.zeros((frames, size, size * len(views), 3), np.uint8)
        cameras = []
        for view in views:
            eye = centre + VIEWS[view] * distance
            cameras.append(CameraPath(eye=np.tile(eye, (1, 1)), target=centre[None].copy(), fov_deg=np.array([FOV_DEG]),
                                      roll_deg=np.zeros(1), width=size, height=size))
        for t in range(frames):
            self.actor.set_pose(pose, t, np.array([0.0, lift[t], 0.0]))
            for i, camera in enumerate(cameras):
                rgb, _, mask = render_frame(self.client, camera, 0, self.light, {self.actor.body: 1, self.floor: 2})
                rgb[mask == 0] = BACKGROUND_RGB
                out[t, :, i * size:(i + 1) * size] = rgb
        return out


def titled(frames: np.ndarray, titles: list[str]) -> np.ndarray:
    """Put one title band above each equal-width panel of every frame."""
    t, h, w, _ = frames.shape
    panel = w // len(titles)
    band = np.concatenate([text_band([title], panel) for title in titles], axis=1)
    return np.concatenate([np.broadcast_to(band, (t, *band.shape)), frames], axis=1)


def action_frames(library, name: str, *, size: int = 160, fps: float = 25.0, cycles: float = 1.0) -> np.ndarray:
    """One action over `cycles` of its cycle at speed 1 and mean amplitudes, front and side,
    titled: uint8[T, H, W, 3]."""
    action = library.get(name)
    frames = max(2, int(round(action.cycle_seconds * cycles * fps)))
    pose = action.sample(np.arange(frames) / fps, speed=1.0, phase=0.0, amplitudes={}, window_s=frames / fps)
    stage = PoseStage()
    try:
        film = stage.film(pose, size=size)
    finally:
        stage.close()
    titles = [f"{name}: {VIEW_TITLES['front']}", f"{VIEW_TITLES['side']}  red=right"]
    return titled(film, titles)

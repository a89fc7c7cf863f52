"""The actor's visible share of its unoccluded silhouette, per frame, from segmentations.

The unoccluded silhouette is a second render with everything but the actor made
transparent. An actor pixel can only be hidden where the real render shows a blocker
(an occluder, passer-by or distractor: mask values 2 and up) nearer than the actor's far
side, inside the actor's unoccluded screen box. So only the window around those pixels is
rendered again, and frames without any need no second render (their fraction is exactly
1, or 0 when the actor is out of frame). Working from the rendered pixels rather than
from blockers' boxes also covers a user's asset whose looks reach beyond its collision
shapes. The ground is never an occluder: what it hides are body parts sunk into the
floor, a simulation error measured separately (`max_foot_penetration_m`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import cv2
import numpy as np

from simgen.camera import NEAR, CameraPath
from simgen.render import render_frame


def world_aabb(client, body: int) -> np.ndarray:
    """float[2, 3]: the world box around the collision shapes of all links of `body` (for
    the bodies simgen builds, their visual shapes are the same)."""
    get = client.getAABB
    boxes = np.array([get(body, link) for link in range(-1, client.getNumJoints(body))])
    return np.stack([boxes[:, 0].min(axis=0), boxes[:, 1].max(axis=0)])


_CORNERS = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)])  # which bound per axis


def screen_extents(camera: CameraPath, t: int, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where world boxes float[N, 2, 3] land in frame t: pixel boxes float[N, 4] (u0 v0 u1 v1),
    nearest and farthest camera depth float[N]. A box with a corner at or behind the near
    plane has no bounded projection: its pixel box is infinite."""
    corners = boxes[:, _CORNERS, np.arange(3)]  # [N, 8, 3]
    uv, depth = camera.project(t, corners.reshape(-1, 3))
    uv, depth = uv.reshape(-1, 8, 2), depth.reshape(-1, 8)
    pixel_box = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    unbounded = depth.min(axis=1) <= NEAR
    pixel_box[unbounded] = [-np.inf, -np.inf, np.inf, np.inf]
    return pixel_box, depth.min(axis=1), depth.max(axis=1)


def pixel_window(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The whole pixels (u0, v0, u1, v1), clipped to the image, whose centres a pixel box
    float[4] (may be infinite) may reach, with a pixel's margin for rasterisation; None when
    it is out of the image."""
    u0, v0 = (max(int(np.floor(v)) - 1, 0) if np.isfinite(v) else 0 for v in box[:2])
    u1, v1 = (min(int(np.ceil(v)) + 1, n) if np.isfinite(v) else n for v, n in zip(box[2:], (width, height)))
    return (u0, v0, u1, v1) if u1 > u0 and v1 > v0 else None


def hiding_window(mask: np.ndarray, depth: np.ndarray, actor_box: np.ndarray, actor_far: float) -> tuple[int, int, int, int] | None:
    """The image window (u0, v0, u1, v1) holding every pixel where the real render shows a
    blocker (mask >= 2) nearer than the actor's farthest depth, inside the actor's
    unoccluded pixel box float[4] (u0 v0 u1 v1, may be infinite); None where there is none.
    Only there can a pixel of the actor be hidden."""
    box = pixel_window(actor_box, mask.shape[1], mask.shape[0])
    if box is None:
        return None
    u0, v0, u1, v1 = box
    near_blocker = (mask[v0:v1, u0:u1] >= 2) & (depth[v0:v1, u0:u1] < actor_far)
    x, y, w, h = cv2.boundingRect(near_blocker.view(np.uint8))
    return (u0 + x, v0 + y, u0 + x + w, v0 + y + h) if w else None


def actor_silhouette(client, camera: CameraPath, t: int, actor_body: int, world_box: np.ndarray) -> np.ndarray:
    """bool[H, W]: the actor's pixels in frame t's render (shadows off), rendered only
    inside the screen box of its world box float[2, 3] (outside it there are none)."""
    out = np.zeros((camera.height, camera.width), bool)
    window = pixel_window(screen_extents(camera, t, world_box[None])[0][0], camera.width, camera.height)
    if window is not None:
        u0, v0, u1, v1 = window
        _, _, mask = render_frame(client, CropView(camera, window, u1 - u0, v1 - v0), t, {"shadow": 0}, {actor_body: 1})
        out[v0:v1, u0:u1] = mask == 1
    return out


@dataclass
class CropView:
    """Renders the pixel window (u0, v0, u1, v1) of `camera`'s image at width x height."""

    camera: CameraPath
    window: tuple[int, int, int, int]
    width: int
    height: int

    def view_matrix_gl(self, t: int) -> list[float]:
        return self.camera.view_matrix_gl(t)

    def projection_matrix_gl(self, t: int) -> list[float]:
        return self.camera.projection_matrix_gl(t, self.window)


@contextlib.contextmanager
def see_through(client, colours: list[tuple[int, int, int, tuple]]):
    """Make visual shapes (body, link, shape index, rgba) fully transparent for the duration:
    TinyRenderer skips them, and unlike moving bodies away this leaves the physics alone."""
    for body, link, index, rgba in colours:
        client.changeVisualShape(body, link, shapeIndex=index, rgbaColor=[*rgba[:3], 0.0])
    try:
        yield
    finally:
        for body, link, index, rgba in colours:
            client.changeVisualShape(body, link, shapeIndex=index, rgbaColor=list(rgba))


def visual_colours(client, bodies: list[int]) -> list[tuple[int, int, int, tuple]]:
    """(body, link, shape index within the link, rgba) of every visual shape of `bodies`."""
    out, counts = [], {}
    for body in bodies:
        for shape in client.getVisualShapeData(body):
            link = shape[1]
            index = counts.get((body, link), 0)
            counts[(body, link)] = index + 1
            out.append((body, link, index, tuple(shape[7])))
    return out


class VisibleFraction:
    """Measures one clip's actor visibility frame by frame.

    Where the real render shows a blocker in front of the actor's far side inside its
    screen box, that window is rendered again, pixel for pixel, with everything but the
    actor made transparent; outside it the real render's actor pixels already are the
    unoccluded ones. The result equals a full second render (tests/simgen/test_visibility.py).

    Args:
        hidden_for_clear: bodies made transparent for the unoccluded render (blockers, ground).
    """

    def __init__(self, client, camera: CameraPath, actor_body: int, hidden_for_clear: list[int]):
        self.client = client
        self.camera = camera
        self.actor = actor_body
        self.renders = 0  # unoccluded renders made (the other frames provably needed none)
        self._colours = visual_colours(client, hidden_for_clear)  # read once: fixed during a clip

    def __call__(self, t: int, mask: np.ndarray, depth: np.ndarray) -> float:
        """Visible fraction in frame t, given the real render's instance mask (actor = 1,
        blockers 2 and up) and depth (metres)."""
        seen = mask == 1
        seen_total = int(np.count_nonzero(seen))
        window = self.window(t, mask, depth)
        if window is None:
            return 1.0 if seen_total else 0.0
        u0, v0, u1, v1 = window
        self.renders += 1
        with see_through(self.client, self._colours):
            _, _, clear = render_frame(self.client, CropView(self.camera, window, u1 - u0, v1 - v0), t, {"shadow": 0}, {self.actor: 1})
        clear_inside = int(np.count_nonzero(clear == 1))
        seen_outside = seen_total - int(np.count_nonzero(seen[v0:v1, u0:u1]))
        total = seen_outside + clear_inside
        if total <= 0:
            return 0.0
        return round(float(min(seen_total / total, 1.0)), 4)

    def window(self, t: int, mask: np.ndarray, depth: np.ndarray) -> tuple[int, int, int, int] | None:
        """The image window (u0, v0, u1, v1) where a blocker may hide the actor in frame t,
        or None where none can."""
        if mask.max() < 2:
            return None
        pixel_box, _, far = screen_extents(self.camera, t, world_aabb(self.client, self.actor)[None])
        return hiding_window(mask, depth, pixel_box[0], float(far[0]))

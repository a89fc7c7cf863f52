"""The actor's visible share of its unoccluded silhouette, per frame, from segmentations.

The unoccluded silhouette is a second render with everything but the actor made
transparent. That render is only needed where something *could* hide the actor: where the
screen box of a body that is not entirely behind the actor meets the actor's. Outside
those windows the actor's mask in the real render already is its unoccluded silhouette,
so only the windows are rendered again, and frames without any are not (their fraction is
exactly 1, or 0 when the actor is out of frame). The ground is never an occluder: what it
hides are body parts sunk into the floor, a simulation error measured separately
(`max_foot_penetration_m`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

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


def may_hide(actor_box: np.ndarray, actor_far: float, boxes: np.ndarray, near: np.ndarray, margin_px: float = 2.0) -> np.ndarray:
    """bool[N]: whether bodies with pixel boxes float[N, 4] and nearest depths float[N] can
    cover a pixel of the actor (pixel box float[4], farthest depth): the boxes meet and the
    body is not entirely behind the actor. Conservative: unbounded boxes always may."""
    a = actor_box
    meets = (boxes[:, 0] - margin_px < a[2]) & (a[0] - margin_px < boxes[:, 2]) & (boxes[:, 1] - margin_px < a[3]) & (a[1] - margin_px < boxes[:, 3])
    return meets & (near < actor_far)


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

    Where blockers may hide the actor, only the window they can cover (the actor's screen
    box met with theirs) is rendered again, pixel for pixel, with everything but the actor
    made transparent; outside that window the real render's actor pixels already are
    unoccluded. The result equals a full second render exactly (tests/simgen/test_visibility.py).

    Args:
        blockers: bodies that may hide the actor (occluders, passers-by, distractors).
        hidden_for_clear: bodies made transparent for the unoccluded render (blockers, ground).
        unbounded: blockers whose looks may reach beyond their collision box (a user's URDF
            asset): while one is there, the whole frame is rendered again.
    """

    def __init__(self, client, camera: CameraPath, actor_body: int, blockers: list[int], hidden_for_clear: list[int], unbounded: list[int] = ()):
        self.client = client
        self.camera = camera
        self.actor = actor_body
        self.blockers = list(blockers)
        self.unbounded = bool(unbounded)
        self.renders = 0  # unoccluded renders made (the other frames provably needed none)
        # Colours are read once: they do not change during a clip.
        self._colours = visual_colours(client, hidden_for_clear) if self.blockers else []
        # Bodies without mass or joints never move: their boxes are measured once.
        self._fixed_boxes = {b: world_aabb(client, b) for b in self.blockers if client.getNumJoints(b) == 0 and client.getDynamicsInfo(b, -1)[0] == 0.0}

    def __call__(self, t: int, mask: np.ndarray) -> float:
        """Visible fraction in frame t, given the real render's instance mask (actor = 1)."""
        seen = mask == 1
        seen_total = int(np.count_nonzero(seen))
        window = self.window(t)
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

    def window(self, t: int) -> tuple[int, int, int, int] | None:
        """The image window (u0, v0, u1, v1) where a blocker may hide the actor in frame t,
        or None where none can."""
        if not self.blockers:
            return None
        h, w = self.camera.height, self.camera.width
        if self.unbounded:
            return (0, 0, w, h)
        boxes = [world_aabb(self.client, self.actor)]
        boxes += [self._fixed_boxes[b] if b in self._fixed_boxes else world_aabb(self.client, b) for b in self.blockers]
        pixel_box, near, far = screen_extents(self.camera, t, np.array(boxes))
        hiding = may_hide(pixel_box[0], far[0], pixel_box[1:], near[1:])
        if not hiding.any():
            return None
        # Where the actor meets each blocker that may hide it; a margin for rasterisation.
        meet = pixel_box[1:][hiding]
        lo = np.maximum(meet[:, :2], pixel_box[0, :2]).min(axis=0) - 2.0
        hi = np.minimum(meet[:, 2:], pixel_box[0, 2:]).max(axis=0) + 2.0
        u0, v0 = (int(np.floor(max(v, 0.0))) for v in lo)
        u1, v1 = (int(np.ceil(min(v, limit))) for v, limit in zip(hi, (w, h)))
        if u1 <= u0 or v1 <= v0:  # they meet out of frame
            return None
        return (u0, v0, u1, v1)

"""Camera placement and trajectories, and the matrices that go with them.

Conventions: world +y is up. `extrinsics` are 4x4 world->camera matrices in the OpenCV
convention (x right, y down, z forward); `K` is the 3x3 pinhole matrix in pixels, with the
pixel (i, j) covering [j, j+1) x [i, i+1). Depth maps hold z along the optical axis (metres).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

TRAJECTORIES = ("static", "pan", "tilt", "orbit", "dolly", "zoom", "follow", "handheld")
NEAR, FAR = 0.05, 60.0
FRAMINGS = ("full", "upper")
UPPER_HEADROOM = 0.1  # framing: upper puts the top of the head this share of the image height below the top edge
UPPER_KEPT = 0.6  # framing: upper with keep_framed holds this share of the image height, from the head down, in view
UPPER_TRUNK_HALF_WIDTH = 0.06  # of the body height: what keep_framed holds in view sideways for framing: upper
_GL_FROM_CV = np.diag([1.0, -1.0, -1.0])


@dataclass
class CameraPath:
    """Per-frame camera: eye, target, vertical fov and roll; T frames."""

    eye: np.ndarray  # float[T, 3]
    target: np.ndarray  # float[T, 3]
    fov_deg: np.ndarray  # float[T]
    roll_deg: np.ndarray  # float[T]
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.eye)

    @cached_property
    def _intrinsics(self) -> np.ndarray:
        """float[T, 3, 3] for all frames at once (computed once: it sits on the per-frame path)."""
        fy = self.height / (2.0 * np.tan(np.radians(self.fov_deg) / 2.0))
        k = np.zeros((len(self), 3, 3))
        k[:, 0, 0] = k[:, 1, 1] = fy
        k[:, 0, 2], k[:, 1, 2], k[:, 2, 2] = self.width / 2.0, self.height / 2.0, 1.0
        return k

    @cached_property
    def _extrinsics(self) -> np.ndarray:
        """float[T, 4, 4] world->camera (OpenCV axes; rotation rows: right, down, forward)."""
        forward = self.target - self.eye
        forward /= np.linalg.norm(forward, axis=1, keepdims=True)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        degenerate = np.linalg.norm(right, axis=1) < 1e-6  # looking straight down/up
        right[degenerate] = [0.0, 0.0, 1.0]
        right /= np.linalg.norm(right, axis=1, keepdims=True)
        down = np.cross(forward, right)
        roll = np.radians(self.roll_deg)[:, None]
        right, down = np.cos(roll) * right + np.sin(roll) * down, -np.sin(roll) * right + np.cos(roll) * down
        m = np.tile(np.eye(4), (len(self), 1, 1))
        m[:, :3, :3] = np.stack([right, down, forward], axis=1)
        m[:, :3, 3] = -np.einsum("tij,tj->ti", m[:, :3, :3], self.eye)
        return m

    def intrinsics(self, t: int) -> np.ndarray:
        return self._intrinsics[t].copy()

    def extrinsics(self, t: int) -> np.ndarray:
        return self._extrinsics[t].copy()

    def all_intrinsics(self) -> np.ndarray:
        """float[T, 3, 3]."""
        return self._intrinsics.copy()

    def all_extrinsics(self) -> np.ndarray:
        """float[T, 4, 4] world->camera."""
        return self._extrinsics.copy()

    def view_matrix_gl(self, t: int) -> list[float]:
        """pybullet's (OpenGL, column-major) view matrix for frame t."""
        ext = self.extrinsics(t)
        gl = np.eye(4)
        gl[:3, :3] = _GL_FROM_CV @ ext[:3, :3]
        gl[:3, 3] = _GL_FROM_CV @ ext[:3, 3]
        return gl.T.reshape(-1).tolist()

    def projection_matrix_gl(self, t: int, window: tuple[float, float, float, float] | None = None) -> list[float]:
        """pybullet's (OpenGL, column-major) projection for frame t.

        `window` (u0, v0, u1, v1 in this camera's pixels) narrows the frustum to that part of
        the image (off-axis), so that a render of any size shows just that crop.
        """
        f = 1.0 / np.tan(np.radians(self.fov_deg[t]) / 2.0)
        aspect = self.width / self.height
        m = np.zeros((4, 4))
        m[0, 0] = f / aspect
        m[1, 1] = f
        m[2, 2] = (FAR + NEAR) / (NEAR - FAR)
        m[2, 3] = 2 * FAR * NEAR / (NEAR - FAR)
        m[3, 2] = -1.0
        if window is not None:
            # Map the window's NDC range onto [-1, 1]; image rows run down, NDC y runs up.
            u0, v0, u1, v1 = window
            scale_x, centre_x = (u1 - u0) / self.width, (u0 + u1) / self.width - 1.0
            scale_y, centre_y = (v1 - v0) / self.height, 1.0 - (v0 + v1) / self.height
            m[0] = (m[0] - centre_x * m[3]) / scale_x
            m[1] = (m[1] - centre_y * m[3]) / scale_y
        return m.T.reshape(-1).tolist()

    def project(self, t: int, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels float[N, 2] and camera depths float[N] of world points float[N, 3]."""
        ext = self._extrinsics[t]
        cam = points @ ext[:3, :3].T + ext[:3, 3]
        z = cam[:, 2]
        k = self._intrinsics[t]
        safe_z = np.where(np.abs(z) < 1e-9, 1e-9, z)
        uv = np.stack([k[0, 0] * cam[:, 0] / safe_z + k[0, 2], k[1, 1] * cam[:, 1] / safe_z + k[1, 2]], axis=-1)
        return uv, z


def _direction(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Unit vector from the actor towards the camera; azimuth 0 = in front (+x), 90 = actor's right (+z)."""
    a, e = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack([np.cos(e) * np.cos(a), np.sin(e) * np.ones_like(a), np.cos(e) * np.sin(a)], axis=-1)


def _smooth_noise(rng_seed: int, frames: int, fps: float, hz: float = 1.5) -> np.ndarray:
    """float[T, 3] smooth zero-mean noise in [-1, 1] (sum of sinusoids), for handheld shake."""
    rng = np.random.default_rng(rng_seed)
    t = np.arange(frames) / fps
    out = np.zeros((frames, 3))
    for k in range(3):
        freqs = rng.uniform(0.3, 1.0, size=3) * hz
        phases = rng.uniform(0, 2 * np.pi, size=3)
        out[:, k] = np.sum(np.sin(2 * np.pi * freqs[None, :] * t[:, None] + phases[None, :]), axis=1) / 3.0
    return out


def build_camera_path(
    factors: dict,
    actor_lo: np.ndarray,
    actor_hi: np.ndarray,
    *,
    width: int,
    height: int,
    fps: float,
    keep_framed: bool = True,
    head_top: np.ndarray | None = None,
) -> CameraPath:
    """Place the camera for a whole clip from sampled camera `factors` and the actor's motion.

    Args:
        factors: the clip's `camera` factors (fov_deg, azimuth_deg, elevation_deg,
            actor_height_fraction, vertical_offset, trajectory, trajectory_amount,
            trajectory_sign, shake_deg, shake_seed, and framing: full or upper, absent
            in older factors = full).
        actor_lo, actor_hi: float[T, 3], the actor's world bounding box in each frame.
        head_top: float[T], the height of the top of the head (framing: upper frames
            from it rather than from the box, which raised hands reach above); the box
            top when not given.
    """
    frames = len(actor_lo)
    s = np.linspace(-0.5, 0.5, frames) if frames > 1 else np.zeros(1)
    kind = factors["trajectory"]
    amount = float(factors["trajectory_amount"]) * float(factors["trajectory_sign"])
    fov0 = float(factors["fov_deg"])
    fov = np.full(frames, fov0)
    azimuth = np.full(frames, float(factors["azimuth_deg"]))
    elevation = np.full(frames, float(factors["elevation_deg"]))
    centre = (actor_lo + actor_hi) / 2.0
    body_height = float(np.max(actor_hi[:, 1]) - max(float(np.min(actor_lo[:, 1])), 0.0))
    if kind == "follow":
        # A camera operator follows the actor: target tracks the smoothed body centre.
        kernel = np.ones(min(9, frames)) / min(9, frames)
        padded = np.pad(centre, ((len(kernel) // 2, len(kernel) - 1 - len(kernel) // 2), (0, 0)), mode="edge")
        target = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(3)], axis=-1)
    else:
        target = np.tile(centre.mean(axis=0), (frames, 1))
    fraction = float(factors["actor_height_fraction"])
    framing = factors.get("framing", "full")
    top = float(np.max(head_top if head_top is not None else actor_hi[:, 1]))
    if framing == "upper":
        # The head near the top edge; the image spans body_height / fraction at the actor.
        view_height = body_height / fraction
        target[:, 1] = top - view_height * (0.5 - UPPER_HEADROOM)
    else:
        target[:, 1] = max(float(np.min(actor_lo[:, 1])), 0.0) + body_height / 2.0
    target[:, 1] -= float(factors.get("vertical_offset", 0.0)) * body_height
    distance = body_height / (fraction * 2.0 * np.tan(np.radians(fov0) / 2.0))
    if kind == "orbit":
        azimuth = azimuth + 60.0 * amount * s
    dolly = 1.0 + (0.5 * amount * s if kind == "dolly" else 0.0)
    if kind == "zoom":
        fov = fov0 * (1.0 + 0.5 * amount * s)
    shake = float(factors.get("shake_deg", 0.0)) + (1.5 * abs(amount) if kind == "handheld" else 0.0)
    noise = _smooth_noise(int(factors.get("shake_seed", 0)), frames, fps) if shake > 0 else np.zeros((frames, 3))

    def place(dist: float) -> CameraPath:
        eye = target + (dist * np.asarray(dolly).reshape(-1, 1) if np.ndim(dolly) else dist * dolly) * _direction(azimuth, elevation)
        aim = target.copy()
        view = aim - eye
        lateral = np.cross(view, [0.0, 1.0, 0.0])
        lateral /= np.maximum(np.linalg.norm(lateral, axis=1, keepdims=True), 1e-9)
        reach = np.linalg.norm(view, axis=1, keepdims=True)
        if kind == "pan":  # the camera turns on its tripod: the actor drifts across the frame
            aim = aim + lateral * reach * np.tan(np.radians(18.0 * amount * s))[:, None]
        if kind == "tilt":
            aim = aim + np.array([0.0, 1.0, 0.0]) * reach * np.tan(np.radians(10.0 * amount * s))[:, None]
        if shake > 0:
            aim = aim + reach * np.tan(np.radians(shake)) * (noise[:, :1] * lateral + noise[:, 1:2] * np.array([0.0, 1.0, 0.0]))
        return CameraPath(eye, aim, fov.copy(), shake * noise[:, 2] * 0.5, width, height)

    path = place(distance)
    if keep_framed:
        # Back off until the framed part of the body, in every frame, lies inside the image
        # with a margin: all of it, or for framing: upper the head and trunk down to the
        # image's height below the top of the head (a close-up cuts the legs, and arms
        # that reach out sideways, as a camera operator would).
        lo, hi = actor_lo, actor_hi
        if framing == "upper":
            lo, hi = actor_lo.copy(), actor_hi.copy()
            lo[:, 1] = np.maximum(lo[:, 1], top - body_height / fraction * UPPER_KEPT)
            hi[:, 1] = np.minimum(hi[:, 1], top)
            trunk = UPPER_TRUNK_HALF_WIDTH * body_height
            lo[:, [0, 2]] = np.maximum(lo[:, [0, 2]], centre[:, [0, 2]] - trunk)
            hi[:, [0, 2]] = np.minimum(hi[:, [0, 2]], centre[:, [0, 2]] + trunk)
        corners = _box_corners(lo, hi)
        for _ in range(12):
            if _inside(path, corners, margin=0.02):
                break
            distance *= 1.12
            path = place(distance)
    return path


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """float[T, 8, 3] corners of per-frame boxes."""
    idx = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)])
    return np.where(idx[None, :, :] == 1, hi[:, None, :], lo[:, None, :])


def _inside(path: CameraPath, corners: np.ndarray, margin: float) -> bool:
    """Whether every frame's corners project inside the image (all frames at once)."""
    ext, k = path._extrinsics, path._intrinsics
    cam = np.einsum("tij,tnj->tni", ext[:, :3, :3], corners) + ext[:, None, :3, 3]
    z = cam[..., 2]
    if np.any(z <= NEAR):
        return False
    u = k[:, None, 0, 0] * cam[..., 0] / z + k[:, None, 0, 2]
    v = k[:, None, 1, 1] * cam[..., 1] / z + k[:, None, 1, 2]
    mx, my = margin * path.width, margin * path.height
    return bool(u.min() >= mx and u.max() <= path.width - mx and v.min() >= my and v.max() <= path.height - my)

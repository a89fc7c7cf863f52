"""Quaternion helpers. Quaternions are numpy arrays in pybullet's (x, y, z, w) order."""

from __future__ import annotations

import numpy as np

IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def normalize(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b (apply b first, then a), broadcasting over leading axes."""
    ax, ay, az, aw = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def from_axis_angle(axis, angle_rad) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    angle = np.asarray(angle_rad, dtype=np.float64)[..., None]
    return np.concatenate([axis * np.sin(angle / 2), np.cos(angle / 2)], axis=-1)


def from_euler_xyz_deg(angles_deg) -> np.ndarray:
    """Rotate about x, then y, then z (fixed parent axes): q = qz * qy * qx."""
    a = np.radians(np.asarray(angles_deg, dtype=np.float64))
    qx = from_axis_angle([1, 0, 0], a[..., 0])
    qy = from_axis_angle([0, 1, 0], a[..., 1])
    qz = from_axis_angle([0, 0, 1], a[..., 2])
    return multiply(qz, multiply(qy, qx))


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v[..., 3] by quaternions q[..., 4]."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u, w = q[..., :3], q[..., 3:4]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def slerp(a: np.ndarray, b: np.ndarray, t, shortest: bool = True) -> np.ndarray:
    """Spherical interpolation; broadcasts over leading axes.

    With shortest=False the signs of a and b are taken as given (the caller keeps them
    continuous over time), which avoids the jump where two animated rotations pass
    180 degrees apart and the shortest arc switches sides.
    """
    a = normalize(a)
    b = normalize(b)
    t = np.asarray(t, dtype=np.float64)
    dot = np.sum(a * b, axis=-1, keepdims=True)
    if shortest:
        b = np.where(dot < 0, -b, b)
        dot = np.abs(dot)
    t = t[..., None] if t.ndim == a.ndim - 1 or t.ndim == 0 else t
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    small = sin_theta < 1e-6
    safe = np.where(small, 1.0, sin_theta)
    wa = np.where(small, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    wb = np.where(small, t, np.sin(t * theta) / safe)
    return normalize(wa * a + wb * b)


def sign_continuous(q: np.ndarray) -> np.ndarray:
    """A quaternion track float[T, 4] with signs flipped so neighbouring frames agree (q ~ -q)."""
    q = np.array(q, dtype=np.float64, copy=True)
    if len(q) > 1:
        flips = np.sum(q[1:] * q[:-1], axis=-1) < 0
        sign = np.concatenate([[1.0], np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)])
        q *= sign[:, None]
    return q


def scale_rotation(q: np.ndarray, factor) -> np.ndarray:
    """Scale the rotation angle of q by `factor` (slerp from identity, extrapolating if > 1)."""
    q = normalize(q)
    q = np.where(q[..., 3:4] < 0, -q, q)
    angle = 2.0 * np.arccos(np.clip(q[..., 3], -1.0, 1.0))
    s = np.sin(angle / 2.0)
    axis = np.where(s[..., None] > 1e-8, q[..., :3] / np.maximum(s[..., None], 1e-8), np.array([1.0, 0, 0]))
    new_angle = angle * np.asarray(factor, dtype=np.float64)
    return np.concatenate([axis * np.sin(new_angle / 2)[..., None], np.cos(new_angle / 2)[..., None]], axis=-1)


def mirror_z(q: np.ndarray) -> np.ndarray:
    """Mirror a rotation through the x-y plane (the humanoid's left/right plane: z -> -z)."""
    q = np.array(q, dtype=np.float64, copy=True)
    q[..., 0] *= -1
    q[..., 1] *= -1
    return q


def yaw(angle_rad) -> np.ndarray:
    """Rotation about the world up axis (+y in the DeepMimic convention used here)."""
    return from_axis_angle([0, 1, 0], angle_rad)

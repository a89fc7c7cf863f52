"""Rigid props in the scene: primitive shapes (box, cylinder, sphere) or user URDF assets."""

from __future__ import annotations

from pathlib import Path

from simgen.errors import SimgenError
from simgen.native import pybullet as p
from simgen.native import Client, quiet_native_output

SHAPES = ("box", "cylinder", "sphere")


def create_shape(client, shape: str, size: list[float], position, rgb, *, mass: float = 0.0, texture: int | None = None) -> int:
    """A rigid body. `size`: box half-extents [x, y, z]; cylinder [radius, height]; sphere [radius].

    Cylinders are built along the world's up axis (+y) by turning pybullet's z-axis cylinder.
    """
    orientation = [0, 0, 0, 1]
    if shape == "box":
        col = client.createCollisionShape(p.GEOM_BOX, halfExtents=size)
        vis = client.createVisualShape(p.GEOM_BOX, halfExtents=size, rgbaColor=list(rgb) + [1.0])
    elif shape == "cylinder":
        col = client.createCollisionShape(p.GEOM_CYLINDER, radius=size[0], height=size[1])
        vis = client.createVisualShape(p.GEOM_CYLINDER, radius=size[0], length=size[1], rgbaColor=list(rgb) + [1.0])
        orientation = p.getQuaternionFromEuler([-1.5707963, 0, 0])
    elif shape == "sphere":
        col = client.createCollisionShape(p.GEOM_SPHERE, radius=size[0])
        vis = client.createVisualShape(p.GEOM_SPHERE, radius=size[0], rgbaColor=list(rgb) + [1.0])
    else:
        raise ValueError(f"unknown shape {shape}")
    body = client.createMultiBody(mass, col, vis, list(position), orientation)
    if texture is not None:
        client.changeVisualShape(body, -1, textureUniqueId=texture, rgbaColor=list(rgb) + [1.0])
    return body


def load_asset(client, path: str, position, scale: float = 1.0) -> int:
    """A user's URDF prop, with a clear error naming the file when it does not load."""
    if not Path(path).is_file():
        raise SimgenError("occluder asset not found", file=path, field="occlusion.assets")
    try:
        with quiet_native_output():
            return client.loadURDF(path, list(position), globalScaling=scale, useFixedBase=True)
    except Exception as exc:  # pybullet raises a bare error with no detail
        raise SimgenError(f"occluder asset does not load as URDF ({exc})", file=path, field="occlusion.assets") from None


def check_assets(paths: list[str]) -> None:
    """Load every asset once in a scratch world, so a broken file fails before the job starts."""
    if not paths:
        return
    client = Client(p.DIRECT)
    try:
        for path in paths:
            load_asset(client, path, [0, 0, 0])
    finally:
        client.disconnect()

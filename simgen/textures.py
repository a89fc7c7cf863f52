"""Procedural textures: a fixed bank of grey patterns, tinted per object by its colour.

The bank is the same in every process and loaded into every world in the same order, so a
texture name always means the same image. Backgrounds are made per clip from a seed.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

GROUND_TEXTURES = ("plain", "checker", "stripes", "noise", "grid")
CLOTHING_TEXTURES = ("plain", "stripes", "noise")
BANK = ("plain", "checker", "stripes", "noise", "grid")
_SIZE = 64


def _pattern(name: str) -> np.ndarray:
    yy, xx = np.mgrid[:_SIZE, :_SIZE]
    if name == "plain":
        img = np.full((_SIZE, _SIZE), 255.0)
    elif name == "checker":
        img = np.where((yy // 32 + xx // 32) % 2 == 0, 255.0, 150.0)
    elif name == "stripes":
        img = np.where((xx // 8) % 2 == 0, 255.0, 120.0)
    elif name == "grid":
        img = np.where((xx % 16 < 2) | (yy % 16 < 2), 110.0, 245.0)
    elif name == "noise":
        rng = np.random.default_rng(1234)  # fixed: the bank is identical everywhere
        coarse = rng.uniform(140, 255, (8, 8))
        img = cv2.resize(coarse, (_SIZE, _SIZE), interpolation=cv2.INTER_CUBIC)
        img += rng.normal(0, 10, img.shape)
    else:
        raise ValueError(name)
    return np.clip(img, 0, 255).astype(np.uint8)


@lru_cache(maxsize=None)
def texture_png(name: str) -> bytes:
    """The bank texture `name` as PNG bytes (made once per process)."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(_pattern(name), cv2.COLOR_GRAY2BGR))
    assert ok, name
    return png.tobytes()


def load_bank(client) -> dict[str, int]:
    """Load every bank texture into the world, always in the same order.

    pybullet loads textures from files only: they are written to a private folder
    (mkdtemp: unguessable name, owner-only) and removed once loaded, so no run leaves
    files with predictable names in the shared temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="simgen_tex_") as folder:
        ids = {}
        for name in BANK:
            path = os.path.join(folder, f"{name}.png")
            with open(path, "wb") as fh:
                fh.write(texture_png(name))
            ids[name] = client.loadTexture(path)
        return ids


def procedural_background(kind: str, seed: int, height: int, width: int, rgb_a, rgb_b) -> np.ndarray:
    """uint8[H, W, 3]: a vertical gradient or smooth coloured noise between two colours."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(rgb_a, np.float64) * 255, np.asarray(rgb_b, np.float64) * 255
    if kind == "gradient":
        w = np.linspace(0, 1, height)[:, None, None] * np.ones((1, width, 1))
    else:  # noise
        cells = int(rng.integers(3, 9))
        coarse = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
        w = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    return np.clip(a * (1 - w) + b * w, 0, 255).astype(np.uint8)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@lru_cache(maxsize=64)
def _load_image(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode image {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def image_background(path: str, crop: list[float], flip: bool, height: int, width: int) -> np.ndarray:
    """A crop (x, y, size as fractions of the image) of a user image, resized to the frame."""
    img = _load_image(path)
    h, w = img.shape[:2]
    side = max(int(min(h, w) * crop[2]), 8)
    aspect = width / height
    cw, ch = min(int(side * aspect), w), min(side, h)
    x0 = int((w - cw) * crop[0])
    y0 = int((h - ch) * crop[1])
    out = cv2.resize(img[y0 : y0 + ch, x0 : x0 + cw], (width, height), interpolation=cv2.INTER_AREA)
    return out[:, ::-1].copy() if flip else out


def list_images(folder: str) -> list[str]:
    return sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def check_background_dir(folder: str | None, needed: bool) -> None:
    """A background folder must exist and hold decodable images, before any clip is made."""
    from simgen.errors import SimgenError

    if not needed:
        return
    path = Path(folder)
    if not path.is_dir():
        raise SimgenError("background folder not found", file=str(folder), field="scene.background_dir")
    images = list_images(folder)
    if not images:
        raise SimgenError(
            f"background folder holds no images ({', '.join(IMAGE_SUFFIXES)})", file=str(folder), field="scene.background_dir"
        )
    for image in images:
        if cv2.imread(image, cv2.IMREAD_REDUCED_COLOR_8) is None:
            raise SimgenError("cannot decode this background image", file=image, field="scene.background_dir")

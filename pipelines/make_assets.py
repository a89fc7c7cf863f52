"""Make the small procedural images in assets/: background pictures (for
`scene.background_dir`) and the crate prop's texture and URDF (for `occlusion.assets`).

Deterministic (fixed seeds), so rerunning rewrites the same pixels:

    python -m simgen.pipelines.make_assets --out assets
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

SIZE = (192, 256)  # height, width: crops are resized to the clip's frame, so small is enough


def _smooth_noise(rng: np.random.Generator, cells: int, height: int, width: int) -> np.ndarray:
    coarse = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def brick_wall(rng: np.random.Generator) -> np.ndarray:
    h, w = SIZE
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (150, 150, 145)  # mortar
    brick_h, brick_w = 16, 40
    for row in range(h // brick_h + 1):
        shift = (brick_w // 2) * (row % 2)
        for col in range(-1, w // brick_w + 2):
            x0, y0 = col * brick_w + shift, row * brick_h
            tone = rng.uniform(0.8, 1.1)
            cv2.rectangle(img, (x0 + 2, y0 + 2), (x0 + brick_w - 2, y0 + brick_h - 2), (160 * tone, 80 * tone, 60 * tone), -1)
    return img + (_smooth_noise(rng, 12, h, w)[..., None] - 0.5) * 30


def office(rng: np.random.Generator) -> np.ndarray:
    h, w = SIZE
    img = np.zeros((h, w, 3), np.float32)
    img[: h * 2 // 3] = (205, 200, 185)  # wall
    img[h * 2 // 3:] = (110, 95, 80)  # floor
    cv2.rectangle(img, (30, 30), (110, 100), (170, 200, 225), -1)  # window
    cv2.rectangle(img, (30, 30), (110, 100), (90, 90, 90), 3)
    cv2.line(img, (70, 30), (70, 100), (90, 90, 90), 2)
    cv2.rectangle(img, (160, 70), (230, 128), (80, 70, 60), -1)  # cupboard
    cv2.rectangle(img, (165, 75), (225, 123), (120, 100, 80), 2)
    return img + (_smooth_noise(rng, 6, h, w)[..., None] - 0.5) * 25


def blinds(rng: np.random.Generator) -> np.ndarray:
    h, w = SIZE
    yy = np.arange(h)[:, None, None]
    light = np.where(yy % 12 < 8, 1.0, 0.55)
    base = np.array([200, 210, 220], np.float32) * rng.uniform(0.9, 1.05)
    return base * light * (0.8 + 0.3 * np.linspace(0, 1, w)[None, :, None])


def foliage(rng: np.random.Generator) -> np.ndarray:
    h, w = SIZE
    a, b = np.array([40, 90, 35], np.float32), np.array([140, 180, 90], np.float32)
    t = 0.6 * _smooth_noise(rng, 10, h, w) + 0.4 * _smooth_noise(rng, 40, h, w)
    return a * (1 - t[..., None]) + b * t[..., None]


BACKGROUNDS = {"brick_wall": brick_wall, "office": office, "blinds": blinds, "foliage": foliage}


def crate_texture(rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((64, 64, 3), np.float32)
    for i in range(4):  # planks
        img[i * 16:(i + 1) * 16] = np.array([150, 105, 60]) * rng.uniform(0.85, 1.1)
        img[i * 16] = (80, 55, 30)
    cv2.rectangle(img, (0, 0), (63, 63), (80, 55, 30), 3)
    return img + (_smooth_noise(rng, 16, 64, 64)[..., None] - 0.5) * 20


# Box 0.8 x 1.0 x 0.8 m standing on the floor: the world is y-up and the loader puts the
# URDF's origin on the ground, so the box's centre is 0.5 m up y. pybullet's renderer
# textures meshes (through the OBJ's material file), not URDF primitives, so the visual
# is a textured OBJ cube.
CRATE_URDF = """<?xml version="1.0"?>
<robot name="crate">
  <link name="crate">
    <inertial><mass value="20"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial>
    <visual>
      <origin xyz="0 0.5 0"/>
      <geometry><mesh filename="crate.obj" scale="0.4 0.5 0.4"/></geometry>
    </visual>
    <collision>
      <origin xyz="0 0.5 0"/>
      <geometry><box size="0.8 1.0 0.8"/></geometry>
    </collision>
  </link>
</robot>
"""


CRATE_MTL = "newmtl wood\nKa 1 1 1\nKd 1 1 1\nmap_Kd crate.png\n"


def crate_obj() -> str:
    """A unit cube (-1..1) with each face mapped onto the whole texture."""
    lines = ["mtllib crate.mtl", "o crate", "vt 0 0", "vt 1 0", "vt 1 1", "vt 0 1"]
    faces = []
    for axis in range(3):
        for sign in (1, -1):
            u, v = [a for a in range(3) if a != axis]
            corners = []
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = [0, 0, 0]
                p[axis], p[u], p[v] = sign, du * sign, dv
                corners.append(p)
            n = [0, 0, 0]
            n[axis] = sign
            a, b, c = (np.array(corners[i]) for i in range(3))
            if np.dot(np.cross(b - a, c - a), n) < 0:  # counter-clockwise seen from outside
                corners = corners[::-1]
            base = 4 * len(faces)
            lines += [f"v {x} {y} {z}" for x, y, z in corners]
            lines.append(f"vn {n[0]} {n[1]} {n[2]}")
            faces.append(f"f {base + 1}/1/{len(faces) + 1} {base + 2}/2/{len(faces) + 1} {base + 3}/3/{len(faces) + 1} {base + 4}/4/{len(faces) + 1}")
    return "\n".join(lines + ["usemtl wood", "s off"] + faces) + "\n"


def _write_png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def make_assets(out: Path) -> list[Path]:
    written = []
    (out / "backgrounds").mkdir(parents=True, exist_ok=True)
    (out / "props").mkdir(parents=True, exist_ok=True)
    for i, (name, make) in enumerate(BACKGROUNDS.items()):
        path = out / "backgrounds" / f"{name}.png"
        _write_png(path, make(np.random.default_rng(100 + i)))
        written.append(path)
    _write_png(out / "props" / "crate.png", crate_texture(np.random.default_rng(200)))
    (out / "props" / "crate.urdf").write_text(CRATE_URDF)
    (out / "props" / "crate.obj").write_text(crate_obj())
    (out / "props" / "crate.mtl").write_text(CRATE_MTL)
    return written + [out / "props" / f"crate.{ext}" for ext in ("png", "urdf", "obj", "mtl")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("assets"))
    args = parser.parse_args(argv)
    for path in make_assets(args.out):
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

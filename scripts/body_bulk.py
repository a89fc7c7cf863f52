"""How bulky bodies look at 64x64, real against synthetic, and the contact sheet in docs/.

    .venv/bin/python scripts/body_bulk.py [--sheet docs/body_bulk_and_closeups.jpg]

Real silhouettes (weizmann4_dev wave1) come from a crude colour segmentation: pixels far
from the wall colour of the same row's 6 border columns, largest component. It leaks into
dark wall patches and the crops cut some feet, both of which inflate the real ratios.
Synthetic silhouettes are the exact masks of weizmann4 wave1 clips, frontal, static camera.
"""

from __future__ import annotations

import argparse
import glob
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

from simgen.clip import Simulator, make_clip
from simgen.dataset.reader import DatasetReader
from simgen.motion.library import ActionLibrary
from simgen.sampling import sample_factors
from simgen.spec import load_spec

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "weizmann4_dev"


def decode(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def segment(img: np.ndarray, threshold: float = 38.0) -> np.ndarray:
    im = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0)
    wall = np.median(np.concatenate([im[:, :6], im[:, -6:]], axis=1), axis=1, keepdims=True)
    fg = cv2.morphologyEx((np.linalg.norm(im - wall, axis=2) > threshold).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg)
    return lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if n > 1 else fg.astype(bool)


def area_over_height2(mask: np.ndarray) -> float:
    rows = np.flatnonzero(mask.any(axis=1))
    return float(mask.sum()) / (rows[-1] + 1 - rows[0]) ** 2 if len(rows) > 4 else np.nan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sheet", help="also write the contact sheet (real above synthetic) here")
    args = ap.parse_args()
    real = {Path(f).stem: np.nanmedian([area_over_height2(segment(x)) for x in decode(f)[::4]]) for f in sorted(glob.glob(str(REAL / "wave1" / "*.mp4")))}
    print("real wave1 area/height^2:", {k: round(float(v), 3) for k, v in real.items()}, "median %.3f" % np.median(list(real.values())))
    sim = Simulator(ActionLibrary())
    spec = load_spec(preset="weizmann4", overrides={"frames": 16, "physics.enabled": False, "camera_noise.motion_blur_probability": 0.0})
    for bulk in (1.0, 1.25, 1.5, 1.75):
        ratios = []
        for seed in range(6):
            f = sample_factors(spec, sim.library, "wave1", seed)
            f["camera"].update(trajectory="static", azimuth_deg=0.0, shake_deg=0.0)
            f["body"]["bulk"] = bulk
            ratios += [area_over_height2(m) for m in (make_clip(sim, spec, f, seed).mask == 1)[::3]]
        print(f"synthetic wave1 bulk {bulk}: area/height^2 {np.nanmedian(ratios):.3f}")
    sim.close()
    if args.sheet:
        write_sheet(Path(args.sheet))


def write_sheet(out: Path) -> None:
    base = ["--preset", "weizmann4", "--clips", "8", "--frames", "12", "--seed", "3", "--workers", "1", "--quiet", "--set", "physics.enabled=false"]
    variants = [("synthetic, bulk 1.0 (default)", []), ("synthetic, actor.bulk 1.5", ["--set", "actor.bulk=1.5"]),
                ("synthetic, framing upper, fraction 1.4-2.2", ["--set", "camera.framing=upper", "--set", "camera.actor_height_fraction=[1.4,2.2]"])]
    rows = [("real weizmann4_dev", [decode(f)[20] for lab in ("wave1", "wave2", "jack", "bend") for f in sorted(glob.glob(str(REAL / lab / "*.mp4")))[:2]])]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, extra) in enumerate(variants):
            subprocess.run([sys.executable, "-m", "simgen.pipelines.cli", "generate", *base, *extra, "--out", f"{tmp}/{i}"], check=True, stdout=subprocess.DEVNULL)
            reader = DatasetReader(f"{tmp}/{i}")
            rows.append((name, [reader.read(k)[0][6] for k in range(8)]))
    parts = []
    for name, frames in rows:
        big = cv2.resize(np.concatenate(frames, 1), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        band = np.full((18, big.shape[1], 3), 255, np.uint8)
        cv2.putText(band, name, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        parts += [band, big]
    cv2.imwrite(str(out), np.concatenate(parts, 0)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    print("wrote", out)


if __name__ == "__main__":
    main()

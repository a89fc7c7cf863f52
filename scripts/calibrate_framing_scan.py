"""Score of `simgen calibrate --tune` against actor_height_fraction, for a stand-in "real" set.

The stand-in is generated from the demo spec (8 frames, 48x48, wave1 and jack, as
tests/adapt/test_calibrate_tune.py) with its framing at ``--truth`` ± 0.05; each probe is the same
spec at a centre from 0.5 to 1.0 (same seed for all: common random numbers). Prints, per centre,
the MMD² of the low-level statistics alone, the framing term, their sum (the tuning score) and the
true person box height (share of the frame) from the probe's annotations.

    python scripts/calibrate_framing_scan.py --truth 0.85 --seed 0 --clips 8
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

SMALL = {"frames": 8, "size": [48, 48], "output.shard_size": 8, "occlusion.probability": 0.0, "sequence.probability": 0.0,
         "scene.distractor_count": 0, "camera_noise.motion_blur_probability": 0.0, "camera_noise.jpeg_probability": 0.0,
         "camera_noise.sensor_noise_std": 0.0, "camera.trajectory": "static", "classes": ["wave1", "jack"]}


def probe(folder: Path, centre: float, clips: int, seed: int):
    from simgen.dataset.reader import DatasetReader
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec
    from simgen.adapt.calibrate.tune import _statistics_matrix, true_framing

    spec = load_spec(preset="demo", overrides={**SMALL, "clips": clips, "seed": seed,
                                               "camera.actor_height_fraction": [round(centre - 0.05, 4), round(centre + 0.05, 4)]})
    shutil.rmtree(folder, ignore_errors=True)
    generate_dataset(spec, folder, workers=1, progress=False)
    reader = DatasetReader(folder)
    return _statistics_matrix((reader.read(i)[0], 25.0) for i in range(len(reader))), true_framing(reader)


def main() -> None:
    from simgen.adapt.calibrate.tune import ProbeScorer, framing_distance

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=float, default=0.85)
    ap.add_argument("--seed", type=int, default=0, help="the probes' seed (the stand-in's is 99, as in the test)")
    ap.add_argument("--clips", type=int, default=8, help="clips per probe (the stand-in has 16)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        real, real_framing = probe(Path(tmp) / "real", args.truth, 16, 99)
        mmd_only = ProbeScorer(real, framing=False)
        print(f"stand-in: centre {args.truth}, true box height {real_framing:.3f}; probes of {args.clips} clips, seed {args.seed}")
        print("centre  mmd2    framing  score   true box")
        rows = []
        for centre in np.arange(0.5, 1.001, 0.05):
            stats, framing = probe(Path(tmp) / "probe", float(centre), args.clips, args.seed)
            m, f = mmd_only(stats), framing_distance(stats, real)
            rows.append((centre, m, f, m + f))
            print(f"{centre:.2f}    {m:7.4f} {f:7.3f}  {m + f:7.3f}  {framing:.3f}")
        for k, name in ((1, "mmd2"), (3, "score")):
            print(f"argmin {name}: {min(rows, key=lambda r: r[k])[0]:.2f}")


if __name__ == "__main__":
    main()

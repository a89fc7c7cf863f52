"""Generation benchmark: full pipeline vs the bare TinyRenderer loop, and worker scaling.

    python pipelines/bench_generate.py --out bench_results/generate.json

For each feature set and frame size, the same clips are made twice in this process: once
by the full pipeline (factors, posing or physics, occluders, render, annotations, H.264
encoding, shard writing) and once by a bare loop that only calls getCameraImage on the
same frames: the world is replayed to each frame (untimed) exactly as the pipeline moved
it, with the same camera and lights. The ratio of their frame rates is what the target is
about (>= 0.6). `bare_end_state_fps` is the older baseline, every frame's camera on the
world as the clip left it (props that have flown out of view, a passer-by gone): it
renders ~2% less in occluded clips. Then the job runs on a pool of 1 and of N workers
(N = free cores) and the speed-up is reported (target >= 0.9 N). Medians over --repeats.

Feature sets (on top of --preset, motion blur off in all since it multiplies renders):
  posed  - kinematic posing, no occluders, single actions
  preset - physics tracking, occluders and sequences at the preset's own rates (demo: 0.4, 0.4)
  full   - physics tracking, occluders in every clip, half the clips chained sequences
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from simgen.clip import Simulator, make_clip, replay_frames
from simgen.dataset.writer import clip_members, write_shard
from simgen.jobs.shard_task import generate_shard, shard_count
from simgen.motion.library import ActionLibrary
from simgen.native import pybullet as p
from simgen.sampling import clip_label, clip_seed, sample_factors
from simgen.spec import load_spec


def bench_frame_rates(preset: str, size: int, clips: int, frames: int, overrides: dict) -> dict:
    spec = load_spec(preset=preset, overrides={"size": size, "clips": clips, **_frames(frames), **overrides})
    sim = Simulator(ActionLibrary())
    full_s = bare_s = end_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        made = []
        for i in range(clips):
            seed = clip_seed(spec.seed, i)
            factors = sample_factors(spec, sim.library, clip_label(spec, i), seed)
            start = time.perf_counter()
            clip = make_clip(sim, spec, factors, seed)
            made.append((f"clip{i:08d}", clip_members(clip, spec)))
            full_s += time.perf_counter() - start
            end_s += _bare_renders(sim, spec, ((t, clip.camera_path, clip.light) for t in range(spec.frames)))
            # Bare loop on the same frames, camera and lights: only the renderer's own work.
            bare_s += _bare_renders(sim, spec, replay_frames(sim, spec, factors))
        start = time.perf_counter()
        write_shard(Path(tmp) / "shard.tar", made)
        full_s += time.perf_counter() - start
    sim.close()
    n = clips * spec.frames
    return {"full_fps": n / full_s, "bare_fps": n / bare_s, "ratio": bare_s / full_s, "bare_end_state_fps": n / end_s, "ratio_end_state": end_s / full_s}


def _bare_renders(sim: Simulator, spec, frames) -> float:
    """Seconds spent in getCameraImage alone, for (t, camera, light) with the world at frame t."""
    seconds = 0.0
    for t, camera, light in frames:
        view, projection = camera.view_matrix_gl(t), camera.projection_matrix_gl(t)
        start = time.perf_counter()
        sim.client.getCameraImage(spec.size[1], spec.size[0], view, projection, renderer=p.ER_TINY_RENDERER, **light)
        seconds += time.perf_counter() - start
    return seconds


def bench_scaling(preset: str, size: int, clips: int, frames: int, workers: int, overrides: dict) -> dict:
    spec = load_spec(preset=preset, overrides={"size": size, "clips": clips, "output.shard_size": 2, **_frames(frames), **overrides})
    data = spec.model_dump(mode="json")
    ctx = multiprocessing.get_context("spawn")
    seconds = {}
    for n in (1, workers):
        with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(n, mp_context=ctx) as pool:
            (Path(tmp) / "shards").mkdir()
            list(pool.map(_warm, range(n)))  # start the workers before timing (pool start-up is not throughput)
            start = time.perf_counter()
            list(pool.map(generate_shard, [data] * shard_count(spec), [tmp] * shard_count(spec), range(shard_count(spec))))
            seconds[n] = time.perf_counter() - start
    return {"clips_per_s_1": clips / seconds[1], f"clips_per_s_{workers}": clips / seconds[workers], "speedup": seconds[1] / seconds[workers]}


def _frames(frames: int | None) -> dict:
    return {} if frames is None else {"frames": frames}


def _warm(_):
    from simgen.jobs.shard_task import _simulator

    _simulator(None)
    time.sleep(0.2)


FEATURES = {
    "posed": {"physics.enabled": False, "occlusion.probability": 0.0, "sequence.probability": 0.0, "camera_noise.motion_blur_probability": 0.0},
    "preset": {"physics.enabled": True, "camera_noise.motion_blur_probability": 0.0},
    "full": {"physics.enabled": True, "occlusion.probability": 1.0, "sequence.probability": 0.5, "camera_noise.motion_blur_probability": 0.0},
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--sizes", type=int, nargs="+", default=[112, 224])
    ap.add_argument("--clips", type=int, default=9, help="clips per frame-rate measurement")
    ap.add_argument("--frames", type=int, default=None, help="frames per clip (default: the preset's)")
    ap.add_argument("--scaling-clips", type=int, default=24)
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--features", nargs="+", default=list(FEATURES), choices=list(FEATURES))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra spec override")
    ap.add_argument("--out", type=Path, default=Path("bench_results/generate.json"))
    args = ap.parse_args(argv)
    import yaml

    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    results = {"machine": {"cpus": os.cpu_count(), "free_cores": len(os.sched_getaffinity(0)), "platform": platform.platform(), "python": sys.version.split()[0]}}
    results["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    rows, scaling = [], []
    for feature in args.features:
        ov = {**FEATURES[feature], **overrides}
        for size in args.sizes:
            runs = [bench_frame_rates(args.preset, size, args.clips, args.frames, ov) for _ in range(args.repeats)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            results[f"{feature}_frame_rate_{size}"] = {"median": med, "runs": runs}
            rows.append((feature, f"{size}x{size}", med["full_fps"], med["bare_fps"], med["ratio"]))
        runs = [bench_scaling(args.preset, 112, args.scaling_clips, args.frames, args.workers, ov) for _ in range(args.repeats)]
        speedup = statistics.median(r["speedup"] for r in runs)
        results[f"{feature}_scaling_112"] = {"median_speedup": speedup, "workers": args.workers, "runs": runs}
        scaling.append((feature, speedup))

    print(f"{'features':>8} | {'size':>9} | {'pipeline fps/worker':>19} | {'bare render fps':>15} | {'ratio':>5}  (target >= 0.6)")
    for feature, size, full, bare, ratio in rows:
        print(f"{feature:>8} | {size:>9} | {full:19.1f} | {bare:15.1f} | {ratio:5.2f}")
    for feature, speedup in scaling:
        print(f"{feature:>8} | scaling 1 -> {args.workers} workers at 112x112: {speedup:.2f}x (target >= {0.9 * args.workers:.1f}x)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

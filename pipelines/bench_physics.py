"""Physics rejection benchmark: share of first attempts rejected per class, physics only.

    python pipelines/bench_physics.py --classes walk kick punch --samples 40 --out bench_results/physics.json

Each sample is the first attempt of a clip of the demo preset (at --size, no rendering):
its factors from `clip_seed(seed, i)` with the class fixed, simulated by
`simulate_plausibility` and checked against the spec's thresholds. Reports per class the
rejection rate, the thresholds that rejected, and the mean of each plausibility metric.
`--set key=value` overrides spec fields (e.g. physics.root_assist_limit=0.5).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from simgen.clip import Simulator, simulate_plausibility
from simgen.motion.library import ActionLibrary
from simgen.sampling import clip_seed, sample_factors
from simgen.spec import load_spec


def sweep(classes: list[str], samples: int, size: int, preset: str, overrides: dict, seed: int = 0) -> dict:
    spec = load_spec(preset=preset, overrides={"size": size, **overrides})
    sim = Simulator(ActionLibrary())
    out = {}
    for label in classes:
        rejected, reasons, metrics = 0, Counter(), {}
        start = time.perf_counter()
        for i in range(samples):
            factors = sample_factors(spec, sim.library, label, clip_seed(seed, i))
            plausibility = simulate_plausibility(sim, spec, factors)
            failures = spec.physics.failures(plausibility)
            rejected += bool(failures)
            reasons.update(f.split(" ")[0] for f in failures)
            for k, v in plausibility.items():
                metrics.setdefault(k, []).append(v)
        out[label] = {
            "rejected": rejected,
            "samples": samples,
            "rate": rejected / samples,
            "reasons": dict(reasons),
            "mean": {k: round(float(np.mean(v)), 4) for k, v in metrics.items()},
            "max": {k: round(float(np.max(v)), 4) for k, v in metrics.items()},
            "seconds": round(time.perf_counter() - start, 1),
        }
    sim.close()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", nargs="+", default=["walk", "kick", "punch"])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="spec override (YAML value)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the samples (clip_seed(seed, i))")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    result = sweep(args.classes, args.samples, args.size, args.preset, overrides, seed=args.seed)
    for label, r in result.items():
        print(f"{label:8s} rejected {r['rejected']:3d}/{r['samples']} ({r['rate']:.0%})  reasons {r['reasons']}  {r['seconds']} s")
        print("         mean", r["mean"])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"overrides": overrides, "classes": result}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Where a physics-tracked class leans on the root assist: per-frame diagnosis of first attempts.

    python pipelines/diagnose_physics.py --class punch --samples 30 [--seed 0] [--set key=value]

For each sample (the bench's first attempts: `clip_seed(seed, i)`, demo preset at 32x32,
physics only) records per frame: the assist force (horizontal, vertical, as a share of
body weight), the pelvis's lag behind its target (horizontal; forward along the target's
motion; down), the centre of mass's horizontal distance outside the feet's contact
points, frames with no foot touching, and which joint motors sit at their torque limit.
Prints one line per sample (with the class's playback speed), the means over accepted and
rejected samples, and the rejection rate by playback speed. Rejections by reason as in
bench_physics.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import yaml

from simgen.clip import Simulator, _build_world
from simgen.motion.library import ActionLibrary
from simgen.motion.skeleton import MOVABLE, REVOLUTE_LIMITS
from simgen.native import pybullet as p
from simgen.sampling import clip_seed, sample_factors
from simgen.spec import load_spec


class _Recorder:
    """Wraps a client: remembers the assist forces the tracker applies."""

    def __init__(self, client):
        self._client = client
        self.forces: list = []

    def __getattr__(self, name):
        if name == "applyExternalForce":
            def push(body, link, force, pos, frame):
                self.forces.append(force)
                return self._client.applyExternalForce(body, link, force, pos, frame)
            return push
        return getattr(self._client, name)


def _com(client, body) -> np.ndarray:
    n = client.getNumJoints(body)
    masses = [client.getDynamicsInfo(body, j)[0] for j in range(-1, n)]
    pos = [client.getBasePositionAndOrientation(body)[0]] + [s[0] for s in client.getLinkStates(body, list(range(n)))]
    return np.average(np.asarray(pos), axis=0, weights=masses)


def _outside(point: np.ndarray, contacts: np.ndarray) -> float:
    """Horizontal distance (m) of `point` outside the convex hull of `contacts` (x, z); 0 inside."""
    if len(contacts) == 0:
        return np.nan
    pts = contacts[:, [0, 2]]
    q = point[[0, 2]]
    if len(pts) < 3:
        return float(np.min(np.linalg.norm(pts - q, axis=1)))
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = ConvexHull(pts)
    except QhullError:
        return float(np.min(np.linalg.norm(pts - q, axis=1)))
    eq = hull.equations  # a x + b z + c <= 0 inside
    d = eq[:, :2] @ q + eq[:, 2]
    return float(max(d.max(), 0.0))


def diagnose_one(sim, spec, factors) -> dict:
    world = _build_world(sim, spec, factors)
    tracker = world.tracker
    rec = _Recorder(tracker.client)
    tracker.client = rec
    client, body = rec._client, tracker.body
    limits = {n: np.asarray(f) for n, f in zip(MOVABLE, tracker.forces)}
    rows = []
    for t in world.play(spec.frames):
        world.measure(t)
        if t == 0:
            continue
        forces = np.asarray(rec.forces[-spec.physics.substeps :]) / tracker.weight
        rec.forces.clear()
        pos = np.asarray(client.getBasePositionAndOrientation(body)[0])
        target = world.target_keypoints[t][0]  # the pelvis
        motion = world.target_keypoints[min(t + 1, spec.frames - 1)][0] - world.target_keypoints[t - 1][0]
        motion[1] = 0.0
        ahead = motion / max(np.linalg.norm(motion), 1e-9) if np.linalg.norm(motion) > 1e-4 else np.zeros(3)
        lag = target - pos
        states = client.getJointStatesMultiDof(body, tracker.indices)
        saturated = []
        for n, s in zip(MOVABLE, states):
            torque = np.abs(np.asarray(s[3], dtype=float))
            saturated.append(bool(np.any(torque >= 0.98 * limits[n])))
        feet = world.actor.feet()
        contacts = np.concatenate([f["contacts"] for f in feet]) if any(len(f["contacts"]) for f in feet) else np.zeros((0, 3))
        com = _com(client, body)
        rows.append(
            {
                "force_h": float(np.mean(np.hypot(forces[:, 0], forces[:, 2]))),
                "force_v": float(np.mean(forces[:, 1])),
                "force": float(np.mean(np.linalg.norm(forces, axis=1))),
                "lag_fwd": float(lag @ ahead),
                "lag_h": float(np.hypot(lag[0], lag[2])),
                "lag_down": float(lag[1]),
                "com_out": _outside(com, contacts),
                "feet_down": sum(len(f["contacts"]) > 0 for f in feet),
                "saturated": saturated,
            }
        )
    return {"rows": rows, "summary": tracker.meter.summary(), "world": world}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class", dest="label", default="punch")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = {"size": 32}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    spec = load_spec(preset="demo", overrides=overrides)
    sim = Simulator(ActionLibrary())
    groups = {True: [], False: []}
    reasons = Counter()
    by_speed = []
    for i in range(args.samples):
        factors = sample_factors(spec, sim.library, args.label, clip_seed(args.seed, i))
        out = diagnose_one(sim, spec, factors)
        failures = spec.physics.failures(out["summary"])
        reasons.update(f.split(" ")[0] for f in failures)
        groups[bool(failures)].append(out)
        chained = factors["action"]["chained"]
        speed = next(seg["speed"] for seg in factors["action"]["segments"] if seg["label"] == args.label)
        by_speed.append((speed, bool(failures)))
        s = out["summary"]
        rows = out["rows"]
        sat = np.mean([r["saturated"] for r in rows], axis=0)
        top = sorted(zip(MOVABLE, sat), key=lambda x: -x[1])[:3]
        print(
            f"{i:3d} {'REJ' if failures else 'ok '} force {s['mean_root_assist']:.2f} (h {np.mean([r['force_h'] for r in rows]):.2f} v {np.mean([r['force_v'] for r in rows]):.2f})"
            f" lag h {np.mean([r['lag_h'] for r in rows]):.3f} fwd {np.mean([r['lag_fwd'] for r in rows]):.3f} down {np.mean([r['lag_down'] for r in rows]):.3f}"
            f" skate {s['foot_skate_mps']:.2f} track {s['tracking_error_m']:.3f} com_out {np.nanmean([r['com_out'] for r in rows]):.3f}"
            f" airborne {np.mean([r['feet_down'] == 0 for r in rows]):.2f} sat {', '.join(f'{n} {v:.2f}' for n, v in top)} chained {chained}"
        )
    print("reasons", dict(reasons))
    for rejected, outs in groups.items():
        if not outs:
            continue
        rows = [r for o in outs for r in o["rows"]]
        sat = np.mean([r["saturated"] for r in rows], axis=0)
        print(
            f"{'rejected' if rejected else 'accepted'} {len(outs)}: force h {np.mean([r['force_h'] for r in rows]):.3f} v {np.mean([r['force_v'] for r in rows]):.3f}"
            f" lag h {np.mean([r['lag_h'] for r in rows]):.3f} fwd {np.mean([r['lag_fwd'] for r in rows]):.3f} down {np.mean([r['lag_down'] for r in rows]):.3f}"
            f" at bound {np.mean([r['force'] > 0.79 for r in rows]):.2f} com outside feet {np.nanmean([r['com_out'] for r in rows]):.3f} m"
            f" (share outside {np.nanmean([r['com_out'] > 0 for r in rows]):.2f}) airborne {np.mean([r['feet_down'] == 0 for r in rows]):.2f}"
        )
        print("   saturated share:", ", ".join(f"{n} {v:.2f}" for n, v in zip(MOVABLE, sat)))
    speeds = np.asarray(by_speed)
    for lo, hi in ((0.0, 0.9), (0.9, 1.0), (1.0, 1.1), (1.1, 9.0)):
        inside = (speeds[:, 0] >= lo) & (speeds[:, 0] < hi)
        if inside.any():
            print(f"speed {lo:.1f}-{hi:.1f}: {int(speeds[inside, 1].sum())}/{int(inside.sum())} rejected")
    sim.close()


if __name__ == "__main__":
    main()

"""Session 26 probe: would pooling a clip's windows otherwise than by their mean hold occlusion better?

Run from the project root (the only mode; no real test person is read, so nothing is chosen on them):
    simgen generate --preset weizmann4 --clips 96 --seed 4242 --frames 64 --workers 2 --out runs/s26/synval
    python docs/results/window_pooling/probe.py synthetic 32,33,34 OUT.json
Models: the kept fold-s0 `best` members of seeds 32-34 (runs/s23/targets, fp32), fused with their stability
weights and the camera gate as the recipe ensemble is. Windows: non-overlapping (None, as today) or every 8 / 4
frames; rules: mean (today), max per class, confidence-weighted mean, geometric mean. Result (288 clip copies a
level, synthetic_seeds32-34_fold_s0.json): against today's 78.1 / 77.1 / 56.6 (occlusion .15 / .3 / .45), the best
rule moved a level by at most 1.7 points either way, and overlapping windows scored under it at every level, by
0.4-6.6 points under any rule.
Synthetic clips only: no real clip is read."""
import json, sys
import numpy as np, torch
from simgen.adapt.perturb import apply_perturbation
from simgen.train.checkpoint import load_model
from simgen.train.data.samplers import dense_windows, resample_fps
from simgen.train.evaluate import _window_outputs
from simgen.train.inputs import InputTransform, crop_spans_clip
from simgen.train.memo import content_key
from simgen.train.metrics.ensemble import fuse_scores
from simgen.train.ensemble_scores import gated_members
from simgen.adapt.stabilise import camera_speed

torch.set_grad_enabled(False)
mode, seeds, out = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
if mode != "synthetic":
    sys.exit(f"probe.py: the only mode is synthetic, got {mode!r}")
DIRS = {35: "runs/s24/t35", 36: "runs/s25/targets", 37: "runs/s25/targets"}
COND = [("clean", 0)] + [("occlusion", s) for s in (0.15, 0.3, 0.45)]
STEPS = (None, 8, 4)

def synthetic_clips():
    """The held-out synthetic clips as (key, frames, fps, label), and the class list."""
    from simgen.train.data.synthetic import SyntheticReader
    r = SyntheticReader("runs/s26/synval")
    return [(r.key(i), r.read(i)[0], 25.0, r.label_index(i)) for i in range(len(r))], r.classes

def window_probs(model, meta, frames, step):
    tf = InputTransform(meta["input"])
    idx = resample_fps(len(frames), 25.0, meta.get("fps"))
    fr = torch.from_numpy(np.ascontiguousarray(frames[idx]))
    span = (meta["num_frames"] - 1) * meta["stride"] + 1
    wins = dense_windows(len(fr), meta["num_frames"], meta["stride"], step)
    key = content_key(fr)
    pool = crop_spans_clip(fr, meta["input"], key=key)
    p, _ = _window_outputs(model, tf, fr, wins, "cpu", 16, pool, key)
    return p

RULES = {
    "mean": lambda p: p.mean(0),
    "max": lambda p: (lambda m: m / m.sum())(p.max(0).values),
    "conf": lambda p: (p * p.max(1, keepdim=True).values).sum(0) / p.max(1).values.sum(),
    "geo": lambda p: torch.softmax(torch.log(p.clamp_min(1e-6)).mean(0), 0),
}
clips, classes = synthetic_clips()  # decoded once, scored by every seed's models
res = {}
for seed in seeds:
    d = DIRS.get(seed, "runs/s23/targets")
    rec = json.load(open(f"{d}/recipes_k1_seed{seed}.json"))
    fold = "s0"  # one fold's models: the clips are synthetic, so any fold's test person is unread
    w = [r for r in rec["runs"] if r["fold"] == fold][0]["member_weights"]
    members = [load_model(f"{d}/{m}_models_k1/best-seed{seed}/test-{fold}/model.pt") for m in ("default", "robust")]
    for mdl, _ in members: mdl.eval()
    for cname, sev in COND:
        rng = np.random.default_rng((seed, 7, int(sev * 100)))
        for key, frames, fps, label in clips:
            fr = frames if sev == 0 else apply_perturbation(frames, fps, cname, sev, rng)[0]
            speed = camera_speed(fr)
            which_m = gated_members([m[1]["input"] for m in members], speed, 0.008)
            for step in STEPS:
                wp = [window_probs(m, meta, fr, step) for m, meta in members]
                for rn, rule in RULES.items():
                    pm = [rule(p) for p in wp]
                    fused = fuse_scores([pm[i] for i in which_m], "mean", [w[i] for i in which_m])
                    for tag, pr in (("ens", fused), ("default", pm[0]), ("robust", pm[1])):
                        k = f"{tag}|{cname}@{sev}|{rn}|{step}"
                        res.setdefault(k, []).append(int(int(pr.argmax()) == label))
    print(seed, fold, flush=True)
summary = {k: round(float(np.mean(v)) * 100, 1) for k, v in sorted(res.items())}
json.dump(summary, open(out, "w"), indent=1)
for tag in ("ens", "robust", "default"):
    for cname, sev in COND:
        print(tag, f"{cname}@{sev}", " ".join(f"{rn}/{st}:{summary[f'{tag}|{cname}@{sev}|{rn}|{st}']}"
                                         for st in STEPS for rn in RULES))

"""Probe (session 34, development only, nothing adopted): does pooling a clip's windows over *space* as well as
time hold wave2 and jack under the benchmark's sweeping bar?

Under occlusion 0.45 a window sees one arm at a time (docs/results/occlusion_visibility), so every window of a
wave2 clip looks like wave1; over the clip the bar has moved on and both arms were seen. The benchmark averages the
windows' class probabilities, which cannot add "one arm here early" to "the other arm there later". Here the
saved `best` models of a targets run score the benchmark's own test copies (rebuilt exactly, checked against the
recorded scores), and each clip is also scored from the element-wise maximum, over its windows and their time
steps, of the backbone's last map (C x 4 x 4 cells: where anything moved at any time), pooled as the backbone
pools it (mean + max over cells) and put through the clip head. No training; labels are read only to count.

    python docs/results/spatial_union/probe.py RUN_DIR MEMBER SEED... > OUT.json
    e.g. python docs/results/spatial_union/probe.py runs/s33/targets robust 49 50 51
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from simgen.adapt.benchmark.clip_stability import check_recorded, rebuilt_test_clips
from simgen.adapt.benchmark.ensemble import saved_model
from simgen.adapt.benchmark.scoring import ModelInput
from simgen.train.checkpoint import load_model
from simgen.train.data.samplers import resample_fps
from simgen.train.evaluate import clip_scores
from simgen.train.inputs import InputTransform

REAL = Path("../shared/data/weizmann4_dev")


@torch.no_grad()
def _scores(model, spec: ModelInput, clip) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The benchmark's clip probabilities and the pooled-map variants' probabilities of one clip."""
    maps: list[torch.Tensor] = []
    hook = model.backbone.blocks.register_forward_hook(lambda _m, _i, out: maps.append(out.float()))
    try:
        idx = resample_fps(len(clip.frames), clip.fps, spec.fps)
        frames = torch.from_numpy(np.ascontiguousarray(clip.frames[idx]))
        mean_probs = clip_scores(model, InputTransform(spec.input_mode), frames, num_frames=spec.num_frames,
                                 stride=spec.stride, device="cpu").numpy()
    finally:
        hook.remove()
    m = torch.cat(maps)  # (windows, C, T', h, w)
    variants = {}
    for name, cells in (("union", m.amax(dim=(0, 2))), ("mean_map", m.mean(dim=(0, 2)))):
        flat = cells.flatten(1)  # (C, h*w)
        feat = (flat.mean(1) + flat.amax(1))[None]
        variants[name] = torch.softmax(model.clip_head(feat).float(), 1)[0].numpy()
    variants["union+mean"] = (variants["union"] + mean_probs) / 2
    return mean_probs, variants


def main(root: str, member: str, seeds: list[int]) -> dict:
    tally: dict[str, dict[str, list[int]]] = {}  # condition -> rule -> [right, total]
    wrong: dict[str, dict[str, dict[str, int]]] = {}  # condition -> rule -> "label>predicted" -> count
    for seed in seeds:
        results = json.loads((Path(root) / f"{member}_k1_seed{seed}.json").read_text())
        config = results["config"]
        classes = config["classes"]
        for run in results["runs"]:
            if run["method"] != "best":
                continue
            model, meta = load_model(saved_model(Path(root) / f"{member}_models_k1", "best", seed, run["fold"]))
            model.eval()
            spec = ModelInput.from_meta(meta)
            copies = rebuilt_test_clips(config, run, REAL, config["size"])
            labels = {p["clip"]: p["label"] for p in run["predictions"]}  # the run recorded each test clip's label
            for cond, clips in copies.items():
                per_rule: dict[str, list[np.ndarray]] = {}
                for clip in clips:
                    base, variants = _scores(model, spec, clip)
                    for rule, p in {"mean (benchmark)": base, **variants}.items():
                        per_rule.setdefault(rule, []).append(p)
                recorded = run["predictions"] if cond == "clean" else run["conditions"][cond]["predictions"]
                where = f"seed {seed} fold {run['fold']} {cond}"
                check_recorded(np.stack(per_rule["mean (benchmark)"]), recorded, where)
                for rule, probs in per_rule.items():
                    t = tally.setdefault(cond, {}).setdefault(rule, [0, 0])
                    for clip, p in zip(clips, probs):
                        truth, guess = labels[clip.key], classes[int(np.argmax(p))]
                        t[0] += truth == guess
                        t[1] += 1
                        if truth != guess:
                            w = wrong.setdefault(cond, {}).setdefault(rule, {})
                            w[f"{truth}>{guess}"] = w.get(f"{truth}>{guess}", 0) + 1
        print(f"seed {seed} done", file=sys.stderr)
    return {"member": member, "seeds": seeds, "root": root,
            "accuracy": {c: {r: round(100 * a / n, 1) for r, (a, n) in rules.items()} for c, rules in tally.items()},
            "clips": {c: next(iter(rules.values()))[1] for c, rules in tally.items()},
            "errors": wrong}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]), indent=1))

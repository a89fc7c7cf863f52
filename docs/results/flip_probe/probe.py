"""Post hoc probe (session 40, seen seeds, decides nothing): does averaging a clip's scores with its mirror image's
change a K = 1 `best` model's label on the clean real clips? Each fold's saved model of both recipe members.

    python docs/results/flip_probe/probe.py TARGETS_DIR:SEED ...   (TARGETS_DIR of pipelines/sim2real_targets.sh)
"""
import sys
from pathlib import Path

import numpy as np

from simgen.adapt.benchmark.data import RealClips
from simgen.adapt.benchmark.scoring import Clip, ModelInput, clip_probabilities
from simgen.train.checkpoint import load_model
from simgen.train.data.cache import FrameCache

REAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "weizmann4_dev"
SUBJECTS = ("s0", "s1", "s2", "s3", "s4")


def main() -> None:
    real = None  # decoded once, as the benchmark reads it (every fold model shares classes and frame size)
    for arg in sys.argv[1:]:
        targets, seed = arg.rsplit(":", 1)
        for member in ("robust", "default"):
            right = np.zeros(3, int)  # plain, mirrored, mean of the two
            for subject in SUBJECTS:
                model, meta = load_model(Path(targets) / f"{member}_models_k1/best-seed{seed}/test-{subject}/model.pt")
                if real is None:
                    real = RealClips(REAL, meta["classes"], {}, size=meta["size"], cache=FrameCache(None))
                clips = [real.clip(i) for i, r in enumerate(real.rows) if r.subject == subject]
                spec = ModelInput.from_meta(meta)
                plain = clip_probabilities(model, clips, spec)
                mirrored = clip_probabilities(model, [Clip(c.key, np.ascontiguousarray(c.frames[:, :, ::-1]), c.fps,
                                                           c.label, c.subject) for c in clips], spec)
                for clip, a, b in zip(clips, plain, mirrored):
                    ok = np.array([p.argmax() == clip.label for p in (a, b, (a + b) / 2)])
                    right += ok
                    if not ok.all():
                        print(f"seed {seed} {member}: {clip.key} p(true) plain {a[clip.label]:.3f} mirrored "
                              f"{b[clip.label]:.3f}; right {ok.astype(int).tolist()}")
            print(f"seed {seed} {member}: of 20 clean clips right: plain {right[0]}, mirrored {right[1]}, "
                  f"mean {right[2]}", flush=True)


if __name__ == "__main__":
    main()

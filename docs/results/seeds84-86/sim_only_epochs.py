"""Which epoch each member's sim-only training kept, and its validation curve (20 synthetic clips, every 5 epochs):

    python docs/results/seeds84-86/sim_only_epochs.py TARGETS_DIR 84 85 86 > OUT.json   (the log: its JSON beside it)
"""
import json
import sys
from pathlib import Path


def main(targets: Path, seeds: list[int]) -> None:
    out = {}
    for s in seeds:
        for member in ("default", "robust"):
            m = json.loads((targets / f"{member}_models_k1" / f"sim-only-seed{s}" / "metrics.json").read_text())
            curve = {h["epoch"]: h["val_accuracy"] for h in m["history"] if h["val_accuracy"] != ""}
            out[f"{member} seed {s}"] = dict(kept_epoch=m["model_epoch"], epochs=m["optim"]["epochs"],
                                             kept_val_accuracy=curve[m["model_epoch"]],
                                             last_val_accuracy=curve[max(curve)],
                                             train_seconds=m["train_seconds"], val_accuracy=curve)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), [int(s) for s in sys.argv[2:]])

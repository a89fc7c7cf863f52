"""A member's results file without its per-fold runs (per-clip predictions), as committed here and in seeds46-48:
the methods and config blocks that simgen.adapt.benchmark.targets reads, about 9 KB instead of 330 KB.

    python docs/results/seeds44-46/slim_member.py runs/s29/targets/robust_k1_seed46.json docs/results/seeds44-46/robust_k1_seed46.json
"""
import json
import sys
from pathlib import Path

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
results = json.loads(src.read_text())
slim = {k: v for k, v in results.items() if k != "runs"}
slim["runs_left_out"] = "the per-fold runs (per-clip predictions) are left out of this copy to keep the repository small"
dst.write_text(json.dumps(slim, indent=1) + "\n")

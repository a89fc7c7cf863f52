"""Training and evaluation run where pybullet cannot be imported (GPU machines: Python 3.12, no wheel)."""

import json
import subprocess
import sys

# pybullet (and ray) made unimportable before anything of simgen loads; at exit, list what was imported
WRAPPER = """
import sys
sys.modules["pybullet"] = None
sys.modules["pybullet_data"] = None
sys.modules["ray"] = None
from simgen.pipelines.cli import main
code = main(sys.argv[1:])
leaked = sorted(m for m in sys.modules if m.startswith(("pybullet", "ray")) and sys.modules[m] is not None)
print("LEAKED", leaked, file=sys.stderr)
sys.exit(code)
"""


def _simgen(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WRAPPER, *map(str, argv)], capture_output=True, text=True,
                          timeout=240)


def test_train_and_evaluate_without_pybullet(synthetic_dir, tmp_path):
    run = tmp_path / "run"
    train = _simgen("train", "--synthetic", synthetic_dir, "--out", run, "--epochs", "1", "--size", "32",
                    "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress")
    assert train.returncode == 0, train.stderr[-2000:]
    assert "LEAKED []" in train.stderr
    ev = _simgen("evaluate", "--checkpoint", run / "model.pt", "--data", synthetic_dir, "--out",
                 tmp_path / "m.json", "--no-progress")
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert "LEAKED []" in ev.stderr
    assert json.loads((tmp_path / "m.json").read_text())["n_clips"] == 12


def test_the_wrapper_really_blocks_pybullet():
    probe = subprocess.run([sys.executable, "-c", 'import sys; sys.modules["pybullet"] = None; import pybullet'],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr

"""DDP on the CPU (gloo, 2 processes under torchrun) against one process.

What must hold exactly: the sharded validation gives the metrics one process computes for
the saved model on the whole set, and a resumed 2-process run continues each rank's random
streams (same weights as the uninterrupted run). What holds within a tolerance: the final
metrics of 2 ranks x batch 3 against 1 process x batch 6 (same clips per step, same
schedule), see ``test_two_processes_match_one``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from simgen.train.checkpoint import load_model
from simgen.train.config import TrainConfig
from simgen.train.data.batch import ClipDataset
from simgen.train.data.cache import FrameCache
from simgen.train.data.synthetic import open_reader
from simgen.train.evaluate import evaluate_dataset
from simgen.train.fit import fit

EPOCHS, BATCH_PER_RANK, AUGMENT = 16, 3, "none"
PHASES = Path(__file__).with_name("ddp_phases.py")


@pytest.fixture(scope="module")
def ddp_runs(synthetic_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", PYTHONFAULTHANDLER="1")  # a C++ abort shows where
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(PHASES),
           str(synthetic_dir), str(out), str(EPOCHS), str(BATCH_PER_RANK), AUGMENT]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_sharded_validation_equals_one_process_on_the_whole_set(ddp_runs, synthetic_dir):
    m = _metrics(ddp_runs / "a")
    assert m["n_val_clips"] == 12 and m["n_train_clips"] == 12 and len(m["history"]) == EPOCHS
    checked = 0
    for row in m["history"]:  # every validated epoch, against that epoch's saved weights
        if row["val_accuracy"] == "":
            continue
        model, meta = load_model(ddp_runs / "a" / f"epoch{row['epoch']:03d}.pt")
        ds = ClipDataset(open_reader(synthetic_dir, classes=meta["classes"], size=32), FrameCache(None),
                         num_frames=8, stride=1, sampler="uniform")
        ds.prepare(progress=False)
        whole = evaluate_dataset(model, ds, input_mode=meta["input"], num_frames=8, stride=1)
        assert (row["val_accuracy"], row["val_macro_f1"]) == (round(whole["accuracy"], 5), round(whole["macro_f1"], 5))
        checked += whole["accuracy"] < 1
    assert checked >= 2  # epochs where a shard alone would score differently from the whole set


def test_only_rank0_writes_and_every_rank_rng_is_saved(ddp_runs):
    rows = (ddp_runs / "a" / "log.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + EPOCHS
    rng = torch.load(ddp_runs / "a" / "last.pt", weights_only=True)["rng"]
    assert len(rng) == 2 and not torch.equal(rng[0]["cpu"], rng[1]["cpu"])  # seeded seed + rank


def test_resumed_ddp_run_matches_the_uninterrupted_one(ddp_runs):
    a = torch.load(ddp_runs / "a" / "last.pt", weights_only=True)
    b = torch.load(ddp_runs / "b" / "last.pt", weights_only=True)
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], msg=k)
    assert [r["train_loss"] for r in a["history"]] == [r["train_loss"] for r in b["history"]]


def test_two_processes_match_one(ddp_runs, synthetic_dir, tmp_path):
    """Tolerance: final validation accuracy within 1/12 (one clip), and both runs >= 0.9.

    The runs are not step-for-step identical, by design of DDP: the two samplers draw
    different batches (DistributedSampler interleaves one permutation, the single process
    shuffles with its own generator), BatchNorm normalises over 3 clips per rank instead of
    6, and dropout masks come from other seeds. Per-epoch train losses differ by up to ~0.5
    on this 12-clip set (measured), so they are not compared; the end point is. (Measured:
    both 1.0 after 16 epochs.)
    """
    one = fit(TrainConfig(out=str(tmp_path / "one"), synthetic=str(synthetic_dir), val=str(synthetic_dir),
                          epochs=EPOCHS, batch_size=2 * BATCH_PER_RANK, size=32, num_frames=8, stride=1, val_every=2,
                          augment=AUGMENT, progress=False))
    two = _metrics(ddp_runs / "a")
    assert one["n_train_clips"] == two["n_train_clips"] == 12
    assert one["val_accuracy"] >= 0.9 and two["val_accuracy"] >= 0.9
    assert abs(one["val_accuracy"] - two["val_accuracy"]) <= 1 / 12 + 1e-9

"""A training run killed between an epoch's log.csv row and its checkpoint's rename resumes
with each epoch logged once and no stale temporary checkpoint."""

import csv
import os

import pytest
import torch

pytestmark = pytest.mark.faults


class Killed(BaseException):
    """Stands in for SIGKILL: nothing catches it and no clean-up runs after it."""


def _rows(run):
    with (run / "log.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_kill_between_log_row_and_checkpoint_rename(simgen_cli, generated, tmp_path, monkeypatch):
    import simgen.train.fit as fit_module

    args = ["--synthetic", generated, "--epochs", "3", "--size", "32", "--num-frames", "4", "--batch-size", "2",
            "--no-progress"]
    code, _, err = simgen_cli.run(["train", "--out", tmp_path / "whole", *args])
    assert code == 0, err
    save = fit_module.save_atomic

    def save_then_die(obj, path):
        if path.name == "last.pt" and obj["epoch"] == 1:  # epoch 2: its log row is written, its checkpoint not yet
            torch.save(obj, path.with_name(f"last.pt.tmp{os.getpid() + 1}"))  # by the killed process, not renamed
            raise Killed
        save(obj, path)

    monkeypatch.setattr(fit_module, "save_atomic", save_then_die)
    run = tmp_path / "killed"
    with pytest.raises(Killed):
        simgen_cli.run(["train", "--out", run, *args])
    assert [r["epoch"] for r in _rows(run)] == ["1", "2"]  # the fault: epoch 2 is logged, last.pt holds epoch 1
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 0 and list(run.glob("*.tmp*"))

    monkeypatch.setattr(fit_module, "save_atomic", save)
    code, _, err = simgen_cli.run(["train", "--out", run, "--resume", *args])
    assert code == 0, err
    assert not list(run.glob("*.tmp*"))
    drop_speed = lambda rows: [{k: v for k, v in r.items() if k != "clips_per_s"} for r in rows]
    assert drop_speed(_rows(run)) == drop_speed(_rows(tmp_path / "whole"))  # epochs 1-3 once each, same figures

"""``--precision``: how ``auto`` resolves, fp16's skipped steps leave the schedule alone, no warnings in a run."""

import argparse
import warnings

import pytest
import torch
import yaml

from simgen.pipelines import train_commands
from simgen.train.device import DeviceError, resolve_precision
from simgen.train.fit import optimizer_step

CPU, GPU = torch.device("cpu"), torch.device("cuda", 0)


@pytest.fixture
def bf16_gpu(monkeypatch):
    def fake(supported: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Fake V100")
    return fake


@pytest.mark.parametrize("option,expected", [("auto", "fp32"), ("fp32", "fp32"), ("bf16", "bf16")])
def test_cpu_precisions(option, expected):
    assert resolve_precision(option, CPU) == expected


def test_fp16_on_the_cpu_is_refused():
    with pytest.raises(DeviceError, match=r"^--precision fp16: needs a CUDA device"):
        resolve_precision("fp16", CPU)


@pytest.mark.parametrize("supported,option,expected", [
    (True, "auto", "bf16"), (False, "auto", "fp16"), (True, "fp16", "fp16"), (False, "fp32", "fp32"),
    (True, "bf16", "bf16"),
])
def test_gpu_precisions(bf16_gpu, supported, option, expected):
    bf16_gpu(supported)
    assert resolve_precision(option, GPU) == expected


def test_bf16_on_a_gpu_without_it_is_refused(bf16_gpu):
    bf16_gpu(False)
    with pytest.raises(DeviceError, match="Fake V100 does not support bf16"):
        resolve_precision("bf16", GPU)


def test_skipped_fp16_step_does_not_advance_the_schedule():
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: step + 1.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch warns if the scheduler steps before the optimizer ever did
        assert not optimizer_step((w * float("inf")).sum(), opt, sched, scaler)  # overflow: skipped
        assert torch.equal(w.detach(), torch.ones(3)) and sched.last_epoch == 0
        assert optimizer_step((w * 2).sum(), opt, sched, scaler)
    assert sched.last_epoch == 1 and torch.allclose(w.detach(), torch.full((3,), 1 - 0.1 * 2))


def test_fp32_step_always_advances():
    w = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([w], lr=0.5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    for _ in range(3):
        assert optimizer_step(w.sum(), opt, sched, scaler)
    assert sched.last_epoch == 3


def _cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="simgen")
    train_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


FAST = ["--size", "32", "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress", "--epochs", "2",
        "--val-fraction", "0.25", "--val-every", "1"]


@pytest.mark.parametrize("extra,recorded", [([], "fp32"), (["--precision", "bf16"], "bf16"), (["--no-amp"], "fp32")])
def test_a_normal_run_warns_nothing_and_records_precision(extra, recorded, synthetic_dir, tmp_path):
    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _cli("train", "--synthetic", synthetic_dir, "--out", out, *FAST, *extra) == 0
        assert _cli("evaluate", "--checkpoint", out / "model.pt", "--data", synthetic_dir, "--out",
                    tmp_path / "e.json", "--no-progress") == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["precision"] == recorded


def test_cli_fp16_on_cpu_one_line_exit_2(synthetic_dir, tmp_path, capsys):
    assert _cli("train", "--synthetic", synthetic_dir, "--out", tmp_path / "o", "--precision", "fp16") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--precision fp16: needs a CUDA device" in err[0]

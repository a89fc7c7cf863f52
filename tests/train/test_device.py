"""``resolve_device``: every ``--device`` case, on the CPU (CUDA presence and GPU count are faked)."""

import argparse

import pytest
import torch

from simgen.pipelines import train_commands
from simgen.train.device import DeviceError, dist_env, resolve_device


@pytest.fixture
def gpus(monkeypatch):
    """``gpus(n)`` makes torch report ``n`` visible GPUs (0: no CUDA)."""
    def fake(n: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
    return fake


def test_cpu_in_one_process_and_under_torchrun(gpus):
    gpus(0)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("cpu", local_rank=1, world_size=2) == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")


def test_cuda_is_indexed_so_set_device_accepts_it(gpus):
    gpus(1)
    dev = resolve_device("cuda")
    assert dev == torch.device("cuda", 0) and dev.index == 0


@pytest.mark.parametrize("option,expected", [("cuda:0", 0), ("cuda:1", 1), ("cuda:3", 3)])
def test_cuda_n_in_one_process(gpus, option, expected):
    gpus(4)
    assert resolve_device(option) == torch.device("cuda", expected)


@pytest.mark.parametrize("local_rank", [0, 1, 3])
def test_torchrun_cuda_takes_the_local_rank(gpus, local_rank):
    gpus(4)
    assert resolve_device("cuda", local_rank=local_rank, world_size=8) == torch.device("cuda", local_rank)


def test_torchrun_one_process_with_cuda_n(gpus):
    gpus(2)  # torchrun --nproc_per_node=1 sets WORLD_SIZE=1: an explicit GPU is fine
    assert resolve_device("cuda:1", local_rank=0, world_size=1) == torch.device("cuda", 1)


@pytest.mark.parametrize("option,gpu_count,local_rank,world,needle", [
    ("gpu", 1, 0, 1, "expected cpu, cuda or cuda:N"),
    ("cuda:x", 1, 0, 1, "expected cpu, cuda or cuda:N"),
    ("cuda:-1", 1, 0, 1, "expected cpu, cuda or cuda:N"),
    ("cuda:", 1, 0, 1, "expected cpu, cuda or cuda:N"),
    ("cuda0", 1, 0, 1, "expected cpu, cuda or cuda:N"),
    ("", 1, 0, 1, "expected cpu, cuda or cuda:N"),
    ("cuda:3", 1, 0, 1, "no GPU 3; 1 GPU(s) visible"),
    ("cuda", 0, 0, 1, "CUDA is not available"),
    ("cuda:0", 0, 0, 1, "CUDA is not available"),
    ("cuda", 2, 2, 3, "local rank 2 needs GPU 2, but only 2 GPU(s)"),
    ("cuda:0", 2, 1, 2, "every rank would use the same GPU"),
])
def test_bad_device_is_a_device_error_naming_the_option(gpus, option, gpu_count, local_rank, world, needle):
    gpus(gpu_count)
    with pytest.raises(DeviceError) as info:
        resolve_device(option, local_rank=local_rank, world_size=world)
    msg = str(info.value)
    assert msg.startswith(f"--device {option}:") and needle in msg and "\n" not in msg


def test_dist_env_reads_torchrun_variables(monkeypatch):
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    assert dist_env() == (1, 0, 0)
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert dist_env() == (4, 3, 1)


def _cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="simgen")
    train_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.mark.parametrize("cmd", ["train", "evaluate"])
@pytest.mark.parametrize("option,gpu_count", [("gpu", 0), ("cuda:x", 1), ("cuda:3", 1), ("cuda", 0)])
def test_cli_bad_device_one_line_exit_2(cmd, option, gpu_count, gpus, synthetic_dir, tmp_path, capsys):
    gpus(gpu_count)
    if cmd == "train":
        argv = ["train", "--synthetic", synthetic_dir, "--out", tmp_path / "o", "--device", option]
    else:
        (tmp_path / "m.pt").write_bytes(b"")  # never opened: the device is checked first
        argv = ["evaluate", "--checkpoint", tmp_path / "m.pt", "--data", synthetic_dir, "--out", tmp_path / "e.json",
                "--device", option]
    assert _cli(*argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"simgen {cmd}: error: --device {option}:")
    assert not (tmp_path / "o").exists()


def test_cli_torchrun_rank_past_the_gpus_exit_2(gpus, monkeypatch, synthetic_dir, tmp_path, capsys):
    gpus(1)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert _cli("train", "--synthetic", synthetic_dir, "--out", tmp_path / "o", "--device", "cuda") == 2
    assert "local rank 1 needs GPU 1" in capsys.readouterr().err

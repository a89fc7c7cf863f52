"""Which device a process trains on: ``--device`` plus the torchrun local rank -> ``torch.device``."""

from __future__ import annotations

import os
import re

import torch

from simgen.train.errors import TrainDataError


class DeviceError(TrainDataError):
    """A ``--device`` value this machine or this launch cannot honour (the CLI prints it, exit 2)."""


_CUDA = re.compile(r"cuda(?::(\d+))?")


def dist_env() -> tuple[int, int, int]:
    """``(world_size, rank, local_rank)`` from the torchrun environment (``(1, 0, 0)`` without it)."""
    return (int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0")),
            int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(option: str, local_rank: int = 0, world_size: int = 1) -> torch.device:
    """Map ``--device`` (and, under torchrun, the local rank) to one indexed device.

    Rules:
        ``cpu`` -> cpu, in every process.
        ``cuda`` -> ``cuda:LOCAL_RANK`` (``cuda:0`` in a single process): torchrun starts one
        process per GPU of the node, and each takes the GPU of its local rank.
        ``cuda:N`` -> ``cuda:N`` in a single process; with several processes it is refused,
        since every rank would pick the same GPU.
        Anything else, a GPU index past the visible ones, or cuda without CUDA -> :class:`DeviceError`.

    A CUDA device is always returned with its index, as ``torch.cuda.set_device`` needs.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    text = option.strip().lower()
    if text == "cpu":
        return torch.device("cpu")
    match = _CUDA.fullmatch(text)
    if match is None:
        raise DeviceError(f"--device {option}: expected cpu, cuda or cuda:N (N a GPU index)")
    if not torch.cuda.is_available():
        raise DeviceError(f"--device {option}: CUDA is not available on this machine (use --device cpu)")
    count = torch.cuda.device_count()
    if match.group(1) is None:
        index = local_rank
        if index >= count:
            raise DeviceError(f"--device {option}: local rank {local_rank} needs GPU {index}, but only {count} "
                              f"GPU(s) are visible (start at most {count} processes per node)")
        return torch.device("cuda", index)
    if world_size > 1:
        raise DeviceError(f"--device {option}: with {world_size} processes every rank would use the same GPU; "
                          f"give --device cuda (each rank takes the GPU of its LOCAL_RANK)")
    index = int(match.group(1))
    if index >= count:
        raise DeviceError(f"--device {option}: no GPU {index}; {count} GPU(s) visible (cuda:0..cuda:{count - 1})")
    return torch.device("cuda", index)


#: ``--precision`` -> autocast dtype (``None``: plain fp32, autocast off)
AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


def resolve_precision(option: str, device: torch.device) -> str:
    """``--precision auto|bf16|fp16|fp32`` on ``device`` -> ``bf16``, ``fp16`` or ``fp32``.

    ``auto``: bf16 on a GPU that supports it (same range as fp32, so no loss scaling is
    needed), fp16 with a GradScaler on an older GPU, fp32 on the CPU (bf16 is asked for
    there: it changes the numbers, and is fast only with bf16 instructions; with AVX512-BF16
    it trained tiny3d's sim-only models in 0.66-0.84 of fp32's time, session 26). fp16 on
    the CPU is refused: the GradScaler path is only tested on CUDA.
    """
    if option not in ("auto", *AUTOCAST_DTYPES):
        raise DeviceError(f"--precision {option}: expected auto, bf16, fp16 or fp32")
    if device.type != "cuda":
        if option == "fp16":
            raise DeviceError(f"--precision fp16: needs a CUDA device (on {device.type} use bf16 or fp32)")
        return "fp32" if option == "auto" else option
    bf16_ok = torch.cuda.is_bf16_supported()
    if option == "auto":
        return "bf16" if bf16_ok else "fp16"
    if option == "bf16" and not bf16_ok:
        raise DeviceError(f"--precision bf16: {torch.cuda.get_device_name(device)} does not support bf16 "
                          f"(use fp16 or fp32)")
    return option

"""What a benchmark ran on, recorded beside its results: the machine (CPU model and its bf16 instructions, on
which the kernels bf16 autocast runs can depend) and a digest of the synthetic clips' content. The same command and seed
gave seed 81 two clean clips fewer on one 2-core VM than on another (docs/sim2real-log.md, "Seeds 81-83"); with
these fields two such runs say whether their data or their machine differed.
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

import torch

from simgen.dataset.reader import read_manifest

#: CPU flags that change what bf16 autocast computes with (emulated without them)
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, list[str]]:
    """(model name, the BF16_FLAGS present) from Linux's cpuinfo; platform.processor() elsewhere."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return platform.processor() or "unknown", []
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())  # the first CPU's: every core of a VM reports the same
    model = fields.get("model name") or platform.processor() or "unknown"
    flags = fields.get("flags", "").split()
    return model, [f for f in BF16_FLAGS if f in flags]


def machine(device: str) -> dict:
    """The results' ``config.machine`` block."""
    model, bf16 = _cpuinfo()
    return dict(cpus=os.cpu_count(), torch_threads=torch.get_num_threads(), platform=platform.platform(),
                cpu=model, cpu_bf16=bf16, torch=str(torch.__version__),  # a plain str: checkpoints load weights_only
                cuda=torch.cuda.get_device_name(0) if device.startswith("cuda") else None)


def dataset_digest(root: str | Path) -> str | None:
    """sha256 over the clips' keys and checksums in ``root/manifest.jsonl`` (each checksum covers every member of
    its clip), so two folders with the same digest hold the same clips byte for byte. ``None`` where the folder
    has no manifest or a row has no checksum (a folder not written by ``simgen generate``)."""
    rows = read_manifest(Path(root))
    if not rows or any(not isinstance(r.get("checksum"), str) for r in rows):
        return None
    h = hashlib.sha256()
    for key, checksum in sorted((r["key"], r["checksum"]) for r in rows):
        h.update(f"{key} {checksum}\n".encode())
    return h.hexdigest()[:16]

"""One generation job per output folder: an OS lock that dies with the process holding it.

Two jobs on one `--out` would each delete the other's unfinished (temporary) shards and
append to one manifest. `flock` is released by the kernel when the holder exits however it
exits (SIGKILL included), so a killed job never leaves a stale lock that blocks its resume.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simgen.errors import SimgenError

# Kept after the job (deleting it would let a job that opened the old file and one that
# creates a new file both hold "the" lock).
LOCK_NAME = ".simgen-generate.lock"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the job lock of folder `out` (created if missing); refuse when another job holds it."""
    if out.exists() and not out.is_dir():
        raise SimgenError("exists and is not a folder", file=str(out), field="--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SimgenError(f"cannot write here: {exc.strerror}", file=str(out), field="--out") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise SimgenError(
                f"another `simgen generate` (pid {holder}) is writing to this folder; wait for it to end or use another --out",
                file=str(out),
                field="--out",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock

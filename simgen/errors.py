"""User-facing errors: one clear line naming the file and the field."""

from __future__ import annotations

import errno

#: the write errors that mean "no room": disk full, over a file-size limit (`ulimit -f`), over quota
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


class SimgenError(Exception):
    """An error caused by user input. The CLI prints it as one line and exits with status 2."""

    exit_status = 2

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        self.file = file
        self.field = field
        self.message = message
        super().__init__(self.format())

    def format(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class DiskFullError(SimgenError):
    """The output disk filled up: one line saying what was kept, exit status 1 (not the input's fault)."""

    exit_status = 1


class WorkerLostError(SimgenError):
    """A worker process died (killed, out of memory) and its shard could not be finished: one
    line naming the shard and what was kept, exit status 1 (not the input's fault)."""

    exit_status = 1


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def disk_full(exc: OSError, path, kept: str = "files already written are kept; free space and re-run the same command") -> DiskFullError:
    """The one-line error for a write that failed for lack of room; `kept` says what survived."""
    where = exc.filename or path
    return DiskFullError(f"disk full while writing ({exc.strerror}); {kept}", file=str(where) if where else None)

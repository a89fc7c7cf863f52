"""Reading files a user or a dataset supplies: every way such a file can be bad becomes a
`SimgenError` naming the file (and field), so the CLI prints one line and exits 2.

Only input faults are caught here (unreadable, not UTF-8, malformed, nested too deep, a path
that leaves its folder); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import math
from pathlib import Path, PurePosixPath, PureWindowsPath

import yaml

from simgen.errors import SimgenError


def read_text(path: str | Path, *, field: str | None = None, errors: str = "strict") -> str:
    """The file's text (UTF-8; a byte-order mark is dropped). `errors="replace"` keeps going
    past bytes that are not UTF-8."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SimgenError(f"cannot read: {exc.strerror or exc}", file=str(path), field=field) from None
    if errors != "strict":
        return data.decode("utf-8-sig", errors=errors)
    return decode_utf8(data, file=str(path), field=field)


def decode_utf8(data: bytes, *, file: str, field: str | None = None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SimgenError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", file=file, field=field) from None


def parse_yaml(text: str, *, file: str, field: str | None = None):
    """`yaml.safe_load` (plain data only, never Python objects) with one-line errors."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SimgenError(f"malformed YAML: {' '.join(str(exc).split())}", file=file, field=field) from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise SimgenError("malformed YAML: nested too deeply", file=file, field=field) from None


def parse_json(data: str | bytes, *, file: str, field: str | None = None):
    """`json.loads` with one-line errors (malformed, not UTF-8, nested too deeply)."""
    if isinstance(data, bytes):
        data = decode_utf8(data, file=file, field=field)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise SimgenError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", file=file, field=field) from None
    except RecursionError:
        raise SimgenError("not JSON: nested too deeply", file=file, field=field) from None


def load_yaml(path: str | Path, *, field: str | None = None):
    return parse_yaml(read_text(path, field=field), file=str(path), field=field)


def load_json(path: str | Path, *, field: str | None = None):
    return parse_json(read_text(path, field=field), file=str(path), field=field)


def is_finite_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def relative_inside(text: str) -> str | None:
    """Why `text`, a path a data file gives relative to its folder, could leave that folder
    (absolute, a drive, a `..` part); None when it stays inside.

    Symbolic links inside the folder are followed as usual: a user may link their own files in."""
    if not text:
        return "is empty"
    for pure in (PurePosixPath(text), PureWindowsPath(text)):
        if pure.is_absolute() or pure.drive or pure.root:
            return "is an absolute path; give it relative to the folder"
        if ".." in pure.parts:
            return "leaves the folder ('..'); give a path inside it"
    return None


def plain_file_name(text: str) -> bool:
    """A bare file name: no folder part, not '.', '..' or hidden."""
    return bool(text) and "/" not in text and "\\" not in text and not text.startswith(".") and "\x00" not in text

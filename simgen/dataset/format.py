"""Byte-level layout of a clip in a shard, written deterministically.

A shard is a tar of `KEY.mp4`, `KEY.json`, `KEY.npz` per clip (WebDataset layout). Members
carry fixed metadata (mtime 0, root owner) and the npz fixed timestamps, so the same clips
give byte-identical shards whichever process or machine writes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile

import numpy as np

from simgen.errors import SimgenError
from simgen.untrusted import plain_file_name

FORMAT_VERSION = 2  # 2: clips record their members' digests; clip count outside the spec fingerprint
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def clip_key(index: int) -> str:
    return f"clip{index:08d}"


def shard_name(index: int) -> str:
    return f"shard-{index:06d}.tar"


def encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """np.savez_compressed with fixed timestamps (numpy stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=1)
    return buf.getvalue()


def decode_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def encode_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


MEMBER_DIGESTS = "member_sha256"  # the annotation field holding the video's and dense maps' digests


def member_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clip_checksum(members: dict[str, bytes]) -> str:
    """sha256 over the clip's members in extension order."""
    h = hashlib.sha256()
    for ext in sorted(members):
        h.update(ext.encode())
        h.update(len(members[ext]).to_bytes(8, "little"))
        h.update(members[ext])
    return h.hexdigest()


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def check_member(member: tarfile.TarInfo, shard) -> None:
    """Refuse a shard member that is not a plain file with a bare name (`KEY.EXT`).

    Shards are read in memory, never extracted, but a link or a path in a member name means
    the shard was not written by simgen: it is refused rather than read around."""
    if not member.isfile():
        kind = "symbolic link" if member.issym() else "hard link" if member.islnk() else "directory" if member.isdir() else "special file"
        raise SimgenError(f"member '{member.name}' is a {kind}; a shard holds plain files only", file=str(shard))
    if not plain_file_name(member.name):
        raise SimgenError(f"member name '{member.name}' has a folder part; a shard holds bare KEY.EXT names", file=str(shard))


def read_shard_members(path) -> dict[str, dict[str, bytes]]:
    """key -> {ext: bytes} for every member of a shard, in file order."""
    out: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path, "r") as tar:
        for member in tar:
            check_member(member, path)
            key, _, ext = member.name.partition(".")
            out.setdefault(key, {})[ext] = tar.extractfile(member).read()
    return out

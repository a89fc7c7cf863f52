"""Write clips into a shard: under a temporary name, renamed only once complete."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from simgen.clip import Clip
from simgen.dataset.format import MEMBER_DIGESTS, add_member, clip_checksum, encode_json, encode_npz, member_digest, read_shard_members
from simgen.spec import GenerationSpec
from simgen.video import encode_mp4

TMP_SUFFIX = ".tmp"


def clip_members(clip: Clip, spec: GenerationSpec) -> dict[str, bytes]:
    mp4 = encode_mp4(
        clip.frames, spec.fps, crf=clip.annotations["factors"]["camera_noise"]["crf"], preset=spec.output.x264_preset, params=spec.output.x264_params
    )
    # float16 depth: millimetre steps at arm's length, a few mm at 5 m, half the bytes.
    npz = encode_npz({"mask": clip.mask, "depth": clip.depth.astype(np.float16)})
    # The clip carries its own digests: a manifest row rebuilt from a damaged shard (a resume)
    # matches the damage, and H.264 decodes most corruption without an error.
    digests = {"mp4": member_digest(mp4), "npz": member_digest(npz)}
    return {"mp4": mp4, "json": encode_json({**clip.annotations, MEMBER_DIGESTS: digests}), "npz": npz}


def manifest_row(key: str, shard: str, annotations: dict, members: dict[str, bytes]) -> dict:
    return {
        "key": key,
        "shard": shard,
        "label": annotations["label"],
        "seed": annotations["seed"],
        "frames": len(annotations["frame_labels"]),
        "attempts": annotations.get("attempts", 1),
        "plausibility": annotations.get("plausibility"),
        "factors": annotations["factors"],
        "checksum": clip_checksum(members),
    }


def write_shard(path: Path, clips: list[tuple[str, dict[str, bytes]]]) -> None:
    """Write (key, members) pairs to `path` atomically: a crash leaves only a *.tmp file."""
    tmp = path.with_name(path.name + f"{TMP_SUFFIX}-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            with tarfile.open(fileobj=f, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                for key, members in clips:
                    for ext in ("mp4", "json", "npz"):
                        add_member(tar, f"{key}.{ext}", members[ext])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # e.g. a full disk; a failed write() names no file: name the shard
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def rows_from_shard(path: Path) -> list[dict]:
    """Rebuild the manifest rows of a complete shard from its contents (used when resuming)."""
    import json

    rows = []
    for key, members in read_shard_members(path).items():
        rows.append(manifest_row(key, path.name, json.loads(members["json"]), members))
    return rows

"""Check every clip of a dataset against its manifest: presence, checksum, decodability, shapes."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from simgen.dataset.format import MEMBER_DIGESTS, clip_checksum, decode_npz, member_digest, read_shard_members
from simgen.dataset.reader import read_manifest
from simgen.errors import SimgenError
from simgen.spec import validate_spec
from simgen.untrusted import load_json, parse_json
from simgen.video import decode_mp4

REQUIRED_FIELDS = ("label", "frame_labels", "segments", "keypoints_2d", "joint_names", "bbox", "camera", "factors", "seed")


def _numbers(value) -> np.ndarray | None:
    """`value` as a float array, or None when it is not a rectangular array of numbers."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):  # ragged lists, text, objects
        return None
    return arr


#: numeric annotation fields: name -> how to fetch them; NaN or inf in any is a fault
#: (a NaN keyframe made clips whose keypoints and camera were NaN, and passed as valid)
NUMERIC_FIELDS = {
    "keypoints_2d": lambda a: a.get("keypoints_2d"),
    "keypoints_3d": lambda a: a.get("keypoints_3d"),
    "bbox": lambda a: a.get("bbox"),
    "camera.K": lambda a: a["camera"].get("K"),
    "camera.K_per_frame": lambda a: a["camera"].get("K_per_frame"),
    "camera.extrinsics": lambda a: a["camera"].get("extrinsics"),
}


def _check_numeric(ann: dict) -> tuple[list[str], dict[str, np.ndarray]]:
    """Faults for numeric fields that are not numbers or not finite; the fields as arrays."""
    faults, arrays = [], {}
    if not isinstance(ann.get("camera"), dict):
        return ["annotation field 'camera' is not a mapping"], arrays
    for name, get in NUMERIC_FIELDS.items():
        value = get(ann)
        if value is None and name not in REQUIRED_FIELDS:  # optional, absent in older datasets
            continue
        arr = _numbers(value) if value is not None else None
        if arr is None:
            faults.append(f"annotation field '{name}' is not an array of numbers")
        elif not np.isfinite(arr).all():
            faults.append(f"annotation field '{name}' has {int((~np.isfinite(arr)).sum())} non-finite value(s) (NaN or inf)")
        else:
            arrays[name] = arr
    return faults, arrays


def _check_annotations(ann: dict, frames: int, size: tuple[int, int]) -> list[str]:
    if not isinstance(ann, dict):
        return ["annotations are not a JSON object"]
    faults = [f"annotation field '{f}' missing" for f in REQUIRED_FIELDS if f not in ann]
    if faults:
        return faults
    faults, arrays = _check_numeric(ann)
    if faults:
        return faults
    if not isinstance(ann["frame_labels"], list) or not isinstance(ann["segments"], list) or not isinstance(ann["joint_names"], list):
        return ["annotation fields 'frame_labels', 'segments' and 'joint_names' must be lists"]
    if len(ann["frame_labels"]) != frames:
        faults.append(f"frame_labels has {len(ann['frame_labels'])} entries for {frames} frames")
    kp = arrays["keypoints_2d"]
    if kp.shape != (frames, len(ann["joint_names"]), 3):
        faults.append(f"keypoints_2d has shape {kp.shape}, expected ({frames}, {len(ann['joint_names'])}, 3)")
    elif not np.isin(kp[..., 2], (0.0, 1.0)).all():
        faults.append("keypoint visibility flags are not 0/1")
    if "keypoints_visible_depth" in ann:  # depth-tested visibility; absent in older datasets
        seen = _numbers(ann["keypoints_visible_depth"])
        if seen is None or seen.shape != (frames, len(ann["joint_names"])):
            faults.append(f"keypoints_visible_depth has shape {getattr(seen, 'shape', None)}, expected ({frames}, {len(ann['joint_names'])})")
        elif not np.isin(seen, (0, 1)).all():
            faults.append("keypoints_visible_depth flags are not 0/1")
    if "keypoints_in_frame" in ann:  # inside the image or cut off by it; absent in older datasets
        framed = _numbers(ann["keypoints_in_frame"])
        if framed is None or framed.shape != (frames, len(ann["joint_names"])):
            faults.append(f"keypoints_in_frame has shape {getattr(framed, 'shape', None)}, expected ({frames}, {len(ann['joint_names'])})")
        elif not np.isin(framed, (0, 1)).all():
            faults.append("keypoints_in_frame flags are not 0/1")
    bbox = arrays["bbox"]
    if bbox.shape != (frames, 4):
        faults.append(f"bbox has shape {bbox.shape}, expected ({frames}, 4)")
    elif np.any(bbox[:, 2] < bbox[:, 0]) or np.any(bbox[:, 3] < bbox[:, 1]) or np.any(bbox < 0) or np.any(bbox[:, 2] > size[1]) or np.any(bbox[:, 3] > size[0]):
        faults.append("a bbox is inverted or outside the image")
    if not all(isinstance(s, list) and len(s) == 3 and all(isinstance(x, int) for x in s[:2]) for s in ann["segments"]):
        return faults + ["segments must be [start, end, label] rows"]
    covered = sorted((s[0], s[1]) for s in ann["segments"])
    if covered and (covered[0][0] != 0 or covered[-1][1] != frames):
        faults.append("segments do not span the clip")
    for s in ann["segments"]:
        if any(lbl != s[2] for lbl in ann["frame_labels"][s[0] : s[1]]):
            faults.append(f"segment {s} disagrees with frame_labels")
            break
    if len(arrays.get("camera.extrinsics", [])) != frames:
        faults.append("camera.extrinsics needs one matrix per frame")
    return faults


def validate_dataset(root: str | Path, *, decode: bool = True, progress: bool = True) -> list[str]:
    """Return a list of faults (empty when the dataset is valid)."""
    root = Path(root)
    meta_path = root / "dataset.json"
    if not meta_path.exists():
        raise SimgenError("not a simgen dataset (no dataset.json)", file=str(root))
    try:
        meta = load_json(meta_path)
    except SimgenError as exc:
        return [f"dataset.json: {exc.message}; re-run the same generate command to rebuild it"]
    if not isinstance(meta, dict) or not isinstance(meta.get("spec", {}), dict):
        return ["dataset.json: expected a JSON object with a 'spec' object; re-run the same generate command to rebuild it"]
    faults: list[str] = []
    if "spec" in meta:  # the spec a resume re-runs: a damaged one must not read as good
        try:
            validate_spec(meta["spec"], "dataset.json")
        except SimgenError as exc:
            faults.append(f"dataset.json: spec field '{exc.field}': {exc.message}; re-run the same generate command to rebuild it")
    if not meta.get("complete"):
        faults.append("dataset.json: the job has not finished (complete is false); re-run the same generate command")
    try:
        rows = read_manifest(root)
    except SimgenError as exc:
        return faults + [f"manifest.jsonl: {exc.message}; re-run the same generate command to rebuild it"]
    for n, r in enumerate(rows, 1):
        lacking = [f for f in ("key", "shard", "label", "seed", "checksum") if f not in r]
        if lacking:
            return faults + [f"manifest.jsonl: row {n} lacks {', '.join(lacking)}; re-run the same generate command to rebuild it"]
    spec = meta.get("spec", {})
    size = tuple(spec.get("size", (0, 0)))
    frames_expected = spec.get("frames")
    if meta.get("counts", {}).get("clips") != len(rows):
        faults.append(f"dataset.json counts {meta.get('counts', {}).get('clips')} clips, manifest lists {len(rows)}")
    if spec.get("clips") is not None and meta.get("complete") and spec["clips"] != len(rows):
        faults.append(f"spec asks for {spec['clips']} clips, manifest lists {len(rows)}")
    keys = [r["key"] for r in rows]
    if len(set(keys)) != len(keys):
        faults.append("manifest lists a key twice")
    by_shard: dict[str, list[dict]] = {}
    for r in rows:
        by_shard.setdefault(r["shard"], []).append(r)
    on_disk = {p.name for p in (root / "shards").glob("*.tar")}
    for extra in sorted(on_disk - set(by_shard)):
        faults.append(f"shards/{extra}: not listed in the manifest")
    for stray in sorted((root / "shards").glob("*.tmp*")):
        faults.append(f"shards/{stray.name}: unfinished temporary shard")
    bar = tqdm(total=len(rows), unit="clip", desc="validate", disable=not progress)
    for shard, shard_rows in sorted(by_shard.items()):
        path = root / "shards" / shard
        if not path.exists():
            faults.append(f"shards/{shard}: missing ({len(shard_rows)} clips listed)")
            bar.update(len(shard_rows))
            continue
        try:
            members = read_shard_members(path)
        except (OSError, EOFError, tarfile.TarError) as exc:  # a truncated or corrupt tar
            faults.append(f"shards/{shard}: unreadable tar ({exc})")
            bar.update(len(shard_rows))
            continue
        except SimgenError as exc:  # a link or a path among its members
            faults.append(f"shards/{shard}: {exc.message}")
            bar.update(len(shard_rows))
            continue
        for stray in sorted(set(members) - {r["key"] for r in shard_rows}):
            faults.append(f"shards/{shard}:{stray}: in the shard but not in the manifest")
        for r in shard_rows:
            where = f"shards/{shard}:{r['key']}"
            m = members.get(r["key"])
            bar.update(1)
            if m is None or set(m) != {"mp4", "json", "npz"}:
                faults.append(f"{where}: members missing (has {sorted(m) if m else 'none'})")
                continue
            if clip_checksum(m) != r["checksum"]:
                faults.append(f"{where}: checksum differs from the manifest")
                continue
            try:
                ann = parse_json(m["json"], file=where)
            except SimgenError as exc:
                faults.append(f"{where}: annotations are {exc.message}")
                continue
            n = r.get("frames", frames_expected)
            faults.extend(f"{where}: {f}" for f in _check_annotations(ann, n, size))
            for field in ("label", "seed", "factors", "attempts"):
                if field in r and ann.get(field, 1 if field == "attempts" else None) != r[field]:
                    faults.append(f"{where}: {field} differs between the manifest and the clip's annotations")
            recorded = ann.get(MEMBER_DIGESTS, {})  # absent in datasets made before it was recorded
            if not isinstance(recorded, dict):
                faults.append(f"{where}: annotation field '{MEMBER_DIGESTS}' is not a mapping")
                continue
            damaged = [ext for ext in ("mp4", "npz") if ext in recorded and member_digest(m[ext]) != recorded[ext]]
            if damaged:
                faults.append(f"{where}: {' and '.join(damaged)} bytes differ from the digest in the clip's annotations (damaged)")
                continue
            if not decode:
                continue
            try:
                video = decode_mp4(m["mp4"], strict=True)
                dense = decode_npz(m["npz"])
            except Exception as exc:
                faults.append(f"{where}: cannot decode ({exc})")
                continue
            if video.shape[0] != n or tuple(video.shape[1:3]) != size:
                faults.append(f"{where}: video is {video.shape}, expected {n} frames of {size}")
            for name, kind in (("mask", "u"), ("depth", "f")):
                arr = dense.get(name)
                if arr is None or arr.shape != (n, *size) or arr.dtype.kind != kind:
                    faults.append(f"{where}: {name} missing or wrong shape/dtype")
    bar.close()
    return faults

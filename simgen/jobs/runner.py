"""Run a generation job: plan shards, skip the complete ones, run the rest, keep the manifest true.

Crash safety: a shard is written under a temporary name and renamed when complete; the
manifest lists only complete shards (rows are appended after the rename, and rebuilt from
the shard itself if the job died in between). Re-running the same command resumes; the
finished dataset is byte-identical to an uninterrupted run's.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from tqdm import tqdm

import simgen
from simgen.dataset.format import FORMAT_VERSION, shard_name
from simgen.dataset.reader import read_manifest
from simgen.dataset.writer import TMP_SUFFIX, rows_from_shard
from simgen.errors import SimgenError, WorkerLostError, disk_full, is_disk_full
from simgen.jobs.backends import run_local, run_ray
from simgen.jobs.fingerprints import assets_fingerprint, spec_fingerprint
from simgen.jobs.output_lock import LOCK_NAME, output_lock
from simgen.jobs.shard_task import shard_clip_indices, shard_count
from simgen.motion.library import ActionLibrary
from simgen.props import check_assets
from simgen.sequence import check_actions
from simgen.spec import GenerationSpec
from simgen.textures import check_background_dir
from simgen.untrusted import load_json


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:  # a full disk leaves the old file whole and no temporary one
        tmp.unlink(missing_ok=True)


def _append_rows(path: Path, rows: list[dict]) -> None:
    data = memoryview("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())
    with open(path, "ab", buffering=0) as manifest:  # unbuffered: nothing is left to flush after a failure
        size = manifest.seek(0, os.SEEK_END)
        try:
            while data:
                data = data[manifest.write(data):]
            os.fsync(manifest.fileno())
        except OSError:  # a full disk: no torn row; the shard's rows are rebuilt on resume
            os.ftruncate(manifest.fileno(), size)
            raise


def _kept(rows: list[dict], spec: GenerationSpec, made: int) -> str:
    if not rows:
        return "no shard was finished, so nothing was kept; the same command starts again from the first clip"
    shards = len({r["shard"] for r in rows})
    return f"the folder keeps {len(rows)} of {spec.clips} clips in {shards} finished shards ({made} made now); re-run the same command to resume"


def _record_written_shards(
    shards_dir: Path, expected: dict[str, int], rows: list[dict], made: int, manifest_path: Path
) -> tuple[list[dict], int]:
    """After a worker died or Ctrl-C: list the shards other workers finished (renamed into place) whose results
    never reached this process, so the manifest and the message count every clip the folder keeps."""
    listed = Counter(r["shard"] for r in rows)  # once: a job may have thousands of shards
    added = False
    for name, count in expected.items():
        if listed[name] == count or not (shards_dir / name).exists():
            continue
        try:
            found = rows_from_shard(shards_dir / name)
        except Exception:  # noqa: BLE001 - the error being reported matters more; a resume re-reads the shard
            continue
        if len(found) == count:
            rows = [r for r in rows if r["shard"] != name] + found
            made, added = made + count, True
    if added:
        _write_manifest(manifest_path, rows)
    return rows, made


def _write_manifest(path: Path, rows: list[dict]) -> None:
    _atomic_write(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in sorted(rows, key=lambda r: r["key"])))


def _dataset_meta(spec: GenerationSpec, library: ActionLibrary, rows: list[dict], complete: bool, actions_dir: str | None) -> dict:
    counts: dict[str, int] = {c: 0 for c in spec.classes}
    for r in rows:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    return {
        "format": "simgen-webdataset",
        **_inputs(spec, library),
        "complete": complete,
        "spec": spec.model_dump(mode="json"),
        "actions_dir": actions_dir,
        "classes": list(spec.classes),
        "counts": {"clips": len(rows), "shards": len({r["shard"] for r in rows}), "per_class": counts},
        "rejections": _rejections(rows),
        "plausibility": _plausibility(rows),
        "layout": {
            "shards": "shards/shard-NNNNNN.tar: KEY.mp4 (H.264 RGB), KEY.json (annotations), KEY.npz (mask uint8[T,H,W], depth float16[T,H,W], metres)",
            "manifest": "manifest.jsonl: one row per clip (key, shard, label, seed, frames, factors, checksum)",
        },
    }


def _rejections(rows: list[dict]) -> dict:
    """How many physics samples were rejected as implausible, overall and per class."""
    attempts = sum(r.get("attempts", 1) for r in rows)
    per_class: dict[str, list[int]] = {}
    for r in rows:
        tried = per_class.setdefault(r["label"], [0, 0])
        tried[0] += r.get("attempts", 1)
        tried[1] += r.get("attempts", 1) - 1
    return {
        "attempts": attempts,
        "rejected": attempts - len(rows),
        "rate": round((attempts - len(rows)) / attempts, 4) if attempts else 0.0,
        "rate_per_class": {c: round(rej / tot, 4) for c, (tot, rej) in sorted(per_class.items())},
    }


def _plausibility(rows: list[dict]) -> dict | None:
    """Per physics metric of the accepted clips: mean and peak over all, and the mean per class
    (the root-assist torque as an equivalent lean, see simgen.physics). None without physics."""
    per_metric: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        for name, value in (r.get("plausibility") or {}).items():
            per_metric.setdefault(name, {}).setdefault(r["label"], []).append(float(value))
    return {
        name: {
            "mean": round(float(np.mean([v for vs in by_class.values() for v in vs])), 4),
            "peak": round(float(np.max([v for vs in by_class.values() for v in vs])), 4),
            "mean_per_class": {c: round(float(np.mean(vs)), 4) for c, vs in sorted(by_class.items())},
        }
        for name, by_class in sorted(per_metric.items())
    } or None


def _inputs(spec: GenerationSpec, library: ActionLibrary) -> dict:
    """What makes a dataset's bytes: a resumed or extended job must agree on all of it.

    The clip count is left out: clip i is a pure function of (spec, seed, i), so a job with
    more clips extends a dataset into the one a single run with that count makes.
    """
    return {
        "format_version": FORMAT_VERSION,
        "tool_version": simgen.__version__,
        "spec_fingerprint": spec_fingerprint(spec),
        "actions_fingerprint": library.fingerprint(),
        "assets_fingerprint": assets_fingerprint(spec),
    }


_INPUT_NAMES = {
    "format_version": "format version",
    "tool_version": "simgen version",
    "spec_fingerprint": "spec",
    "actions_fingerprint": "action files",
    "assets_fingerprint": "background images or occluder assets (scene.background_dir, occlusion.assets)",
}


def prepare_output(out: Path, spec: GenerationSpec, library: ActionLibrary) -> None:
    """Create `out` or check that it holds this job's (partial) dataset; refuse anything else."""
    check_output(out, spec, library)
    try:
        (out / "shards").mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise SimgenError(f"cannot write here: {exc.strerror}", file=str(out), field="--out") from None


def check_output(out: Path, spec: GenerationSpec, library: ActionLibrary) -> None:
    """Refuse an `out` that holds anything but this job's (partial, or smaller) dataset; writes nothing."""
    meta_path = out / "dataset.json"
    if out.exists() and not out.is_dir():
        raise SimgenError("exists and is not a folder", file=str(out), field="--out")
    if meta_path.exists():
        try:
            meta = load_json(meta_path)
        except SimgenError as exc:
            raise SimgenError(f"dataset.json is corrupt ({exc.message}); use a new --out folder", file=str(meta_path)) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("spec", {}), dict):
            raise SimgenError("dataset.json is corrupt (not a dataset description); use a new --out folder", file=str(meta_path))
        for key, value in _inputs(spec, library).items():
            if meta.get(key) != value:
                raise SimgenError(
                    f"holds a dataset made with another {_INPUT_NAMES[key]}; use a new --out folder (or the same inputs to resume)",
                    file=str(out),
                    field="--out",
                )
        held = meta.get("spec", {}).get("clips", 0)
        if spec.clips < held:
            raise SimgenError(
                f"holds a dataset of {held} clips; a job can extend it but not shrink it: use --clips {held} or more, or a new --out folder",
                file=str(out),
                field="--clips",
            )
    elif out.exists() and any(p.name not in (".DS_Store", "shards", LOCK_NAME) for p in out.iterdir()):
        raise SimgenError("is not empty and holds no simgen dataset; use a new --out folder", file=str(out), field="--out")
    elif (out / "shards").exists() and any((out / "shards").iterdir()):
        raise SimgenError("holds shards but no dataset.json; use a new --out folder", file=str(out), field="--out")


def generate_dataset(
    spec: GenerationSpec,
    out: str | Path,
    *,
    workers: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    actions_dir: str | None = None,
    progress: bool = True,
) -> dict:
    """Generate (or finish generating) the dataset of `spec` in `out`. Returns a summary."""
    out = Path(out)
    if backend not in ("local", "ray"):
        raise SimgenError(f"unknown backend '{backend}'; use local or ray", field="--backend")
    actions_dir = str(actions_dir) if actions_dir else None
    library = ActionLibrary(actions_dir)
    check_actions(spec, library)  # unknown actions and broken files fail before anything is written
    check_assets(spec.occlusion.assets)
    check_background_dir(spec.scene.background_dir, needed="image" in (spec.scene.background.choice or []))
    check_output(out, spec, library)  # before the lock file is made: a foreign folder is left as it was
    with output_lock(out):
        return _generate_locked(spec, out, library, workers=workers, backend=backend, ray_address=ray_address, actions_dir=actions_dir, progress=progress)


class GenerationInterrupted(KeyboardInterrupt):
    """Ctrl-C during a job; its message says what the folder kept."""


def _generate_locked(spec, out: Path, library: ActionLibrary, *, workers, backend, ray_address, actions_dir, progress) -> dict:
    prepare_output(out, spec, library)
    shards_dir = out / "shards"
    for stale in shards_dir.glob(f"*{TMP_SUFFIX}*"):
        stale.unlink()  # a shard a killed job did not finish
    n_shards = shard_count(spec)
    expected = {shard_name(i): len(shard_clip_indices(spec, i)) for i in range(n_shards)}
    # The manifest is rebuilt from the shards wherever it is not whole: a shard renamed but
    # not yet recorded when the job died, or recorded in part (a torn last line).
    listed: dict[str, list[dict]] = {}
    for r in read_manifest(out, skip_bad=True):
        listed.setdefault(r["shard"], []).append(r)
    rows, complete = [], set()
    for shard in sorted(name for name in expected if (shards_dir / name).exists()):
        recorded = listed.get(shard, [])
        if not len({r["key"] for r in recorded}) == len(recorded) == expected[shard]:
            recorded = rows_from_shard(shards_dir / shard)
        rows.extend(recorded)  # a shorter last shard of a smaller run stays listed until its successor replaces it
        if len(recorded) == expected[shard]:
            complete.add(shard)
    manifest_path = out / "manifest.jsonl"
    _write_manifest(manifest_path, rows)
    _atomic_write(out / "dataset.json", json.dumps(_dataset_meta(spec, library, rows, False, actions_dir), indent=1))

    todo = [i for i in range(n_shards) if shard_name(i) not in complete]
    shorter = {r["shard"] for r in rows} - complete  # the last shard of a run with fewer clips
    spec_data = spec.model_dump(mode="json")
    start = time.perf_counter()
    made = 0
    bar = tqdm(total=spec.clips, initial=sum(expected[s] for s in complete), unit="clip", desc=f"generate {spec.name}", disable=not progress, dynamic_ncols=True)
    if backend == "local":
        results = run_local(spec_data, str(out), todo, actions_dir, workers, bar.update)
    else:
        results = run_ray(spec_data, str(out), todo, actions_dir, workers, ray_address, bar.update)
    with bar:
        try:
            for shard_rows in results:
                shard = shard_rows[0]["shard"]
                if shard in shorter:  # its rows are replaced, not added to
                    rows = [r for r in rows if r["shard"] != shard] + shard_rows
                    _write_manifest(manifest_path, rows)
                else:
                    rows.extend(shard_rows)
                    _append_rows(manifest_path, shard_rows)
                made += len(shard_rows)
        except KeyboardInterrupt:
            rows, made = _record_written_shards(shards_dir, expected, rows, made, manifest_path)
            raise GenerationInterrupted(_kept(rows, spec, made)) from None
        except WorkerLostError as exc:
            rows, made = _record_written_shards(shards_dir, expected, rows, made, manifest_path)
            raise WorkerLostError(f"{exc.message}; {_kept(rows, spec, made)}") from None
        except OSError as exc:  # in a worker (a shard) or here (the manifest)
            if not is_disk_full(exc):
                raise
            raise disk_full(exc, out, "free space, then: " + _kept(rows, spec, made)) from None
    elapsed = time.perf_counter() - start
    _write_manifest(manifest_path, rows)
    _atomic_write(out / "dataset.json", json.dumps(_dataset_meta(spec, library, rows, True, actions_dir), indent=1))
    return {
        "out": str(out),
        "clips": len(rows),
        "made_now": made,
        "resumed_from": len(rows) - made,
        "seconds": round(elapsed, 2),
        "clips_per_second": round(made / elapsed, 3) if elapsed > 0 and made else None,
        "rejection_rate": _rejections(rows)["rate"],
    }

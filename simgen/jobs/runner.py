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
from pathlib import Path

import numpy as np

from tqdm import tqdm

import simgen
from simgen.dataset.format import FORMAT_VERSION, shard_name
from simgen.dataset.reader import read_manifest
from simgen.dataset.writer import TMP_SUFFIX, rows_from_shard
from simgen.errors import SimgenError
from simgen.jobs.backends import run_local, run_ray
from simgen.jobs.shard_task import shard_clip_indices, shard_count
from simgen.motion.library import ActionLibrary
from simgen.props import check_assets
from simgen.sequence import check_actions
from simgen.spec import GenerationSpec
from simgen.textures import check_background_dir


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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
    """What makes a dataset's bytes: a resumed job must agree on all of it."""
    return {
        "spec_fingerprint": spec.fingerprint(),
        "actions_fingerprint": library.fingerprint(),
        "format_version": FORMAT_VERSION,
        "tool_version": simgen.__version__,
    }


def prepare_output(out: Path, spec: GenerationSpec, library: ActionLibrary) -> None:
    """Create `out` or check that it holds this job's (partial) dataset; refuse anything else."""
    meta_path = out / "dataset.json"
    if out.exists() and not out.is_dir():
        raise SimgenError("exists and is not a folder", file=str(out), field="--out")
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError:
            raise SimgenError("dataset.json is corrupt; use a new --out folder", file=str(meta_path)) from None
        what = {"spec_fingerprint": "spec", "actions_fingerprint": "action files", "format_version": "format version", "tool_version": "simgen version"}
        for key, value in _inputs(spec, library).items():
            if meta.get(key) != value:
                raise SimgenError(
                    f"holds a dataset made with another {what[key]}; use a new --out folder (or the same inputs to resume)",
                    file=str(out),
                    field="--out",
                )
    elif out.exists() and any(p.name not in (".DS_Store", "shards") for p in out.iterdir()):
        raise SimgenError("is not empty and holds no simgen dataset; use a new --out folder", file=str(out), field="--out")
    elif (out / "shards").exists() and any((out / "shards").iterdir()):
        raise SimgenError("holds shards but no dataset.json; use a new --out folder", file=str(out), field="--out")
    try:
        (out / "shards").mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise SimgenError(f"cannot write here: {exc.strerror}", file=str(out), field="--out") from None


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
    prepare_output(out, spec, library)
    shards_dir = out / "shards"
    for stale in shards_dir.glob(f"*{TMP_SUFFIX}*"):
        stale.unlink()  # a shard a killed job did not finish
    n_shards = shard_count(spec)
    complete = {shard_name(i): len(shard_clip_indices(spec, i)) for i in range(n_shards) if (shards_dir / shard_name(i)).exists()}
    # The manifest is rebuilt from the shards wherever it is not whole: a shard renamed but
    # not yet recorded when the job died, or recorded in part (a torn last line).
    listed: dict[str, list[dict]] = {}
    for r in read_manifest(out, skip_bad=True):
        listed.setdefault(r["shard"], []).append(r)
    rows = []
    for shard, expected in sorted(complete.items()):
        recorded = listed.get(shard, [])
        rows.extend(recorded if len({r["key"] for r in recorded}) == len(recorded) == expected else rows_from_shard(shards_dir / shard))
    manifest_path = out / "manifest.jsonl"
    _write_manifest(manifest_path, rows)
    _atomic_write(out / "dataset.json", json.dumps(_dataset_meta(spec, library, rows, False, actions_dir), indent=1))

    todo = [i for i in range(n_shards) if shard_name(i) not in complete]
    spec_data = spec.model_dump(mode="json")
    start = time.perf_counter()
    made = 0
    bar = tqdm(total=spec.clips, initial=len(rows), unit="clip", desc=f"generate {spec.name}", disable=not progress, dynamic_ncols=True)
    if backend == "local":
        results = run_local(spec_data, str(out), todo, actions_dir, workers, bar.update)
    else:
        results = run_ray(spec_data, str(out), todo, actions_dir, workers, ray_address, bar.update)
    with bar, open(manifest_path, "a") as manifest:
        for shard_rows in results:
            for r in shard_rows:
                manifest.write(json.dumps(r, sort_keys=True) + "\n")
            manifest.flush()
            os.fsync(manifest.fileno())
            rows.extend(shard_rows)
            made += len(shard_rows)
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

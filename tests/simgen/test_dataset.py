"""The dataset on disk: layout, readers (ours, webdataset, pandas), validation catches damage."""

import io
import json
import shutil
import tarfile

import numpy as np
import pandas as pd
import pytest
import webdataset as wds

from simgen.dataset.reader import DatasetReader
from simgen.dataset.validate import validate_dataset
from simgen.video import decode_mp4


def test_layout_and_manifest(tiny_dataset):
    meta = json.loads((tiny_dataset / "dataset.json").read_text())
    assert meta["complete"] and meta["counts"]["clips"] == 6 and meta["counts"]["shards"] == 2
    assert meta["classes"] == meta["spec"]["classes"] and meta["tool_version"]
    manifest = pd.read_json(tiny_dataset / "manifest.jsonl", lines=True)
    assert {"key", "shard", "label", "seed", "factors", "checksum"} <= set(manifest.columns)
    assert manifest["key"].is_unique and len(manifest) == 6
    assert sorted((tiny_dataset / "shards").glob("*.tar")) == [tiny_dataset / "shards" / f"shard-00000{i}.tar" for i in range(2)]


def test_reader_returns_frames_and_annotations(tiny_dataset):
    ds = DatasetReader(tiny_dataset)
    frames, ann = ds.read(0)
    assert frames.dtype == np.uint8 and frames.shape == (10, 48, 48, 3)
    assert ann["label"] == ds.rows[0]["label"] and len(ann["frame_labels"]) == 10
    assert np.asarray(ann["keypoints_2d"]).shape == (10, len(ann["joint_names"]), 3)
    assert np.asarray(ann["bbox"]).shape == (10, 4)
    assert np.asarray(ann["camera"]["K"]).shape == (3, 3) and np.asarray(ann["camera"]["extrinsics"]).shape == (10, 4, 4)
    assert ann["segments"][0][0] == 0 and ann["segments"][-1][1] == 10
    assert len(ann["visible_fraction"]) == 10 and set(ann["plausibility"]) >= {"tracking_error_m", "mean_root_assist"}
    assert ann["seed"] == ds.rows[0]["seed"] and ann["factors"]["action"]["label"] == ann["label"]
    dense = ds.read_dense(ds.keys[1])
    assert dense["mask"].dtype == np.uint8 and dense["mask"].shape == (10, 48, 48)
    assert dense["depth"].dtype == np.float16 and 1 in np.unique(dense["mask"])


def test_webdataset_reads_the_shards_as_they_are(tiny_dataset):
    urls = [str(p) for p in sorted((tiny_dataset / "shards").glob("*.tar"))]
    samples = list(wds.WebDataset(urls, shardshuffle=False))
    assert len(samples) == 6
    sample = samples[0]
    assert {"mp4", "json", "npz"} <= set(sample)
    frames = decode_mp4(sample["mp4"])
    assert frames.shape == (10, 48, 48, 3)
    with np.load(io.BytesIO(sample["npz"])) as z:
        assert z["depth"].shape == (10, 48, 48)
    assert json.loads(sample["json"])["label"]


def test_video_is_real_h264_mp4(tiny_dataset):
    import av

    data = DatasetReader(tiny_dataset).read_bytes(0, "mp4")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == pytest.approx(25.0)


def test_validate_passes_then_catches_damage(tiny_dataset, tmp_path):
    assert validate_dataset(tiny_dataset, progress=False) == []
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset, broken)
    shard = broken / "shards" / "shard-000001.tar"
    data = bytearray(shard.read_bytes())
    data[2000] ^= 0xFF  # flip a byte inside the first clip's video
    shard.write_bytes(bytes(data))
    faults = validate_dataset(broken, progress=False)
    assert any("checksum" in f for f in faults), faults
    (broken / "shards" / "shard-000000.tar").unlink()
    faults = validate_dataset(broken, progress=False)
    assert any("shard-000000.tar: missing" in f for f in faults)


def _damaged_copy(tiny_dataset, tmp_path, name):
    out = tmp_path / name
    shutil.copytree(tiny_dataset, out)
    return out


def test_validate_reports_a_tampered_manifest_and_stray_members(tiny_dataset, tmp_path):
    edited = _damaged_copy(tiny_dataset, tmp_path, "edited")
    rows = [json.loads(line) for line in (edited / "manifest.jsonl").read_text().splitlines()]
    rows[0]["seed"] += 1
    (edited / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert any(f"{rows[0]['key']}: seed differs" in f for f in validate_dataset(edited, progress=False, decode=False))

    stray = _damaged_copy(tiny_dataset, tmp_path, "stray")
    with tarfile.open(stray / "shards" / "shard-000000.tar", "a") as tar:
        info = tarfile.TarInfo("clip99999999.mp4")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    assert any("clip99999999: in the shard but not in the manifest" in f for f in validate_dataset(stray, progress=False, decode=False))

    torn = _damaged_copy(tiny_dataset, tmp_path, "torn")
    with open(torn / "manifest.jsonl", "a") as f:
        f.write('{"key": "clip0')
    assert any(f.startswith("manifest.jsonl: line") for f in validate_dataset(torn, progress=False))
    (torn / "manifest.jsonl").write_text('[1, 2]\n')
    assert any("manifest.jsonl: line 1 is not a clip row" in f for f in validate_dataset(torn, progress=False))
    (torn / "dataset.json").write_text('{"complete": tr')
    assert validate_dataset(torn, progress=False)[0].startswith("dataset.json: not JSON")


def _rewrite_clip(root, shard, key, change):
    """Rewrite one clip's members in a shard, then rebuild the manifest rows from the shards, as a
    resume does for a shard it finds unrecorded: the manifest checksum then matches the damage."""
    from simgen.dataset.format import read_shard_members
    from simgen.dataset.writer import rows_from_shard, write_shard

    path = root / "shards" / shard
    clips = read_shard_members(path)
    clips[key] = change(dict(clips[key]))
    write_shard(path, list(clips.items()))
    rows = [r for p in sorted((root / "shards").glob("*.tar")) for r in rows_from_shard(p)]
    (root / "manifest.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def _flip(data: bytes, pos: int, n: int = 4) -> bytes:
    damaged = bytearray(data)
    damaged[pos : pos + n] = bytes(b ^ 0xA5 for b in damaged[pos : pos + n])
    return bytes(damaged)


def _validate_cli(root, capsys):
    from simgen.pipelines.cli import main

    status = main(["validate", str(root), "--quiet"])
    return status, capsys.readouterr().err


def test_validate_catches_a_damaged_video_whose_manifest_row_was_rebuilt(tiny_dataset, tmp_path, capsys):
    assert _validate_cli(tiny_dataset, capsys) == (0, "")
    damaged = _damaged_copy(tiny_dataset, tmp_path, "damaged")
    key = DatasetReader(damaged).rows[4]["key"]
    shard = DatasetReader(damaged).rows[4]["shard"]

    def damage_the_video(members):
        members["mp4"] = _flip(members["mp4"], len(members["mp4"]) // 2)
        return members

    _rewrite_clip(damaged, shard, key, damage_the_video)
    status, err = _validate_cli(damaged, capsys)
    assert status == 1 and f"{key}: mp4 bytes differ from the digest" in err, err
    assert "checksum" not in err  # the manifest agrees with the damaged shard


def test_validate_decodes_strictly_when_the_clip_has_no_digests(tiny_dataset, tmp_path):
    """A clip without recorded digests (an older dataset): the H.264 decoder's own error
    detection must report damage that a lenient decode would conceal."""
    from simgen.dataset.format import MEMBER_DIGESTS

    damaged = _damaged_copy(tiny_dataset, tmp_path, "nodigest")
    row = DatasetReader(damaged).rows[1]
    video = DatasetReader(damaged).read_bytes(1, "mp4")
    start = video.find(b"mdat") + 16

    def raises(pos, strict):
        try:
            decode_mp4(_flip(video, pos), strict=strict)
        except Exception:
            return True
        return False

    # a place where a lenient decode conceals the damage and a strict one reports it
    pos = next((p for p in range(start, len(video) - 4, 7) if not raises(p, False) and raises(p, True)), None)
    assert pos is not None, "no damage that only the strict decoder detects"

    def damage_without_digests(members):
        ann = json.loads(members["json"])
        del ann[MEMBER_DIGESTS]
        return {**members, "mp4": _flip(members["mp4"], pos), "json": json.dumps(ann).encode()}

    _rewrite_clip(damaged, row["shard"], row["key"], damage_without_digests)
    faults = validate_dataset(damaged, progress=False)
    assert len(faults) == 1 and faults[0].startswith(f"shards/{row['shard']}:{row['key']}: cannot decode"), faults

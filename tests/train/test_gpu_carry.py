"""The GPU check's packed data: the same frames and annotations, no dense members, clear errors."""

from __future__ import annotations

import shutil
import tarfile

import numpy as np
import pytest

from simgen.dataset.reader import DatasetReader
from simgen.errors import SimgenError
from simgen.pipelines.gpu_carry import main, pack


def test_packed_copy_reads_the_same_clips_without_dense_members(synthetic_dir, tmp_path, monkeypatch):
    here = tmp_path / "repo"
    shutil.copytree(synthetic_dir, here / "runs" / "train")
    real = tmp_path / "real_clips"
    (real / "wave1").mkdir(parents=True)
    (real / "labels.csv").write_text("path,label,subject\nwave1/a.mp4,wave1,s0\n")
    (real / "wave1" / "a.mp4").write_bytes(b"not decoded here")
    monkeypatch.chdir(here)

    info = pack([here / "runs" / "train"], real, here / ".gpu" / "data.txz")
    assert info["dense_members_left_out"] == {"runs/train": 12}
    assert not (here / ".gpu" / "data.txz.partial").exists()

    unpacked = tmp_path / "device"
    with tarfile.open(here / ".gpu" / "data.txz") as tar:
        names = tar.getnames()
        tar.extractall(unpacked, filter="data")
    assert not [n for n in names if ".npz" in n]
    assert (unpacked / "real_clips" / "labels.csv").read_text() == (real / "labels.csv").read_text()
    source, copy = DatasetReader(synthetic_dir), DatasetReader(unpacked / "runs" / "train")
    assert copy.keys == source.keys and copy.labels == source.labels
    for key in source.keys:
        (fa, aa), (fb, ab) = source.read(key), copy.read(key)  # read() checks the mp4 digest
        assert np.array_equal(fa, fb) and aa == ab
    with pytest.raises(SimgenError, match="npz missing"):
        copy.read_dense(source.keys[0])


def test_bad_input_is_one_line_and_status_2(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["--dataset", "empty", "--out", "x.txz"]) == 2
    assert "empty: not a simgen dataset (no dataset.json)" in capsys.readouterr().err
    # outside the current folder: it could not be unpacked at the same relative path
    assert main(["--dataset", str(synthetic_dir), "--out", "x.txz"]) == 2
    assert "inside the current folder" in capsys.readouterr().err
    shutil.copytree(synthetic_dir, tmp_path / "ds")
    assert main(["--dataset", "ds", "--real", "empty", "--out", "x.txz"]) == 2
    assert "empty: no labels.csv" in capsys.readouterr().err
    assert not (tmp_path / "x.txz").exists()

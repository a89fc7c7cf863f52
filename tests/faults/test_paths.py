"""Untrusted files stay inside their folder and are never unpickled: manifest shard paths,
labels.csv paths, shard tar members (paths, symlinks, hard links); duplicate and BOM labels."""

import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

PROJECT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("simgen", "train", "adapt", "pipelines") for p in (PROJECT / d).rglob("*.py")]


def _set_shard(root: Path, shard: str) -> None:
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    rows[1]["shard"] = shard
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize("where", ["absolute", "parent"])
def test_manifest_shard_outside_the_dataset_is_refused(simgen_cli, dataset_copy, tmp_path, where):
    outside = tmp_path / "elsewhere.tar"
    shutil.copy(dataset_copy / "shards" / "shard-000001.tar", outside)
    _set_shard(dataset_copy, str(outside) if where == "absolute" else "../../elsewhere.tar")
    code, out, err = simgen_cli.run(["validate", dataset_copy, "--quiet"])
    assert code == 1 and "OK" not in out and "Traceback" not in err
    assert "manifest.jsonl" in err and "line 2" in err and "bare names" in err, err
    simgen_cli.one_line_error(["train", "--synthetic", dataset_copy, "--out", tmp_path / "run"],
                              "manifest.jsonl", "line 2")


def _member(name, kind="file", target=""):
    info = tarfile.TarInfo(name)
    info.mtime = 0
    if kind == "file":
        info.size = 2
        return info, b"{}"
    info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
    info.linkname = target
    return info, None


@pytest.mark.parametrize("member, needle", [
    (_member("../evil.json"), "folder part"),
    (_member("/tmp/evil.json"), "folder part"),
    (_member("clip00000001.txt", "symlink", "/etc/passwd"), "symbolic link"),
    (_member("clip00000001.txt", "hardlink", "/etc/passwd"), "hard link"),
])
def test_shard_members_cannot_leave_the_shard(simgen_cli, dataset_copy, helpers, member, needle):
    from simgen.dataset.reader import DatasetReader
    from simgen.errors import SimgenError

    helpers.rewrite_clip(dataset_copy, "clip00000001", members=[member])
    code, out, err = simgen_cli.run(["validate", dataset_copy, "--quiet"])
    faults = [line for line in err.splitlines() if "shard-000001.tar" in line]
    assert code == 1 and "Traceback" not in err and len(faults) == 1, err
    assert needle in faults[0] and member[0].name in faults[0], faults
    reader = DatasetReader(dataset_copy)
    with pytest.raises(SimgenError, match=needle):
        reader.read("clip00000001")
    assert reader.read("clip00000000")[0].shape[0] == 4  # the other shard still reads


@pytest.mark.parametrize("path, needle", [
    ("../real2/clips/c0.mp4", "leaves the folder"),
    ("clips/../../real2/clips/c0.mp4", "leaves the folder"),
    ("ABSOLUTE", "absolute path"),
    ("C:\\clips\\c0.mp4", "absolute path"),
    ("\\clips\\c0.mp4", "absolute path"),  # rooted, no drive: not "absolute" to pathlib
    ("C:clips/c0.mp4", "absolute path"),  # a drive, no root: relative to that drive's folder
])
def test_labels_csv_paths_outside_the_folder_are_refused(simgen_cli, real_folder, helpers, checkpoint, tmp_path,
                                                        path, needle):
    other = helpers.write_real_folder(tmp_path / "real2", clips=1)
    path = str(other / "clips" / "c0.mp4") if path == "ABSOLUTE" else path
    labels = real_folder / "labels.csv"
    labels.write_text(labels.read_text() + f"{path},left,s9\n")
    simgen_cli.one_line_error(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out",
                               tmp_path / "m.json", "--no-progress"], f"{labels}:6", "field 'path'", needle)


def test_duplicate_labels_csv_rows_are_an_error_naming_both_lines(simgen_cli, real_folder, checkpoint, tmp_path):
    labels = real_folder / "labels.csv"
    labels.write_text(labels.read_text() + "./clips/c1.mp4,right,s1\n")
    simgen_cli.one_line_error(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out",
                               tmp_path / "m.json", "--no-progress"], f"{labels}:6", "already listed on line 3")


def test_labels_csv_with_a_byte_order_mark_is_read(real_folder):
    from simgen.train.data.real import RealFolderReader

    labels = real_folder / "labels.csv"
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    reader = RealFolderReader(real_folder)
    assert len(reader) == 4 and reader.classes == ["left", "right"] and reader.rows[0]["subject"] == "s0"


def _calls(pattern: str) -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for line in path.read_text().splitlines():
            if re.search(pattern, line):
                found.append((str(path.relative_to(PROJECT)), line.strip()))
    return found


def test_every_torch_load_is_weights_only():
    calls = _calls(r"torch\.load\(")
    assert calls, "no torch.load found: the scan is broken"
    assert all("weights_only=True" in line for _, line in calls), calls


@pytest.mark.parametrize("pattern", [r"yaml\.load\(", r"yaml\.unsafe_load", r"yaml\.(Full|Unsafe)?Loader\b",
                                     r"\bpickle\.loads?\(", r"allow_pickle=True", r"\.extractall\(",
                                     r"\bmarshal\.loads?\(", r"(?<![.\w])(?<!def )eval\(", r"\bshelve\."])
def test_nothing_unsafe_reads_untrusted_files(pattern):
    assert _calls(pattern) == []

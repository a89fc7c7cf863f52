"""What a benchmark ran on: the synthetic clips' digest and the machine's CPU (adapt/benchmark/provenance.py)."""

from __future__ import annotations

import json
import shutil

from simgen.adapt.benchmark import provenance


def _rewrite_manifest(root, edit) -> None:
    path = root / "manifest.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps(r) + "\n" for r in edit(rows)))


def test_the_digest_follows_the_clips_not_the_folder_or_the_order(synthetic, tmp_path):
    digest = provenance.dataset_digest(synthetic)
    assert isinstance(digest, str) and len(digest) == 16
    copy = shutil.copytree(synthetic, tmp_path / "copy")
    _rewrite_manifest(copy, lambda rows: rows[::-1])  # another order of the same rows
    assert provenance.dataset_digest(copy) == digest

    def one_clip_changed(rows):
        rows[3]["checksum"] = "0" * 64
        return rows
    _rewrite_manifest(copy, one_clip_changed)
    assert provenance.dataset_digest(copy) != digest


def test_no_digest_for_a_folder_simgen_did_not_write(real, tmp_path):
    assert provenance.dataset_digest(real) is None  # a real folder: labels.csv, no manifest
    copy = shutil.copytree(real, tmp_path / "with_manifest")
    (copy / "manifest.jsonl").write_text(json.dumps({"key": "a", "shard": "s.tar"}) + "\n")  # no checksum
    assert provenance.dataset_digest(copy) is None


def test_cpu_model_and_bf16_flags_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Some CPU 9000\nflags\t\t: fpu sse2 avx512f avx512_bf16\n\n"
                    "processor\t: 1\nmodel name\t: Some CPU 9000\nflags\t\t: fpu sse2 avx512f avx512_bf16\n")
    assert provenance._cpuinfo(info) == ("Some CPU 9000", ["avx512_bf16"])
    assert provenance._cpuinfo(tmp_path / "absent")[1] == []

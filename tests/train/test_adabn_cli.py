"""`simgen adabn`: a checkpoint whose batch-norm statistics come from the user's clips, weights untouched,
read by `simgen evaluate`; and one-line errors for bad input."""

from __future__ import annotations

import json
import shutil

import torch


def _state(path):
    from simgen.train.checkpoint import load_checkpoint

    return load_checkpoint(path)


def test_statistics_move_weights_stay_and_evaluate_reads_it(checkpoint, real_dir, tmp_path, simgen_cli):
    out = tmp_path / "renorm" / "model.pt"
    code, stdout, err = simgen_cli.run(["adabn", "--checkpoint", checkpoint, "--real", real_dir, "--exclude-subjects", "s1",
                                        "--out", out])
    assert code == 0, err
    assert "windows of 3 clips" in stdout
    before, after = _state(checkpoint), _state(out)
    moved = [k for k in before["model"] if not torch.equal(before["model"][k], after["model"][k])]
    assert moved and all(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in moved)
    assert after["meta"]["adabn"]["clips"] == 3 and after["meta"]["adabn"]["exclude_subjects"] == ["s1"]
    assert {k: v for k, v in after["meta"].items() if k != "adabn"} == before["meta"]
    code, _, err = simgen_cli.run(["evaluate", "--checkpoint", out, "--data", real_dir, "--subjects", "s1",
                                   "--out", tmp_path / "eval.json", "--no-progress"])
    assert code == 0, err
    assert json.loads((tmp_path / "eval.json").read_text())["n_clips"] == 3


def test_loose_unlabelled_videos_are_enough(checkpoint, real_dir, tmp_path, simgen_cli):
    loose = tmp_path / "loose"
    loose.mkdir()
    for clip in sorted((real_dir / "clips").glob("*.mp4"))[:2]:
        shutil.copy(clip, loose / clip.name)
    code, stdout, err = simgen_cli.run(["adabn", "--checkpoint", checkpoint, "--real", loose, "--out", tmp_path / "m.pt"])
    assert code == 0, err
    assert _state(tmp_path / "m.pt")["meta"]["adabn"]["clips"] == 2


def test_bad_input_is_one_line(checkpoint, real_dir, tmp_path, simgen_cli):
    simgen_cli.one_line_error(["adabn", "--checkpoint", checkpoint, "--real", real_dir, "--subjects", "s7",
                               "--out", tmp_path / "m.pt"], "--subjects", "s7", "s0, s1")
    simgen_cli.one_line_error(["adabn", "--checkpoint", checkpoint, "--real", real_dir, "--out", checkpoint],
                              "--out", "is the --checkpoint itself")
    simgen_cli.one_line_error(["adabn", "--checkpoint", checkpoint, "--real", real_dir, "--out", tmp_path / "m.txt"],
                              "--out", ".pt")
    (real_dir / "clips" / "c4.mp4").write_bytes(b"not a video")
    simgen_cli.one_line_error(["adabn", "--checkpoint", checkpoint, "--real", real_dir, "--out", tmp_path / "m.pt"],
                              "--real", "cannot be decoded", "clips/c4.mp4")
    assert not (tmp_path / "m.pt").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    simgen_cli.one_line_error(["adabn", "--checkpoint", checkpoint, "--real", empty, "--out", tmp_path / "m.pt"], "--real")
    not_a_model = tmp_path / "x.pt"
    not_a_model.write_bytes(b"junk")
    simgen_cli.one_line_error(["adabn", "--checkpoint", not_a_model, "--real", real_dir, "--out", tmp_path / "m.pt"],
                              "--checkpoint", "x.pt")

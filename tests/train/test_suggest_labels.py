"""`simgen suggest-labels`: ranked clips to label, as a CSV."""

import csv
import shutil

import numpy as np


def rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_ranks_k_distinct_weizmann_clips(checkpoint, weizmann_dir, tmp_path, simgen_cli):
    out = tmp_path / "picks.csv"
    code, stdout, err = simgen_cli.run(["suggest-labels", "--checkpoint", checkpoint, "--real", weizmann_dir,
                                        "--budget", "5", "--out", out, "--include-labelled", "--no-progress"])
    assert code == 0, err
    picked = rows(out)
    assert [int(r["rank"]) for r in picked] == [1, 2, 3, 4, 5]
    assert len({r["path"] for r in picked}) == 5 and all((weizmann_dir / r["path"]).is_file() for r in picked)
    assert list(picked[0]) == ["rank", "path", "score", "predicted", "confidence", "uncertainty", "distance", "why"]
    assert all(r["predicted"] in ("left", "right", "still") and r["why"] for r in picked)
    assert picked[0]["why"].startswith("most uncertain") and picked[0]["score"] == picked[0]["uncertainty"]
    assert "wrote" in stdout


def test_labelled_clips_left_out_and_a_broken_one_skipped(checkpoint, helpers, tmp_path, simgen_cli):
    rng = np.random.default_rng(0)
    root = tmp_path / "real"
    for name in ("a", "b", "c"):
        helpers.write_video_file(root / "new" / f"{name}.mp4", helpers.moving_square("left", 20, 32, rng))
    shutil.copy(root / "new" / "a.mp4", root / "known.mp4")
    (root / "labels.csv").write_text("path,label\nknown.mp4,left\nnew/a.mp4,\n")
    (root / "new" / "broken.mp4").write_bytes(b"\x00" * 100)
    out = tmp_path / "picks.csv"
    code, _, err = simgen_cli.run(["suggest-labels", "--checkpoint", checkpoint, "--real", root, "--budget", "3",
                                   "--out", out, "--no-progress"])
    assert code == 2 and err.strip().splitlines() == [line for line in err.strip().splitlines()
                                                      if line.startswith("simgen suggest-labels: skipped ")]
    assert "broken.mp4" in err and len(err.strip().splitlines()) == 1
    assert sorted(r["path"] for r in rows(out)) == ["new/a.mp4", "new/b.mp4", "new/c.mp4"]


def test_bad_input_is_one_line(checkpoint, weizmann_dir, tmp_path, simgen_cli):
    args = ["suggest-labels", "--checkpoint", checkpoint, "--real", weizmann_dir, "--out", tmp_path / "p.csv"]
    simgen_cli.one_line_error(args + ["--budget", "3"], "all 20 clips are labelled", "--include-labelled")
    simgen_cli.one_line_error(args + ["--budget", "21", "--include-labelled"], "--budget 21", "only 20")
    simgen_cli.one_line_error(args[:-1] + [tmp_path / "p.txt", "--budget", "2"], "--out", ".csv")
    simgen_cli.one_line_error(["suggest-labels", "--checkpoint", checkpoint, "--real", tmp_path / "none",
                               "--out", tmp_path / "p.csv", "--budget", "2"], "--real", "not found")

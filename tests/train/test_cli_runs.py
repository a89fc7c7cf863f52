"""`simgen train` / `simgen evaluate` through the whole CLI: run folders are never overwritten
unless asked, inputs are checked before decoding, the terminal gets tables, evaluation writes
per-clip predictions, real clips are selected by person."""

from __future__ import annotations

import csv
import json
import logging

import pytest

from simgen.pipelines.cli import main

FAST = ["--size", "32", "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress", "--epochs", "1"]


@pytest.fixture(scope="module")
def trained(synthetic_dir, tmp_path_factory):
    """A one-epoch run on the 12-clip synthetic set (3 clips held out for validation)."""
    out = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", "--synthetic", str(synthetic_dir), "--out", str(out), "--val-fraction", "0.25", *FAST]) == 0
    return out


def test_train_ends_with_a_per_class_table(synthetic_dir, tmp_path, simgen_cli):
    code, out, _ = simgen_cli.run(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r", "--val-fraction", "0.25", *FAST])
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["class", "train", "clips", "val", "clips", "val", "accuracy"]
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    counts = metrics["clips_per_class"]
    assert sum(counts["train"].values()) == 9 and sum(counts["val"].values()) == 3
    for line, cls in zip(lines[1:4], metrics["classes"]):
        name, n_train, n_val, acc = line.split()
        assert (name, int(n_train), int(n_val)) == (cls, counts["train"][cls], counts["val"][cls])
        expected = metrics["val_per_class"][cls]
        assert acc == ("-" if expected is None else f"{100 * expected:.1f}%")
    assert "model.pt = epoch 1 (last)" in out


def test_train_and_evaluate_json_lines(trained, synthetic_dir, tmp_path, simgen_cli):
    code, out, _ = simgen_cli.run(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r", "--json", *FAST])
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["model_epoch"] == 1
    code, out, _ = simgen_cli.run(["evaluate", "--checkpoint", trained / "model.pt", "--data", synthetic_dir,
                                  "--out", tmp_path / "m.json", "--no-progress", "--json"])
    assert code == 0 and json.loads(out)["n_clips"] == 12


def test_evaluate_writes_per_clip_predictions_and_prints_the_confusion(trained, synthetic_dir, tmp_path, simgen_cli):
    out_json = tmp_path / "eval" / "metrics.json"
    code, out, _ = simgen_cli.run(["evaluate", "--checkpoint", trained / "model.pt", "--data", synthetic_dir,
                                  "--out", out_json, "--no-progress"])
    assert code == 0
    m = json.loads(out_json.read_text())
    assert len(m["per_clip"]) == 12
    with open(tmp_path / "eval" / "metrics.predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["path"] for r in rows] == [c["path"] for c in m["per_clip"]]
    classes = m["classes"]
    for r, c in zip(rows, m["per_clip"]):
        scores = [float(r[f"score_{k}"]) for k in classes]
        assert r["predicted"] == classes[max(range(len(classes)), key=scores.__getitem__)] == c["predicted"]
        assert r["label"] == c["label"] and abs(sum(scores) - 1) < 1e-4
    # the per-clip rows and the headline metrics agree
    right = sum(c["label"] == c["predicted"] for c in m["per_clip"])
    assert right / 12 == pytest.approx(m["accuracy"])
    truth = sorted(r["label"] for r in rows)
    assert truth == sorted(["left", "right", "still"] * 4)
    # the terminal: per-class accuracy, then the confusion matrix in clip counts
    lines = out.splitlines()
    start = lines.index("confusion (rows: true class, columns: predicted, clip counts)")
    assert lines[start + 1].split() == classes
    for i, cls in enumerate(classes):
        assert lines[start + 2 + i].split() == [cls, *(str(v) for v in m["confusion_counts"][i])]
    assert f"({right}/12 clips)" in out


def test_a_run_folder_is_not_overwritten_without_resume_or_force(trained, synthetic_dir, tmp_path, simgen_cli):
    before = (trained / "model.pt").read_bytes()
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", trained, *FAST],
                              "--out", "holds a training run", "--resume", "--force")
    assert (trained / "model.pt").read_bytes() == before
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", trained, "--resume", "--force", *FAST],
                              "--resume and --force")
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("mine")
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", foreign, "--force", *FAST],
                              "not a training run", "todo.txt")
    assert (foreign / "todo.txt").read_text() == "mine"


def test_force_replaces_the_old_run_files(synthetic_dir, tmp_path, simgen_cli):
    out = tmp_path / "run"
    assert simgen_cli.run(["train", "--synthetic", synthetic_dir, "--out", out, "--keep-snapshots", "--epochs", "2",
                          *FAST[:-2]])[0] == 0
    assert (out / "epoch002.pt").is_file()
    assert simgen_cli.run(["train", "--synthetic", synthetic_dir, "--out", out, "--force", *FAST])[0] == 0
    assert not (out / "epoch002.pt").exists()  # no snapshot of the old run left beside the new one
    assert json.loads((out / "metrics.json").read_text())["model_epoch"] == 1


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_out_under_a_file_one_line_exit_2(command, trained, synthetic_dir, tmp_path, simgen_cli):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    argv = (["train", "--synthetic", synthetic_dir, *FAST] if command == "train"
            else ["evaluate", "--checkpoint", trained / "model.pt", "--data", synthetic_dir])
    simgen_cli.one_line_error([*argv, "--out", blocker / "sub" / "x.json"], "--out", f"'{blocker}' is a file")
    if command == "evaluate":
        simgen_cli.one_line_error([*argv, "--out", tmp_path], "--out", "is a folder")


def test_bad_real_folder_fails_before_any_decoding_and_leaves_nothing(synthetic_dir, real_dir, tmp_path, monkeypatch, simgen_cli):
    from simgen.train.data.batch import ClipDataset

    monkeypatch.setattr(ClipDataset, "prepare", lambda *a, **k: pytest.fail("decoded clips before checking the inputs"))
    (real_dir / "labels.csv").write_text("path,label\nclips/c0.mp4,jump\n")
    out = tmp_path / "run"
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--real", real_dir, "--out", out, *FAST],
                              "labels.csv:2", "'jump'")
    assert not out.exists()


def test_a_folder_of_videos_without_labels_csv_says_so(real_dir, tmp_path, simgen_cli):
    loose = tmp_path / "loose"
    loose.mkdir()
    for clip in (real_dir / "clips").iterdir():
        clip.rename(loose / clip.name)
    simgen_cli.one_line_error(["train", "--real", loose, "--out", tmp_path / "r", *FAST],
                              "6 video file(s)", "no labels.csv", "path,label")
    empty = tmp_path / "empty"
    empty.mkdir()
    simgen_cli.one_line_error(["train", "--real", empty, "--out", tmp_path / "r", *FAST], "no video clips found", "labels.csv")


@pytest.mark.parametrize("argv, needles", [
    (["--workers", "-2"], ["--workers", "at least 0"]),
    (["--epochs", "0"], ["--epochs", "at least 1"]),
    (["--batch-size", "0"], ["--batch-size", "at least 1"]),
    (["--seed", "-1"], ["--seed", "at least 0"]),
    (["--lr", "0"], ["--lr", "greater than 0"]),
    (["--val-fraction", "1.5"], ["--val-fraction"]),
    (["--epoch", "3"], ["--epoch", "did you mean '--epochs'"]),
    (["--subjects", "s0"], ["--subjects", "--real"]),
])
def test_out_of_range_train_options_are_refused(argv, needles, synthetic_dir, tmp_path, simgen_cli):
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r", *argv], *needles)
    assert not (tmp_path / "r").exists()


def test_evaluate_checks_its_inputs_first(trained, synthetic_dir, tmp_path, simgen_cli):
    simgen_cli.one_line_error(["evaluate", "--checkpoint", tmp_path / "none.pt", "--data", synthetic_dir, "--out", tmp_path / "m.json"],
                              "--checkpoint", "none.pt", "not found")
    simgen_cli.one_line_error(["evaluate", "--checkpoint", trained / "model.pt", "--data", tmp_path / "nodata", "--out", tmp_path / "m.json"],
                              "--data", "nodata", "not found")
    simgen_cli.one_line_error(["evaluate", "--checkpoint", trained / "model.pt", "--data", synthetic_dir,
                              "--out", tmp_path / "m.json", "--subjects", "s0"], "synthetic dataset has no subjects")
    simgen_cli.one_line_error(["evaluate", "--checkpoint", trained / "model.pt", "--data", synthetic_dir,
                              "--out", tmp_path / "m.json", "--median-size", "0"], "--median-size", "at least 1")
    assert not (tmp_path / "m.json").exists()


def test_real_clips_selected_by_person(real_dir, tmp_path, simgen_cli):
    from simgen.train.data.real import RealFolderReader

    everyone = RealFolderReader(real_dir)
    assert sorted({r["subject"] for r in everyone.rows}) == ["s0", "s1"]
    s0 = RealFolderReader(real_dir, subjects=["s0"])
    not_s0 = RealFolderReader(real_dir, exclude_subjects=["s0"])
    assert [r["path"] for r in s0.rows] == ["clips/c0.mp4", "clips/c1.mp4", "clips/c2.mp4"]
    assert [r["path"] for r in not_s0.rows] == ["clips/c3.mp4", "clips/c4.mp4", "clips/c5.mp4"]
    assert s0.classes == not_s0.classes == everyone.classes  # a selection never changes the class list
    assert not_s0.read(0)[1]["subject"] == "s1"
    simgen_cli.one_line_error(["train", "--real", real_dir, "--subjects", "s3", "--out", tmp_path / "r", *FAST],
                              "labels.csv", "no clip of subject 's3'", "s0, s1")
    simgen_cli.one_line_error(["train", "--real", real_dir, "--exclude-subjects", "s0,s1", "--out", tmp_path / "r", *FAST],
                              "leaves no clip")


def test_train_on_some_people_evaluate_on_the_others(real_dir, tmp_path, simgen_cli):
    run = tmp_path / "run"
    assert simgen_cli.run(["train", "--real", real_dir, "--subjects", "s0", "--out", run, *FAST])[0] == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert sum(metrics["clips_per_class"]["train"].values()) == 3
    out = tmp_path / "m.json"
    assert simgen_cli.run(["evaluate", "--checkpoint", run / "model.pt", "--data", real_dir, "--exclude-subjects", "s0",
                          "--out", out, "--no-progress"])[0] == 0
    m = json.loads(out.read_text())
    assert m["n_clips"] == 3 and {c["subject"] for c in m["per_clip"]} == {"s1"}


def test_small_validation_split_warns(synthetic_dir, tmp_path, caplog, simgen_cli):
    with caplog.at_level(logging.WARNING):
        assert simgen_cli.run(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r", "--val-fraction", "0.25", *FAST])[0] == 0
    warnings = [r.getMessage() for r in caplog.records if "validation split is small" in r.getMessage()]
    assert len(warnings) == 1 and "3 labelled clips" in warnings[0] and "left 1" in warnings[0]


def test_split_size_warning_thresholds(synthetic_dir):
    from simgen.train.data.batch import ClipDataset
    from simgen.train.data.cache import FrameCache
    from simgen.train.data.synthetic import open_reader
    from simgen.train.evaluate import split_size_warning

    ds = ClipDataset(open_reader(synthetic_dir), FrameCache(None), num_frames=8)  # 4 clips in each of 3 classes
    assert split_size_warning(ds, min_per_class=4, min_total=12) is None
    assert "left 4" in split_size_warning(ds, min_per_class=5, min_total=12)
    assert "12 labelled clips" in split_size_warning(ds, min_per_class=4, min_total=13)


def test_a_selection_of_people_keeps_the_whole_class_list(real_dir):
    from simgen.train.data.real import RealFolderReader

    (real_dir / "labels.csv").write_text("path,label,subject\nclips/c0.mp4,left,s0\nclips/c1.mp4,right,s1\n"
                                         "clips/c2.mp4,still,s1\n")
    only_s0 = RealFolderReader(real_dir, subjects=["s0"])
    assert only_s0.classes == ["left", "right", "still"] and len(only_s0) == 1


def test_a_corrupt_clip_under_strict_leaves_no_run_folder(real_dir, tmp_path, simgen_cli):
    (real_dir / "clips" / "c4.mp4").write_bytes(b"")
    out = tmp_path / "strict_run"
    simgen_cli.one_line_error(["train", "--real", real_dir, "--out", out, "--strict", *FAST], "c4.mp4")
    assert not out.exists()


def test_resume_without_a_run_fails_before_decoding(synthetic_dir, tmp_path, monkeypatch, simgen_cli):
    from simgen.train.data.batch import ClipDataset

    monkeypatch.setattr(ClipDataset, "prepare", lambda *a, **k: pytest.fail("decoded clips before checking the inputs"))
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "new", "--resume", *FAST],
                              "nothing to resume")
    assert not (tmp_path / "new").exists()

"""End-to-end: ``simgen train`` / ``simgen evaluate`` handlers on tiny datasets."""

import csv
import json
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml


# Learning thresholds for the 6-epoch fit on ``learnable_dir`` (36 train / 12 val clips, 3 classes).
# Measured over seeds 0-4: final val accuracy 0.917-1.0 (11-12 of 12), final/first train loss
# 0.30-0.45. Chance is 1/3; with the optimizer step removed the run stays at 4/12 and the
# loss does not fall. 9/12 and 0.6 leave 2 clips and a 0.15 loss ratio of margin.
MIN_VAL_ACCURACY = 0.75
MAX_LOSS_RATIO = 0.6
LEARN = ["--val-fraction", "0.25", "--val-every", "1"]  # with train_cli.FAST


def log_rows(run_dir) -> list[dict]:
    with (run_dir / "log.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def assert_learned(run_dir) -> list[dict]:
    rows = log_rows(run_dir)
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < MAX_LOSS_RATIO * losses[0], f"training loss did not fall: {losses}"
    val = [r["val_accuracy"] for r in rows]
    assert float(val[-1]) >= MIN_VAL_ACCURACY, f"validation accuracy near chance (1/3): {val}"
    return rows


def assert_consistent_clip_metrics(m: dict) -> None:
    """accuracy, per-class recall and macro-F1 agree with the confusion counts (rows = truth)."""
    cm = np.array(m["confusion_counts"])
    assert cm.sum() == m["n_clips"]
    assert m["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    for i, c in enumerate(m["classes"]):
        assert m["per_class"][c] == (pytest.approx(cm[i, i] / cm[i].sum()) if cm[i].sum() else None)


def assert_consistent_segment_metrics(m: dict) -> None:
    """A stricter IoU threshold never matches more segments; frame accuracy counts whole frames."""
    assert m["f1@10"] >= m["f1@25"] >= m["f1@50"]
    assert (m["frame_accuracy"] * m["n_frames"]) == pytest.approx(round(m["frame_accuracy"] * m["n_frames"]))


def test_help_mentions_outputs(capsys, train_cli):
    with pytest.raises(SystemExit):
        train_cli.run("train", "--help")
    assert "model.pt" in capsys.readouterr().out


@pytest.fixture(scope="module")
def learned_run(learnable_dir, tmp_path_factory, train_cli):
    """One uninterrupted 6-epoch fit (~3 s), shared by the learning and the resume tests."""
    args = ["--synthetic", learnable_dir, "--epochs", "6", *LEARN, *train_cli.FAST]
    out = tmp_path_factory.mktemp("learned") / "run"
    assert train_cli.run("train", "--out", out, *args) == 0
    return out, args


def test_train_learns_then_evaluate(learned_run, learnable_dir, tmp_path, train_cli):
    out, _ = learned_run
    for name in ("model.pt", "config.yaml", "metrics.json", "log.csv", "last.pt", "best.pt"):
        assert (out / name).is_file(), name
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["model"] == "tiny3d" and cfg["epochs"] == 6
    rows = assert_learned(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_val_clips"] == 12 and metrics["n_train_clips"] == 36 and len(metrics["history"]) == 6
    assert metrics["model_epoch"] == 6 and metrics["val_accuracy"] == float(rows[-1]["val_accuracy"])
    final = torch.load(out / "model.pt", weights_only=True)["model"]
    last = torch.load(out / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(final[k], last[k]) for k in final)  # default --select last
    ev = tmp_path / "eval.json"
    assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", learnable_dir, "--out", ev, "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_clips"] == 48 and m["classes"] == ["still", "horizontal", "vertical"]
    assert m["accuracy"] >= MIN_VAL_ACCURACY  # train + val clips
    assert_consistent_clip_metrics(m)


# Runs in a fresh interpreter and SIGKILLs itself when the fit loop validates for the
# KILL_AT-th time, i.e. after training that epoch but before its checkpoint is written.
KILLED_RUN = """
import os, signal, sys
import torch
torch.set_num_threads(1)  # same arithmetic as the test process
import simgen.train.fit as fit_module
from simgen.pipelines.cli import main
real, calls = fit_module.evaluate_dataset, []
def evaluate_or_die(*a, **k):
    calls.append(1)
    if len(calls) == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no flush
    return real(*a, **k)
fit_module.evaluate_dataset = evaluate_or_die
sys.exit(main(sys.argv[2:]))
"""


def test_resume_after_sigkill_matches_uninterrupted(learned_run, tmp_path, train_cli):
    uninterrupted, args = learned_run
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, "4", "train", "--out", str(tmp_path / "b"),
                             *map(str, args)], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "b" / "model.pt").exists()
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=True)["epoch"] == 2  # epochs 1-3 were saved
    assert len(log_rows(tmp_path / "b")) == 3
    assert train_cli.run("train", "--out", tmp_path / "b", "--resume", *args) == 0
    rows_a, rows_b = assert_learned(uninterrupted), assert_learned(tmp_path / "b")
    drop_speed = lambda rows: [{k: v for k, v in r.items() if k != "clips_per_s"} for r in rows]
    assert drop_speed(rows_a) == drop_speed(rows_b)  # epochs 1-6 once each, same losses and accuracies
    a = torch.load(uninterrupted / "model.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k  # same ops in the same order on the CPU: bit-identical


def test_resume_without_checkpoint_is_a_clear_error(synthetic_dir, tmp_path, capsys, train_cli):
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", tmp_path / "new", "--resume", *train_cli.FAST) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_segment_task_with_weak_selfsup_two_stream(segment_dir, tmp_path, train_cli):
    out = tmp_path / "seg"
    rc = train_cli.run("train", "--synthetic", segment_dir, "--out", out, "--epochs", "1", "--input", "rgb+diff",
                       "--selfsup", "order,speed,arrow,contrastive", "--weak", *train_cli.FAST)
    assert rc == 0
    ev = tmp_path / "seg.json"
    assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", segment_dir, "--out", ev, "--task", "segment",
                         "--smoothing", "viterbi", "--min-duration", "4", "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_frames"] == 6 * 32
    assert_consistent_segment_metrics(m)
    assert_consistent_clip_metrics(m)


def test_real_folder_train_and_evaluate_weizmann(weizmann_dir, tmp_path, train_cli):
    out = tmp_path / "real"
    assert train_cli.run("train", "--real", weizmann_dir, "--out", out, "--epochs", "1", "--size", "32", "--num-frames", "8",
                         "--no-progress") == 0
    ev = tmp_path / "w.json"
    assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", weizmann_dir, "--out", ev, "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_clips"] == 20 and sorted(m["classes"]) == ["bend", "jack", "wave1", "wave2"]
    assert_consistent_clip_metrics(m)


def test_corrupt_clips_skipped_listed_or_strict(real_dir, tmp_path, capsys, train_cli):
    (real_dir / "clips" / "c4.mp4").write_bytes(b"")
    out = tmp_path / "r"
    assert train_cli.run("train", "--real", real_dir, "--out", out, "--epochs", "1", *train_cli.FAST) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [s["path"] for s in metrics["skipped"]] == ["clips/c4.mp4"]
    assert "c4.mp4" in capsys.readouterr().err
    assert train_cli.run("train", "--real", real_dir, "--out", tmp_path / "s", "--strict", *train_cli.FAST) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "c4.mp4" in err[0] and "empty" in err[0]


@pytest.mark.parametrize("argv,needle", [
    (["train", "--synthetic", "/nonexistent/x", "--out", "{tmp}/o"], "/nonexistent/x"),
    (["train", "--synthetic", "{synth}", "--out", "{tmp}/o", "--model", "resnet9000"], "unknown model"),
    (["train", "--synthetic", "{synth}", "--out", "{tmp}/o", "--input", "flow"], "unknown input"),
    (["train", "--out", "{tmp}/o"], "no training data"),
    (["train", "--synthetic", "{synth}", "--out", "{tmp}/o", "--device", "cuda"], "CUDA"),
    (["evaluate", "--checkpoint", "{tmp}/missing.pt", "--data", "{synth}", "--out", "{tmp}/m.json"], "missing.pt"),
])
def test_cli_errors_exit_2_with_one_line(argv, needle, synthetic_dir, tmp_path, capsys, train_cli):
    if "cuda" in argv and torch.cuda.is_available():
        pytest.skip("CUDA present")
    argv = [a.format(tmp=tmp_path, synth=synthetic_dir) for a in argv]
    assert train_cli.run(*argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_evaluate_rejects_labels_outside_checkpoint_classes(synthetic_dir, real_dir, tmp_path, capsys, train_cli):
    out = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "1", *train_cli.FAST) == 0
    (real_dir / "labels.csv").write_text("path,label\nclips/c0.mp4,jump\n")
    assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", real_dir, "--out", tmp_path / "m.json") == 2
    err = capsys.readouterr().err
    assert "labels.csv:2" in err and "'jump'" in err


def test_select_best(synthetic_dir, tmp_path, train_cli):
    out = tmp_path / "best"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "2", "--val-fraction", "0.25",
                         "--select", "best", *train_cli.FAST) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_epoch"] == metrics["best_epoch"]
    assert (out / "model.pt").read_bytes() == (out / "best.pt").read_bytes()


def test_segment_task_on_real_folder_with_segments_csv(synthetic_dir, real_dir, tmp_path, capsys, train_cli):
    out = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "1", *train_cli.FAST) == 0
    ev = tmp_path / "seg.json"
    # no per-frame labels yet: each person's clips are chained into multi-action videos
    assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", real_dir, "--out", ev, "--task", "segment",
                         "--no-progress") == 0
    chained = json.loads(ev.read_text())
    assert chained["segment_chained"]["clean"]["raw"]["n_videos"] == 4  # 2 people x 2 orders (--chain-videos)
    (real_dir / "segments.csv").write_text("path,start,end,label\nclips/c0.mp4,0,12,left\nclips/c0.mp4,12,30,still\n")
    assert train_cli.run("evaluate", "--checkpoint", out / "model.pt", "--data", real_dir, "--out", ev, "--task", "segment",
                         "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_videos"] == 1 and m["n_frames"] == 30 and m["n_clips"] == 6 and "segment_chained" not in m
    assert_consistent_segment_metrics(m)


def test_evaluate_ensembles_snapshots(synthetic_dir, tmp_path, train_cli):
    out = tmp_path / "snap"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "2", "--keep-snapshots", *train_cli.FAST) == 0
    snaps = sorted(out.glob("epoch*.pt"))
    assert [p.name for p in snaps] == ["epoch001.pt", "epoch002.pt"]
    ev = tmp_path / "ens.json"
    assert train_cli.run("evaluate", "--checkpoint", *snaps, "--data", synthetic_dir, "--out", ev, "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_clips"] == 12 and len(m["checkpoint"]) == 2
    assert_consistent_clip_metrics(m)
    # an ensemble of one snapshot with itself is that snapshot
    for argv, name in (([snaps[1]], "one.json"), ([snaps[1], snaps[1]], "twice.json")):
        assert train_cli.run("evaluate", "--checkpoint", *argv, "--data", synthetic_dir, "--out", tmp_path / name, "--no-progress") == 0
    one, twice = (json.loads((tmp_path / n).read_text()) for n in ("one.json", "twice.json"))
    assert one["confusion_counts"] == twice["confusion_counts"] and one["accuracy"] == twice["accuracy"]


def _weights_file(tmp_path, kind: str):
    path = tmp_path / f"{kind}.pt"
    if kind == "garbage":
        path.write_bytes(b"\x00not a torch file" * 10)
    elif kind == "list":
        torch.save([torch.zeros(2)], path)
    elif kind == "wrong_shape":
        from simgen.train.models.torchvision_video import import_torchvision

        state = import_torchvision().models.video.r3d_18().state_dict()
        state["layer1.0.conv1.0.weight"] = torch.zeros(3, 3)
        torch.save(state, path)
    elif kind == "directory":
        path = tmp_path / "weights_dir"
        path.mkdir()
    return path


@pytest.mark.parametrize("kind,model,needle", [
    ("missing", "r3d_18", "not found"),
    ("directory", "r3d_18", "weights file not found"),
    ("garbage", "r3d_18", "not a readable torch weights file"),
    ("list", "r3d_18", "expected a state dict"),
    ("wrong_shape", "r3d_18", "wrong shape ['layer1.0.conv1.0.weight (3, 3)"),
    ("wrong_shape", "tiny3d", "tiny3d has no pretrained weights"),
])
def test_bad_weights_file_is_one_line_exit_2(kind, model, needle, synthetic_dir, tmp_path, capsys, train_cli):
    path = _weights_file(tmp_path, kind)
    rc = train_cli.run("train", "--synthetic", synthetic_dir, "--out", tmp_path / "o", "--model", model, "--weights", path,
                       "--epochs", "1", *train_cli.FAST)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"simgen train: error: --weights {path}: ") and needle in err[0], err[0]

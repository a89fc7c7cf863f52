"""End-to-end: ``simgen train`` / ``simgen evaluate`` handlers on tiny datasets."""

import argparse
import json

import pytest
import torch
import yaml

from simgen.pipelines import train_commands

FAST = ["--size", "32", "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress"]


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="simgen")
    train_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def fractions(metrics: dict, keys) -> bool:
    return all(0.0 <= metrics[k] <= 1.0 for k in keys)


def test_help_mentions_outputs(capsys):
    with pytest.raises(SystemExit):
        run("train", "--help")
    assert "model.pt" in capsys.readouterr().out


def test_train_then_evaluate(synthetic_dir, tmp_path):
    out = tmp_path / "run"
    assert run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "2", "--val-fraction", "0.25", *FAST) == 0
    for name in ("model.pt", "config.yaml", "metrics.json", "log.csv", "last.pt", "best.pt"):
        assert (out / name).is_file(), name
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["model"] == "tiny3d" and cfg["epochs"] == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_val_clips"] == 3 and metrics["n_train_clips"] == 9 and len(metrics["history"]) == 2
    assert metrics["model_epoch"] == 2 and 0 <= metrics["val_accuracy"] <= 1
    final = torch.load(out / "model.pt", weights_only=True)["model"]
    last = torch.load(out / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(final[k], last[k]) for k in final)  # default --select last
    ev = tmp_path / "eval.json"
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", synthetic_dir, "--out", ev, "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_clips"] == 12 and m["classes"] == ["left", "right", "still"]
    assert fractions(m, ["accuracy", "macro_f1"]) and set(m["per_class"]) == set(m["classes"])
    assert len(m["confusion"]) == 3


def test_resume_after_interruption_matches_uninterrupted(synthetic_dir, tmp_path, monkeypatch):
    args = ["--synthetic", synthetic_dir, "--epochs", "2", "--val-fraction", "0.25", "--val-every", "1",
            "--augment", "strong", *FAST]
    assert run("train", "--out", tmp_path / "a", *args) == 0

    import simgen.train.fit as fit_module

    real_eval = fit_module.evaluate_dataset
    calls = []

    def killed_in_epoch_2(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # like a kill after epoch 1's checkpoint
        return real_eval(*a, **k)

    monkeypatch.setattr(fit_module, "evaluate_dataset", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run("train", "--out", tmp_path / "b", *args)
    monkeypatch.setattr(fit_module, "evaluate_dataset", real_eval)
    assert not (tmp_path / "b" / "model.pt").exists()
    assert run("train", "--out", tmp_path / "b", "--resume", *args) == 0
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], msg=k)
    rows = (tmp_path / "b" / "log.csv").read_text().strip().splitlines()
    assert len(rows) == 3  # header + epochs 1 and 2, no duplicate


def test_resume_without_checkpoint_is_a_clear_error(synthetic_dir, tmp_path, capsys):
    assert run("train", "--synthetic", synthetic_dir, "--out", tmp_path / "new", "--resume", *FAST) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_segment_task_with_weak_selfsup_two_stream(segment_dir, tmp_path):
    out = tmp_path / "seg"
    rc = run("train", "--synthetic", segment_dir, "--out", out, "--epochs", "1", "--input", "rgb+diff",
             "--selfsup", "order,speed,arrow,contrastive", "--weak", *FAST)
    assert rc == 0
    ev = tmp_path / "seg.json"
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", segment_dir, "--out", ev, "--task", "segment",
               "--smoothing", "viterbi", "--min-duration", "4", "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert fractions(m, ["frame_accuracy", "f1@10", "f1@25", "f1@50", "edit", "accuracy"])
    assert m["n_frames"] == 6 * 32


def test_real_folder_train_and_evaluate_weizmann(weizmann_dir, tmp_path):
    out = tmp_path / "real"
    assert run("train", "--real", weizmann_dir, "--out", out, "--epochs", "1", "--size", "32", "--num-frames", "8",
               "--no-progress") == 0
    ev = tmp_path / "w.json"
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", weizmann_dir, "--out", ev, "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_clips"] == 20 and sorted(m["classes"]) == ["bend", "jack", "wave1", "wave2"]
    assert fractions(m, ["accuracy", "macro_f1"])


def test_corrupt_clips_skipped_listed_or_strict(real_dir, tmp_path, capsys):
    (real_dir / "clips" / "c4.mp4").write_bytes(b"")
    out = tmp_path / "r"
    assert run("train", "--real", real_dir, "--out", out, "--epochs", "1", *FAST) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [s["path"] for s in metrics["skipped"]] == ["clips/c4.mp4"]
    assert "c4.mp4" in capsys.readouterr().err
    assert run("train", "--real", real_dir, "--out", tmp_path / "s", "--strict", *FAST) == 2
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
def test_cli_errors_exit_2_with_one_line(argv, needle, synthetic_dir, tmp_path, capsys):
    if "cuda" in argv and torch.cuda.is_available():
        pytest.skip("CUDA present")
    argv = [a.format(tmp=tmp_path, synth=synthetic_dir) for a in argv]
    assert run(*argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_evaluate_rejects_labels_outside_checkpoint_classes(synthetic_dir, real_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "1", *FAST) == 0
    (real_dir / "labels.csv").write_text("path,label\nclips/c0.mp4,jump\n")
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", real_dir, "--out", tmp_path / "m.json") == 2
    err = capsys.readouterr().err
    assert "labels.csv:2" in err and "'jump'" in err


def test_select_best(synthetic_dir, tmp_path):
    out = tmp_path / "best"
    assert run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "2", "--val-fraction", "0.25",
               "--select", "best", *FAST) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_epoch"] == metrics["best_epoch"]
    assert (out / "model.pt").read_bytes() == (out / "best.pt").read_bytes()


def test_segment_task_on_real_folder_with_segments_csv(synthetic_dir, real_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "1", *FAST) == 0
    ev = tmp_path / "seg.json"
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", real_dir, "--out", ev, "--task", "segment",
               "--no-progress") == 2  # no per-frame labels yet: a clear error, not a crash
    assert "per-frame labels" in capsys.readouterr().err
    (real_dir / "segments.csv").write_text("path,start,end,label\nclips/c0.mp4,0,12,left\nclips/c0.mp4,12,30,still\n")
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", real_dir, "--out", ev, "--task", "segment",
               "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_videos"] == 1 and m["n_frames"] == 30 and m["n_clips"] == 6
    assert fractions(m, ["frame_accuracy", "f1@10", "f1@25", "f1@50", "edit"])


def test_evaluate_ensembles_snapshots(synthetic_dir, tmp_path):
    out = tmp_path / "snap"
    assert run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "2", "--keep-snapshots", *FAST) == 0
    snaps = sorted(out.glob("epoch*.pt"))
    assert [p.name for p in snaps] == ["epoch001.pt", "epoch002.pt"]
    ev = tmp_path / "ens.json"
    assert run("evaluate", "--checkpoint", *snaps, "--data", synthetic_dir, "--out", ev, "--no-progress") == 0
    m = json.loads(ev.read_text())
    assert m["n_clips"] == 12 and len(m["checkpoint"]) == 2 and 0 <= m["accuracy"] <= 1

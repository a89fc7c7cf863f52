"""`simgen predict`: per-frame labels, segments, a labelled MP4 for a person's own videos."""

import csv
import json

import numpy as np
import pytest
import torch

FAST = ["--size", "32", "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress"]


def chained(helpers, rng, a, b, gap=8, n=12):
    frames = np.concatenate([helpers.moving_square(a, n, 32, rng), helpers.moving_square("still", gap, 32, rng),
                             helpers.moving_square(b, n, 32, rng)])
    return (a, frames, [a] * n + ["transition"] * gap + [b] * n)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, helpers):
    """A tiny3d trained for one epoch on chained 25 fps clips, with a background output (~2 s)."""
    from simgen.pipelines.cli import main

    here = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(0)
    clips = [chained(helpers, rng, a, b) for a, b in [("left", "right"), ("right", "still"), ("still", "left")] * 2]
    root = helpers.write_synthetic(here / "synth", clips)
    meta = json.loads((root / "dataset.json").read_text())
    meta["spec"] = dict(fps=25.0, sequence=dict(probability=1.0, background_label="transition"))
    (root / "dataset.json").write_text(json.dumps(meta))
    assert main(["train", "--synthetic", str(root), "--out", str(here / "run"), "--epochs", "1",
                 "--val-fraction", "0", *FAST]) == 0
    return here / "run" / "model.pt"


def frame_count(path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def read_csv(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def check_outputs(out, name: str, frames: int, classes: list[str], top_k: int = 2) -> dict:
    """Every output of one video agrees with the video: a row and a drawn frame per frame, segments
    that are the runs of the per-frame labels."""
    rows = read_csv(out / f"{name}.frames.csv")
    assert len(rows) == frames and [int(r["frame"]) for r in rows] == list(range(frames))
    assert {r["label"] for r in rows} <= set(classes) | {"background"}
    doc = json.loads((out / f"{name}.segments.json").read_text())
    assert doc["frames"] == frames and doc["clip"]["label"] in classes and len(doc["clip"]["top_k"]) == top_k
    assert doc["clip"]["top_k"][0][1] >= doc["clip"]["top_k"][1][1]
    runs, start = [], 0
    labels = [r["label"] for r in rows]
    for t in range(1, frames + 1):
        if t == frames or labels[t] != labels[start]:
            if labels[start] != "background":
                runs.append((start, t, labels[start]))
            start = t
    assert [(s["start_frame"], s["end_frame"], s["label"]) for s in doc["segments"]] == runs
    for s in doc["segments"]:
        conf = np.mean([float(r["confidence"]) for r in rows[s["start_frame"]:s["end_frame"]]])
        assert s["confidence"] == pytest.approx(conf, abs=1e-3)
    seg_csv = read_csv(out / f"{name}.segments.csv")
    assert [(float(r["start"]), float(r["end"]), r["label"]) for r in seg_csv] == \
        [(s["start"], s["end"], s["label"]) for s in doc["segments"]]
    assert frame_count(out / f"{name}.labelled.mp4") == frames
    return doc


def test_predict_real_weizmann_clip_and_a_50fps_synthetic_clip(checkpoint, weizmann_dir, helpers, tmp_path, simgen_cli):
    real = weizmann_dir / "jack" / "s1_jack.mp4"
    synth = helpers.write_video_file(tmp_path / "v" / "square.mp4",
                                     helpers.moving_square("left", 50, 48, np.random.default_rng(3)), fps=50.0)
    out = tmp_path / "out"
    code, stdout, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, real, synth, "--out", out,
                                        "--top-k", "2", "--no-progress"])
    assert code == 0, err
    classes = ["left", "right", "still"]
    doc = check_outputs(out, "s1_jack", 105, classes)
    assert doc["fps"] == 25.0 and doc["frames_scored"] == 105  # already at the model's 25 fps
    doc = check_outputs(out, "square", 50, classes)
    assert doc["fps"] == 50.0 and doc["model_fps"] == 25.0 and doc["frames_scored"] == 25
    summary = json.loads((out / "predictions.json").read_text())
    assert [v["video"] for v in summary["videos"]] == [str(real), str(synth)] and summary["skipped"] == []
    assert "s1_jack.mp4: " in stdout


def test_several_checkpoints_average_their_scores(checkpoint, tmp_path_factory, helpers, tmp_path, simgen_cli):
    """Two models that read clips differently (the module's: diff, background output; this one: sdiff, none)."""
    from simgen.pipelines.cli import main

    here = tmp_path_factory.mktemp("predict2")
    rng = np.random.default_rng(1)
    root = helpers.write_synthetic(here / "synth", [(a, helpers.moving_square(a, 12, 32, rng), [a] * 12)
                                                    for a in ("left", "right", "still") * 2])
    meta = json.loads((root / "dataset.json").read_text())
    (root / "dataset.json").write_text(json.dumps(dict(meta, spec=dict(fps=25.0))))  # the first model's rate
    assert main(["train", "--synthetic", str(root), "--out", str(here / "run"), "--epochs", "1", "--val-fraction", "0",
                 "--input", "sdiff", *FAST]) == 0
    other = here / "run" / "model.pt"
    video = helpers.write_video_file(tmp_path / "sq.mp4", helpers.moving_square("right", 30, 32, np.random.default_rng(5)))
    tops = {}
    for name, ckpts in (("a", [checkpoint]), ("b", [other]), ("ab", [checkpoint, other])):
        args = [a for c in ckpts for a in ("--checkpoint", c)]
        code, _, err = simgen_cli.run(["predict", *args, video, "--out", tmp_path / name, "--top-k", "3", "--no-progress"])
        assert code == 0, err
        tops[name] = dict(json.loads((tmp_path / name / "sq.segments.json").read_text())["clip"]["top_k"])
    for c in ("left", "right", "still"):
        assert tops["ab"][c] == pytest.approx((tops["a"][c] + tops["b"][c]) / 2, abs=2e-4)
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, "--checkpoint", other, video, "--out",
                                   tmp_path / "w", "--member-weights", "1,3", "--top-k", "3", "--no-progress"])
    assert code == 0, err
    weighted = dict(json.loads((tmp_path / "w" / "sq.segments.json").read_text())["clip"]["top_k"])
    for c in ("left", "right", "still"):
        assert weighted[c] == pytest.approx((tops["a"][c] + 3 * tops["b"][c]) / 4, abs=2e-4)
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, video, "--out", tmp_path / "w1",
                                   "--member-weights", "1,3", "--no-progress"])
    assert code == 2 and "--member-weights: 2 weight(s) for 1 --checkpoint file(s)" in err
    # per-clip stability: each member's weight times its share of perturbed copies on which it keeps its label
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, "--checkpoint", other, video, "--out",
                                   tmp_path / "s", "--member-weights", "1,3", "--clip-stability", "--top-k", "3",
                                   "--no-progress"])
    assert code == 0, err
    # (the rule itself: tests/train/test_ensemble_clip_stability.py); None where the two agree on the label
    stable = json.loads((tmp_path / "s" / "predictions.json").read_text())["videos"][0]["member_stability"]
    agree = max(tops["a"], key=tops["a"].get) == max(tops["b"], key=tops["b"].get)
    assert (stable is None) == agree
    s_a, s_b = (1.0, 1.0) if agree else (stable[str(checkpoint)], stable[str(other)])
    assert {s_a * 5, s_b * 5} <= set(range(6))  # shares of the 5 copies
    by_stability = dict(json.loads((tmp_path / "s" / "sq.segments.json").read_text())["clip"]["top_k"])
    w_a, w_b = (s_a, 3 * s_b) if s_a + s_b > 0 else (1, 3)
    for c in ("left", "right", "still"):
        assert by_stability[c] == pytest.approx((w_a * tops["a"][c] + w_b * tops["b"][c]) / (w_a + w_b), abs=2e-4)
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, video, "--out", tmp_path / "s1",
                                   "--clip-stability", "--no-progress"])
    assert code == 2 and "--clip-stability weights the members of an ensemble" in err
    # the clutter gate (tests/sim2real/test_clutter_gate.py): recorded per video; neither model is person-cropped here
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, "--checkpoint", other, video, "--out",
                                   tmp_path / "c", "--clutter-gate", "0.25", "--no-progress"])
    assert code == 0, err
    gated = json.loads((tmp_path / "c" / "predictions.json").read_text())["videos"][0]
    assert gated["clutter"] is None and len(gated["members"]) == 2
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, video, "--out", tmp_path / "c1",
                                   "--clutter-gate", "0.25", "--no-progress"])
    assert code == 2 and "--clutter-gate narrows the members of an ensemble" in err
    check_outputs(tmp_path / "ab", "sq", 30, ["left", "right", "still"], top_k=3)
    assert json.loads((tmp_path / "ab" / "predictions.json").read_text())["checkpoint"] == [str(checkpoint), str(other)]


def test_an_undecodable_video_is_skipped_in_one_line_and_the_others_are_done(checkpoint, helpers, tmp_path, simgen_cli):
    good = helpers.write_video_file(tmp_path / "good.mp4", helpers.moving_square("right", 20, 32, np.random.default_rng(4)))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    out = tmp_path / "out"
    code, stdout, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, bad, tmp_path / "missing.mp4", good,
                                        "--out", out, "--no-progress", "--no-video"])
    lines = [line for line in err.strip().splitlines()]
    assert code == 2 and "Traceback" not in err
    assert len(lines) == 2 and all(line.startswith("simgen predict: skipped ") for line in lines)
    assert "bad.mp4: cannot decode video" in lines[0] and "missing.mp4: video file not found" in lines[1]
    assert len(read_csv(out / "good.frames.csv")) == 20 and not (out / "good.labelled.mp4").exists()
    assert [s["video"] for s in json.loads((out / "predictions.json").read_text())["skipped"]] == \
        [str(bad), str(tmp_path / "missing.mp4")]


def test_bad_checkpoint_or_out_is_one_line(checkpoint, tmp_path, simgen_cli):
    video = tmp_path / "x.mp4"
    simgen_cli.one_line_error(["predict", "--checkpoint", tmp_path / "nope.pt", video, "--out", tmp_path / "o"],
                              "--checkpoint", "nope.pt", "not found")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    simgen_cli.one_line_error(["predict", "--checkpoint", junk, video, "--out", tmp_path / "o"],
                              "--checkpoint", "junk.pt", "not a readable checkpoint")
    (tmp_path / "file").write_text("")
    simgen_cli.one_line_error(["predict", "--checkpoint", checkpoint, video, "--out", tmp_path / "file"],
                              "--out", "is a file")
    simgen_cli.one_line_error(["predict", "--checkpoint", checkpoint, video, "--out", tmp_path / "o", "--top-k", "9"],
                              "--top-k 9", "only 3 classes")
    state = torch.load(checkpoint, weights_only=False)
    state["meta"]["classes"] = ["right", "left", "still"]
    torch.save(state, tmp_path / "swapped.pt")
    simgen_cli.one_line_error(["predict", "--checkpoint", checkpoint, "--checkpoint", tmp_path / "swapped.pt", video,
                               "--out", tmp_path / "o"], "--checkpoint", "swapped.pt: field 'classes'", "cannot ensemble")


def test_duplicate_names_get_distinct_outputs():
    from pathlib import Path

    from simgen.pipelines.predict_commands import _unique_names

    assert _unique_names([Path("a/x.mp4"), Path("b/x.mp4"), Path("y.avi")]) == ["x", "x-2", "y"]


def test_a_model_without_frame_head_labels_frames_from_its_windows():
    from simgen.train.models import create_action_model
    from simgen.train.predict import predict_frames

    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", frame_head=False)
    meta = dict(classes=["a", "b", "c"], input="diff", num_frames=8, stride=1, fps=None)
    pred = predict_frames(model, meta, np.zeros((30, 32, 32, 3), np.uint8), 25.0, smoothing="none")
    assert len(pred["frame_labels"]) == 30 and set(pred["frame_labels"]) <= {"a", "b", "c"}


class BrightnessModel(torch.nn.Module):
    """A stand-in whose per-frame output is fixed by each frame's brightness: dark -> class 0,
    mid grey -> background (output 2), bright -> class 1. Input mode ``rgb``."""

    frame_head = True

    def forward(self, x):
        level = x.mean(dim=(1, 3, 4))  # (B, T), normalised RGB: dark < -1, bright > 1
        frame = torch.stack([(level < -1).float(), (level > 1).float(), ((level >= -1) & (level <= 1)).float()], 1)
        return dict(clip=frame[:, :2].mean(-1) * 10, frame=frame * 10)


def test_frame_labels_line_up_with_the_video_as_filmed_and_background_is_no_segment():
    from simgen.train.predict import predict_frames

    # 50 fps: 30 dark, 10 grey, 20 bright frames; the model runs at 25 fps (half the frames)
    levels = [0] * 30 + [128] * 10 + [255] * 20
    frames = np.stack([np.full((16, 16, 3), v, np.uint8) for v in levels])
    meta = dict(classes=["dark", "bright"], input="rgb", num_frames=4, stride=1, fps=25.0)
    pred = predict_frames(BrightnessModel(), meta, frames, 50.0, smoothing="none", top_k=2)
    assert pred["frames_scored"] == 30
    assert pred["frame_labels"] == ["dark"] * 30 + ["background"] * 10 + ["bright"] * 20
    assert [(s["start_frame"], s["end_frame"], s["label"]) for s in pred["segments"]] == [(0, 30, "dark"), (40, 60, "bright")]
    assert [(s["start"], s["end"]) for s in pred["segments"]] == [(0.0, 0.6), (0.8, 1.2)]  # seconds at 50 fps


def test_a_video_with_nothing_moving_is_flagged_for_a_model_of_differences(checkpoint, helpers, tmp_path, simgen_cli):
    """A still video reaches a ``diff`` model as zeros: whatever it shows, it gets the label every such video gets,
    so the command says so (one warning line) and ``predictions.json`` records it."""
    from simgen.train.checkpoint import load_model
    from simgen.train.predict import predict_frames

    rng = np.random.default_rng(5)
    picture = np.full((20, 32, 32, 3), 40, np.uint8)
    picture[:, 8:16, 8:16] = 200  # flat areas: the codec repeats the first frame exactly (a noisy one it refines)
    still = helpers.write_video_file(tmp_path / "still.mp4", picture)
    moving = helpers.write_video_file(tmp_path / "moving.mp4", helpers.moving_square("right", 20, 32, rng))
    out = tmp_path / "out"
    code, _, err = simgen_cli.run(["predict", "--checkpoint", checkpoint, still, moving, "--out", out,
                                   "--no-progress", "--no-video"])
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "still.mp4: every frame is the same picture" in warnings[0]
    videos = json.loads((out / "predictions.json").read_text())["videos"]
    assert [(v["frozen"], v["sees_nothing_move"]) for v in videos] == [(True, True), (False, False)]
    # the same still frames read by an RGB model: frozen, but that model sees what they show
    from simgen.train.models import create_action_model

    _, meta = load_model(checkpoint)
    assert meta["input"] == "diff"
    rgb = create_action_model(backbone="tiny3d", num_classes=len(meta["classes"]), input_mode="rgb")
    pred = predict_frames(rgb, dict(meta, input="rgb", frame_background="off"), picture, 25.0)
    assert pred["frozen"] and not pred["sees_nothing_move"]

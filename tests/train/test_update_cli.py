"""`simgen update`: a new class from a few clips, replay mixed into every batch, accuracy before/after."""

import json

import numpy as np
import torch


def clip(label, rng, helpers):
    """Old classes as in the fixtures; ``up``: a left-moving square turned on its side (moves up)."""
    if label == "up":
        return np.ascontiguousarray(helpers.moving_square("left", 24, 32, rng).transpose(0, 2, 1, 3))
    return helpers.moving_square(label, 24, 32, rng)


def real_folder(root, helpers, labels, seed, *, blank=False):
    rng = np.random.default_rng(seed)
    lines = ["path,label,subject"]
    for i, label in enumerate(labels):
        helpers.write_video_file(root / f"c{i:02d}.mp4", clip(label, rng, helpers))
        lines.append(f"c{i:02d}.mp4,{'' if blank else label},s{i % 2}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_adds_a_class_with_replay_and_scores_before_and_after(checkpoint, synthetic_dir, helpers, tmp_path,
                                                               simgen_cli):
    from simgen.train.checkpoint import load_model

    new = real_folder(tmp_path / "new", helpers, ["up"] * 4, seed=1)
    evaluation = real_folder(tmp_path / "eval", helpers, ["left", "right", "still", "up"] * 2, seed=2)
    code, out, err = simgen_cli.run(["update", "--checkpoint", checkpoint, "--new", new, "--replay", synthetic_dir,
                                     "--replay-per-class", "3", "--out", tmp_path / "run2", "--steps", "6",
                                     "--batch-size", "4", "--eval", evaluation])
    assert code == 0, err
    m = json.loads((tmp_path / "run2" / "metrics.json").read_text())
    assert m["classes"] == ["left", "right", "still", "up"] and m["added_classes"] == ["up"]
    assert m["clips"]["replay"] == {"left": 3, "right": 3, "still": 3, "up": 0}
    assert m["clips"]["new"]["up"] == 4
    # every batch holds each class once: the three old classes can only come from the replay buffer
    assert m["drawn"] == {"total": 24, "replay": 18, "real": 6}
    ev = m["evaluation"]
    assert ev["before"]["old"]["n_clips"] == 6 and ev["before"]["new"]["n_clips"] == 2
    assert ev["before"]["new"]["accuracy"] == 0.0  # the old model has no output for "up"
    assert ev["after"]["all"]["n_clips"] == 8 and "old_class_cost_points" in m
    assert m["settings"]["trainable_parameters"] < m["settings"]["parameters"]
    model, meta = load_model(tmp_path / "run2" / "model.pt")
    start, _ = load_model(checkpoint)
    # the core layers (all backbone stages but the last) are exactly the starting model's
    for name, value in start.state_dict().items():
        if name.startswith(("backbone.stem", "backbone.blocks.0", "backbone.blocks.1")):
            assert torch.equal(model.state_dict()[name], value), name
    last = "backbone.blocks.2.0.weight"
    assert not torch.equal(model.state_dict()[last], start.state_dict()[last])
    assert meta["classes"] == m["classes"] and meta["continual"]["parent"] == str(checkpoint)
    assert model.clip_head.fc.out_features == 4
    assert "added: up" in out and "old classes (6 clips)" in out
    # real clips only of the new class: the shortcut "real footage = up" is warned about
    assert err.count("warning: real clips only of the new class(es) up") == 1 and m["warnings"]


def test_bad_input_is_one_line(checkpoint, synthetic_dir, helpers, tmp_path, simgen_cli):
    new = real_folder(tmp_path / "new", helpers, ["up"] * 2, seed=1)
    base = ["update", "--checkpoint", checkpoint, "--new", new, "--steps", "1"]
    simgen_cli.one_line_error(["update", "--checkpoint", tmp_path / "x.pt", "--new", new, "--out", tmp_path / "o"],
                              "--checkpoint", "not found")
    simgen_cli.one_line_error(base + ["--out", tmp_path / "o", "--replay", tmp_path / "none"], "--replay", "not found")
    stranger = real_folder(tmp_path / "stranger", helpers, ["up"], seed=3)
    (stranger / "labels.csv").write_text("path,label\nc00.mp4,zzz\n")
    simgen_cli.one_line_error(base + ["--out", tmp_path / "o", "--replay", stranger], "labels.csv", "'zzz'",
                              "class list")
    unlabelled = real_folder(tmp_path / "unlabelled", helpers, ["up"] * 2, seed=4, blank=True)
    simgen_cli.one_line_error(["update", "--checkpoint", checkpoint, "--new", unlabelled, "--out", tmp_path / "o"],
                              "unlabelled", "no labelled clip")
    simgen_cli.one_line_error(base + ["--out", tmp_path / "o", "--eval-subjects", "s0"], "--eval-subjects", "--eval")
    simgen_cli.one_line_error(base + ["--out", tmp_path / "o", "--real-share", "2"], "--real-share")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "model.pt").write_bytes(b"x")
    simgen_cli.one_line_error(base + ["--out", tmp_path / "busy"], "--out", "--force")


def test_no_shortcut_warning_when_old_classes_have_real_clips_too(checkpoint, synthetic_dir, helpers, tmp_path,
                                                                   simgen_cli):
    new = real_folder(tmp_path / "new", helpers, ["up"] * 2, seed=1)
    earlier = real_folder(tmp_path / "earlier", helpers, ["left", "right", "still"], seed=5)
    code, _, err = simgen_cli.run(["update", "--checkpoint", checkpoint, "--new", new, "--replay", synthetic_dir,
                                   "--replay", earlier, "--out", tmp_path / "run2", "--steps", "2"])
    m = json.loads((tmp_path / "run2" / "metrics.json").read_text())
    assert code == 0 and "warning" not in err and m["warnings"] == []
    assert m["clips"]["replay"] == {"left": 5, "right": 5, "still": 5, "up": 0}  # 4 synthetic + 1 real each


def test_the_command_line_default_is_the_validated_step_count():
    from simgen.adapt.update import UPDATE_STEPS
    from simgen.pipelines.cli import build_parser

    args = build_parser().parse_args(["update", "--checkpoint", "m.pt", "--new", "d", "--out", "o"])
    assert args.steps == UPDATE_STEPS

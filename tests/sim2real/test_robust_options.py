"""`simgen sim2real --input sdiff --augment robust` reaches every model, and `--reuse-sim-only` takes the
saved sim-only model of an earlier run with the same settings instead of training it again."""

from __future__ import annotations

import json

import pytest


def _run(argv) -> int:
    from simgen.pipelines.cli import main

    return main([str(a) for a in argv])


def test_sdiff_and_robust_reach_the_saved_models_and_the_sim_only_model_is_reused(synthetic, tmp_path, monkeypatch,
                                                                                 sim2real_helpers):
    import simgen.train.fit as fit_module
    from simgen.train.checkpoint import load_model

    real = sim2real_helpers.make_real(tmp_path / "real")
    common = ["--synthetic", synthetic, "--real", real, "--shots", "1", "--test-subjects", "ann",
              "--save-models", tmp_path / "models", "--input", "sdiff", "--augment", "robust", *sim2real_helpers.FAST]
    assert _run(["sim2real", *common, "--methods", "sim-only,finetune", "--out", tmp_path / "a.json"]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    assert (a["config"]["input"], a["config"]["augment"]) == ("sdiff", "robust")
    _, meta = load_model(tmp_path / "models" / "finetune-seed0" / "model.pt")
    assert meta["input"] == "sdiff"

    trained = []
    real_fit = fit_module.fit
    monkeypatch.setattr(fit_module, "fit", lambda cfg, **kw: trained.append(cfg) or real_fit(cfg, **kw))
    assert _run(["sim2real", *common, "--methods", "sim-only", "--reuse-sim-only", "--out", tmp_path / "b.json"]) == 0
    assert trained == []  # same settings: taken from models/sim-only-seed0
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["methods"]["sim-only"]["confusion"] == a["methods"]["sim-only"]["confusion"]
    # the run copied into a folder of its own (as the README does for K = 0 after K = 1): still the same run
    import shutil

    shutil.copytree(tmp_path / "models" / "sim-only-seed0", tmp_path / "k0" / "sim-only-seed0")
    elsewhere = [("--save-models" if a == "--save-models" else tmp_path / "k0" if a == tmp_path / "models" else a)
                 for a in common]
    assert _run(["sim2real", *elsewhere, "--methods", "sim-only", "--reuse-sim-only", "--out", tmp_path / "k0.json"]) == 0
    assert trained == []
    # other settings: trained again
    assert _run(["sim2real", *common, "--methods", "sim-only", "--reuse-sim-only", "--sim-epochs", "1",
                 "--out", tmp_path / "c.json"]) == 0
    assert len(trained) == 1


def test_adapt_augment_changes_the_adapting_steps_only_and_keeps_the_sim_only_model_reusable(
        synthetic, tmp_path, monkeypatch, sim2real_helpers):
    import shutil

    import simgen.adapt.benchmark.methods as methods
    import simgen.train.fit as fit_module
    from simgen.train.config import AUGMENT_PRESETS

    real = sim2real_helpers.make_real(tmp_path / "real")
    common = ["--synthetic", synthetic, "--real", real, "--shots", "1", "--test-subjects", "ann",
              "--save-models", tmp_path / "models", "--methods", "sim-only,finetune", *sim2real_helpers.FAST]
    assert _run(["sim2real", *common, "--augment", "robust", "--out", tmp_path / "a.json"]) == 0
    built, trained = [], []
    real_build, real_fit = methods.create_clip_augmentation, fit_module.fit
    monkeypatch.setattr(methods, "create_clip_augmentation", lambda **kw: built.append(kw) or real_build(**kw))
    monkeypatch.setattr(fit_module, "fit", lambda cfg, **kw: trained.append(cfg) or real_fit(cfg, **kw))
    shutil.rmtree(tmp_path / "models" / "finetune-seed0")  # a free folder for this run's finetune model
    assert _run(["sim2real", *common, "--augment", "robust", "--adapt-augment", "occluded", "--reuse-sim-only",
                 "--out", tmp_path / "b.json"]) == 0
    assert trained == []  # the sim-only model is the robust one of the first run
    assert built and all(kw["occluder"] == 0.6 and kw["occluder_travel"] == 0.3 for kw in built)
    assert {k: v for k, v in built[0].items() if k not in ("size", "luma_only")} == AUGMENT_PRESETS["occluded"]
    b = json.loads((tmp_path / "b.json").read_text())
    assert (b["config"]["augment"], b["config"]["adapt_augment"]) == ("robust", "occluded")
    assert b["config"]["crop_span"] == "clip"  # how its person-centred clip scores were cropped
    a = json.loads((tmp_path / "a.json").read_text())
    assert a["config"]["adapt_augment"] == "robust"  # not given: the sim-only run's
    assert b["methods"]["sim-only"]["confusion"] == a["methods"]["sim-only"]["confusion"]


def test_saved_models_of_an_earlier_run_are_not_replaced(synthetic, tmp_path, capsys, sim2real_helpers):
    """K = 0 after K = 1 into one folder would have replaced best-seed0 without a word."""
    real = sim2real_helpers.make_real(tmp_path / "real")
    common = ["--synthetic", synthetic, "--real", real, "--test-subjects", "ann", "--save-models", tmp_path / "models",
              "--methods", "finetune,best", *sim2real_helpers.FAST]
    assert _run(["sim2real", *common, "--shots", "1", "--out", tmp_path / "k1.json"]) == 0
    before = (tmp_path / "models" / "best-seed0" / "model.pt").read_bytes()
    capsys.readouterr()
    assert _run(["sim2real", *common, "--shots", "0", "--out", tmp_path / "k0.json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "best-seed0 already holds an earlier run's models" in err[0]
    assert (tmp_path / "models" / "best-seed0" / "model.pt").read_bytes() == before
    assert not (tmp_path / "k0.json").exists()
    # finetune does not apply at K = 0, so its folder is no obstacle; a new seed's folders are free
    assert _run(["sim2real", *common, "--shots", "0", "--first-seed", "1", "--out", tmp_path / "k0.json"]) == 0


def test_reuse_needs_save_models(synthetic, real, tmp_path, capsys, sim2real_helpers):
    rc = _run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1", "--test-subjects", "ann",
               "--reuse-sim-only", "--out", tmp_path / "r.json", *sim2real_helpers.FAST])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "--save-models" in err[0]


def test_the_choices_are_in_step_and_reach_every_training_run():
    from simgen.adapt.benchmark.runner import BenchmarkConfig, _train_config
    from simgen.pipelines import sim2real_commands
    from simgen.train.config import AUGMENT_PRESETS
    from simgen.train.inputs import INPUT_MODES

    assert sim2real_commands.INPUT_MODES == INPUT_MODES and sim2real_commands.AUGMENTS == tuple(AUGMENT_PRESETS)
    cfg = BenchmarkConfig(synthetic="s", real="r", shots=1, methods=["best"], input="sdiff", augment="robust")
    tc = _train_config(cfg, "s", "out", 0)
    assert (tc.input, tc.augment) == ("sdiff", "robust")


def test_chained_synthetic_clips_give_every_method_the_sim_only_models_background_output(tmp_path, sim2real_helpers):
    """A synthetic set that chains actions trains a per-frame background output; the methods that
    start from the sim-only model must build the same network (they failed to load it before)."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    spec = importlib.util.spec_from_file_location("_train_fixtures", Path(__file__).resolve().parents[1] / "train" / "conftest.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    rng = np.random.default_rng(0)
    motions = sim2real_helpers.MOTIONS
    clips = []
    for i in range(12):
        a, b = motions[i % 3], motions[(i + 1) % 3]
        frames = np.concatenate([train.motion_clip(a, 10, 32, rng), train.motion_clip(b, 6, 32, rng)])
        clips.append((a, frames, [a] * 10 + ["transition"] * 2 + [b] * 4))
    root = train.write_synthetic(tmp_path / "syn", clips, classes=motions, clips_per_shard=12)
    meta = json.loads((root / "dataset.json").read_text())
    meta["spec"] = dict(fps=25.0, sequence=dict(probability=1.0, background_label="transition"))
    (root / "dataset.json").write_text(json.dumps(meta))
    real = sim2real_helpers.make_real(tmp_path / "real")
    assert _run(["sim2real", "--synthetic", root, "--real", real, "--shots", "1", "--test-subjects", "ann",
                 "--methods", "finetune,best", "--out", tmp_path / "r.json", *sim2real_helpers.FAST]) == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["methods"]["best"]["n_test_clips"] == 3


def test_precision_reaches_the_sim_only_training_and_its_reuse_check(synthetic, tmp_path, monkeypatch, capsys,
                                                                     sim2real_helpers):
    import yaml

    import simgen.train.fit as fit_module
    from simgen.pipelines.cli_support import PRECISIONS
    from simgen.train.device import AUTOCAST_DTYPES

    assert PRECISIONS == ("auto", *AUTOCAST_DTYPES)
    real = sim2real_helpers.make_real(tmp_path / "real")
    common = ["--synthetic", synthetic, "--real", real, "--shots", "1", "--test-subjects", "ann", "--methods",
              "sim-only", "--save-models", tmp_path / "models", *sim2real_helpers.FAST]
    assert _run(["sim2real", *common, "--precision", "bf16", "--out", tmp_path / "a.json"]) == 0
    assert json.loads((tmp_path / "a.json").read_text())["config"]["precision"] == "bf16"
    saved = yaml.safe_load((tmp_path / "models" / "sim-only-seed0" / "config.yaml").read_text())
    assert saved["precision"] == "bf16"

    trained = []
    real_fit = fit_module.fit
    monkeypatch.setattr(fit_module, "fit", lambda cfg, **kw: trained.append(cfg) or real_fit(cfg, **kw))
    assert _run(["sim2real", *common, "--precision", "bf16", "--reuse-sim-only", "--out", tmp_path / "b.json"]) == 0
    assert trained == []  # same precision: reused
    assert _run(["sim2real", *common, "--precision", "fp32", "--reuse-sim-only", "--out", tmp_path / "c.json"]) == 0
    assert [c.precision for c in trained] == ["fp32"]  # a bf16 model is not taken for an fp32 run

    capsys.readouterr()
    rc = _run(["sim2real", *common, "--precision", "fp16", "--out", tmp_path / "d.json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "--precision fp16: needs a CUDA device" in err[0]
    assert not (tmp_path / "d.json").exists()

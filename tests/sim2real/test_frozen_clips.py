"""Frozen test clips (every frame one picture, as H.264 at CRF 48 returns some real clips): a model of frame
differences alone labels them all alike, so the benchmark states the most such a model can score under a
perturbation (``difference_ceiling``) beside what it scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from simgen.adapt.benchmark.results import frozen_notes, summarise
from simgen.adapt.benchmark.scoring import Clip, ModelInput, clip_probabilities, condition_record
from simgen.adapt.perturb import difference_ceiling
from simgen.train.inputs import DIFFERENCE_INPUTS, is_frozen
from simgen.train.metrics.clip import clip_metrics

REAL = Path("../shared/data/weizmann4_dev")


def _still(seed: int, frames: int) -> np.ndarray:
    picture = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    return np.repeat(picture[None], frames, 0)


def test_a_clip_is_frozen_when_every_frame_is_the_first():
    still = _still(0, 12)
    assert is_frozen(still) and is_frozen(still[:1])
    moved = still.copy()
    moved[-1, 5, 5, 0] ^= 1  # one grey level of one pixel in the last frame
    assert not is_frozen(moved)


@pytest.mark.parametrize("mode", DIFFERENCE_INPUTS)
def test_a_difference_model_gives_every_frozen_clip_the_same_scores(mode):
    from simgen.train.models import create_action_model

    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode=mode, frame_head=False).eval()
    clips = [Clip(f"c{i}", _still(i, n), 25.0, 0) for i, n in enumerate((12, 20))]  # other pictures, lengths
    probs = clip_probabilities(model, clips, ModelInput(mode, 8, 1, None))
    # one window's zeros each; only the mean over 1 or 2 windows may round differently
    assert np.allclose(probs[0], probs[1], rtol=0, atol=1e-6) and probs[0].argmax() == probs[1].argmax()
    rgb = create_action_model(backbone="tiny3d", num_classes=3, input_mode="rgb", frame_head=False).eval()
    probs = clip_probabilities(rgb, clips, ModelInput("rgb", 8, 1, None))
    # the premise holds for differences only: appearance tells the pictures apart
    assert not np.allclose(probs[0], probs[1], rtol=0, atol=1e-6)


def test_the_ceiling_counts_the_largest_class_among_the_frozen_clips():
    preds = [dict(label=l, frozen=f) for l, f in [("a", True), ("b", True), ("b", True), ("a", False), ("c", False)]]
    assert difference_ceiling(preds) == (3, 4)  # the 2 unfrozen + both b's
    assert difference_ceiling([dict(label="a", frozen=False)] * 3) == (0, 3)


def _record(labels, predicted, frozen, with_predictions=True):
    classes = ["a", "b"]
    metrics = clip_metrics([classes.index(l) for l in labels], [classes.index(p) for p in predicted], classes)
    metrics["predictions"] = [dict(clip=f"{l}/{i}.mp4", label=l, predicted=p, scores=[0.5, 0.5], frozen=f)
                              for i, (l, p, f) in enumerate(zip(labels, predicted, frozen))]
    return condition_record(metrics, with_predictions=with_predictions)


def test_runs_record_the_frozen_clips_and_the_summary_pools_them_per_seed():
    clean = _record(["a", "b"], ["a", "b"], [False, False], with_predictions=False)
    assert clean["frozen"] == 0 and clean["difference_ceiling"] == 2
    # seed 0: both clips frozen (at most 1 of 2 right); seed 1: none frozen
    runs = [dict(method="m", seed=s, fold="p0", seconds=1.0, conditions=dict(
        clean=clean, **{"compression@48": _record(["a", "b"], ["a", "a"], [s == 0, s == 0])})) for s in (0, 1)]
    assert [p["frozen"] for p in runs[0]["conditions"]["compression@48"]["predictions"]] == [True, True]
    entry = summarise(runs, ["m"], ["a", "b"])["m"]
    assert entry["perturbations"] == {"compression": {"48": 0.5}}
    assert entry["difference_ceiling"] == {"compression": {"48": dict(frozen_clips=1.0, accuracy=0.75)}}
    (line,) = frozen_notes({"m": entry})
    assert line.startswith("compression@48: 1 of 2 test clips frozen") and "at most 75.0%" in line
    assert f"({', '.join(DIFFERENCE_INPUTS)})" in line
    # runs recorded before clips were checked: no ceiling, no note
    for r in runs:
        for c in r["conditions"].values():
            c.pop("frozen", None), c.pop("difference_ceiling", None)  # clean is shared by both runs
    entry = summarise(runs, ["m"], ["a", "b"])["m"]
    assert "difference_ceiling" not in entry and frozen_notes({"m": entry}) == []


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data/weizmann4_dev (the real clips)")
def test_h264_at_crf_48_returns_a_real_wave2_clip_as_one_still_picture():
    from simgen.adapt.perturb import h264_roundtrip
    from simgen.video import decode_mp4

    frames = decode_mp4((REAL / "wave2" / "s3_wave2.mp4").read_bytes())
    assert not is_frozen(frames) and not is_frozen(h264_roundtrip(frames, 25.0, 32.0))
    assert is_frozen(h264_roundtrip(frames, 25.0, 48.0))


def test_a_rebuilt_ensemble_keeps_each_conditions_own_clip_records():
    """The ensemble's perturbed predictions take the camera speed and frozen flag of that condition's copies
    (before session 19 they took the clean clips'), so its records carry the ceiling too."""
    import copy

    from simgen.adapt.benchmark.ensemble import ensemble_members
    from tests.sim2real.test_recipe_ensemble import A, B, SPEEDS

    a, b = copy.deepcopy(A), copy.deepcopy(B)
    for r in (a, b):
        run = r["runs"][0]
        for p in run["predictions"]:
            p["frozen"] = False
        for p, f in zip(run["conditions"]["camera@0.3"]["predictions"], (True, True)):
            p["frozen"] = f
    run = ensemble_members([("best", [a]), ("best", [b])], name="recipes")["runs"][0]
    moved = run["conditions"]["camera@0.3"]
    assert [p["camera_speed"] for p in moved["predictions"]] == SPEEDS["camera@0.3"]
    assert [p["frozen"] for p in moved["predictions"]] == [True, True]
    assert moved["frozen"] == 2 and moved["difference_ceiling"] == 1  # clips of classes a and b: one label for both
    assert run["conditions"]["clean"]["frozen"] == 0

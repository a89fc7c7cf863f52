"""Per-clip member weights of a recipe ensemble (adapt/benchmark/clip_stability.py, ensemble.py): a member's
weight on a test clip is its fold weight times the share of perturbed copies of that clip on which it keeps its
answer; the fold weights apply where every member's product is 0, and the camera gate comes first."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from simgen.adapt.benchmark import clip_stability
from simgen.adapt.benchmark.clip_stability import CLIP_WEIGHTS_RULE, check_recorded
from simgen.adapt.benchmark.ensemble import ensemble_members
from simgen.adapt.benchmark.scoring import Clip, ModelInput
from simgen.adapt.benchmark.stability import STABILITY_CONDITIONS

# two members' finished runs of one fold p0, and two tiny models (loaded by path: pytest's importlib mode)
_spec = importlib.util.spec_from_file_location("_recipe_runs", Path(__file__).with_name("test_recipe_ensemble.py"))
_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_runs)
A, B = _runs.A, _runs.B
_spec = importlib.util.spec_from_file_location("_weights", Path(__file__).with_name("test_member_weights.py"))
_weights = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_weights)


def test_per_clip_stability_multiplies_the_fold_weights_clip_by_clip():
    # members x clips (x, y); A right on clean clips, B under the camera condition (test_recipe_ensemble.py)
    stable = {"clean": np.array([[1.0, 0.2], [0.5, 0.0]]), "camera@0.3": np.array([[0.0, 1.0], [0.0, 0.0]])}
    seen = []

    def clip_weigh(seed, fold, runs, needed=None):
        seen.append((seed, fold, [r["predictions"][0]["clip"] for r in runs], needed))
        return stable

    out = ensemble_members([("best", [A]), ("best", [B])], name="recipes", weigh=lambda s, f: [1.0, 3.0],
                           clip_weigh=clip_weigh)
    run = out["runs"][0]
    # once per (seed, fold), given both members' runs and the clips on which they name different classes
    assert seen == [(0, "p0", ["a/x.mp4", "a/x.mp4"], {"clean": [0], "camera@0.3": [0, 1]})]  # clean y: both say b
    # clean x: weights (1 * 1, 3 * 0.5) -> (0.9 + 0.4 * 1.5) / 2.5; clean y: (0.2, 0) -> A alone
    assert [p["scores"] for p in run["predictions"]] == [[0.6, 0.4], [0.2, 0.8]]
    assert [p["member_stability"] for p in run["predictions"]] == [[1.0, 0.5], [0.2, 0.0]]
    # camera x: every product 0 -> the fold weights (0.45 + 0.9 * 3) / 4; camera y: (1, 0) -> A alone
    cam = run["conditions"]["camera@0.3"]["predictions"]
    assert [p["scores"] for p in cam] == [[0.7875, 0.2125], [0.6, 0.4]]
    assert out["config"]["member_weights"].endswith(CLIP_WEIGHTS_RULE) and run["member_weights"] == [1.0, 3.0]
    plain = ensemble_members([("best", [A]), ("best", [B])], weigh=lambda s, f: [1.0, 3.0])
    assert "member_stability" not in plain["runs"][0]["predictions"][0]
    assert CLIP_WEIGHTS_RULE not in plain["config"]["member_weights"]


def test_the_camera_gate_comes_before_the_per_clip_weights():
    stable = {"clean": np.ones((2, 2)), "camera@0.3": np.array([[1.0, 1.0], [0.0, 0.0]])}
    out = ensemble_members([("best", [A]), ("best", [B])], camera_gate=0.008, weigh=lambda s, f: [1.0, 3.0],
                           clip_weigh=lambda s, f, r, needed=None: stable)
    cam = out["runs"][0]["conditions"]["camera@0.3"]["predictions"]
    assert cam[0]["scores"] == [0.9, 0.1]  # moving camera: B alone, although its product is 0 and A's is not
    assert cam[1]["scores"] == [0.6, 0.4]  # still camera: A alone, by its per-clip stability


def test_stability_is_measured_only_where_the_fused_members_disagree():
    def scored(*rows):  # members x clips of recorded scores
        return [[dict(scores=list(r)) for r in member] for member in rows]

    a = [(0.7, 0.2, 0.1), (0.5, 0.5, 0.0), (0.1, 0.2, 0.7), (0.6, 0.3, 0.1)]
    b = [(0.4, 0.35, 0.25), (0.5, 0.1, 0.4), (0.3, 0.6, 0.1), (0.1, 0.8, 0.1)]
    everyone = [[0, 1]] * 4
    assert clip_stability.undecided_clips(scored(a, b), everyone) == [2, 3]  # clip 1: a tie, the first class leads
    assert clip_stability.undecided_clips(scored(a, b), [[0, 1], [0, 1], [1], [0]]) == []  # gated: one member
    # the reason: where the members agree, no weighting changes the class (ties at the kept 4 decimals included)
    rng = np.random.default_rng(0)
    for _ in range(3000):
        p = np.round(rng.dirichlet(np.ones(4) * rng.choice([0.3, 3.0]), size=3), 1 if rng.random() < 0.3 else 4)
        if len({int(np.argmax(r)) for r in p}) == 1:
            w = rng.choice([0.0, 0.2, 1.0, 3.0], size=3)
            if w.sum() > 0:
                assert int(np.argmax(np.average(p, axis=0, weights=w))) == int(np.argmax(p[0]))
    # not measured (NaN): the fold weights fuse that clip, and its record says so
    stable = {"clean": np.array([[np.nan, 0.2], [np.nan, 0.0]]),
              "camera@0.3": np.array([[np.nan, np.nan], [np.nan, np.nan]])}
    out = ensemble_members([("best", [A]), ("best", [B])], name="recipes", weigh=lambda s, f: [1.0, 3.0],
                           clip_weigh=lambda s, f, r, needed=None: stable)
    run = out["runs"][0]
    assert [p["scores"] for p in run["predictions"]] == [[0.525, 0.475], [0.2, 0.8]]  # x: (0.9 + 3 * 0.4) / 4
    assert [p["member_stability"] for p in run["predictions"]] == [[None, None], [0.2, 0.0]]


def test_only_the_clips_asked_for_are_measured(monkeypatch):
    spec = ModelInput("rgb", num_frames=4, stride=1, fps=None)
    clips = [_weights._clip("a", True), _weights._clip("b", False)]
    monkeypatch.setattr(clip_stability, "recheck_copy", lambda clip, condition, seed: Clip(
        clip.key, clip.frames[:, :, ::-1].copy() if condition == 0 else clip.frames, clip.fps, -1))
    probs, every = clip_stability.clip_stability(_weights.LeftOrRight(), spec, clips, seed=0)
    probs_b, only_b = clip_stability.clip_stability(_weights.LeftOrRight(), spec, clips, seed=0, only=[1])
    assert np.array_equal(probs, probs_b) and np.isnan(only_b[0]) and only_b[1] == every[1] == 0.8
    _, none = clip_stability.clip_stability(_weights.LeftOrRight(), spec, clips, seed=0, only=[])
    assert np.isnan(none).all()


def test_a_condition_without_per_clip_stability_is_an_error():
    with pytest.raises(ValueError, match="no per-clip stability of the condition camera@0.3"):
        ensemble_members([("best", [A]), ("best", [B])],
                         clip_weigh=lambda s, f, r, needed=None: {"clean": np.ones((2, 2))})


def test_clip_stability_is_the_share_of_copies_that_keep_a_clips_answer(monkeypatch):
    spec = ModelInput("rgb", num_frames=4, stride=1, fps=None)
    clips = [_weights._clip("a", True), _weights._clip("b", False)]
    flips = {0, 3}  # the copies of these conditions are mirrored: a left/right answer flips

    def copy(clip, condition, seed):
        frames = clip.frames[:, :, ::-1].copy() if condition in flips else clip.frames
        return Clip(clip.key, frames, clip.fps, -1)

    monkeypatch.setattr(clip_stability, "recheck_copy", copy)
    probs, stable = clip_stability.clip_stability(_weights.LeftOrRight(), spec, clips, seed=0)
    assert probs.argmax(1).tolist() == [0, 1]
    assert stable.tolist() == [1 - len(flips) / len(STABILITY_CONDITIONS)] * 2
    _, blind = clip_stability.clip_stability(_weights.Constant(), spec, clips, seed=0)
    assert blind.tolist() == [1.0, 1.0]


def test_recheck_copies_are_drawn_per_clip_and_seed():
    clip = _weights._clip("a", True)
    first = clip_stability.recheck_copy(clip, 0, seed=4)  # occlusion: a bar of a drawn colour and direction
    assert np.array_equal(first.frames, clip_stability.recheck_copy(clip, 0, seed=4).frames)
    assert not np.array_equal(first.frames, clip_stability.recheck_copy(clip, 0, seed=5).frames)
    assert not np.array_equal(first.frames, clip.frames)


def test_rebuilt_scores_must_match_the_recorded_ones():
    recorded = [dict(scores=[0.9, 0.1]), dict(scores=[0.25, 0.75])]
    check_recorded(np.array([[0.9001, 0.0999], [0.2504, 0.7496]]), recorded, "here")  # rounding: accepted
    with pytest.raises(ValueError, match=r"here: the rebuilt clips score differently .*largest difference 0\.0500"):
        check_recorded(np.array([[0.9, 0.1], [0.3, 0.7]]), recorded, "here")
    with pytest.raises(ValueError, match="here: the rebuilt clips score differently"):
        check_recorded(np.array([[0.9, 0.1]]), recorded, "here")


def test_the_cli_needs_the_saved_models_for_per_clip_weights(tmp_path, capsys):
    from simgen.adapt.benchmark.ensemble import main

    assert main(["--member", "best=a.json", "--member", "best=b.json", "--clip-stability",
                 "--out", str(tmp_path / "e.json")]) == 2
    assert "--clip-stability needs --member-models" in capsys.readouterr().err
    assert not (tmp_path / "e.json").exists()

"""Stability-weighted recipe ensembles (adapt/benchmark/stability.py, ensemble.py): a member's weight is the share
of its predictions a perturbation leaves unchanged on the training people's real clips; the fusion uses it."""

import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from simgen.adapt.benchmark import stability
from simgen.adapt.benchmark.ensemble import WEIGHTS_RULE, ensemble_members, main, saved_model, stability_weigher
from simgen.adapt.benchmark.scoring import Clip, ModelInput
from simgen.adapt.benchmark.stability import STABILITY_CONDITIONS, prediction_stability, stability_weights
from simgen.train.checkpoint import FORMAT, save_atomic
from simgen.train.models import create_action_model

# two members' finished runs of one fold p0 (loaded by path: pytest's importlib mode)
_spec = importlib.util.spec_from_file_location("_recipe_runs", Path(__file__).with_name("test_recipe_ensemble.py"))
_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_runs)
A, B = _runs.A, _runs.B


class LeftOrRight(nn.Module):
    """Class 0 when the left half of the window is brighter than the right half, else class 1."""

    def forward(self, x):
        w = x.shape[-1]
        left, right = x[..., : w // 2].mean((1, 2, 3, 4)), x[..., w // 2 :].mean((1, 2, 3, 4))
        return dict(clip=torch.stack([left - right, right - left], 1) * 50)


class Constant(nn.Module):
    def forward(self, x):
        return dict(clip=torch.tensor([[2.0, 0.0]]).expand(len(x), 2))


def _clip(key: str, bright_left: bool) -> Clip:
    frames = np.zeros((8, 16, 16, 3), np.uint8)
    frames[:, :, :8] = 200 if bright_left else 20
    frames[:, :, 8:] = 20 if bright_left else 200
    return Clip(key=key, frames=frames, fps=25.0, label=-1)


def test_stability_is_the_share_of_predictions_a_perturbation_leaves_unchanged():
    spec = ModelInput("rgb", num_frames=4, stride=1, fps=None)
    clips = [_clip("a", True), _clip("b", False), _clip("c", True), _clip("d", True)]
    mirrored = [Clip(c.key, c.frames[:, :, ::-1].copy(), c.fps, -1) for c in clips]  # every left/right answer flips
    half = mirrored[:2] + clips[2:]  # two of four flip
    assert prediction_stability(LeftOrRight(), spec, clips, [clips, clips]) == 1.0
    assert prediction_stability(LeftOrRight(), spec, clips, [clips, mirrored]) == 0.5
    assert prediction_stability(LeftOrRight(), spec, clips, [half, mirrored, clips]) == pytest.approx(6 / 12)
    assert prediction_stability(Constant(), spec, clips, [mirrored]) == 1.0  # blind, hence stable (the module's caveat)
    with pytest.raises(ValueError, match="at least one clip"):
        prediction_stability(Constant(), spec, [], [[]])


def test_weights_scale_each_members_scores_and_are_recorded():
    calls = []

    def weigh(seed, fold):
        calls.append((seed, fold))
        return [1.0, 3.0]

    out = ensemble_members([("best", [A]), ("best", [B])], name="recipes", weigh=weigh)
    run = out["runs"][0]
    assert calls == [(0, "p0")]
    # clean clip x: (0.9 * 1 + 0.4 * 3) / 4, clip y: (0.2 + 0.45 * 3) / 4
    assert [p["scores"] for p in run["predictions"]] == [[0.525, 0.475], [0.3875, 0.6125]]
    assert [p["scores"] for p in run["conditions"]["camera@0.3"]["predictions"]] == [[0.7875, 0.2125],
                                                                                     [0.225, 0.775]]
    assert run["member_weights"] == [1.0, 3.0] and out["config"]["member_weights"] == WEIGHTS_RULE
    for kind, level in STABILITY_CONDITIONS:  # the rule written down names every condition it used
        assert f"{kind} {level:g}" in WEIGHTS_RULE
    equal = ensemble_members([("best", [A]), ("best", [B])])
    assert equal["config"]["member_weights"] == "equal" and "member_weights" not in equal["runs"][0]
    # every weight 0 (no member held any answer): the plain mean, not a division by zero
    zero = ensemble_members([("best", [A]), ("best", [B])], weigh=lambda s, f: [0.0, 0.0])["runs"][0]
    assert [p["scores"] for p in zero["predictions"]] == [p["scores"] for p in equal["runs"][0]["predictions"]]


def test_a_member_scale_multiplies_the_weights_before_the_fusion(tmp_path, capsys):
    # a scale of 1,3 with weights 0.5,1 fuses as weights 0.5,3 (the targets pipeline uses 1,1.5 at K = 1)
    scaled = ensemble_members([("best", [A]), ("best", [B])], weigh=lambda s, f: [0.5, 1.0], scale=[1.0, 3.0])
    same = ensemble_members([("best", [A]), ("best", [B])], weigh=lambda s, f: [0.5, 3.0])
    assert scaled["runs"][0]["member_weights"] == [0.5, 3.0]
    assert scaled["runs"][0]["predictions"] == same["runs"][0]["predictions"]
    assert scaled["runs"][0]["conditions"] == same["runs"][0]["conditions"]
    assert scaled["config"]["member_weights"] == WEIGHTS_RULE + "; times the member scale 1,3"
    # without weights the scale is the weights: clean clip x (0.9 * 1 + 0.4 * 3) / 4, as with weights 1,3 above
    alone = ensemble_members([("best", [A]), ("best", [B])], scale=[1.0, 3.0])
    assert alone["runs"][0]["predictions"][0]["scores"] == [0.525, 0.475]
    assert alone["config"]["member_weights"] == "equal; times the member scale 1,3"
    with pytest.raises(ValueError, match="1 member scale"):
        ensemble_members([("best", [A]), ("best", [B])], scale=[2.0])
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(A))
    b.write_text(json.dumps(B))
    members = ["--member", f"best={a}", "--member", f"best={b}"]
    assert main([*members, "--member-scale", "1,3", "--out", str(tmp_path / "e.json")]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["runs"][0]["member_weights"] == [1.0, 3.0]
    assert main([*members, "--member-scale", "3", "--out", str(tmp_path / "f.json")]) == 2
    assert "--member-scale has 1 number(s) for 2 --member" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: a negative weight
        main([*members, "--member-scale", "1,-3", "--out", str(tmp_path / "g.json")])


def test_the_camera_gate_keeps_the_stabilised_members_weighted_alone():
    out = ensemble_members([("best", [A]), ("best", [B])], camera_gate=0.008, weigh=lambda s, f: [1.0, 3.0])
    cam = out["runs"][0]["conditions"]["camera@0.3"]["predictions"]
    assert cam[0]["scores"] == [0.9, 0.1]  # moving camera: B alone, whatever the weights
    assert cam[1]["scores"] == [0.225, 0.775]  # still camera: the weighted mean


def _checkpoint(path, test_subjects, seed: int = 0, size: int = 32):
    torch.manual_seed(seed)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="rgb", frame_head=False)
    meta = dict(format=FORMAT, backbone="tiny3d", classes=["still", "horizontal", "vertical"], input="rgb",
                frame_head=False, num_frames=8, stride=1, size=size, fps=None)
    if test_subjects is not None:
        meta["sim2real"] = dict(method="best", seed=0, test_subjects=test_subjects)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(dict(meta=meta, model=model.state_dict()), path)
    return path


def test_stability_weights_read_only_the_training_peoples_clips(tmp_path, monkeypatch, sim2real_helpers):
    real = sim2real_helpers.make_real(tmp_path / "real")  # people ann, ben, cat
    a = _checkpoint(tmp_path / "a.pt", ["ben"], seed=0)
    b = _checkpoint(tmp_path / "b.pt", ["ben"], seed=1)
    seen = []
    real_stability = stability.prediction_stability

    def spy(model, spec, clips, perturbed, device="cpu"):
        seen.append(([c.subject for c in clips], [[c.subject for c in copies] for copies in perturbed],
                     [c.label for c in clips]))
        return real_stability(model, spec, clips, perturbed, device)

    monkeypatch.setattr(stability, "prediction_stability", spy)
    weights = stability_weights([a, b], real, seed=3)
    assert len(weights) == 2 and all(0.0 <= w <= 1.0 for w in weights)
    for people, copies, labels in seen:
        assert sorted(set(people)) == ["ann", "cat"] and len(people) == 6  # 3 clips each; never ben's
        assert len(copies) == len(STABILITY_CONDITIONS) and all(c == people for c in copies)
        assert set(labels) == {-1}  # no label read
    assert stability_weights([a, b], real, seed=3) == weights  # same draws: same weights


def test_a_fold_copy_is_the_same_for_every_member_and_fold_of_a_seed(tmp_path, sim2real_helpers):
    real = sim2real_helpers.make_real(tmp_path / "real")
    clip = stability.real_clips(real, 32)[0]
    for i in range(len(STABILITY_CONDITIONS)):
        first = stability.perturbed_copy(clip, i, seed=5)
        stability._COPIES.clear()
        again = stability.perturbed_copy(clip, i, seed=5)
        assert np.array_equal(first.frames, again.frames) and first.fps == again.fps
    occluded = [stability.perturbed_copy(clip, 0, seed=s).frames for s in (5, 6)]
    assert not np.array_equal(*occluded)  # another seed, another draw (the occluder's colour and direction)
    other = sim2real_helpers.make_real(tmp_path / "other", seed=2)  # the same file names, other pictures
    twin = stability.real_clips(other, 32)[0]
    assert twin.key == clip.key and not np.array_equal(twin.frames, clip.frames)
    assert not np.array_equal(stability.perturbed_copy(twin, 2, seed=5).frames,
                              stability.perturbed_copy(clip, 2, seed=5).frames)  # cached by content, not by name


def test_checkpoints_of_other_people_or_without_a_record_are_refused(tmp_path, sim2real_helpers):
    real = sim2real_helpers.make_real(tmp_path / "real")
    a = _checkpoint(tmp_path / "a.pt", ["ben"])
    with pytest.raises(ValueError, match=r"different people: .*a\.pt: ben; .*c\.pt: cat"):
        stability_weights([a, _checkpoint(tmp_path / "c.pt", ["cat"])], real, seed=0)
    with pytest.raises(ValueError, match=r"d\.pt: field 'meta.sim2real.test_subjects' missing"):
        stability_weights([a, _checkpoint(tmp_path / "d.pt", None)], real, seed=0)
    alone = sim2real_helpers.make_real(tmp_path / "alone", people=("ben",))
    with pytest.raises(ValueError, match="no clip of a person other than ben"):
        stability_weights([a], alone, seed=0)


def test_saved_model_follows_the_benchmarks_layout(tmp_path):
    per_fold = _checkpoint(tmp_path / "m" / "best-seed4" / "test-p0" / "model.pt", ["p0"])
    assert saved_model(tmp_path / "m", "best", 4, "p0") == per_fold
    one_fold = _checkpoint(tmp_path / "n" / "best-seed4" / "model.pt", ["p0"])
    assert saved_model(tmp_path / "n", "best", 4, "p0") == one_fold
    assert saved_model(tmp_path / "o", "best", 4, "p0") == tmp_path / "o" / "best-seed4" / "test-p0" / "model.pt"


def test_cli_weighs_members_by_their_saved_models(tmp_path, capsys, sim2real_helpers):
    real = sim2real_helpers.make_real(tmp_path / "real", people=("p0", "p1"))
    members = []
    for i, res in enumerate((A, B)):
        res = copy.deepcopy(res)
        res["config"]["real"] = str(real)
        (tmp_path / f"r{i}.json").write_text(json.dumps(res))
        _checkpoint(tmp_path / f"models{i}" / "best-seed0" / "test-p0" / "model.pt", ["p0"], seed=i)
        members += ["--member", f"best={tmp_path}/r{i}.json"]
    out = tmp_path / "e.json"
    models = ["--member-models", str(tmp_path / "models0"), "--member-models", str(tmp_path / "models1")]
    assert main([*members, *models, "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    weights = got["runs"][0]["member_weights"]
    assert len(weights) == 2 and got["config"]["member_weights"] == WEIGHTS_RULE
    assert main([*members, models[0], models[1], "--out", str(out)]) == 2
    assert "1 folder(s) for 2 members" in capsys.readouterr().err
    assert main([*members, "--member-models", str(tmp_path / "models0"), "--member-models", str(tmp_path / "none"),
                 "--out", str(out)]) == 2
    assert "no saved model for seed 0 fold p0" in capsys.readouterr().err
    assert main(["--members", "best", str(tmp_path / "r0.json"), *models, "--out", str(out)]) == 2
    assert "--member-models goes with --member" in capsys.readouterr().err


def test_the_weigher_needs_one_folder_per_member():
    with pytest.raises(ValueError, match="1 folder"):
        stability_weigher([("best", [A]), ("best", [B])], ["x"])


def test_the_stability_command_prints_weights_for_evaluate_and_predict(tmp_path, sim2real_helpers, capsys):
    real = sim2real_helpers.make_real(tmp_path / "real")  # ann, ben, cat
    a = _checkpoint(tmp_path / "a.pt", None, seed=0)  # models of a user's own: no benchmark record
    b = _checkpoint(tmp_path / "b.pt", None, seed=1)
    assert stability.main(["--checkpoint", str(a), "--checkpoint", str(b), "--real", str(real),
                           "--exclude-subjects", "ben"]) == 0
    report, option = capsys.readouterr().out.strip().splitlines()
    weights = json.loads(report)["member_weights"]
    assert weights == stability_weights([a, b], real, 0, exclude_subjects=["ben"])
    assert option == "--member-weights " + ",".join(f"{w:g}" for w in weights)
    assert stability.main(["--checkpoint", str(a), "--real", str(real), "--exclude-subjects", "ann,ben,cat"]) == 2
    assert "no clip of a person other than ann, ben, cat" in capsys.readouterr().err
    assert stability.main(["--checkpoint", str(tmp_path / "none.pt"), "--real", str(real)]) == 2
    assert "none.pt: checkpoint not found" in capsys.readouterr().err
    # --member-scale: the printed weights are the stabilities times the scale
    assert stability.main(["--checkpoint", str(a), "--checkpoint", str(b), "--real", str(real),
                           "--exclude-subjects", "ben", "--member-scale", "1,3"]) == 0
    report, option = capsys.readouterr().out.strip().splitlines()
    scaled = json.loads(report)
    assert scaled["stability"] == weights and scaled["member_scale"] == [1.0, 3.0]
    assert scaled["member_weights"] == [weights[0], round(weights[1] * 3, 6)]
    assert option == "--member-weights " + ",".join(f"{w:g}" for w in scaled["member_weights"])
    assert stability.main(["--checkpoint", str(a), "--real", str(real), "--member-scale", "1,3"]) == 2
    assert "--member-scale has 2 number(s) for 1 --checkpoint" in capsys.readouterr().err

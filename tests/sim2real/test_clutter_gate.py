"""The clutter gate (train/clutter.py, adapt/benchmark/clutter_gate.py, ensemble.py): a clip where much of what moves
lies outside the person (an occluder sweeping across) is fused from the person-cropped members alone."""

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from simgen.adapt.benchmark.ensemble import ensemble_members, main
from simgen.adapt.perturb import apply_perturbation
from simgen.train.clutter import CLUTTER_GATE, clip_clutter, clutter_gate_applies, clutter_gated_members

# two members' finished runs of one fold p0: A reads diff, B psdiff (loaded by path: pytest's importlib mode)
_spec = importlib.util.spec_from_file_location("_recipe_runs", Path(__file__).with_name("test_recipe_ensemble.py"))
_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_runs)
A, B = _runs.A, _runs.B
WINDOWS = dict(num_frames=16, stride=2, model_fps=None)


def _person(n=40, size=64, seed=0):
    """A person-like block on a still textured wall, its 'arms' (a bar across it) swinging up and down."""
    rng = np.random.default_rng(seed)
    wall = cv2.GaussianBlur((rng.random((size, size)) * 120).astype(np.uint8), (0, 0), 1.5)
    frames = []
    for t in range(n):
        view = wall.copy()
        view[18:54, 28:36] = 230  # the body, still
        y = 20 + int(round(8 * np.sin(t / 2)))
        view[y : y + 4, 20:44] = 250  # the arms, swinging
        frames.append(np.repeat(view[..., None], 3, axis=2))
    return np.stack(frames)


def _swept(frames, width):
    """The benchmark's occlusion perturbation: an opaque full-height bar sweeping across the frame."""
    return apply_perturbation(frames, 25.0, "occlusion", width, np.random.default_rng(1))[0]


def test_clutter_is_low_when_only_the_person_moves_and_over_the_gate_under_a_sweeping_bar():
    clean = clip_clutter(_person(), 25.0, **WINDOWS)
    assert clean < 0.1
    for width in (0.15, 0.3, 0.45):
        assert clip_clutter(_swept(_person(), width), 25.0, **WINDOWS) > CLUTTER_GATE
    still = np.repeat(_person()[:1], 20, axis=0)
    assert clip_clutter(still, 25.0, **WINDOWS) == 0.0  # nothing moves
    assert clip_clutter(_person()[..., 0], 25.0, **WINDOWS) == clean  # grey frames read the same
    # replayed at the model's rate: half the frames of a 50 fps clip, the same clutter as the 25 fps one
    doubled = np.repeat(_person(), 2, axis=0)
    assert clip_clutter(doubled, 50.0, num_frames=16, stride=2, model_fps=25.0) == clean


def test_gated_members_are_the_person_cropped_ones_above_the_gate_when_inputs_mix():
    inputs = ["diff", "psdiff", "pdiff"]
    assert clutter_gated_members(inputs, 0.4, 0.25) == [1, 2]
    assert clutter_gated_members(inputs, 0.1, 0.25) == [0, 1, 2]
    assert clutter_gated_members(inputs, 0.4, None) == [0, 1, 2]
    assert clutter_gated_members(inputs, 0.4, 0.25, members=[0, 1]) == [1]  # of those the camera gate left
    assert clutter_gated_members(inputs, 0.4, 0.25, members=[1]) == [1]
    assert clutter_gated_members(["diff", "sdiff"], 0.9, 0.25) == [0, 1]  # nothing cropped: all stay
    assert clutter_gate_applies(["diff", "psdiff"]) and not clutter_gate_applies(["psdiff", "pdiff"])


def _clutter_of(values):
    return lambda seed, fold, runs: values


def test_the_ensemble_fuses_a_cluttered_clip_from_the_cropped_member_alone():
    # clean: clip x 0.1 (both members), clip y 0.4 (B alone); camera@0.3: x 0.5 (B), y 0.2 (both)
    values = {"clean": [0.1, 0.4], "camera@0.3": [0.5, 0.2]}
    out = ensemble_members([("best", [A]), ("best", [B])], name="recipes", clutter_gate=0.25,
                           clutter_of=_clutter_of(values))
    run = out["runs"][0]
    assert [p["scores"] for p in run["predictions"]] == [[0.65, 0.35], [0.45, 0.55]]
    assert [p["scores"] for p in run["conditions"]["camera@0.3"]["predictions"]] == [[0.9, 0.1], [0.35, 0.65]]
    assert [p["clutter"] for p in run["predictions"]] == [0.1, 0.4]
    assert [p["clutter"] for p in run["conditions"]["camera@0.3"]["predictions"]] == [0.5, 0.2]
    assert run["conditions"]["clean"]["clutter_gated"] == 1 and run["conditions"]["camera@0.3"]["clutter_gated"] == 1
    assert out["config"]["clutter_gate"] == 0.25 and "clutter gate" in out["config"]["clutter_gate_rule"]
    # the camera gate first: camera@0.3's clip x (0.04) is B's alone already, so the clutter gate narrows nothing more
    both = ensemble_members([("best", [A]), ("best", [B])], camera_gate=0.008, clutter_gate=0.25,
                            clutter_of=_clutter_of(values))["runs"][0]["conditions"]["camera@0.3"]
    assert both["gated"] == 1 and both["clutter_gated"] == 0
    # under the gate everywhere: the plain mean, as without it
    low = {"clean": [0.1, 0.1], "camera@0.3": [0.1, 0.1]}
    plain = ensemble_members([("best", [A]), ("best", [B])], clutter_gate=0.25, clutter_of=_clutter_of(low))
    assert plain["runs"][0]["predictions"] == [dict(p, clutter=0.1) for p in
                                               ensemble_members([("best", [A]), ("best", [B])])["runs"][0]["predictions"]]
    with pytest.raises(ValueError, match="a clutter gate needs the clips' clutter"):
        ensemble_members([("best", [A]), ("best", [B])], clutter_gate=0.25)
    with pytest.raises(ValueError, match=r"camera@0.3\): no clutter measured"):
        ensemble_members([("best", [A]), ("best", [B])], clutter_gate=0.25,
                         clutter_of=_clutter_of({"clean": [0.1, 0.4]}))


def test_the_command_needs_the_members_models_for_the_gate_and_a_share(tmp_path, capsys):
    import json

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(A))
    b.write_text(json.dumps(B))
    members = ["--member", f"best={a}", "--member", f"best={b}"]
    assert main([*members, "--clutter-gate", "0.25", "--out", str(tmp_path / "e.json")]) == 2
    assert "--clutter-gate needs --member-models" in capsys.readouterr().err
    for bad in ("1.5", "x"):
        with pytest.raises(SystemExit):  # argparse: not a share in (0, 1)
            main([*members, "--clutter-gate", bad, "--out", str(tmp_path / "f.json")])
    # saved models that are not there: the error names the file, exit 2
    models = ["--member-models", str(tmp_path / "m1"), "--member-models", str(tmp_path / "m2")]
    assert main([*members, *models, "--clutter-gate", "0.25", "--camera-gate", "off",
                 "--out", str(tmp_path / "g.json")]) == 2
    assert "no saved model for seed 0 fold p0" in capsys.readouterr().err


def test_the_measurer_reads_the_test_clips_with_the_cropped_members_windows(tmp_path, sim2real_helpers):
    import copy

    from simgen.adapt.benchmark.clip_stability import rebuilt_test_clips
    from simgen.adapt.benchmark.clutter_gate import clutter_measurer
    from simgen.train.checkpoint import FORMAT, save_atomic

    real = sim2real_helpers.make_real(tmp_path / "real", people=("p0", "p1"))
    keys = [row.split(",")[0] for row in (real / "labels.csv").read_text().splitlines()[1:] if row.startswith("p0/")]
    runs = []
    for res in (A, B):  # the runs of A (diff) and B (psdiff), their two test clips renamed to p0's first two
        res = copy.deepcopy(res)
        res["config"]["real"] = str(real)
        run = res["runs"][0]
        for preds in (run["predictions"], run["conditions"]["camera@0.3"]["predictions"]):
            for p, key in zip(preds, keys):
                p["clip"] = key
        runs.append(res)
    meta = dict(format=FORMAT, input="psdiff", num_frames=8, stride=1, size=32, fps=None, classes=["a", "b"])
    saved = tmp_path / "m1" / "best-seed0" / "test-p0" / "model.pt"
    saved.parent.mkdir(parents=True)
    save_atomic(dict(meta=meta, model={}), saved)
    measure = clutter_measurer([("best", [runs[0]]), ("best", [runs[1]])], [str(tmp_path / "m0"), str(tmp_path / "m1")])
    got = measure(0, "p0", [r["runs"][0] for r in runs])  # member 0's models are not read: it reads diff
    clips = rebuilt_test_clips(runs[1]["config"], runs[1]["runs"][0], real, 32)
    assert set(got) == {"clean", "camera@0.3"}
    for condition, copies in clips.items():
        assert got[condition] == [clip_clutter(c.frames, c.fps, num_frames=8, stride=1, model_fps=None) for c in copies]
    assert got["clean"] != got["camera@0.3"]  # the moving crop's copies, not the clean clips again
    with pytest.raises(ValueError, match="no member reads a person-cropped input"):
        clutter_measurer([("best", [runs[0]]), ("best", [runs[0]])], [str(tmp_path / "m0"), str(tmp_path / "m1")])
    with pytest.raises(ValueError, match="no saved model for seed 0 fold p0"):
        clutter_measurer([("best", [runs[1]]), ("best", [runs[0]])],
                         [str(tmp_path / "m0"), str(tmp_path / "m1")])(0, "p0", [r["runs"][0] for r in runs[::-1]])


class _Constant:
    """A stand-in model: the same clip probabilities whatever the input."""

    def __init__(self, probs):
        import torch

        self.logits = torch.log(torch.tensor(probs))

    def __call__(self, x):
        return dict(clip=self.logits.expand(x.shape[0], -1))

    def to(self, device):
        return self

    def eval(self):
        return self


def _member(input_mode, probs, name):
    from simgen.train.ensemble_scores import Member

    meta = dict(input=input_mode, num_frames=16, stride=2, classes=["a", "b"], size=64, frame_background=None, fps=None)
    return Member(_Constant(probs), meta, name)


def test_evaluate_and_predict_ensembles_score_a_swept_clip_with_the_cropped_member_alone():
    import torch

    from simgen.train.ensemble_scores import ScoreEnsemble
    from simgen.train.evaluate import clip_scores

    whole, cropped = _member("diff", [0.9, 0.1], "whole.pt"), _member("psdiff", [0.3, 0.7], "cropped.pt")
    ens = ScoreEnsemble([whole, cropped], clutter_gate=CLUTTER_GATE)
    clean, swept = torch.from_numpy(_person()), torch.from_numpy(_swept(_person(), 0.3))

    def scores(model, frames):
        return clip_scores(model, None, frames, num_frames=16, stride=2, device="cpu")

    assert torch.allclose(scores(ens, clean), torch.tensor([0.6, 0.4]))
    assert torch.allclose(scores(ens, swept), torch.tensor([0.3, 0.7]))
    assert ens.fused_members(swept) == [1] and ens.fused_members(clean) == [0, 1]
    assert ens.gate_counts == dict(clips=2, gated=0, clutter_gated=1)
    assert ens.clutter(swept) == clip_clutter(swept.numpy(), 25.0, **WINDOWS)  # the cropped member's windows
    off = ens.view(clutter_gate=None)
    assert torch.allclose(scores(off, swept), torch.tensor([0.6, 0.4]))
    plain = ScoreEnsemble([whole, _member("sdiff", [0.3, 0.7], "steady.pt")], clutter_gate=CLUTTER_GATE)
    assert plain.fused_members(swept) == [0, 1] and plain.clutter(swept) is None  # nothing cropped: nothing to gate

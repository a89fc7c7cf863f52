"""Ensembles rebuilt from finished benchmark runs of different recipes (adapt/benchmark/ensemble.py):
scores averaged per clip under every condition, and refusals when the runs did not score the same clips."""

import copy
import json

import numpy as np
import pytest

from simgen.adapt.benchmark.ensemble import ensemble_members, main

CLASSES = ["a", "b"]


#: camera speed of the two clips per condition (what the benchmark records for a camera gate)
SPEEDS = {"clean": [0.001, 0.0007], "camera@0.3": [0.04, 0.005]}


def _results(input_mode: str, scores: dict[str, list[list[float]]], seed: int = 0) -> dict:
    """One benchmark's results: one fold ``p0`` (clips x, y: labels a, b), condition -> per-clip scores."""
    clips, labels = ["a/x.mp4", "b/y.mp4"], ["a", "b"]

    def condensed(rows, with_predictions, speeds):
        pred = [int(np.argmax(r)) for r in rows]
        cm = [[sum(1 for t, p in zip([0, 1], pred) if t == i and p == j) for j in range(2)] for i in range(2)]
        out = dict(accuracy=sum(cm[k][k] for k in range(2)) / 2, n_clips=2, correct=sum(cm[k][k] for k in range(2)),
                   confusion_counts=cm)
        if with_predictions:
            out["predictions"] = [dict(clip=c, predicted=CLASSES[p], scores=r, camera_speed=v)
                                  for c, p, r, v in zip(clips, pred, rows, speeds)]
        return out

    run = dict(method="best", seed=seed, fold="p0", test_subjects=["p0"], shots=["a/s.mp4", "b/t.mp4"], seconds=1.0,
               not_applicable=None, conditions={k: condensed(v, k != "clean", SPEEDS[k]) for k, v in scores.items()},
               predictions=[dict(clip=c, subject="p0", label=l, predicted=CLASSES[int(np.argmax(r))], scores=r,
                                 camera_speed=v) for c, l, r, v in zip(clips, labels, scores["clean"], SPEEDS["clean"])])
    config = dict(real="real", shots=1, seeds=[seed], folds=[dict(name="p0", test_subjects=["p0"])],
                  leave_one_subject_out=True, label_map={}, shot_picker="class-balanced", classes=CLASSES,
                  test_conditions=[k for k in scores if k != "clean"], task="classify", input=input_mode,
                  methods=["best"], seconds=1.0, machine="m")
    return dict(methods={}, config=config, runs=[run])


# recipe A is right on clean clips and sure of it, wrong under the perturbation; recipe B the other way round
A = _results("diff", {"clean": [[0.9, 0.1], [0.2, 0.8]], "camera@0.3": [[0.45, 0.55], [0.6, 0.4]]})
B = _results("psdiff", {"clean": [[0.4, 0.6], [0.45, 0.55]], "camera@0.3": [[0.9, 0.1], [0.1, 0.9]]})


def test_scores_are_averaged_per_clip_under_every_condition():
    out = ensemble_members([("best", [A]), ("best", [B])], name="recipes")
    run = out["runs"][0]
    assert [p["scores"] for p in run["predictions"]] == [[0.65, 0.35], [0.325, 0.675]]
    assert [p["scores"] for p in run["conditions"]["camera@0.3"]["predictions"]] == [[0.675, 0.325], [0.35, 0.65]]
    summary = out["methods"]["recipes"]
    assert summary["accuracy_mean"] == 1.0 and summary["perturbations"] == {"camera": {"0.3": 1.0}}
    assert out["config"]["ensemble_members"] == ["best#1", "best#2"]
    assert out["config"]["ensemble_member_configs"][1]["differs"] == {"input": "psdiff"}


def test_the_camera_gate_takes_the_stabilised_members_scores_for_a_clip_whose_camera_moves():
    out = ensemble_members([("best", [A]), ("best", [B])], name="recipes", camera_gate=0.008)
    run = out["runs"][0]
    # camera@0.3: clip x moves at 0.04 (B = psdiff alone), clip y at 0.005 (the mean); clean: nothing gated
    assert [p["scores"] for p in run["conditions"]["camera@0.3"]["predictions"]] == [[0.9, 0.1], [0.35, 0.65]]
    assert run["conditions"]["camera@0.3"]["gated"] == 1 and run["conditions"]["clean"]["gated"] == 0
    assert [p["scores"] for p in run["predictions"]] == [[0.65, 0.35], [0.325, 0.675]]
    assert out["config"]["camera_gate"] == 0.008
    both_plain = copy.deepcopy(B)
    both_plain["config"]["input"] = "diff"  # nothing stabilised: the gate changes nothing
    plain = ensemble_members([("best", [A]), ("best", [both_plain])], camera_gate=0.008)["runs"][0]
    assert plain["conditions"]["camera@0.3"]["gated"] == 0
    old = copy.deepcopy(B)  # a run from before the benchmark recorded camera speeds
    for p in old["runs"][0]["conditions"]["camera@0.3"]["predictions"]:
        del p["camera_speed"]
    # the other member's record of the same clips' speeds is used
    run = ensemble_members([("best", [A]), ("best", [old])], camera_gate=0.008)["runs"][0]
    assert [p["scores"] for p in run["conditions"]["camera@0.3"]["predictions"]] == [[0.9, 0.1], [0.35, 0.65]]
    old_a = copy.deepcopy(A)
    for p in old_a["runs"][0]["conditions"]["camera@0.3"]["predictions"]:
        del p["camera_speed"]
    with pytest.raises(ValueError, match=r"no member's run of seed 0 fold p0 \(camera@0.3\) records the camera speed"):
        ensemble_members([("best", [old_a]), ("best", [old])], camera_gate=0.008)
    off = ensemble_members([("best", [old_a]), ("best", [old])], camera_gate=None)["runs"][0]
    assert off["conditions"]["camera@0.3"]["gated"] == 0


def test_a_condition_without_clip_scores_in_a_member_is_left_out():
    old = copy.deepcopy(B)  # a run from before perturbed conditions kept clip scores
    del old["runs"][0]["conditions"]["camera@0.3"]["predictions"]
    run = ensemble_members([("best", [A]), ("best", [old])])["runs"][0]
    assert list(run["conditions"]) == ["clean"]


def test_runs_that_scored_other_clips_or_people_are_refused():
    other_shots = copy.deepcopy(B)
    other_shots["runs"][0]["shots"] = ["a/u.mp4", "b/t.mp4"]
    with pytest.raises(ValueError, match="seed 0 fold p0: best#2 was scored on other clips or trained with other shots"):
        ensemble_members([("best", [A]), ("best", [other_shots])])
    other_real = copy.deepcopy(B)
    other_real["config"]["real"] = "elsewhere"
    with pytest.raises(ValueError, match=r"scored differently \(real\)"):
        ensemble_members([("best", [A]), ("best", [other_real])])
    other_seed = _results("psdiff", {"clean": [[0.4, 0.6], [0.45, 0.55]]}, seed=1)
    with pytest.raises(ValueError, match="seed 0 fold p0 has no scored run of best#2"):
        ensemble_members([("best", [A]), ("best", [other_seed])])


def test_a_member_may_span_result_files_of_several_seeds():
    a0, b0 = (_results(r["config"]["input"], {"clean": [p["scores"] for p in r["runs"][0]["predictions"]]}) for r in (A, B))
    a1 = _results("diff", {"clean": [[0.9, 0.1], [0.2, 0.8]]}, seed=1)
    b1 = _results("psdiff", {"clean": [[0.7, 0.3], [0.9, 0.1]]}, seed=1)
    out = ensemble_members([("best", [a0, a1]), ("best", [b0, b1])])
    assert out["methods"]["ensemble"]["per_seed"] == [1.0, 0.5]
    mixed = copy.deepcopy(a1)
    mixed["config"]["input"] = "rgb"  # one member's files must come from one recipe
    with pytest.raises(ValueError, match="the runs of best differ in input"):
        ensemble_members([("best", [a0, mixed]), ("best", [b0, b1])])


def test_cli_members_from_file_patterns(tmp_path, capsys):
    for name, res in (("diff_seed0.json", A), ("psdiff_seed0.json", B)):
        (tmp_path / name).write_text(json.dumps(res))
    out = tmp_path / "new_folder" / "e.json"  # made if missing
    assert main(["--member", f"best={tmp_path}/diff_seed*.json", "--member", f"best={tmp_path}/psdiff_seed0.json",
                 "--name", "recipes", "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["methods"]["recipes"]["accuracy_mean"] == 1.0
    assert got["config"]["ensemble_member_configs"][0]["files"] == [f"{tmp_path}/diff_seed0.json"]
    assert got["config"]["camera_gate"] == 0.008  # the default, as simgen evaluate / predict
    assert main(["--member", f"best={tmp_path}/diff_seed0.json", "--member", f"best={tmp_path}/psdiff_seed0.json",
                 "--camera-gate", "off", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["camera_gate"] is None
    assert main(["--member", f"best={tmp_path}/none*.json", "--out", str(out)]) == 2
    assert "no file matches" in capsys.readouterr().err
    assert main(["--member", "best", "--out", str(out)]) == 2
    assert "expected METHOD=FILE" in capsys.readouterr().err

"""`simgen adapt`: a benchmark method applied to your own clips makes the benchmark's very model, keeps the
people you leave out out, records what it used, and turns bad input into one line and exit status 2."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from simgen.adapt import own_clips
from simgen.adapt.benchmark.methods import MethodResult
from simgen.adapt.own_clips import ADAPT_METHODS, SELECT_RULES
from simgen.pipelines import adapt_commands
from simgen.train.checkpoint import load_checkpoint, load_model

FAST_ADAPT = ["--finetune-steps", "4", "--align-steps", "4", "--no-progress"]


@pytest.fixture(scope="module")
def bench(synthetic, tmp_path_factory, sim2real_helpers):
    """A one-fold benchmark run (test person ann, 1 shot, finetune) whose sim-only run is kept."""
    from simgen.pipelines.cli import main

    root = tmp_path_factory.mktemp("adapt")
    real = sim2real_helpers.make_real(root / "real")
    argv = ["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1", "--test-subjects", "ann",
            "--methods", "finetune", "--select", "label-free", "--out", root / "results.json", "--save-models",
            root / "models", *sim2real_helpers.FAST]  # label-free: the rule simgen adapt keeps (the start a candidate)
    assert main([str(a) for a in argv]) == 0
    return root


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_method_lists_agree():
    assert adapt_commands.ADAPT_METHODS == ADAPT_METHODS
    assert adapt_commands.SELECT_RULES == SELECT_RULES


def test_adapt_makes_the_benchmarks_model_for_the_same_fold(bench, simgen_cli):
    """Same start, same shots (--shots 1, --seed 0), same unlabelled clips: the same weights as sim2real's."""
    out = bench / "own" / "finetune.pt"
    code, stdout, err = simgen_cli.run(["adapt", "--checkpoint", bench / "models" / "sim-only-seed0" / "model.pt",
                                        "--real", bench / "real", "--exclude-subjects", "ann", "--shots", "1",
                                        "--method", "finetune", "--select", "label-free", "--out", out, *FAST_ADAPT])
    assert code == 0, err
    assert "warning" not in err  # the fold's other clips are unlabelled: the label-free rule has its real term
    ours = load_checkpoint(out)
    theirs = load_checkpoint(bench / "models" / "finetune-seed0" / "model.pt")
    assert _states_equal(ours["model"], theirs["model"])
    results = json.loads((bench / "results.json").read_text())
    run = results["runs"][0]
    assert ours["meta"]["adapt"]["shots"] == run["shots"] and ours["meta"]["adapt"]["chosen_step"] == run["chosen_step"]
    assert "wrote" in stdout and "finetune" in stdout
    assert ours["meta"]["adapt"]["settings"]["select"] == "label-free"  # not the benchmark's default, adapted


def test_every_labelled_clip_is_a_shot_and_the_left_out_person_is_unused(bench, tmp_path, simgen_cli):
    real = tmp_path / "real"
    shutil.copytree(bench / "real", real)
    rows = (real / "labels.csv").read_text().splitlines()
    rows = [r if not r.startswith("ben/vertical") else r.replace(",vertical,", ",,") for r in rows]  # one unlabelled
    (real / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "best.pt"
    code, stdout, err = simgen_cli.run(["adapt", "--checkpoint", bench / "models" / "sim-only-seed0" / "model.pt",
                                        "--real", real, "--exclude-subjects", "ann", "--out", out, *FAST_ADAPT])
    assert code == 0, err
    record = json.loads(out.with_suffix(".json").read_text())
    assert sorted(record["shots"]) == ["ben/horizontal0.mp4", "ben/still0.mp4", "cat/horizontal0.mp4",
                                       "cat/still0.mp4", "cat/vertical0.mp4"]
    assert record["unlabelled"] == ["ben/vertical0.mp4"]
    assert record["picked"] == "pseudo" and [r["method"] for r in record["runs"]] == ["finetune", "pseudo", "best"]
    assert not any(p.startswith("ann/") for p in record["shots"] + record["unlabelled"])
    assert record["runs"][1]["info"]["pseudo_labels"]["candidates"] == 1
    model, meta = load_model(out)  # a checkpoint every command reads
    assert meta["adapt"]["method"] == "best" and meta["classes"] == ["still", "horizontal", "vertical"]
    code, _, err = simgen_cli.run(["evaluate", "--checkpoint", out, "--data", real, "--subjects", "ann",
                                   "--out", tmp_path / "eval.json", "--no-progress"])
    assert code == 0, err


def _without_labels(real):
    rows = (real / "labels.csv").read_text().splitlines()
    (real / "labels.csv").write_text("\n".join([rows[0]] + [",".join([r.split(",")[0], "", r.split(",")[2]])
                                                            for r in rows[1:]]) + "\n")


def test_best_without_labels_is_adabn_new_statistics_same_weights(bench, tmp_path, simgen_cli):
    start = bench / "models" / "sim-only-seed0" / "model.pt"
    real = tmp_path / "real"
    shutil.copytree(bench / "real", real)
    _without_labels(real)
    out = tmp_path / "adabn.pt"
    code, stdout, err = simgen_cli.run(["adapt", "--checkpoint", start, "--real", real, "--exclude-subjects", "ann",
                                        "--out", out, *FAST_ADAPT])
    assert code == 0, err
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["picked"] == "adabn" and record["shots"] == [] and len(record["unlabelled"]) == 6
    assert record["synthetic_digest"] and record["machine"]["cpu"]  # what it ran on, as the benchmark records
    before, after = load_checkpoint(start)["model"], load_checkpoint(out)["model"]
    stats = [k for k in before if k.endswith("running_mean")]
    assert stats and any(not torch.equal(before[k], after[k]) for k in stats)
    assert all(torch.equal(before[k], after[k]) for k in before if k.endswith(".weight") and "bn" not in k
               and before[k].dim() > 1)


@pytest.mark.parametrize("case", ["no-config", "bad-config", "garbage-checkpoint", "unknown-person", "label", "shots",
                                  "no-labels", "same-out", "video"])
def test_bad_input_is_one_line_and_status_2(case, bench, tmp_path, simgen_cli):
    start = bench / "models" / "sim-only-seed0" / "model.pt"
    real = tmp_path / "real"
    shutil.copytree(bench / "real", real)
    extra, expect = [], ""
    if case == "no-config":
        lone = tmp_path / "lone" / "model.pt"
        lone.parent.mkdir()
        shutil.copy(start, lone)
        start, expect = lone, "config.yaml"
    elif case in ("bad-config", "garbage-checkpoint"):
        run = tmp_path / "run"
        shutil.copytree(start.parent, run)
        start = run / "model.pt"
        if case == "bad-config":
            (run / "config.yaml").write_text("epochs: [\n")
            expect = "config.yaml"
        else:
            start.write_bytes(bytes(range(256)) * 8)
            expect = "model.pt"
    elif case == "unknown-person":
        extra, expect = ["--exclude-subjects", "dan"], "dan"
    elif case == "label":
        text = (real / "labels.csv").read_text().replace("ben/still0.mp4,still", "ben/still0.mp4,jump")
        (real / "labels.csv").write_text(text)
        expect = "jump"
    elif case == "shots":
        extra, expect = ["--shots", "4"], "--shots 4"
    elif case == "no-labels":
        _without_labels(real)
        extra, expect = ["--method", "finetune"], "label some clips"
    elif case == "same-out":
        extra, expect = [], "--checkpoint itself"
    elif case == "video":
        (real / "ben" / "still0.mp4").write_bytes(b"not a video")
        expect = "still0.mp4"
    out = start if case == "same-out" else tmp_path / "out.pt"
    code, stdout, err = simgen_cli.run(["adapt", "--checkpoint", start, "--real", real, "--out", out, *extra,
                                        *FAST_ADAPT])
    assert code == 2, (case, err)
    lines = [line for line in err.strip().splitlines() if "error" in line]
    assert len(lines) == 1 and expect in lines[0], (case, err)
    assert case == "same-out" or not out.exists()


def test_cross_validation_leaves_each_person_out_and_picks_the_best_step(bench, tmp_path, monkeypatch, simgen_cli):
    """Each fold trains without one person and scores that person's clips; the step with the most held-out
    clips right wins (the later one on a tie); the final run keeps that step; later methods start from it."""
    seen = []
    # held-out accuracy per (person, step): summed over people, step 2 has 2 of 6 right... step 3 wins
    table = {"ben": {0: 0.0, 1: 1 / 3, 2: 2 / 3, 3: 2 / 3, 4: 1 / 3}, "cat": {0: 1 / 3, 1: 1 / 3, 2: 1 / 3, 3: 1 / 3, 4: 1 / 3}}
    real_run = own_clips._run

    def fake_run(name, data, inp, done):
        if not data.keep_checkpoints:  # the final run on everyone: the real method, with the chosen step
            seen.append(("final", name, data.select_step))
            return real_run(name, data, inp, done)
        rows = data.real_train.reader.rows
        trained = {rows[i]["path"].split("/")[0] for i in data.real_train.indices}
        person = data.selection.real_heldout[0].subject
        seen.append((person, name, sorted(trained), sorted({c.subject for c in data.selection.real_heldout})))
        if name == "pseudo" and person == "ben":  # pseudo-labels kept for one person only: not cross-validated
            return MethodResult(state=done["finetune"].state, chosen_step=0, selection=done["finetune"].selection,
                                candidates=[(0, done["finetune"].state, dict(score=0.0, heldout_accuracy=1.0))]), 0.0
        if name != "finetune":
            return MethodResult(state=done["finetune"].state, chosen_step=0, selection=done["finetune"].selection), 0.0
        cands = [(s, {"marker": (person, s)}, dict(score=0.0, heldout_accuracy=a)) for s, a in table[person].items()]
        return MethodResult(state=cands[0][1], chosen_step=0, candidates=cands, selection=cands[0][2]), 0.0

    monkeypatch.setattr(own_clips, "_run", fake_run)
    out = tmp_path / "cv.pt"
    code, stdout, err = simgen_cli.run(["adapt", "--checkpoint", bench / "models" / "sim-only-seed0" / "model.pt",
                                        "--real", bench / "real", "--exclude-subjects", "ann", "--out", out,
                                        *FAST_ADAPT])
    assert code == 0, err
    folds = [s for s in seen if s[0] != "final"]
    assert {(s[0], s[1]) for s in folds} == {(p, m) for p in ("ben", "cat") for m in ("finetune", "pseudo", "best")}
    for person, _, trained, heldout in folds:
        assert trained == sorted({"ben", "cat"} - {person}) and heldout == [person]
    record = json.loads(out.with_suffix(".json").read_text())
    cv = record["cross_validation"]
    assert record["select"] == "cv" and cv["people"] == ["ben", "cat"]
    assert cv["methods"]["finetune"]["step"] == 3  # 3 of 6 at steps 2 and 3: the later one
    assert cv["methods"]["finetune"]["accuracy"]["3"] == pytest.approx(0.5)
    assert ("final", "finetune", 3) in seen and ("final", "pseudo", None) in seen
    assert list(cv["methods"]) == ["finetune"]
    runs = {r["method"]: r for r in record["runs"]}
    assert runs["finetune"]["chosen_step"] == 3 and runs["finetune"]["chosen_by"] == "cross-validation"
    assert "cross-validation over 2 people" in stdout


def test_select_cv_needs_two_labelled_people(bench, tmp_path, simgen_cli):
    code, _, err = simgen_cli.run(["adapt", "--checkpoint", bench / "models" / "sim-only-seed0" / "model.pt",
                                   "--real", bench / "real", "--subjects", "ben", "--select", "cv",
                                   "--out", tmp_path / "x.pt", *FAST_ADAPT])
    assert code == 2 and "at least 2 people" in err


def test_label_free_with_every_clip_labelled_warns(bench, tmp_path, simgen_cli):
    code, _, err = simgen_cli.run(["adapt", "--checkpoint", bench / "models" / "sim-only-seed0" / "model.pt",
                                   "--real", bench / "real", "--exclude-subjects", "ann", "--select", "label-free",
                                   "--method", "finetune", "--out", tmp_path / "x.pt", *FAST_ADAPT])
    assert code == 0 and "warning: every clip is labelled" in err

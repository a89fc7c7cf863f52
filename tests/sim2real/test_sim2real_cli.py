"""`simgen sim2real` end to end on tiny data: the JSON it promises, saved models `simgen evaluate`
reads, methods that do not apply at 0 shots, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import json
import re

import pytest

from simgen.adapt.benchmark import provenance
from simgen.adapt.benchmark.methods import METHODS


@pytest.fixture(scope="module")
def k1_run(synthetic, tmp_path_factory, sim2real_helpers):
    """All methods, 1 shot, leave-one-person-out over 3 people, models kept."""
    from simgen.pipelines.cli import main

    root = tmp_path_factory.mktemp("k1")
    real = sim2real_helpers.make_real(root / "real")
    argv = ["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1", "--leave-one-subject-out",
            "--methods", "all", "--out", root / "results.json", "--save-models", root / "models", *sim2real_helpers.FAST]
    assert main([str(a) for a in argv]) == 0
    return root, json.loads((root / "results.json").read_text())


def test_results_json_has_every_method_with_its_figures(k1_run):
    _, res = k1_run
    assert list(res["methods"]) == list(METHODS)
    for name, m in res["methods"].items():
        assert set(m) >= {"accuracy_mean", "accuracy_std", "per_fold", "per_class", "confusion"}, name
        assert list(m["per_fold"]) == ["ann", "ben", "cat"]
        assert sum(map(sum, m["confusion"])) == 9 == m["n_test_clips"]  # 3 people x 3 classes, each tested once
        correct = sum(m["confusion"][k][k] for k in range(3))
        assert m["accuracy_mean"] == pytest.approx(correct / 9, abs=1e-4)
    assert res["config"]["shots"] == 1 and res["config"]["leave_one_subject_out"]
    assert "entropy" in res["config"]["selection_rule"]
    assert sum(res["methods"]["auto"]["picked"].values()) == 3
    best, pseudo = res["methods"]["best"], res["methods"]["pseudo"]
    assert best["picked"] == {"pseudo": 3}
    assert (best["per_fold"], best["confusion"]) == (pseudo["per_fold"], pseudo["confusion"])
    scores = {(r["method"], r["fold"]): [p["scores"] for p in r["predictions"]] for r in res["runs"]}
    for fold in ("ann", "ben", "cat"):  # the very model of the recipe, not one that scores alike
        assert scores["best", fold] == scores["pseudo", fold]


def test_results_record_the_synthetic_digest_and_the_machine(k1_run):
    # two runs of one seed that differ can tell whether their clips or their machines did (log, "Seeds 81-83")
    _, res = k1_run
    assert res["config"]["synthetic_digest"] == provenance.dataset_digest(res["config"]["synthetic"])
    assert res["config"]["synthetic_digest"] is not None
    assert {"cpu", "cpu_bf16", "torch", "cpus", "torch_threads"} <= set(res["config"]["machine"])


def test_runs_never_train_on_the_test_person(k1_run):
    _, res = k1_run
    for run in res["runs"]:
        assert all(not path.startswith(run["fold"] + "/") for path in run["shots"])
        assert all(p["subject"] == run["fold"] for p in run.get("predictions", []))


def test_saved_models_are_read_by_simgen_evaluate(k1_run, simgen_cli):
    root, res = k1_run
    model = root / "models" / "coral-seed0" / "test-ben" / "model.pt"
    assert (root / "models" / "sim-only-seed0" / "model.pt").is_file()
    code, out, err = simgen_cli.run(["evaluate", "--checkpoint", model, "--data", root / "real", "--subjects", "ben",
                                     "--out", root / "eval.json", "--no-progress"])
    assert code == 0, err
    metrics = json.loads((root / "eval.json").read_text())
    # the benchmark scored the same model on the same clips
    assert metrics["accuracy"] == pytest.approx(res["methods"]["coral"]["per_fold"]["ben"], abs=1e-4)


def test_zero_shots_real_only_and_finetune_do_not_apply(synthetic, real, tmp_path, simgen_cli, sim2real_helpers):
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "0",
                                     "--test-subjects", "ann", "--methods", "sim-only,real-only,finetune,coral,adabn,best",
                                     "--first-seed", "2", "--out", tmp_path / "r.json", *sim2real_helpers.FAST])
    assert code == 0, err
    full = json.loads((tmp_path / "r.json").read_text())
    assert full["config"]["seeds"] == [2] and {r["seed"] for r in full["runs"]} == {2}
    res = full["methods"]
    assert res["real-only"]["accuracy_mean"] is None and "shots 0" in res["real-only"]["not_applicable"]
    assert res["finetune"]["not_applicable"]
    assert res["coral"]["accuracy_mean"] is not None
    assert res["best"]["picked"] == {"adabn": 1}  # no labels: batch-norm statistics of the unlabelled clips
    runs = {r["method"]: r for r in full["runs"]}
    assert runs["best"]["predictions"] == runs["adabn"]["predictions"]
    assert re.search(r"^real-only +n/a", out, re.M)


def _args(synthetic, real, tmp_path, *extra):
    return ["sim2real", "--synthetic", synthetic, "--real", real, "--out", tmp_path / "r.json", "--no-progress", *extra]


def test_real_labels_outside_the_synthetic_classes(synthetic, tmp_path, simgen_cli, sim2real_helpers):
    real = sim2real_helpers.make_real(tmp_path / "real", labels=("still", "sideways", "updown"))
    simgen_cli.one_line_error(_args(synthetic, real, tmp_path, "--shots", "1", "--test-subjects", "ann"),
                              "'sideways', 'updown' are not synthetic classes", "--label-map")
    assert not (tmp_path / "r.json").exists()


def test_label_map_renames_real_labels(synthetic, tmp_path, sim2real_helpers):
    from simgen.adapt.benchmark.folds import parse_label_map
    from simgen.adapt.benchmark.runner import BenchmarkConfig, prepare

    real = sim2real_helpers.make_real(tmp_path / "real", labels=("still", "sideways", "updown"))
    cfg = BenchmarkConfig(synthetic=str(synthetic), real=str(real), shots=1, methods=["sim-only"],
                          test_subjects=["ann"], label_map=parse_label_map("sideways=horizontal,updown=vertical"))
    prepared = prepare(cfg)
    by_path = {r.path: prepared.classes[r.label] for r in prepared.real.rows}
    assert by_path["ann/sideways0.mp4"] == "horizontal" and by_path["ann/updown0.mp4"] == "vertical"


def test_too_few_clips_for_the_shots(synthetic, real, tmp_path, simgen_cli):
    simgen_cli.one_line_error(_args(synthetic, real, tmp_path, "--shots", "3", "--leave-one-subject-out"),
                              "--shots 3: class", "has 2 labelled clip(s)")


def test_unknown_test_subject(synthetic, real, tmp_path, simgen_cli):
    simgen_cli.one_line_error(_args(synthetic, real, tmp_path, "--shots", "1", "--test-subjects", "anna"),
                              "no clip of subject 'anna'", "did you mean 'ann'?")


def test_undecodable_video(synthetic, real, tmp_path, simgen_cli):
    (real / "ben" / "still0.mp4").write_bytes(b"not a video at all" * 20)
    simgen_cli.one_line_error(_args(synthetic, real, tmp_path, "--shots", "1", "--test-subjects", "ann"),
                              "ben/still0.mp4", "cannot decode")


def test_unknown_method_and_perturbation(synthetic, real, tmp_path, simgen_cli):
    simgen_cli.one_line_error(_args(synthetic, real, tmp_path, "--shots", "1", "--test-subjects", "ann",
                                    "--methods", "coral,dan"), "unknown method 'dan'", "did you mean 'dann'?")


def test_perturbed_test_clips_are_scored_per_kind_and_level(synthetic, real, tmp_path, simgen_cli, sim2real_helpers):
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1",
                                     "--test-subjects", "ann", "--methods", "sim-only,finetune",
                                     "--test-perturb", "fps,occlusion", "--out", tmp_path / "r.json",
                                     *sim2real_helpers.FAST])
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    from simgen.adapt.perturb import PERTURBATIONS

    for m in ("sim-only", "finetune"):
        pert = res["methods"][m]["perturbations"]
        assert list(pert) == ["fps", "occlusion"]
        assert list(pert["fps"]) == [f"{v:g}" for v in PERTURBATIONS["fps"]]
        assert all(0.0 <= a <= 1.0 for levels in pert.values() for a in levels.values())
    run = next(r for r in res["runs"] if r["method"] == "sim-only")
    assert set(run["conditions"]) == {"clean", "fps@2", "fps@3", "occlusion@0.15", "occlusion@0.3", "occlusion@0.45"}
    assert all(c["n_clips"] == 3 for c in run["conditions"].values())
    # perturbed conditions keep each clip's prediction (for ensembles rebuilt afterwards), in the clean order
    clean_clips = [p["clip"] for p in run["predictions"]]
    for name, c in run["conditions"].items():
        if name != "clean":
            assert [p["clip"] for p in c["predictions"]] == clean_clips
            assert sum(p["predicted"] == q["label"] for p, q in zip(c["predictions"], run["predictions"])) == c["correct"]
            assert all(p["predicted"] == res["config"]["classes"][max(range(len(p["scores"])), key=p["scores"].__getitem__)]
                       for p in c["predictions"])
    # which clips are frozen, and how many a model of differences (this one: diff) could get right at most
    assert res["config"]["input"] == "diff"
    for r in res["runs"]:
        for name, c in r["conditions"].items():
            flags = [p["frozen"] for p in (r["predictions"] if name == "clean" else c["predictions"])]
            assert all(isinstance(f, bool) for f in flags) and c["frozen"] == sum(flags)
            assert c["correct"] <= c["difference_ceiling"] <= c["n_clips"]
    assert set(res["methods"]["sim-only"]["difference_ceiling"]) == {"fps", "occlusion"}
    # and its camera speed (for the camera gate of recipe ensembles): the same copies for every method
    other = next(r for r in res["runs"] if r["method"] == "finetune")
    for name, c in run["conditions"].items():
        speeds = [p["camera_speed"] for p in (run["predictions"] if name == "clean" else c["predictions"])]
        assert all(0.0 <= v < 0.5 for v in speeds) and len(speeds) == 3
        twin = other["predictions"] if name == "clean" else other["conditions"][name]["predictions"]
        assert speeds == [p["camera_speed"] for p in twin]


def test_unknown_perturbation(synthetic, real, tmp_path, simgen_cli):
    simgen_cli.one_line_error(_args(synthetic, real, tmp_path, "--shots", "1", "--test-subjects", "ann",
                                    "--test-perturb", "occlusoin"), "unknown perturbation 'occlusoin'",
                              "did you mean 'occlusion'?")


def test_results_of_disjoint_seeds_merge(k1_run):
    from simgen.adapt.benchmark.results import merge

    _, res = k1_run
    other = json.loads(json.dumps(res))
    other["config"]["seeds"] = [1]
    for r in other["runs"]:
        r["seed"] = 1
    merged = merge([res, other])
    assert merged["config"]["seeds"] == [0, 1]
    for name, m in merged["methods"].items():
        if m.get("accuracy_mean") is not None:
            assert m["accuracy_mean"] == pytest.approx(res["methods"][name]["accuracy_mean"])
            assert m["n_test_clips"] == 18 and len(m["per_seed"]) == 2
    with pytest.raises(ValueError, match="appear twice"):
        merge([res, res])
    other["config"]["shots"] = 2
    with pytest.raises(ValueError, match="differ in shots"):
        merge([res, other])


def test_merging_runs_that_differ_is_one_line_and_exit_2(k1_run, tmp_path, capsys):
    from simgen.adapt.benchmark.results import main

    _, res = k1_run
    other = json.loads(json.dumps(res))
    other["config"]["shots"] = 2
    for name, data in (("a.json", res), ("b.json", other)):
        (tmp_path / name).write_text(json.dumps(data))
    assert main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("results: cannot merge") and "shots" in err and "\n" not in err
    assert not (tmp_path / "m.json").exists()


def test_a_method_alone_runs_what_it_needs_and_reports_only_itself(synthetic, real, tmp_path, simgen_cli,
                                                                   sim2real_helpers):
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1",
                                     "--test-subjects", "ann", "--methods", "auto", "--out", tmp_path / "r.json",
                                     *sim2real_helpers.FAST])
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    assert list(res["methods"]) == ["auto"] and {r["method"] for r in res["runs"]} == {"auto"}
    assert set(res["methods"]["auto"]["picked"]) <= {"sim-only", "finetune", "dann", "coral", "mmd"}


def test_a_methods_result_does_not_depend_on_the_others_run(k1_run, synthetic, tmp_path, simgen_cli,
                                                              sim2real_helpers):
    root, res = k1_run
    code, _, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", root / "real", "--shots", "1",
                                   "--leave-one-subject-out", "--methods", "finetune", "--out", tmp_path / "r.json",
                                   *sim2real_helpers.FAST])
    assert code == 0, err
    alone = {r["fold"]: r["predictions"] for r in json.loads((tmp_path / "r.json").read_text())["runs"]}
    together = {r["fold"]: r["predictions"] for r in res["runs"] if r["method"] == "finetune"}
    assert alone == together


def test_sim_select_last_keeps_the_last_epoch_and_is_recorded(k1_run, synthetic, tmp_path, simgen_cli,
                                                               sim2real_helpers):
    """--sim-select last keeps the sim-only training's final weights, whatever the validation clips said (by
    default the best epoch on them is kept, which a small validation split can make an early, weak one)."""
    import torch

    root, res = k1_run
    default_run = json.loads((root / "models" / "sim-only-seed0" / "metrics.json").read_text())
    assert default_run["select"] == "best" and res["config"]["settings"]["sim_select"] == "best"
    code, _, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", root / "real", "--shots", "1",
                                   "--test-subjects", "ann", "--methods", "sim-only", "--out", tmp_path / "r.json",
                                   "--save-models", tmp_path / "models", *sim2real_helpers.FAST,
                                   "--sim-epochs", "7", "--sim-select", "last"])
    assert code == 0, err
    run = tmp_path / "models" / "sim-only-seed0"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["select"] == "last" and metrics["model_epoch"] == 7
    kept = torch.load(run / "model.pt", map_location="cpu", weights_only=False)["model"]
    last = torch.load(run / "last.pt", map_location="cpu", weights_only=False)["model"]
    assert kept.keys() == last.keys() and all(torch.equal(kept[k], last[k]) for k in kept)
    assert json.loads((tmp_path / "r.json").read_text())["config"]["settings"]["sim_select"] == "last"

"""`simgen run`: the recipe check, the skip / run / resume plan, and reruns after changes and kills.

Most tests replace the stage runners with recording stand-ins (the plan and the markers are
what is tested; each stage's command has its own tests). One test SIGKILLs a real run during
generation and checks that the rerun resumes and ends with the uninterrupted run's bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from simgen.pipelines.recipes import load_recipe, plan, run_recipe
from simgen.pipelines.recipes import stages as stage_runners
from simgen.pipelines.recipes.stages import StageResult


def write_recipe(path: Path, real: Path, **changes) -> Path:
    """A six-stage recipe; ``changes``: ``{stage: {key: value}}`` merged into it."""
    stages = {
        "generate": {"preset": "demo", "clips": 4, "seed": 0},
        "train": {"synthetic": "$generate", "epochs": 2},
        "sim2real": {"synthetic": "$generate", "real": str(real), "shots": 1, "leave_one_subject_out": True},
        "adapt": {"checkpoint": "$train/model.pt", "real": str(real), "shots": 1},
        "evaluate": {"data": str(real), "checkpoint": "$train/model.pt", "folds": "$sim2real"},
        "calibrate": {"synthetic": "$generate", "real": str(real), "model": "$train/model.pt"},
    }
    for stage, options in changes.items():
        if options is None:
            stages.pop(stage)
        else:
            stages[stage] = {**stages[stage], **options}
    path.write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    return path


@pytest.fixture
def real(tmp_path) -> Path:
    (tmp_path / "real").mkdir()
    return tmp_path / "real"


@pytest.fixture
def fake_stages(monkeypatch):
    """Stage runners that record (stage, resume) and write a file that depends on the stage's words."""
    calls: list[tuple[str, bool]] = []
    fail: dict[str, int] = {}

    def make(name):
        def runner(ctx, resume):
            calls.append((name, resume))
            words = ctx.argv()
            if name == "train":  # a run folder that --resume would continue
                (ctx.folder / "run").mkdir(exist_ok=True)
                (ctx.folder / "run" / "last.pt").write_text("epoch 1")
            if fail.get(name):
                fail[name] -= 1
                raise RuntimeError(f"{name} killed")
            out = ctx.folder / "out.txt"
            out.write_text(" ".join(words))
            return StageResult([out], {"words": len(words)})
        return runner

    for name in stage_runners.RUNNERS:
        monkeypatch.setitem(stage_runners.RUNNERS, name, make(name))
    return calls, fail


def ran(calls) -> list[str]:
    names = [c[0] for c in calls]
    calls.clear()
    return names


def test_a_second_run_skips_every_finished_stage(tmp_path, real, fake_stages, capsys):
    calls, _ = fake_stages
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real))
    run_recipe(recipe, tmp_path / "out")
    assert ran(calls) == ["generate", "train", "sim2real", "adapt", "evaluate", "calibrate"]
    done = json.loads((tmp_path / "out" / "train" / "done.json").read_text())
    assert done["depends"] == {"generate": recipe.stage("generate").hash} and done["seconds"] >= 0
    assert done["hash"] == recipe.stage("train").hash and done["outputs"] == [str(tmp_path / "out/train/out.txt")]
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    capsys.readouterr()
    run_recipe(load_recipe(tmp_path / "r.yaml"), tmp_path / "out")
    assert ran(calls) == []
    printed = capsys.readouterr().out
    assert printed.count(" skip ") == 6 and "out/calibrate/out.txt" in printed  # the plan, then the files to open
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before


def test_a_changed_later_stage_reruns_it_and_what_uses_it_only(tmp_path, real, fake_stages):
    calls, _ = fake_stages
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real)), tmp_path / "out")
    ran(calls)
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real, train={"epochs": 3}))
    assert [(s.stage.name, s.action) for s in plan(recipe, tmp_path / "out")] == [
        ("generate", "skip"), ("train", "run"), ("sim2real", "skip"), ("adapt", "run"), ("evaluate", "run"),
        ("calibrate", "run")]
    run_recipe(recipe, tmp_path / "out")
    assert ran(calls) == ["train", "adapt", "evaluate", "calibrate"]
    assert "--epochs 3" in (tmp_path / "out/train/out.txt").read_text()
    # the last stage alone
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real, train={"epochs": 3}, calibrate={"bootstrap": 20})),
               tmp_path / "out")
    assert ran(calls) == ["calibrate"]


def test_a_changed_first_stage_reruns_everything_after_it(tmp_path, real, fake_stages):
    calls, _ = fake_stages
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real)), tmp_path / "out")
    ran(calls)
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real, generate={"clips": 6}))
    reasons = {s.stage.name: s.reason for s in plan(recipe, tmp_path / "out")}
    assert reasons["generate"] == "its options changed" and "uses generate" in reasons["train"]
    run_recipe(recipe, tmp_path / "out")
    assert ran(calls) == ["generate", "train", "sim2real", "adapt", "evaluate", "calibrate"]


def test_a_stage_whose_input_changed_while_it_was_left_out_reruns(tmp_path, real, fake_stages):
    """The dependency hashes in done.json, not only this run's plan, decide: train's data was remade without it."""
    calls, _ = fake_stages
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real)), tmp_path / "out")
    only_generate = dict(train=None, sim2real=None, adapt=None, evaluate=None, calibrate=None)
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real, generate={"clips": 6}, **only_generate)),
               tmp_path / "out")
    ran(calls)
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real, generate={"clips": 6}))
    assert {s.stage.name: s.reason for s in plan(recipe, tmp_path / "out")}["train"] == "an earlier stage changed"
    run_recipe(recipe, tmp_path / "out")
    assert ran(calls) == ["train", "sim2real", "adapt", "evaluate", "calibrate"]


def test_until_stops_after_a_stage_and_the_next_run_continues(tmp_path, real, fake_stages, simgen_cli):
    calls, _ = fake_stages
    recipe = write_recipe(tmp_path / "r.yaml", real)
    assert simgen_cli.run(["run", recipe, "--out", tmp_path / "out", "--until", "train"])[0] == 0
    assert ran(calls) == ["generate", "train"]
    assert simgen_cli.run(["run", recipe, "--out", tmp_path / "out"])[0] == 0
    assert ran(calls) == ["sim2real", "adapt", "evaluate", "calibrate"]
    simgen_cli.one_line_error(["run", recipe, "--out", tmp_path / "out", "--until", "trian"], "--until trian",
                              "generate, train, sim2real, adapt")


def test_how_not_what_options_do_not_rerun(tmp_path, real, fake_stages):
    calls, _ = fake_stages
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real)), tmp_path / "out")
    ran(calls)
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real, generate={"workers": 2, "quiet": True})),
               tmp_path / "out")
    assert ran(calls) == []


def test_a_killed_stage_resumes_and_ends_like_an_uninterrupted_run(tmp_path, real, fake_stages):
    calls, fail = fake_stages
    recipe_path = write_recipe(tmp_path / "r.yaml", real)
    run_recipe(load_recipe(recipe_path), tmp_path / "clean")
    ran(calls)
    fail["train"] = 1
    with pytest.raises(RuntimeError, match="train killed"):
        run_recipe(load_recipe(recipe_path), tmp_path / "out")
    assert ran(calls) == ["generate", "train"]
    assert not (tmp_path / "out/train/done.json").exists() and (tmp_path / "out/train/started.json").exists()
    steps = plan(load_recipe(recipe_path), tmp_path / "out")
    assert [(s.stage.name, s.action) for s in steps][:2] == [("generate", "skip"), ("train", "resume")]
    run_recipe(load_recipe(recipe_path), tmp_path / "out")
    assert calls == [("train", True), ("sim2real", False), ("adapt", False), ("evaluate", False), ("calibrate", False)]
    for stage in ("generate", "train", "sim2real", "adapt", "evaluate", "calibrate"):
        clean = (tmp_path / "clean" / stage / "out.txt").read_text().replace("clean", "X")
        assert (tmp_path / "out" / stage / "out.txt").read_text().replace("out", "X") == clean.replace("out", "X")


def test_a_stage_interrupted_in_a_command_that_cannot_resume_starts_over(tmp_path, real, fake_stages):
    calls, fail = fake_stages
    recipe_path = write_recipe(tmp_path / "r.yaml", real)
    fail["sim2real"] = 1
    with pytest.raises(RuntimeError):
        run_recipe(load_recipe(recipe_path), tmp_path / "out")
    (tmp_path / "out/sim2real/half_written.json").write_text("{")
    step = plan(load_recipe(recipe_path), tmp_path / "out")[2]
    assert (step.action, step.reason) == ("run", "interrupted; starts over (`simgen sim2real` cannot resume)")
    ran(calls)
    run_recipe(load_recipe(recipe_path), tmp_path / "out")
    assert ran(calls) == ["sim2real", "adapt", "evaluate", "calibrate"]
    assert not (tmp_path / "out/sim2real/half_written.json").exists()  # the folder was emptied first


def test_a_rerun_after_a_change_is_not_mistaken_for_finished_when_killed(tmp_path, real, fake_stages):
    """A changed stage's old done.json goes before the stage starts: reverting the change then re-runs it."""
    calls, fail = fake_stages
    only_train = dict(sim2real=None, adapt=None, evaluate=None, calibrate=None)
    run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real, **only_train)), tmp_path / "out")
    fail["train"] = 1
    with pytest.raises(RuntimeError):
        run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", real, train={"epochs": 9}, **only_train)),
                   tmp_path / "out")
    ran(calls)
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real, **only_train))
    assert [s.action for s in plan(recipe, tmp_path / "out")] == ["skip", "run"]


def test_a_folder_the_runner_did_not_write_is_refused(tmp_path, real, fake_stages, simgen_cli):
    (tmp_path / "out" / "train").mkdir(parents=True)
    (tmp_path / "out" / "train" / "mine.txt").write_text("keep me")
    recipe = write_recipe(tmp_path / "r.yaml", real)
    simgen_cli.one_line_error(["run", recipe, "--out", tmp_path / "out"], "out/train", "did not write")
    assert (tmp_path / "out" / "train" / "mine.txt").exists() and not (tmp_path / "out" / "generate").exists()


BAD = [
    ("stages: {generate: {preset: demo}, trian: {}}\n", "field 'stages.trian'", "unknown stage; did you mean 'train'?"),
    ("stages: {generate: {preset: demo, clipz: 4}}\n", "field 'stages.generate.clipz'", "did you mean 'clips'?"),
    ("stages: {generate: {preset: demo, out: x}}\n", "field 'stages.generate.out'", "set by `simgen run`"),
    ("stages: {generate: {preset: demo}, train: {synthetic: $generate, epochs: 0}}\n", "field 'stages.train.epochs'",
     "must be at least 1"),
    ("stages: {generate: {preset: demo}, train: {synthetic: $generate, model: big}}\n", "stages.train", "big"),
    ("stages: {generate: {preset: demo, quiet: 3}}\n", "field 'stages.generate.quiet'", "true or false"),
    ("stages: {generate: {clips: 3}}\n", "field 'stages.generate", "required"),
    ("stages: {train: {synthetic: $generate}}\n", "field 'stages.train.synthetic'", "not an earlier stage"),
    ("stages: {generate: {preset: demo}, train: {synthetic: $generat}}\n", "field 'stages.train.synthetic'",
     "did you mean 'generate'?"),
    ("stages: {generate: {preset: demo}, train: {synthetic: nowhere/x}}\n", "field 'stages.train.synthetic'",
     "nowhere/x: not found"),
    ("stages: {generate: {preset: demo}\n", "malformed YAML", ""),
    ("- generate\n", "expected a mapping", ""),
    ("stages: {generate: {preset: demo}}\nextra: 1\n", "field 'extra'", "unknown key"),
    ("stages: {}\n", "field 'stages'", "no stage given"),
    ("stages: {generate: }\n", "field 'stages.generate'", "expected a mapping"),
    ("stages: {generate: {preset: demo}, train: {synthetic: $generate, real: REAL}, "
     "evaluate: {data: REAL, checkpoint: $train/model.pt}}\n", "field 'stages.evaluate.checkpoint'",
     "test on people it trained on"),
    # a recipe from before the benchmark stage was renamed sim2real
    ("stages: {generate: {preset: demo}, adapt: {synthetic: $generate, real: REAL, shots: 1, "
     "leave_one_subject_out: true}}\n", "field 'stages.adapt.leave_one_subject_out'", "rename the stage to sim2real"),
    ("stages: {generate: {preset: demo}, train: {synthetic: $generate}, sim2real: {synthetic: $generate, real: REAL, "
     "shots: 1, leave_one_subject_out: true}, adapt: {checkpoint: $train/model.pt, real: REAL}, "
     "evaluate: {data: REAL, folds: $adapt}}\n",
     "field 'stages.evaluate.folds'", "expected $sim2real"),
    ("stages: {generate: {preset: demo}, train: {synthetic: $generate}, adapt: {checkpoint: $train/model.pt, "
     "real: REAL}, evaluate: {data: REAL, checkpoint: $adapt}}\n", "field 'stages.evaluate.checkpoint'",
     "clips it trained on"),
]


@pytest.mark.parametrize("text,field,message", BAD, ids=[b[1] + " " + b[2][:20] for b in BAD])
def test_a_malformed_recipe_is_one_line_exit_2(text, field, message, tmp_path, real, simgen_cli):
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("REAL", str(real)))
    simgen_cli.one_line_error(["run", path, "--out", tmp_path / "out"], str(path), field, message)
    assert not (tmp_path / "out").exists()


def test_a_recipe_that_is_not_utf8_or_missing_is_one_line(tmp_path, simgen_cli):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"stages: {generate: {preset: \xff}}\n")
    simgen_cli.one_line_error(["run", path], str(path), "cannot read")
    simgen_cli.one_line_error(["run", tmp_path / "none.yaml"], "none.yaml", "not found")


def test_the_shipped_recipes_are_valid(weizmann_dir, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)  # their real-clip paths are relative to the checkout, as on the command line
    for name in ("demo", "weizmann4"):
        recipe = load_recipe(root / "pipelines" / f"{name}.yaml")
        assert [s.name for s in recipe.stages] == ["generate", "train", "sim2real", "adapt", "evaluate", "calibrate"]
        assert recipe.stage("sim2real").options["leave_one_subject_out"] is True  # test people by the benchmark's folds
        # the deployed model: the benchmark's method and label count, on every person
        assert recipe.stage("adapt").options.get("method", "best") in recipe.stage("sim2real").options["methods"]
        assert recipe.stage("adapt").options["shots"] == recipe.stage("sim2real").options["shots"]
        assert "real" not in recipe.stage("train").options  # so the train model may be scored on every person


def _digest(folder: Path) -> dict[str, str]:
    """Every file but the job's lock (it holds the process id)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".simgen-generate.lock"}


TINY = {"generate": {"preset": "demo", "clips": 12, "frames": 6, "size": 48, "seed": 4, "workers": 1, "quiet": True,
                     "set": {"output.shard_size": 2}},
        "train": {"synthetic": "$generate", "epochs": 2, "size": 16, "num_frames": 4, "stride": 1, "val_fraction": 0,
                  "batch_size": 4, "no_progress": True}}


@pytest.mark.slow
def test_sigkill_during_generation_then_rerun_resumes_to_the_uninterrupted_result(tmp_path):
    """A real `simgen run` killed (SIGKILL, whole process group) after generate's second shard."""
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump({"stages": TINY}))
    cli = [sys.executable, "-m", "simgen.pipelines.cli", "run", str(recipe), "--out"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(cli + [str(tmp_path / "clean")], check=True, env=env, capture_output=True, timeout=300)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cli + [str(killed)], start_new_session=True, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    shards = killed / "generate" / "dataset" / "shards"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(shards.glob("*.tar"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 1 <= len(list(shards.glob("*.tar"))) < 6, "generation finished before the kill; make it longer"
    assert not (killed / "generate" / "done.json").exists()
    rerun = subprocess.run(cli + [str(killed)], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "generate  resume" in rerun.stdout and "train     run" in rerun.stdout
    a, b = _digest(tmp_path / "clean" / "generate" / "dataset"), _digest(killed / "generate" / "dataset")
    assert a == b  # every shard, the manifest and dataset.json, byte for byte
    import torch

    model_a = torch.load(tmp_path / "clean/train/run/model.pt", weights_only=True)["model"]
    model_b = torch.load(killed / "train/run/model.pt", weights_only=True)["model"]
    assert all(torch.equal(model_a[k], model_b[k]) for k in model_a)


def test_evaluate_scores_each_fold_model_on_its_own_test_people_only(tmp_path, real):
    """The evaluate stage's commands, recorded: every adapted model is scored with --subjects = its fold's people."""
    from simgen.pipelines.recipes.runner import Context

    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real, evaluate={"no_progress": True}))
    out = tmp_path / "out"
    folds = [{"name": p, "test_subjects": [p]} for p in ("ann", "ben", "cat")]
    (out / "sim2real").mkdir(parents=True)
    (out / "sim2real" / "results.json").write_text(json.dumps({
        "config": {"methods": ["sim-only", "dann", "best"], "seeds": [0, 1], "folds": folds},
        "methods": {"best": {"accuracy_mean": 0.5}, "dann": {"accuracy_mean": 0.5}}}))
    (out / "evaluate").mkdir()
    ctx = Context(recipe, out, recipe.stage("evaluate"), echo=lambda _: None)
    commands = []

    def fake_simgen(argv):
        argv = [str(a) for a in argv]
        commands.append(argv)
        n = 1 if "--subjects" in argv else 3
        Path(argv[argv.index("--out") + 1]).write_text(json.dumps({"accuracy": 1.0 if "ann" in argv else 0.0,
                                                                    "n_clips": n, "macro_f1": 0}))
    ctx.simgen = fake_simgen
    result = stage_runners.run_evaluate(ctx, resume=False)
    model_run, fold_runs = commands[0], commands[1:]
    assert "--subjects" not in model_run and model_run[model_run.index("--checkpoint") + 1].endswith("train/run/model.pt")
    assert len(fold_runs) == 2 * 2 * 3  # dann and best, 2 seeds, 3 folds; the benchmark saves no sim-only model
    for argv in fold_runs:
        model = Path(argv[argv.index("--checkpoint") + 1])
        person = model.parent.name.removeprefix("test-")
        assert argv[argv.index("--subjects") + 1] == person and "--no-progress" in argv
        assert "--exclude-subjects" not in argv and model.parts[-5:-3] == ("sim2real", "models")
    summary = json.loads((out / "evaluate" / "summary.json").read_text())
    assert summary["folds"]["best"]["accuracy"] == round(2 / 6, 4)  # right on ann only: 2 seeds x 3 folds
    assert summary["folds"]["best"]["n_clips"] == 6 and summary["folds"]["best"]["correct"] == 2
    assert out / "evaluate" / "summary.json" in result.outputs


def test_the_adapt_stage_runs_simgen_adapt_into_its_folder_and_reports_how(tmp_path, real):
    """The adapt stage's command, recorded: the train model, the real folder, the stage's options, OUT/adapt/model.pt;
    its figures come from the model.json that `simgen adapt` writes beside the model."""
    from simgen.pipelines.recipes.runner import Context

    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", real, adapt={"select": "cv", "seed": 3}))
    out = tmp_path / "out"
    (out / "adapt").mkdir(parents=True)
    ctx = Context(recipe, out, recipe.stage("adapt"), echo=lambda _: None)
    commands = []

    def fake_simgen(argv):
        argv = [str(a) for a in argv]
        commands.append(argv)
        Path(argv[argv.index("--out") + 1]).with_suffix(".json").write_text(json.dumps({
            "method": "best", "picked": "pseudo", "shots": [1, 2, 3, 4], "unlabelled": list(range(16)),
            "runs": [{"method": "finetune", "chosen_step": 45, "chosen_by": "cross-validation"},
                     {"method": "pseudo", "chosen_step": 0, "chosen_by": "cross-validation"}],
            "cross_validation": {"people": ["a", "b"], "estimate": 0.75}}))
    ctx.simgen = fake_simgen
    result = stage_runners.run_adapt(ctx, resume=False)
    (argv,) = commands
    assert argv[0] == "adapt" and argv[argv.index("--checkpoint") + 1] == str(out / "train/run/model.pt")
    assert argv[argv.index("--real") + 1] == str(real) and argv[argv.index("--shots") + 1] == "1"
    assert argv[argv.index("--select") + 1] == "cv" and argv[argv.index("--seed") + 1] == "3"
    assert argv[argv.index("--out") + 1] == str(out / "adapt/model.pt")
    assert result.outputs == [out / "adapt/model.pt", out / "adapt/model.json"]
    assert result.figures["method"] == "best (= pseudo)" and result.figures["real clips"] == "4 labelled, 16 unlabelled"
    assert result.figures["finetune checkpoint"] == "step 45 (by cross-validation)"
    assert result.figures["pseudo checkpoint"] == "its start (by cross-validation)"
    assert "75.0% over 2 people" in result.figures["leave-one-person-out accuracy at the chosen steps (optimistic)"]
    # a later stage's $adapt is that model
    assert ctx.resolve("$adapt") == str(out / "adapt/model.pt")

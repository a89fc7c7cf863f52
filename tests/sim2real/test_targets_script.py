"""pipelines/sim2real_targets.sh, the targets' configuration in one command: both recipes' benchmarks and
their ensemble run end to end (on tiny clips, with a budget of seconds), its dry run prints commands the CLI
accepts, and bad arguments stop it before any work."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "pipelines" / "sim2real_targets.sh"
SIMGEN = Path(sys.executable).parent / "simgen"


def _run(args, env_extra=None, **kw):
    env = dict(os.environ, SIMGEN=str(SIMGEN), PY=sys.executable, THREADS="1", **(env_extra or {}))
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, **kw)


def test_dry_run_prints_commands_the_cli_accepts(tmp_path):
    from simgen.pipelines.cli import build_parser

    for shots in ("0", "1"):
        out = _run(["--dry-run", "--shots", shots, "--seed", "7", "--out", str(tmp_path / "o")],
                   env_extra=dict(DEFAULT_SYN=str(tmp_path / "d"), ROBUST_SYN=str(tmp_path / "r")))
        assert out.returncode == 0, out.stderr
        lines = [shlex.split(line[2:]) for line in out.stdout.splitlines() if line.startswith("+ ")]
        assert [argv[1] for argv in lines[:4]] == ["generate", "generate", "sim2real", "sim2real"]  # data missing
        for argv in lines[:4]:
            build_parser().parse_args(argv[1:])  # exits (fails the test) on an option the CLI lacks
        default, robust = lines[2], lines[3]
        assert default[default.index("--methods") + 1] == ("sim-only,best" if shots == "0" else "sim-only,finetune,best")
        assert robust[robust.index("--input") + 1] == "psdiff" and robust[robust.index("--sim-epochs") + 1] == "240"
        # both members' sim-only models at their last epoch (plan seeds87-89)
        assert default[default.index("--sim-select") + 1] == robust[robust.index("--sim-select") + 1] == "last"
        assert lines[4][2] == "simgen.adapt.benchmark.ensemble"
        # K = 1: the robust member's weights x1.5 (plans seeds60-62 and 63-65); K = 0: the stability weights as they are
        scale = lines[4][lines[4].index("--member-scale") + 1] if "--member-scale" in lines[4] else None
        assert scale == ("1,1.5" if shots == "1" else None)
        # K = 0: the clutter gate (plans seeds55-57, 58-59, 66-68); K = 1: none (failed on 55-57 and 72-74)
        gate = lines[4][lines[4].index("--clutter-gate") + 1] if "--clutter-gate" in lines[4] else None
        assert gate == ("0.25" if shots == "0" else None)
        assert not (tmp_path / "o").exists()  # a dry run makes nothing


@pytest.mark.parametrize("args, message", [(["--seed", "x"], "--seed must be a whole number"),
                                          (["--shots", "-1"], "--shots must be a whole number"),
                                          (["--bogus"], "unknown argument '--bogus'"),
                                          (["--out", "o", "--seed"], "--seed needs a value")])
def test_bad_arguments_stop_before_any_work(tmp_path, args, message):
    out = _run(["--out", str(tmp_path / "o"), *args])
    assert out.returncode == 2 and message in out.stderr
    assert not (tmp_path / "o").exists()


def test_help_prints_the_whole_comment_block():
    out = _run(["--help"])
    header = [line for line in SCRIPT.read_text().splitlines()[1:] if line.startswith("#")]
    assert out.returncode == 0 and out.stdout.splitlines() == header[:len(out.stdout.splitlines())]
    assert out.stdout.splitlines()[-1].startswith("#              EXTRA")  # the last line, not cut short


def test_a_real_folder_without_labels_is_named(tmp_path):
    out = _run(["--real", str(tmp_path), "--out", str(tmp_path / "o")])
    assert out.returncode == 2 and f"no labels.csv in the real folder {tmp_path}" in out.stderr


@pytest.mark.skipif(not SIMGEN.exists(), reason=f"no simgen executable beside {sys.executable}")
def test_both_recipes_and_their_ensemble_run_end_to_end(tmp_path, synthetic, sim2real_helpers, capsys):
    real = sim2real_helpers.make_real(tmp_path / "real")
    extra = " ".join([*sim2real_helpers.FAST, "--test-perturb", "occlusion"])  # one perturbation: seconds, not minutes
    args = ["--seed", "3", "--shots", "1", "--real", str(real), "--out", str(tmp_path / "o")]
    env = dict(DEFAULT_SYN=str(synthetic), ROBUST_SYN=str(synthetic), EXTRA=extra)

    # the robust member fails (an empty synthetic folder): the default member's finished results stay
    (tmp_path / "empty").mkdir()
    out = _run(args, env_extra=dict(env, ROBUST_SYN=str(tmp_path / "empty")), timeout=600)
    assert out.returncode != 0 and (tmp_path / "o" / "default_k1_seed3.json").is_file()
    assert not (tmp_path / "o" / "recipes_k1_seed3.json").exists()
    # the same command again: the default member is kept, not run again
    out = _run(args, env_extra=env, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "kept " + str(tmp_path / "o" / "default_k1_seed3.json") in out.stdout
    recipes = json.loads((tmp_path / "o" / "recipes_k1_seed3.json").read_text())
    assert recipes["config"]["ensemble_member_configs"][1]["differs"]["input"] == "psdiff"
    assert len(recipes["runs"]) == 3  # one fold per person
    assert recipes["config"]["member_weights"].startswith("stability")  # weighed by the members' saved models
    assert "per clip" in recipes["config"]["member_weights"]  # and clip by clip (--clip-stability)
    assert "times the member scale 1,1.5" in recipes["config"]["member_weights"]  # the robust member x1.5 at K = 1
    assert all(len(r["member_weights"]) == 2 for r in recipes["runs"])
    assert all(len(p["member_stability"]) == 2 for r in recipes["runs"] for p in r["predictions"])
    assert set(recipes["methods"]["recipes"]["perturbations"]) == {"occlusion"}
    for member in ("default", "robust"):
        assert (tmp_path / "o" / f"{member}_models_k1" / "sim-only-seed3").is_dir()
        assert json.loads((tmp_path / "o" / f"{member}_k1_seed3.json").read_text())["config"]["shots"] == 1
    times = json.loads((tmp_path / "o" / "times_k1_seed3.json").read_text())
    assert times["threads"] == 1 and times["sim_only_reused"] == [] and "generate_default_seconds" not in times
    assert times["kept_from_earlier_run"] == ["default"] and "default_seconds" not in times
    assert times["benchmark_seconds"] == times["robust_seconds"] + times["ensemble_seconds"]

    # per-clip weights: the test clips and their perturbed copies rebuilt from the real folder score as recorded
    from simgen.adapt.benchmark.ensemble import main as ensemble_main

    o = tmp_path / "o"
    clip_args = ["--member", f"best={o}/default_k1_seed3.json", "--member", f"best={o}/robust_k1_seed3.json",
                 "--member-models", str(o / "default_models_k1"), "--member-models", str(o / "robust_models_k1"),
                 "--clip-stability", "--name", "recipes", "--out", str(tmp_path / "clip.json")]
    assert ensemble_main(clip_args) == 0
    clip_runs = json.loads((tmp_path / "clip.json").read_text())["runs"]
    for run in clip_runs:
        for preds in (run["predictions"], run["conditions"]["occlusion@0.45"]["predictions"]):
            # measured where the two name different classes (tests/sim2real/test_clip_stability.py), else None
            assert all(len(p["member_stability"]) == 2 and (all(s is None for s in p["member_stability"])
                                                            or all(0 <= s <= 1 for s in p["member_stability"]))
                       for p in preds)
    other = sim2real_helpers.make_real(tmp_path / "other", seed=2)  # the same clip names, other pictures
    assert ensemble_main([*clip_args, "--real", str(other)]) == 2
    assert "score differently from the member's recorded scores" in capsys.readouterr().err

    # K = 0 of the same seed: the sim-only models come from the K = 1 run instead of being trained again
    out = _run([*args[:2], "--shots", "0", *args[4:]], env_extra=env, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    times = json.loads((tmp_path / "o" / "times_k0_seed3.json").read_text())
    assert times["sim_only_reused"] == ["default", "robust"] and times["kept_from_earlier_run"] == []
    assert out.stderr.count("seed 3: sim-only model reused from") == 2, out.stderr[-2000:]
    assert times["benchmark_seconds"] == times["default_seconds"] + times["robust_seconds"] + times["ensemble_seconds"]
    for member in ("default", "robust"):
        assert any((tmp_path / "o" / f"{member}_models_k0" / "sim-only-seed3").rglob("model.pt"))
        assert json.loads((tmp_path / "o" / f"{member}_k0_seed3.json").read_text())["config"]["shots"] == 0
    k0 = json.loads((tmp_path / "o" / "recipes_k0_seed3.json").read_text())
    assert "member scale" not in k0["config"]["member_weights"]  # K = 0 fuses the stability weights as they are
    assert k0["config"]["clutter_gate"] == 0.25  # and gates cluttered clips to the robust member
    assert all(0 <= p["clutter"] <= 1 for r in k0["runs"] for p in r["predictions"])
    assert all("clutter_gated" in c for r in k0["runs"] for c in r["conditions"].values())
    assert "clutter_gate" not in recipes["config"]  # K = 1: no gate

    # a stop right after the robust member's copy (its results and best model gone, the copy there): the rerun
    # reuses the copy instead of training the sim-only model again
    for path in ("robust_k0_seed3.json", "recipes_k0_seed3.json"):
        (tmp_path / "o" / path).unlink()
    shutil.rmtree(tmp_path / "o" / "robust_models_k0" / "best-seed3")
    out = _run([*args[:2], "--shots", "0", *args[4:]], env_extra=env, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.stderr.count("seed 3: sim-only model reused from") == 1, out.stderr[-2000:]
    times = json.loads((tmp_path / "o" / "times_k0_seed3.json").read_text())
    assert times["sim_only_reused"] == ["robust"] and times["kept_from_earlier_run"] == ["default"]

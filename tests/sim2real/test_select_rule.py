"""`--select adapted`: with labelled shots, a method that starts from the sim-only model never returns it
unchanged; `label-free` may. The selection scores are rigged so that the start scores highest."""

from __future__ import annotations

import json

import pytest

from simgen.adapt.benchmark import methods
from simgen.pipelines import sim2real_commands


def test_the_cli_lists_the_benchmarks_rules():
    assert sim2real_commands.SELECT_RULES == methods.SELECT_RULES


def test_the_benchmark_defaults_to_adapted_and_simgen_adapt_keeps_label_free():
    from simgen.adapt.benchmark.runner import BenchmarkConfig
    from simgen.adapt.own_clips import AdaptRequest

    assert methods.Settings().select == "adapted"
    assert BenchmarkConfig.__dataclass_fields__["settings"].default_factory().select == "adapted"
    assert AdaptRequest.__dataclass_fields__["settings"].default_factory().select == "label-free"


@pytest.fixture
def start_scores_best(monkeypatch):
    """Every checkpoint a method scores after its start gets a lower score than the one before it."""
    calls = iter(range(10_000))
    real_score = methods.selection_score

    def falling(model, selection, spec, device="cpu"):
        out = real_score(model, selection, spec, device)
        return dict(out, score=-1.0 - next(calls))

    monkeypatch.setattr(methods, "selection_score", falling)


def _run(synthetic, real, tmp_path, helpers, rule: str, shots: str = "1") -> dict:
    from simgen.pipelines.cli import main

    out = tmp_path / f"{rule}-{shots}.json"
    argv = ["sim2real", "--synthetic", synthetic, "--real", real, "--shots", shots, "--test-subjects", "ann",
            "--methods", "finetune,coral,best", "--select", rule, "--out", out, *helpers.FAST]
    assert main([str(a) for a in argv]) == 0
    return json.loads(out.read_text())


def test_label_free_keeps_the_start_when_it_scores_best(synthetic, real, tmp_path, sim2real_helpers,
                                                          start_scores_best):
    res = _run(synthetic, real, tmp_path, sim2real_helpers, "label-free")
    steps = {r["method"]: r["chosen_step"] for r in res["runs"]}
    # the sim-only score (computed before training, also rigged) is above every later checkpoint's
    assert steps["finetune"] == 0 and steps["coral"] == 0
    assert res["config"]["settings"]["select"] == "label-free"
    assert "and its starting model" in res["config"]["selection_rule"]


def test_adapted_never_returns_the_sim_only_model_with_shots(synthetic, real, tmp_path, sim2real_helpers,
                                                             start_scores_best):
    res = _run(synthetic, real, tmp_path, sim2real_helpers, "adapted")
    steps = {r["method"]: r["chosen_step"] for r in res["runs"]}
    # the earliest fine-tuned checkpoint scores best among those left (FAST: 4 steps, 4 checkpoints)
    assert steps["finetune"] == 1 and steps["coral"] == 1
    # best (pseudo) starts from finetune's adapted model: that start is a candidate, and here it stays
    preds = {r["method"]: r["predictions"] for r in res["runs"]}
    assert steps["best"] == 0 and preds["best"] == preds["finetune"]
    assert res["config"]["settings"]["select"] == "adapted"
    assert "never the sim-only start" in res["config"]["selection_rule"]


def test_adapted_changes_nothing_without_shots(synthetic, real, tmp_path, sim2real_helpers, start_scores_best):
    res = _run(synthetic, real, tmp_path, sim2real_helpers, "adapted", shots="0")
    coral = next(r for r in res["runs"] if r["method"] == "coral")
    assert coral["chosen_step"] == 0
    assert "and its starting model" in res["config"]["selection_rule"]  # the rule as it applied at K = 0


def test_an_unknown_rule_is_refused(simgen_cli, synthetic, real, tmp_path):
    code, _, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1",
                                   "--test-subjects", "ann", "--select", "oracle", "--out", tmp_path / "r.json"])
    assert code == 2 and "--select" in err and "adapted" in err

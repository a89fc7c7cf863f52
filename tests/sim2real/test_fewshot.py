"""The few-shot additions to the benchmark: the pseudo-label filter, the ensemble's averaging, the shot
pickers (K x C clips, never a test person's, active != random), and `pseudo` / `ensemble` /
`--shot-picker` end to end on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from simgen.adapt.benchmark.ensemble import ProbabilityEnsemble, average_probabilities
from simgen.adapt.benchmark.folds import RealRow, check_fold, fold_splits, make_folds
from simgen.adapt.benchmark.picks import active_picks, candidates, pick_fold_shots, random_picks, with_shots
from simgen.adapt.benchmark.pseudo import filter_pseudo_labels, spread_windows

CLASSES = ["a", "b", "c"]


def test_pseudo_labels_need_the_threshold_and_agreeing_windows():
    clips = [
        [[0.90, 0.05, 0.05], [0.85, 0.10, 0.05]],  # confident (0.875) and agreeing: kept as a
        [[0.10, 0.60, 0.30], [0.00, 0.95, 0.05]],  # mean 0.775 for b: under 0.8
        [[1.00, 0.00, 0.00], [1.00, 0.00, 0.00], [0.45, 0.55, 0.00]],  # mean 0.8167 for a, third window says b
        [[0.10, 0.10, 0.80], [0.10, 0.10, 0.80]],  # exactly at the threshold: kept
        [[0.20, 0.10, 0.70]],  # one window: agrees with itself, but 0.7
    ]
    out = filter_pseudo_labels([np.array(c) for c in clips], threshold=0.8)
    assert [d["label"] for d in out] == [0, 1, 0, 2, 2]
    assert [d["confidence"] for d in out] == pytest.approx([0.875, 0.775, 0.8167, 0.8, 0.7], abs=1e-4)
    assert [d["agree"] for d in out] == [True, True, False, True, True]
    assert [d["kept"] for d in out] == [True, False, False, True, False]
    # a lower threshold admits the unsure clips, never the one whose windows disagree
    assert [d["kept"] for d in filter_pseudo_labels([np.array(c) for c in clips], threshold=0.7)] == \
        [True, True, False, True, True]


def test_windows_are_spread_over_the_clip():
    w = spread_windows(61, 16, 2, 4)  # a 61-frame clip, windows of 16 frames 2 apart (span 31)
    assert w.shape == (4, 16) and w[:, 0].tolist() == [0, 10, 20, 30] and w.max() == 60
    assert (np.diff(w, axis=1) == 2).all()
    short = spread_windows(10, 8, 2, 4)  # shorter than one window: one, padded with the last frame
    assert short.shape == (1, 8) and short[0].tolist() == [0, 2, 4, 6, 8, 9, 9, 9]


class _Fixed(torch.nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = torch.tensor(logits)

    def forward(self, x):
        return dict(clip=self.logits.expand(len(x), -1))


def test_ensemble_is_the_mean_of_member_probabilities():
    a, b = [0.0, 0.0], [float(np.log(3.0)), 0.0]  # softmax: [0.5, 0.5] and [0.75, 0.25]
    assert average_probabilities([torch.tensor([a]), torch.tensor([b])]).numpy() == pytest.approx(np.array([[0.625, 0.375]]))
    ens = ProbabilityEnsemble([_Fixed(a), _Fixed(b), _Fixed([0.0, float(np.log(3.0))])])
    probs = torch.softmax(ens(torch.zeros(2, 1))["clip"], 1)  # what scoring applies to every model
    assert probs.numpy() == pytest.approx(np.array([[(0.5 + 0.75 + 0.25) / 3, (0.5 + 0.25 + 0.75) / 3]] * 2))


def _rows(people=("p0", "p1", "p2", "p3"), per_class=2):
    return [RealRow(path=f"{p}/{c}{j}.mp4", label=k, subject=p)
            for p in people for k, c in enumerate(CLASSES) for j in range(per_class)]


def _fold(rows, shots=1):
    splits = fold_splits(rows, test_subjects=["p0"], leave_one_out=False, where="x")
    return make_folds(rows, splits, CLASSES, shots, np.random.default_rng(0))[0]


@pytest.mark.parametrize("shots", [1, 2])
def test_random_picks_label_k_times_c_clips_of_the_training_people(shots):
    rows = _rows()
    fold = _fold(rows, shots)
    picked = pick_fold_shots("random", fold, rows, seed=0, fold_index=0)
    assert len(picked.shots) == len(fold.shots) == shots * 3
    assert all(rows[i].subject != "p0" for i in picked.shots)
    assert sorted((*picked.shots, *picked.unlabelled)) == sorted((*fold.shots, *fold.unlabelled))
    assert picked.test == fold.test
    check_fold(picked, rows)
    draws = {pick_fold_shots("random", fold, rows, seed=s, fold_index=0).shots for s in range(6)}
    assert len(draws) > 1  # the draw depends on the seed
    assert pick_fold_shots("class-balanced", fold, rows) is fold  # the default leaves the fold as it was


def test_active_ranks_by_uncertainty_and_diversity_not_at_random():
    rows = _rows()
    fold = _fold(rows)
    pool = candidates(fold, rows)
    assert len(pool) == 18 and all(rows[i].subject != "p0" for i in pool)
    # every clip confident but three, which are also far apart; the rest share one feature
    probs = np.tile([0.98, 0.01, 0.01], (len(pool), 1))
    feats = np.tile([1.0, 0.0, 0.0, 0.0], (len(pool), 1))
    hard = [2, 9, 15]
    for n, j in enumerate(hard):
        probs[j] = [0.4, 0.35, 0.25]
        feats[j] = np.eye(4)[n + 1]
    active = active_picks(probs, feats, pool, 3)
    assert active == sorted(pool[j] for j in hard)
    assert active != random_picks(pool, 3, np.random.default_rng((0, 3, 0)))
    check_fold(with_shots(fold, active, rows), rows)


def test_a_pick_of_a_test_persons_clip_is_refused():
    from simgen.adapt.benchmark.folds import FoldLeakError

    rows = _rows()
    fold = _fold(rows)
    with pytest.raises(FoldLeakError, match="belongs to test person p0"):
        with_shots(fold, [fold.test[0], *fold.shots[1:]], rows)


@pytest.fixture(scope="module")
def fewshot_run(synthetic, tmp_path_factory, sim2real_helpers):
    """1 shot, leave one person out of 3, the ensemble's members and pseudo (threshold 0: only agreement filters)."""
    from simgen.pipelines.cli import main

    root = tmp_path_factory.mktemp("fewshot")
    real = sim2real_helpers.make_real(root / "real")
    argv = ["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1", "--leave-one-subject-out",
            "--methods", "finetune,dann,coral,mmd,pseudo,ensemble", "--pseudo-threshold", "0",
            "--out", root / "results.json", *sim2real_helpers.FAST]
    assert main([str(a) for a in argv]) == 0
    return root, json.loads((root / "results.json").read_text())


def _scores(res, method):
    return {r["fold"]: np.array([p["scores"] for p in r["predictions"]]) for r in res["runs"] if r["method"] == method}


def test_ensemble_scores_are_the_mean_of_its_members(fewshot_run):
    _, res = fewshot_run
    members = [_scores(res, m) for m in ("finetune", "dann", "coral", "mmd")]
    for fold, got in _scores(res, "ensemble").items():
        assert got == pytest.approx(np.mean([m[fold] for m in members], 0), abs=1e-3)  # scores kept to 4 decimals
    assert res["methods"]["ensemble"]["picked"] == {"finetune+dann+coral+mmd": 3}


def test_pseudo_labels_only_the_training_peoples_hidden_clips(fewshot_run):
    _, res = fewshot_run
    runs = [r for r in res["runs"] if r["method"] == "pseudo"]
    assert len(runs) == 3
    for r in runs:
        info = r["info"]
        assert info["start"] == "finetune" and info["threshold"] == 0.0
        clips = [c["clip"] for c in info["clips"]]
        # 2 training people x 3 clips, less the 3 shots; never a shot, never the test person
        assert len(clips) == info["pseudo_labels"]["candidates"] == 3
        assert not set(clips) & set(r["shots"]) and all(not c.startswith(r["fold"] + "/") for c in clips)
        kept = [c for c in info["clips"] if c["kept"]]
        assert len(kept) == info["pseudo_labels"]["kept"] and all(c["agree"] for c in kept)
        assert 0 <= info["pseudo_labels"]["right"] <= len(kept)
        if kept:  # something to train on: checkpoints were scored
            assert r["history"]
    total = res["methods"]["pseudo"]["pseudo_labels"]
    assert total["candidates"] == 9 and total["kept"] == sum(r["info"]["pseudo_labels"]["kept"] for r in runs)


def test_zero_shots_pseudo_starts_from_sim_only_and_the_ensemble_has_it(synthetic, real, tmp_path, simgen_cli,
                                                                          sim2real_helpers):
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "0",
                                     "--test-subjects", "ann", "--methods", "pseudo,ensemble",
                                     "--out", tmp_path / "r.json", *sim2real_helpers.FAST])
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    assert list(res["methods"]) == ["pseudo", "ensemble"]
    pseudo = next(r for r in res["runs"] if r["method"] == "pseudo")
    assert pseudo["info"]["start"] == "sim-only" and pseudo["info"]["pseudo_labels"]["candidates"] == 6
    assert res["methods"]["ensemble"]["picked"] == {"sim-only+dann+coral+mmd": 1}


def test_zero_shots_adabn_renormalises_on_the_training_peoples_clips_only(synthetic, real, tmp_path, simgen_cli,
                                                                         sim2real_helpers):
    """adabn: the sim-only weights with batch-norm statistics of the 6 clips of ann and ben (cat is tested);
    best at 0 shots is adabn's very model."""
    import torch

    from simgen.train.checkpoint import load_checkpoint

    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "0",
                                     "--test-subjects", "cat", "--methods", "sim-only,adabn,adabn-pseudo,best",
                                     "--save-models", tmp_path / "m", "--out", tmp_path / "r.json", *sim2real_helpers.FAST])
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    runs = {r["method"]: r for r in res["runs"]}
    assert runs["adabn"]["info"] == dict(start="sim-only", adabn=dict(clips=6, windows=18, batches=3))  # 3 windows of 8 in 20 frames
    assert runs["adabn-pseudo"]["info"]["start"] == "adabn" and runs["adabn-pseudo"]["info"]["adabn"]["clips"] == 6
    assert res["methods"]["best"]["picked"] == {"adabn": 1}
    assert [p["scores"] for p in runs["best"]["predictions"]] == [p["scores"] for p in runs["adabn"]["predictions"]]
    sim = load_checkpoint(tmp_path / "m" / "sim-only-seed0" / "model.pt")["model"]
    ada = load_checkpoint(tmp_path / "m" / "adabn-seed0" / "model.pt")["model"]
    moved = [k for k in sim if not torch.equal(sim[k], ada[k])]
    assert moved and all(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in moved)


@pytest.mark.parametrize("min_kept", [None, "0"])
def test_too_few_kept_pseudo_labels_leave_the_start_model(min_kept, synthetic, real, tmp_path, simgen_cli,
                                                          sim2real_helpers, monkeypatch):
    """One clip of the 6 kept: under the default guard (a third: 2 clips) pseudo is its start model, sim-only
    at 0 shots, clip for clip; with the guard off it fine-tunes on that clip."""
    import simgen.adapt.benchmark.pseudo as pseudo

    real_filter = pseudo.filter_pseudo_labels

    def keep_one(probs, threshold):
        out = real_filter(probs, threshold)
        return [dict(d, kept=i == 0) for i, d in enumerate(out)]

    monkeypatch.setattr(pseudo, "filter_pseudo_labels", keep_one)
    extra = [] if min_kept is None else ["--pseudo-min-kept", min_kept]
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "0",
                                     "--test-subjects", "ann", "--methods", "sim-only,pseudo", *extra,
                                     "--out", tmp_path / "r.json", *sim2real_helpers.FAST])
    assert code == 0, err
    runs = {r["method"]: r for r in json.loads((tmp_path / "r.json").read_text())["runs"]}
    info = runs["pseudo"]["info"]["pseudo_labels"]
    assert (info["candidates"], info["kept"]) == (6, 1)
    same = [p["scores"] for p in runs["pseudo"]["predictions"]] == [p["scores"] for p in runs["sim-only"]["predictions"]]
    if min_kept is None:
        assert info["min_kept"] == 2 and same and not runs["pseudo"]["history"]
    else:
        assert info["min_kept"] == 0 and runs["pseudo"]["history"]


@pytest.mark.parametrize("picker", ["random", "active"])
def test_shot_pickers_end_to_end(picker, synthetic, tmp_path, simgen_cli, sim2real_helpers):
    real = sim2real_helpers.make_real(tmp_path / "real", per_class=2)
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1",
                                     "--leave-one-subject-out", "--methods", "finetune", "--shot-picker", picker,
                                     "--out", tmp_path / "r.json", *sim2real_helpers.FAST])
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["config"]["shot_picker"] == picker
    for r in res["runs"]:
        assert len(r["shots"]) == 3 and all(not s.startswith(r["fold"] + "/") for s in r["shots"])


def test_bad_pseudo_threshold_is_one_line(synthetic, real, tmp_path, simgen_cli):
    simgen_cli.one_line_error(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1",
                               "--test-subjects", "ann", "--methods", "pseudo", "--pseudo-threshold", "1.5",
                               "--out", tmp_path / "r.json"], "--pseudo-threshold", "[0, 1]")


def test_an_ensemble_rebuilt_from_results_matches_the_in_run_one(fewshot_run, tmp_path):
    from simgen.adapt.benchmark.ensemble import ensemble_runs, main

    _, res = fewshot_run
    rebuilt = ensemble_runs([res], ["finetune", "dann", "coral", "mmd"])
    inrun, out = res["methods"]["ensemble"], rebuilt["methods"]["ensemble"]
    assert (out["per_fold"], out["confusion"]) == (inrun["per_fold"], inrun["confusion"])
    assert [p["predicted"] for r in rebuilt["runs"] for p in r["predictions"]] == \
        [p["predicted"] for r in res["runs"] if r["method"] == "ensemble" for p in r["predictions"]]
    with pytest.raises(ValueError, match="no scored run of real-only"):
        ensemble_runs([res], ["finetune", "real-only"])
    (tmp_path / "r.json").write_text(json.dumps(res))
    assert main([str(tmp_path / "r.json"), "--members", "finetune,best", "--out", str(tmp_path / "e.json")]) == 2


def test_each_method_runs_after_what_it_needs():
    from simgen.adapt.benchmark.methods import run_order

    assert run_order(["best"], 0) == ["finetune", "adabn", "best"]  # finetune: n/a at K = 0
    assert run_order(["best"], 1) == ["finetune", "pseudo", "best"]
    assert run_order(["ensemble", "sim-only"], 1) == ["sim-only", "finetune", "dann", "coral", "mmd", "ensemble"]

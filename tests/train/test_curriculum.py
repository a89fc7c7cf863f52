"""``--curriculum``: difficulty scores from recorded factors, pacing, the sampler's pool, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from simgen.train.data.curriculum import (REAL_SCORE, CurriculumSampler, difficulty, order_by_difficulty, pace,
                                          pool_at)

W1 = dict(occlusion=1.0, camera=1.0, chained=1.0, length=1.0)


def record(*, visible=None, coverage=None, trajectory="static", amount=0.0, shake=0.0, segments=1, frames=31):
    """A manifest-style record with only the factors the score reads."""
    static = [dict(kind="wall", coverage=coverage)] if coverage is not None else []
    factors = dict(occlusion=dict(occluded=bool(static), static=static, moving=[]),
                   camera=dict(trajectory=trajectory, trajectory_amount=amount, shake_deg=shake),
                   action=dict(chained=segments > 1, segments=[dict(action="a")] * segments))
    return dict(factors=factors, frames=frames, visible_fraction=visible, domain=0)


def only(name: str) -> dict:
    return {k: float(k == name) for k in W1}


def test_an_unoccluded_static_single_action_clip_one_window_long_scores_zero():
    assert difficulty(record(visible=[1.0] * 31), W1, window_span=31) == 0.0


@pytest.mark.parametrize("rec, name, expected", [
    (record(visible=[1.0, 0.5, 0.0, 0.5]), "occlusion", 0.5),          # mean hidden share, measured
    (record(coverage=0.6), "occlusion", 0.6),                          # no measurement: the planned coverage
    (record(trajectory="pan", amount=0.4, shake=0.2), "camera", 0.5),  # amount + shake / 2
    (record(trajectory="static", amount=0.4), "camera", 0.0),          # a static camera's amount is unused
    (record(trajectory="handheld", amount=0.9, shake=1.0), "camera", 1.0),  # capped at 1
    (record(segments=2), "chained", 0.5),
    (record(segments=3), "chained", 1.0),
    (record(frames=124), "length", 0.75),                              # a 31-frame window sees a quarter
])
def test_each_component_on_hand_made_records(rec, name, expected):
    assert difficulty(rec, only(name), window_span=31) == pytest.approx(expected)


def test_the_score_is_the_weighted_mean_and_real_clips_come_last():
    rec = record(visible=[0.5] * 4, segments=3)  # occlusion 0.5, chained 1
    assert difficulty(rec, W1, window_span=31) == pytest.approx((0.5 + 1.0) / 4)
    assert difficulty(rec, dict(W1, chained=3.0), window_span=31) == pytest.approx((0.5 + 3.0) / 6)
    assert difficulty(dict(domain=1), W1) == REAL_SCORE > 1.0


def test_linear_root_and_step_pacing_values():
    assert [pace(e, start=0.3, full_epoch=5) for e in range(7)] == pytest.approx([0.3, 0.475, 0.65, 0.825, 1, 1, 1])
    assert [pace(e, start=0.3, full_epoch=5, kind="step") for e in range(6)] == [0.3, 0.3, 0.3, 0.3, 1.0, 1.0]
    root = [pace(e, start=0.3, full_epoch=5, kind="root") for e in range(6)]
    assert root[0] == pytest.approx(0.3) and root[2] == pytest.approx(np.sqrt(0.09 + 0.91 * 0.5)) and root[4:] == [1, 1]
    assert all(a < b for a, b in zip(root[:5], root[1:5]))
    assert pace(0, start=0.3, full_epoch=1) == 1.0  # full from the first epoch: no curriculum


def scored_set(n_per_class: int = 10):
    """Two classes; position p has score p / n within its class (so the easiest are the low positions)."""
    scores = [(p % n_per_class) / n_per_class for p in range(2 * n_per_class)]
    groups = [p // n_per_class for p in range(2 * n_per_class)]
    return scores, groups


def test_the_sampler_draws_only_from_the_easiest_share_of_each_class():
    scores, groups = scored_set()
    s = CurriculumSampler(scores, groups, start=0.3, full_epoch=5, seed=0)
    for epoch, share in [(0, 0.3), (1, 0.475), (2, 0.65), (4, 1.0)]:
        s.set_epoch(epoch)
        drawn = list(s)
        k = int(np.ceil(share * 10 - 1e-9))
        allowed = set(range(k)) | set(range(10, 10 + k))  # the k easiest of each class
        assert len(drawn) == 20  # every epoch as many draws as clips: same steps as without a curriculum
        assert set(drawn) == allowed, epoch  # only the pool, and all of it
    assert s.pool(0) == [0, 1, 2, 10, 11, 12]


def test_ties_are_broken_by_the_seed_and_every_draw_repeats_under_it():
    scores, groups = [0.0] * 20, [0] * 10 + [1] * 10
    a, b, c = (CurriculumSampler(scores, groups, start=0.3, full_epoch=5, seed=s) for s in (0, 0, 1))
    assert a.pool(0) == b.pool(0) and a.pool(0) != c.pool(0)
    assert [a.epoch_indices(e) for e in range(5)] == [b.epoch_indices(e) for e in range(5)]
    assert a.epoch_indices(0) != a.epoch_indices(1)  # a fresh shuffle every epoch
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_ddp_ranks_split_one_epoch_between_them():
    scores, groups = scored_set()
    ranks = [CurriculumSampler(scores, groups, start=0.3, full_epoch=5, seed=0, rank=r, world=3) for r in range(3)]
    whole = ranks[0].epoch_indices(0)
    assert len(whole) == 21 and all(len(r) == 7 for r in ranks)
    assert sorted(sum((list(r) for r in ranks), [])) == sorted(whole)


def test_a_class_keeps_one_clip_at_least():
    order = order_by_difficulty([0.1, 0.2, 0.3], [0, 0, 1], seed=0)
    assert pool_at(order, 0.01) == [0, 2]


# --- through `simgen train` -------------------------------------------------------------------

EASY = {"clip00000000", "clip00000001", "clip00000002"}  # one per class: the pool's first epoch at start 0.25


@pytest.fixture(scope="module")
def graded_dir(tmp_path_factory, helpers):
    """12 clips (4 per class); the manifest records clips 0-2 as plain and the others as occluded,
    chained, under a panning camera, harder the later they come."""
    rng = np.random.default_rng(0)
    clips = [(c, helpers.moving_square(c, 16, 32, rng), [c] * 16) for c in helpers.CLASSES * 4]
    root = helpers.write_synthetic(tmp_path_factory.mktemp("graded"), clips)
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    for i, r in enumerate(rows):
        r["factors"] = record(coverage=min(0.9, 0.1 * i) if i >= 3 else None, trajectory="pan" if i >= 3 else "static",
                              amount=0.05 * i, segments=1 + (i >= 6) + (i >= 9), frames=16)["factors"]
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def drawn_keys(monkeypatch) -> dict[int, list[str]]:
    """Record every training sample's key, by epoch."""
    from simgen.train.data.batch import ClipDataset

    seen: dict[int, list[str]] = {}
    real = ClipDataset.__getitem__

    def spy(self, j):
        sample = real(self, j)
        seen.setdefault(self.epoch, []).append(sample["key"])
        return sample

    monkeypatch.setattr(ClipDataset, "__getitem__", spy)
    return seen


CURRICULUM = ["--curriculum", "--curriculum-start", "0.25", "--curriculum-full-epoch", "3", "--val-fraction", "0"]


def test_train_draws_the_easy_clips_first_and_records_the_schedule(graded_dir, tmp_path, monkeypatch, train_cli):
    seen = drawn_keys(monkeypatch)
    out = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", graded_dir, "--out", out, "--epochs", "4", *CURRICULUM,
                         *train_cli.FAST) == 0
    assert set(seen[0]) == EASY and len(seen[0]) == 12  # 3 clips, 4 times each
    assert len(set(seen[1])) == 9 and set(seen[2]) == set(seen[3]) and len(set(seen[3])) == 12
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["curriculum"] == dict(pacing="linear", start=0.25, full_epoch=3,
                                     weights=dict(occlusion=1.0, camera=1.0, chained=1.0, length=1.0))
    pools = [int(r.split(",")[-1]) for r in (out / "log.csv").read_text().splitlines()[1:]]
    assert pools == [3, 9, 12, 12]


def test_without_the_option_nothing_changes(graded_dir, tmp_path, monkeypatch, train_cli):
    seen = drawn_keys(monkeypatch)
    out = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", graded_dir, "--out", out, "--epochs", "1", "--val-fraction", "0",
                         *train_cli.FAST) == 0
    assert len(set(seen[0])) == 12
    assert "curriculum" not in yaml.safe_load((out / "config.yaml").read_text())
    assert "curriculum" not in (out / "log.csv").read_text()


def test_a_resumed_run_keeps_the_schedule_and_matches_the_uninterrupted_one(graded_dir, tmp_path, monkeypatch,
                                                                           train_cli):
    import torch

    import simgen.train.fit as fit_module

    args = ["--synthetic", graded_dir, "--epochs", "4", *CURRICULUM, *train_cli.FAST]
    assert train_cli.run("train", "--out", tmp_path / "a", *args) == 0

    class Stop(Exception):
        pass

    real_set_epoch = fit_module._set_epoch

    def stop_at_third(train, epoch):
        if epoch == 2:
            raise Stop  # after epoch 2's checkpoint, as a kill would
        real_set_epoch(train, epoch)

    monkeypatch.setattr(fit_module, "_set_epoch", stop_at_third)
    with pytest.raises(Stop):
        train_cli.run("train", "--out", tmp_path / "b", *args)
    monkeypatch.setattr(fit_module, "_set_epoch", real_set_epoch)
    seen = drawn_keys(monkeypatch)
    assert train_cli.run("train", "--out", tmp_path / "b", "--resume", *args) == 0
    assert sorted(seen) == [2, 3] and len(set(seen[2])) == 12
    drop_speed = lambda run: [line.split(",")[:4] + line.split(",")[5:] for line in (run / "log.csv").read_text().splitlines()]
    assert drop_speed(tmp_path / "a") == drop_speed(tmp_path / "b")
    a = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resuming_with_other_curriculum_settings_is_a_clear_error(graded_dir, tmp_path, capsys, train_cli):
    args = ["--synthetic", graded_dir, "--epochs", "1", *CURRICULUM, *train_cli.FAST]
    assert train_cli.run("train", "--out", tmp_path / "a", *args) == 0
    capsys.readouterr()
    assert train_cli.run("train", "--out", tmp_path / "a", "--resume", *args, "--curriculum-pacing", "step") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "last.pt: field 'curriculum'" in err


@pytest.mark.parametrize("argv, message", [
    (["--curriculum-start", "0.5"], "--curriculum-start needs --curriculum"),
    (["--curriculum", "--curriculum-start", "0"], "--curriculum-start: Input should be greater than 0"),
    (["--curriculum", "--curriculum-weights", "occlusion=x"], "--curriculum-weights: expected NAME=NUMBER"),
    (["--curriculum", "--curriculum-weights", "speed=1"], "--curriculum-weights speed: Extra inputs"),
    (["--curriculum", "--curriculum-weights", "occlusion=0,camera=0,chained=0,length=0"], "at least one"),
])
def test_bad_curriculum_options_are_one_line_errors(argv, message, graded_dir, tmp_path, capsys, train_cli):
    assert train_cli.run("train", "--synthetic", graded_dir, "--out", tmp_path / "r", *argv, *train_cli.FAST) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err

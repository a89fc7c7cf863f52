"""Active labelling picks (simgen.adapt.active): uncertainty, diversity, budget."""

import numpy as np
import pytest

from simgen.adapt.active import pick_for_labelling, uncertainty, why


def test_uncertainty_values_on_hand_made_probabilities():
    p = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [0.7, 0.2, 0.1, 0]])
    ent = uncertainty(p, "entropy")
    assert ent[0] == pytest.approx(1.0) and ent[1] == pytest.approx(0.0, abs=1e-9)
    assert ent[2] == pytest.approx(np.log(2) / np.log(4))
    assert uncertainty(p, "margin").tolist() == pytest.approx([1.0, 0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="unknown uncertainty"):
        uncertainty(p, "variance")


def test_equally_distinct_clips_are_picked_most_uncertain_first():
    probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3], [0.99, 0.01], [0.6, 0.4]])
    features = np.eye(5)  # every pair equally far apart
    order = [p["index"] for p in pick_for_labelling(probs, features, 5)]
    assert order == [1, 4, 2, 0, 3]
    assert [p["index"] for p in pick_for_labelling(probs, features, 5, kind="margin")] == [1, 4, 2, 0, 3]


def test_a_near_copy_of_a_pick_waits_behind_a_distinct_clip():
    # clip 1 is a near-copy of clip 0 and almost as uncertain; clip 2 is distinct but less uncertain
    probs = np.array([[0.5, 0.5], [0.52, 0.48], [0.8, 0.2]])
    features = np.array([[1.0, 0.0], [0.999, 0.01], [0.0, 1.0]])
    picks = pick_for_labelling(probs, features, 3)
    assert [p["index"] for p in picks] == [0, 2, 1]
    assert picks[0]["distance"] is None and picks[1]["distance"] == pytest.approx(1.0)
    assert picks[2]["distance"] < 0.01
    # uncertainty alone would have taken both copies first
    assert np.argsort(-uncertainty(probs))[:2].tolist() == [0, 1]


@pytest.mark.parametrize("budget,expected", [(1, 1), (4, 4), (9, 9), (20, 9)])
def test_budget_gives_that_many_distinct_clips(budget, expected):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=9)
    features = np.repeat(rng.normal(size=(3, 8)), 3, axis=0)  # three groups of identical clips
    picks = pick_for_labelling(probs, features, budget)
    idx = [p["index"] for p in picks]
    assert len(idx) == expected and len(set(idx)) == expected
    if budget >= 3:  # one clip of each group before any second one
        assert sorted(i // 3 for i in idx[:3]) == [0, 1, 2]


def test_why_names_the_two_classes_and_the_distance():
    probs = np.array([0.2, 0.5, 0.3])
    first = why(dict(uncertainty=0.9, distance=None), probs, ["a", "b", "c"], "entropy")
    later = why(dict(uncertainty=0.9, distance=0.25), probs, ["a", "b", "c"], "entropy")
    assert first == "most uncertain: entropy 0.90 (b 0.50 vs c 0.30)"
    assert later.endswith("distance to nearest pick 0.25")


def test_features_compared_by_direction_not_magnitude():
    # clip 1 is clip 0 with 3x the feature magnitude (e.g. the same action, more motion): a copy
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [0.7, 0.3]])
    features = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    assert [p["index"] for p in pick_for_labelling(probs, features, 3)] == [0, 2, 1]

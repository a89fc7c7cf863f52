"""Drift statistics (simgen.adapt.drift): flags a shifted stream, not a same-distribution one, and
holds its false-alarm rate because the null distributions come from the data."""

import numpy as np
import pytest

from simgen.adapt.drift import STATISTICS, clips_to_label, drift_tests, novelty_pvalues


def sample(rng, n, *, shift=0.0, dims=16, classes=4, sharpness=3.0, probs_from=None):
    """Features ~ N(shift, 1); class probabilities from the first ``classes`` feature dimensions."""
    feats = rng.normal(shift, 1.0, size=(n, dims))
    logits = sharpness * (feats[:, :classes] if probs_from is None else probs_from(feats))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), feats


def test_shifted_stream_flagged_same_distribution_not():
    rng = np.random.default_rng(0)
    ref_p, ref_f = sample(rng, 60)
    same_p, same_f = sample(rng, 30)
    same = drift_tests(ref_p, ref_f, same_p, same_f, np.random.default_rng(1), permutations=300)
    assert not same["flagged"], {k: v["p_value"] for k, v in same["statistics"].items()}
    shift_p, shift_f = sample(rng, 30, shift=1.0)
    shifted = drift_tests(ref_p, ref_f, shift_p, shift_f, np.random.default_rng(1), permutations=300)
    assert shifted["flagged"]
    assert shifted["statistics"]["mmd"]["flagged"] and shifted["statistics"]["knn"]["flagged"]
    assert shifted["statistics"]["mmd"]["p_value"] == pytest.approx(1 / 301)
    # the observed statistic sits far in the tail of its own null distribution
    assert shifted["statistics"]["mmd"]["value"] > max(shifted["null"]["mmd"])


def test_confidence_and_class_shift_are_seen_on_their_own():
    rng = np.random.default_rng(3)
    ref_p, ref_f = sample(rng, 60)
    # same features, but the model became unsure: flatter probabilities
    flat_p, flat_f = sample(rng, 40, sharpness=0.3)
    flat = drift_tests(ref_p, ref_f, flat_p, flat_f, np.random.default_rng(0), permutations=300)
    assert flat["statistics"]["entropy"]["flagged"] and not flat["statistics"]["mmd"]["flagged"]
    # same features, but every clip predicted as class 2
    one_p, one_f = sample(rng, 40, probs_from=lambda f: np.eye(4)[np.full(len(f), 2)] * 3)
    one = drift_tests(ref_p, ref_f, one_p, one_f, np.random.default_rng(0), permutations=300)
    assert one["statistics"]["class_tv"]["flagged"] and one["statistics"]["class_tv"]["value"] > 0.6
    assert one["stream_classes"][2] == 1.0


def test_false_alarm_rate_stays_below_alpha():
    """100 same-distribution streams: the whole test (4 statistics) flags at most ~alpha of them."""
    rng = np.random.default_rng(7)
    flags, p_mmd = [], []
    for _ in range(100):
        ref_p, ref_f = sample(rng, 16, dims=8)
        s_p, s_f = sample(rng, 8, dims=8)
        r = drift_tests(ref_p, ref_f, s_p, s_f, rng, permutations=99, alpha=0.2)
        flags.append(r["flagged"])
        p_mmd.append(r["statistics"]["mmd"]["p_value"])
    # Bonferroni keeps the family-wise rate <= 0.2 (binomial sd 0.04); testing each at 0.2 would flag ~0.45
    assert np.mean(flags) <= 0.28, np.mean(flags)
    assert 0.4 < np.mean(p_mmd) < 0.6  # valid p-values are uniform under the null


def test_novelty_pvalues_rank_against_leave_one_out_reference():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(19, 4))
    stream = np.concatenate([ref[:1] + 0.01, np.full((1, 4), 50.0)])
    ref_scores, scores, p = novelty_pvalues(ref, stream, k=1)
    assert p[1] == pytest.approx(1 / 20)  # farther than every reference clip from the rest
    assert p[0] > 0.5 and scores[0] < 0.02  # a near-copy of a reference clip is not novel
    assert len(ref_scores) == 19 and np.all(ref_scores > 0)  # no clip is its own neighbour


def test_clips_to_label_puts_novel_clips_first():
    probs = np.array([[0.5, 0.5], [0.99, 0.01], [0.6, 0.4], [0.98, 0.02]])
    feats = np.eye(4)
    novelty = np.array([0.5, 0.01, 0.9, 0.02])
    picks = clips_to_label(probs, feats, novelty, 3, alpha=0.05)
    assert [p["novel"] for p in picks] == [True, True, False]
    assert {p["index"] for p in picks[:2]} == {1, 3} and picks[2]["index"] == 0  # then the most uncertain


def test_bad_shapes_raise():
    rng = np.random.default_rng(0)
    p, f = sample(rng, 5)
    with pytest.raises(ValueError, match="at least 2 reference"):
        drift_tests(p[:1], f[:1], p, f, rng)
    with pytest.raises(ValueError, match="feature or class"):
        drift_tests(p, f, p, f[:, :3], rng)
    assert set(STATISTICS) == {"mmd", "knn", "entropy", "class_tv"}

"""Chained multi-action videos: labels, boundaries, gaps and orders are what they claim."""

import numpy as np
import pytest

from simgen.adapt.chain import chain_by_subject, chain_clips
from simgen.train.metrics.segment import segments_of


def _clip(value, n, size=8):
    return np.full((n, size, size, 3), value, np.uint8)


def test_labels_and_segments_match_the_joined_clips():
    clips = [(_clip(10, 5), 2), (_clip(200, 3), 0), (_clip(90, 4), 1)]
    v = chain_clips(clips, np.random.default_rng(0), sources=["a", "b", "c"], subject="s1")
    assert v.labels.tolist() == [2] * 5 + [0] * 3 + [1] * 4
    assert v.segments == [(2, 0, 5), (0, 5, 8), (1, 8, 12)]
    assert [tuple(s) for s in segments_of(v.labels)] == v.segments
    assert v.frames[5:8].max() == v.frames[5:8].min() == 200
    assert v.sources == ["a", "b", "c"] and v.subject == "s1"


def test_gaps_are_crossfades_labelled_background_within_the_range():
    clips = [(_clip(0, 4), 0), (_clip(250, 4), 1), (_clip(0, 4), 0)]
    lengths = set()
    for seed in range(20):
        v = chain_clips(clips, np.random.default_rng(seed), gap=(1, 3))
        gap_frames = np.flatnonzero(v.labels == -1)
        (s0, e0), (s1, e1), (s2, e2) = [(s, e) for _, s, e in v.segments]
        assert s1 - e0 in (1, 2, 3) and s2 - e1 in (1, 2, 3)
        assert len(gap_frames) == (s1 - e0) + (s2 - e1)
        fade = v.frames[e0:s1, 0, 0, 0].astype(int)  # 0 -> 250: strictly between, increasing
        assert np.all((fade > 0) & (fade < 250)) and np.all(np.diff(fade) > 0)
        lengths.add(s1 - e0)
    assert lengths == {1, 2, 3}


def test_chaining_is_deterministic_given_the_rng():
    items = [dict(frames=_clip(k * 20, 3 + k), label=k % 4, subject=f"s{k % 2}", key=f"c{k}") for k in range(8)]
    a = chain_by_subject(items, np.random.default_rng(5), videos_per_subject=2, gap=(0, 2))
    b = chain_by_subject(items, np.random.default_rng(5), videos_per_subject=2, gap=(0, 2))
    assert [v.sources for v in a] == [v.sources for v in b]
    assert all(np.array_equal(x.frames, y.frames) for x, y in zip(a, b))


def test_by_subject_uses_each_clip_once_per_video_and_never_repeats_a_class():
    items = [dict(frames=_clip(k, 3), label=k % 4, subject=f"s{k // 4}", key=f"c{k}") for k in range(12)]
    items.append(dict(frames=_clip(99, 3), label=-1, subject="s0", key="unlabelled"))
    videos = chain_by_subject(items, np.random.default_rng(0), videos_per_subject=3)
    assert [v.subject for v in videos] == ["s0"] * 3 + ["s1"] * 3 + ["s2"] * 3
    orders = set()
    for v in videos:
        mine = {f"c{k}" for k in range(12) if f"s{k // 4}" == v.subject}
        assert sorted(v.sources) == sorted(mine)  # every clip of that person once, none of another's
        seg_labels = [s[0] for s in v.segments]
        assert all(a != b for a, b in zip(seg_labels, seg_labels[1:]))
        orders.add(tuple(v.sources))
    assert len(orders) > 3  # the orders differ between videos


def test_two_clips_of_one_class_are_separated_when_possible():
    items = [dict(frames=_clip(k, 2), label=lab, subject="s", key=f"c{k}") for k, lab in enumerate([0, 0, 1, 1, 2])]
    for seed in range(10):
        (v,) = chain_by_subject(items, np.random.default_rng(seed))
        labels = [s[0] for s in v.segments]
        assert all(a != b for a, b in zip(labels, labels[1:]))


@pytest.mark.parametrize("clips,gap,needle", [
    ([], (0, 0), "at least one clip"),
    ([(_clip(0, 3), 0), (_clip(0, 3, size=6), 1)], (0, 0), "clip 1: frames"),
    ([(_clip(0, 3), -1)], (0, 0), "clip 0: label -1"),
    ([(_clip(0, 3), 0)], (3, 1), "0 <= min <= max"),
])
def test_bad_input_is_refused(clips, gap, needle):
    with pytest.raises(ValueError, match=needle):
        chain_clips(clips, np.random.default_rng(0), gap=gap)

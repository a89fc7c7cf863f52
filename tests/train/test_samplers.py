import numpy as np
import pytest

from simgen.train.data.samplers import (
    dense_windows,
    random_window,
    resample_fps,
    sample_indices,
    tsn_segments,
    uniform_indices,
)


class TestResampleFps:
    def test_identity_when_same_rate(self):
        assert resample_fps(10, 25, 25).tolist() == list(range(10))
        assert resample_fps(10, 25, None).tolist() == list(range(10))

    def test_halving_rate_takes_every_other_frame(self):
        assert resample_fps(10, 50, 25).tolist() == [0, 2, 4, 6, 8]

    def test_doubling_rate_repeats_frames_and_keeps_duration(self):
        idx = resample_fps(5, 25, 50)
        assert idx.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]

    def test_non_integer_ratio_stays_in_range_and_monotone(self):
        idx = resample_fps(61, 25, 30)
        assert len(idx) == round(61 * 30 / 25)
        assert idx.min() == 0 and idx.max() <= 60
        assert np.all(np.diff(idx) >= 0)


class TestUniformAndTsn:
    def test_uniform_spreads_over_clip(self):
        assert uniform_indices(100, 4).tolist() == [12, 37, 62, 87]

    def test_uniform_short_clip_repeats(self):
        idx = uniform_indices(3, 6)
        assert len(idx) == 6 and set(idx.tolist()) == {0, 1, 2}

    def test_tsn_one_frame_per_segment(self):
        rng = np.random.default_rng(0)
        idx = tsn_segments(40, 4, rng)
        for k, i in enumerate(idx):
            assert 10 * k <= i < 10 * (k + 1)
        assert tsn_segments(40, 4, None).tolist() == [5, 15, 25, 35]


class TestWindows:
    def test_random_window_is_strided_and_in_range(self):
        rng = np.random.default_rng(0)
        for _ in range(20):
            idx = random_window(50, 8, 3, rng)
            assert np.all(np.diff(idx) == 3) and idx.max() < 50

    def test_random_window_seeded(self):
        a = random_window(100, 8, 2, np.random.default_rng(5))
        b = random_window(100, 8, 2, np.random.default_rng(5))
        assert a.tolist() == b.tolist()

    def test_short_clip_is_padded_with_last_frame(self):
        idx = random_window(5, 8, 1, np.random.default_rng(0))
        assert idx.tolist() == [0, 1, 2, 3, 4, 4, 4, 4]

    def test_dense_windows_cover_every_frame(self):
        w = dense_windows(23, 8, 1)
        assert w.shape[1] == 8
        assert set(w.ravel().tolist()) == set(range(23))
        assert w[-1, -1] == 22

    def test_dense_windows_with_step(self):
        w = dense_windows(10, 4, 1, step=2)
        assert w[:, 0].tolist() == [0, 2, 4, 6]

    def test_unknown_sampler_raises(self):
        with pytest.raises(ValueError, match="unknown sampler"):
            sample_indices("zigzag", 10, 4)

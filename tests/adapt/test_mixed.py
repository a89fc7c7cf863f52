from collections import Counter

import numpy as np
import pytest

from simgen.adapt.data import MixedDomainBatchSampler, dataset_labels, mixed_loader
from simgen.train.data.batch import ClipDataset
from simgen.train.data.cache import FrameCache

SKEWED_SYNTHETIC = [0] * 30 + [1] * 5 + [2] * 1  # 36 items, classes 30:5:1
REAL = [0, 1, 2] + [-1] * 17  # 20 real clips, three labelled


def make_sampler(**overrides):
    kw = dict(batch_size=8, synthetic_fraction=0.5, num_batches=60, seed=0)
    kw.update(overrides)
    return MixedDomainBatchSampler(SKEWED_SYNTHETIC, REAL, **kw)


def split(batch, n_syn=len(SKEWED_SYNTHETIC)):
    return [i for i in batch if i < n_syn], [i - n_syn for i in batch if i >= n_syn]


class TestMixedDomainBatchSampler:
    @pytest.mark.parametrize("fraction", [0.5, 0.3, 0.75])
    def test_synthetic_share_is_the_stated_ratio(self, fraction):
        batches = list(make_sampler(synthetic_fraction=fraction))
        counts = [len(split(b)[0]) for b in batches]
        assert all(len(b) == 8 for b in batches)
        # per batch within one item; over the epoch exact (8 * 0.3 = 2.4 -> 2 or 3, 144 in 60 batches)
        assert max(counts) - min(counts) <= 1 and abs(np.mean(counts) - 8 * fraction) <= 1 / 60
        assert sum(counts) == round(60 * 8 * fraction)

    def test_all_synthetic_and_all_real(self):
        assert all(len(split(b)[0]) == 8 for b in make_sampler(synthetic_fraction=1.0))
        assert all(len(split(b)[1]) == 8 for b in make_sampler(synthetic_fraction=0.0))

    def test_labelled_synthetic_items_are_class_balanced(self):
        labels = Counter(SKEWED_SYNTHETIC[i] for b in make_sampler() for i in split(b)[0])
        # 240 synthetic draws over classes 30:5:1 -> 80 each
        assert labels == {0: 80, 1: 80, 2: 80}

    def test_labelled_real_items_are_class_balanced_at_the_stated_share(self):
        real = [REAL[i] for b in make_sampler(real_labelled_fraction=0.5) for i in split(b)[1]]
        counts = Counter(real)
        assert counts[-1] == 120 and counts[0] == counts[1] == counts[2] == 40

    def test_default_real_labelled_share_follows_the_counts(self):
        real = [REAL[i] for b in make_sampler() for i in split(b)[1]]
        assert Counter(r >= 0 for r in real)[True] == round(240 * 3 / 20)

    def test_every_item_is_used_before_any_repeats(self):
        first_pass = [i for b in make_sampler(synthetic_fraction=0.0, real_labelled_fraction=0.0) for i in split(b)[1]][:17]
        assert sorted(first_pass) == list(range(3, 20))

    def test_deterministic_by_seed_and_epoch(self):
        a, b = make_sampler(seed=3), make_sampler(seed=3)
        assert list(a) == list(b) == list(a)
        assert list(a) != list(make_sampler(seed=4))
        a.set_epoch(1)
        epoch1 = list(a)
        assert epoch1 != list(b) and epoch1 == list(a)

    def test_impossible_settings_are_errors(self):
        with pytest.raises(ValueError, match="synthetic_fraction must be in"):
            make_sampler(synthetic_fraction=1.5)
        with pytest.raises(ValueError, match="real: labelled_fraction=0.5 but no item is labelled"):
            MixedDomainBatchSampler([0], [-1, -1], batch_size=2, synthetic_fraction=0.5, num_batches=1, seed=0,
                                    real_labelled_fraction=0.5)
        with pytest.raises(ValueError, match="no real items"):
            MixedDomainBatchSampler([0], [], batch_size=2, synthetic_fraction=0.5, num_batches=1, seed=0)


class MemoryReader:
    """An in-memory reader with the reader interface ClipDataset uses."""

    def __init__(self, labels, domain, classes=("a", "b", "c")):
        self.root, self.size, self.domain, self.classes = f"/memory/{domain}", None, domain, list(classes)
        self.labels = list(labels)
        self.rows = [dict(key=f"{domain}-{i}", path=f"{domain}-{i}") for i in range(len(labels))]

    def __len__(self):
        return len(self.rows)

    def label_index(self, i):
        return self.classes.index(self.labels[i]) if self.labels[i] else -1

    def read(self, i):
        frames = np.full((6, 4, 4, 3), i, dtype=np.uint8)
        return frames, dict(label=self.labels[i], fps=25.0)


def clip_datasets():
    synthetic = ClipDataset(MemoryReader(["a"] * 6 + ["b"] * 2 + ["c"], domain=0), FrameCache(None), num_frames=4, seed=0)
    real = ClipDataset(MemoryReader(["a", "b", None, None, None, None], domain=1), FrameCache(None), num_frames=4, seed=0)
    return synthetic, real


def test_loader_batches_carry_domain_and_minus_one_for_unlabelled_real():
    synthetic, real = clip_datasets()
    assert dataset_labels(real) == [0, 1, -1, -1, -1, -1]
    loader = mixed_loader(synthetic, real, batch_size=6, synthetic_fraction=0.5, num_batches=8, seed=0)
    seen_unlabelled = 0
    for batch in loader:
        assert batch["domain"].tolist() == [0, 0, 0, 1, 1, 1]
        assert batch["video"].shape == (6, 4, 4, 4, 3)
        assert (batch["label"][:3] >= 0).all()
        for key, label in zip(batch["key"][3:], batch["label"][3:].tolist()):
            assert label == (-1 if int(key.split("-")[1]) >= 2 else int(key.split("-")[1]))
            seen_unlabelled += label == -1
    assert seen_unlabelled == round(24 * 4 / 6)


def test_loader_refuses_swapped_domains():
    synthetic, real = clip_datasets()
    with pytest.raises(ValueError, match="synthetic: dataset over /memory/1 has domain 1, expected 0"):
        mixed_loader(real, synthetic, batch_size=4, synthetic_fraction=0.5, num_batches=1, seed=0)

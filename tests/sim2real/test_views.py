"""Hidden labels stay hidden; one scoring function serves every test condition; the selection rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simgen.adapt.benchmark.data import RealClips
from simgen.adapt.benchmark.scoring import Clip, ModelInput, score_conditions
from simgen.adapt.benchmark.selection import mean_entropy, pick
from simgen.adapt.data.mixed import dataset_labels
from simgen.train.data.cache import FrameCache


def test_a_hidden_label_reaches_neither_batches_nor_the_sampler(real, sim2real_helpers):
    clips = RealClips(real, list(sim2real_helpers.MOTIONS), {}, size=32, cache=FrameCache(None))
    clips.decode_all()  # the shared cache now holds every clip with its file's label
    labelled = clips.dataset([0, 1, 2], sampler="random_window", num_frames=4)
    hidden = clips.dataset([0, 1, 2], hide_labels=[1, 2], sampler="random_window", num_frames=4)
    assert [labelled[j]["label"] for j in range(3)] == [0, 1, 2]
    assert [hidden[j]["label"] for j in range(3)] == [0, -1, -1]
    assert dataset_labels(hidden) == [0, -1, -1]
    assert hidden.clip(2)["label"] == -1


class _Brightness(torch.nn.Module):
    """A 'model' whose class is how much the input moves: 0 when still, 1 otherwise."""

    def forward(self, x):
        moving = x.abs().mean(dim=(1, 2, 3, 4)) > 1e-3
        logits = torch.stack([(~moving).float(), moving.float()], 1) * 10
        return dict(clip=logits)


def test_conditions_are_scored_by_the_same_function_on_transformed_clips():
    rng = np.random.default_rng(0)
    still = np.repeat(rng.integers(0, 255, (1, 8, 8, 3), dtype=np.uint8), 10, axis=0)
    moving = rng.integers(0, 255, (10, 8, 8, 3), dtype=np.uint8)
    clips = [Clip("a", still, 25.0, 0), Clip("b", moving, 25.0, 1)]
    spec = ModelInput("diff", 4, 1, None)

    def freeze(cs, rng):  # every clip shows its first frame only: all look still
        return [Clip(c.key, np.repeat(c.frames[:1], len(c.frames), 0), c.fps, c.label) for c in cs]

    out = score_conditions(_Brightness(), clips, ["still", "moving"], spec, {"freeze@1": freeze}, (0, 0))
    assert out["clean"]["accuracy"] == 1.0
    assert out["freeze@1"]["accuracy"] == 0.5 and out["freeze@1"]["confusion_counts"] == [[1, 0], [1, 0]]


def test_each_folds_perturbed_copies_are_made_once_for_all_its_methods():
    rng = np.random.default_rng(0)
    clips = [Clip("a", rng.integers(0, 255, (10, 8, 8, 3), dtype=np.uint8), 25.0, 0),
             Clip("b", rng.integers(0, 255, (10, 8, 8, 3), dtype=np.uint8), 25.0, 1)]
    spec, made = ModelInput("diff", 4, 1, None), []

    def noisy(cs, rng):  # a random condition: the same draws must give the same copies
        made.append(1)
        return [Clip(c.key, np.clip(c.frames + rng.integers(0, 40, c.frames.shape), 0, 255).astype(np.uint8),
                     c.fps, c.label) for c in cs]

    def scores(out):
        return [p["scores"] for p in out["noise@1"]["predictions"]]

    first = score_conditions(_Brightness(), clips, ["still", "moving"], spec, {"noise@1": noisy}, (0, 0))
    again = score_conditions(_Brightness(), clips, ["still", "moving"], spec, {"noise@1": noisy}, (0, 0))
    assert len(made) == 1 and scores(again) == scores(first)  # the second method of the fold: no new copies
    score_conditions(_Brightness(), clips, ["still", "moving"], spec, {"noise@1": noisy}, (1, 0))
    assert len(made) == 2  # another seed: other draws
    other = [Clip(c.key, 255 - c.frames, c.fps, c.label) for c in clips]  # same names, other pictures
    score_conditions(_Brightness(), other, ["still", "moving"], spec, {"noise@1": noisy}, (0, 0))
    assert len(made) == 3


def test_entropy_and_pick():
    assert mean_entropy(np.array([[1.0, 0, 0, 0]])) == pytest.approx(0.0, abs=1e-9)
    assert mean_entropy(np.full((3, 4), 0.25)) == pytest.approx(1.0)
    assert pick([("a", dict(score=0.2)), ("b", dict(score=0.5)), ("c", dict(score=0.1))]) == 1
    assert pick([("a", dict(score=0.5)), ("b", dict(score=0.5))]) == 1  # a tie goes to the later one


@pytest.mark.parametrize("shots", [0, 1])
def test_fold_training_sets_label_only_the_shots(real, sim2real_helpers, shots):
    from simgen.adapt.benchmark.data import fold_training_sets
    from simgen.adapt.benchmark.folds import fold_splits, make_folds

    clips = RealClips(real, list(sim2real_helpers.MOTIONS), {}, size=32, cache=FrameCache(None))
    fold = make_folds(clips.rows, fold_splits(clips.rows, test_subjects=["ann"], leave_one_out=False, where="x"),
                      list(sim2real_helpers.MOTIONS), shots, np.random.default_rng(0))[0]
    shot_set, train = fold_training_sets(clips, fold, sampler="random_window", num_frames=4)
    labels = dict(zip(train.indices, dataset_labels(train)))
    assert {i for i, k in labels.items() if k >= 0} == set(fold.shots)
    assert all(clips.rows[i].subject != "ann" for i in train.indices)
    assert len(train) == 6  # ben's and cat's three clips each
    assert (shot_set is None) == (shots == 0)


def test_a_perturbation_condition_transforms_every_clip_with_the_given_rng():
    from simgen.adapt.benchmark.scoring import perturbation_condition
    from simgen.adapt.perturb import apply_perturbation

    rng = np.random.default_rng(0)
    clips = [Clip(str(i), rng.integers(0, 255, (12, 16, 16, 3), dtype=np.uint8), 25.0, 0) for i in range(2)]
    halved = perturbation_condition("fps", 2.0, apply_perturbation)(clips, np.random.default_rng(1))
    assert [(len(c.frames), c.fps) for c in halved] == [(6, 12.5), (6, 12.5)]
    occl = perturbation_condition("occlusion", 0.3, apply_perturbation)
    a, b = occl(clips, np.random.default_rng(1)), occl(clips, np.random.default_rng(1))
    assert all(np.array_equal(x.frames, y.frames) for x, y in zip(a, b))
    assert not np.array_equal(a[0].frames, clips[0].frames)

import math

import pytest
import torch
import torch.nn.functional as F

from simgen.train.models import create_action_model
from simgen.train.objectives import (
    ArrowOfTime,
    ClassificationLoss,
    PlaybackSpeedPrediction,
    TemporalContrastive,
    TemporalOrderVerification,
    WeakFrameLoss,
    class_balance_weights,
    info_nce,
    temporal_smoothing_loss,
)


def time_clip(b=4, t=12):
    """Clips whose pixel value is the frame index, so gathered indices are readable."""
    return torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).expand(b, 1, t, 2, 2).contiguous()


class TestSupervised:
    def test_ignores_unlabelled(self):
        logits = torch.randn(4, 3, requires_grad=True)
        loss = ClassificationLoss()(logits, torch.tensor([0, -1, 2, -1]))
        torch.testing.assert_close(loss, F.cross_entropy(logits[[0, 2]], torch.tensor([0, 2])))

    def test_all_unlabelled_is_zero_with_graph(self):
        logits = torch.randn(2, 3, requires_grad=True)
        loss = ClassificationLoss()(logits, torch.tensor([-1, -1]))
        loss.backward()
        assert loss.item() == 0 and logits.grad is not None

    def test_label_smoothing_matches_formula(self):
        logits = torch.tensor([[2.0, 0.0, 0.0]])
        loss = ClassificationLoss(label_smoothing=0.3)(logits, torch.tensor([0]))
        logp = F.log_softmax(logits, 1)[0]
        expected = -(0.7 + 0.1) * logp[0] - 0.1 * logp[1] - 0.1 * logp[2]
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5)

    def test_class_balance_weights(self):
        w = class_balance_weights([0, 0, 0, 1, -1], 3)
        # counts 3,1,0 -> 1/3, 1 normalised to mean 1 over present -> 0.5, 1.5; absent -> 1
        torch.testing.assert_close(w, torch.tensor([0.5, 1.5, 1.0]))

    def test_frame_logits_mean_over_labelled_frames(self):
        logits = torch.randn(2, 3, 5)
        labels = torch.tensor([[0, 0, 1, -1, 2], [-1] * 4 + [1]])
        flat_logits, flat_labels = logits.permute(0, 2, 1).reshape(-1, 3), labels.reshape(-1)
        known = flat_labels >= 0
        expected = F.cross_entropy(flat_logits[known], flat_labels[known])
        torch.testing.assert_close(ClassificationLoss()(logits, labels), expected)


class TestWeak:
    def test_tag_frames_win(self):
        good = torch.zeros(1, 3, 8)
        good[0, 1] = 3.0  # every frame says class 1
        bad = torch.zeros(1, 3, 8)
        bad[0, 2] = 3.0
        loss = WeakFrameLoss()
        assert loss(good, torch.tensor([1])) < loss(bad, torch.tensor([1]))

    def test_gradient_reaches_every_frame_and_smoothing(self):
        logits = torch.randn(2, 3, 6, requires_grad=True)
        WeakFrameLoss()(logits, torch.tensor([0, 2])).backward()
        assert (logits.grad.abs().sum(1) > 0).all()
        assert temporal_smoothing_loss(torch.ones(1, 3, 5)).item() == 0

    def test_unlabelled_is_zero(self):
        assert WeakFrameLoss()(torch.randn(2, 3, 4), torch.tensor([-1, -1])).item() == 0


class TestPretextBatches:
    def test_order_verification(self):
        task = TemporalOrderVerification(8, num_segments=3)
        x, y = task.make_batch(time_clip(b=16), torch.Generator().manual_seed(0))
        frames = x[:, 0, :, 0, 0]
        for row, target in zip(frames, y):
            ordered = bool((row.diff() > 0).all())
            assert ordered == bool(target)
        assert 0 < y.sum() < 16

    def test_speed(self):
        task = PlaybackSpeedPrediction(8, speeds=(1, 2, 3))
        x, y = task.make_batch(time_clip(b=12, t=24), torch.Generator().manual_seed(0))
        assert x.shape[2] == 8
        gaps = x[:, 0, :, 0, 0].diff(dim=1)
        for g, target in zip(gaps, y):
            assert (g == (1, 2, 3)[int(target)]).all()

    def test_arrow(self):
        x, y = ArrowOfTime(8).make_batch(time_clip(b=10), torch.Generator().manual_seed(1))
        for row, target in zip(x[:, 0, :, 0, 0], y):
            assert bool(row[0] > row[-1]) == bool(target)

    def test_too_short(self):
        with pytest.raises(ValueError, match="too short"):
            PlaybackSpeedPrediction(8, speeds=(1, 4)).make_batch(time_clip(t=6))


class TestContrastive:
    def test_info_nce_prefers_aligned_pairs(self):
        torch.manual_seed(0)
        a = torch.randn(8, 16)
        aligned = info_nce(a, a + 0.01 * torch.randn(8, 16), 0.1)
        shuffled = info_nce(a, a[torch.randperm(8)], 0.1)
        assert aligned < shuffled
        assert aligned.item() < 0.1

    def test_info_nce_known_value(self):
        # unit one-hot rows: a_i.b_j = [i == j], so each row is softmax([1/tau, 0, ..., 0])
        eye = torch.eye(4)
        expected = -math.log(math.exp(2.0) / (math.exp(2.0) + 3))
        assert info_nce(eye, eye, 0.5).item() == pytest.approx(expected, rel=1e-6)

    def test_contrastive_accuracy_of_identical_views_is_one(self):
        torch.manual_seed(0)
        model = create_action_model(backbone="tiny3d", num_classes=2, input_mode="gray", frame_head=False).eval()
        task = TemporalContrastive(model.out_features).eval()
        res = task(model, torch.rand(4, 1, 8, 32, 32), encode=lambda v: v)  # same view twice: za == zb
        assert float(res["accuracy"]) == 1.0


class _FixedFeatures(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.value = features

    def features(self, x):
        return self.value


def test_pretext_accuracy_is_fraction_of_correct_argmax():
    task = TemporalOrderVerification(2)
    task.head = torch.nn.Identity()  # the "features" below are the logits
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    target = torch.tensor([0, 1, 1, 1])
    res = task.run(_FixedFeatures(logits), torch.zeros(4), target)
    assert float(res["accuracy"]) == 0.5
    torch.testing.assert_close(res["loss"], F.cross_entropy(logits, target))

    def test_temporal_term_needs_distinct_time_steps(self):
        task = TemporalContrastive(4, temporal_weight=1.0)
        z = torch.randn(2, 4, 6)
        const = z.mean(-1, keepdim=True).expand_as(z)
        assert task.loss(z, z) < task.loss(const, const)


@pytest.mark.parametrize("cls", [TemporalOrderVerification, PlaybackSpeedPrediction, ArrowOfTime, TemporalContrastive])
def test_pretext_tasks_train_the_backbone(cls):
    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=2, input_mode="gray", frame_head=False)
    task = cls(model.out_features)
    video = torch.rand(4, 3, 12, 32, 32)
    encode = lambda v: v.mean(1, keepdim=True)
    res = task(model, video, encode=encode, generator=torch.Generator().manual_seed(0))
    res["loss"].backward()
    assert torch.isfinite(res["loss"])
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0

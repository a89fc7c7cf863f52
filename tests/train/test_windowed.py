"""Long videos: windowed backbone, stitched features, one sequence-head pass (train/windowed.py)."""

import numpy as np
import pytest
import torch

from simgen.train.data.batch import to_float_video
from simgen.train.evaluate import frame_scores
from simgen.train.inputs import InputTransform
from simgen.train.models import create_action_model
from simgen.train.models.sequence import upsample
from simgen.train.windowed import stitched_features


def _model(head="mstcn", k=3):
    torch.manual_seed(0)
    return create_action_model(backbone="tiny3d", num_classes=k, input_mode="diff", head=head).eval()


def _video(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8))


def test_stitched_features_equal_the_whole_video_run_when_the_overlap_covers_the_receptive_field():
    model, tf = _model(), InputTransform("diff")
    frames = _video(96)
    with torch.no_grad():
        whole = model.temporal_features(tf(to_float_video(frames[None])))[0]
    stitched = stitched_features(model, tf, frames, num_frames=32)
    assert stitched.shape == whole.shape == (model.out_features, 48)
    assert torch.allclose(stitched, whole, atol=1e-4), (stitched - whole).abs().max()
    # windows of the training length keep only their middles: the edges (zero padding) differ
    with torch.no_grad():
        alone = model.temporal_features(tf(to_float_video(frames[None, 16:48])))[0]
    assert not torch.allclose(alone[:, :2], whole[:, 8:10], atol=1e-3)


@pytest.mark.parametrize("n", [5, 31, 33, 101])
def test_any_length_gives_one_step_per_two_frames(n):
    model = _model()
    feats = stitched_features(model, InputTransform("diff"), _video(n), num_frames=16)
    assert feats.shape == (model.out_features, -(-n // 2)) and torch.isfinite(feats).all()


def test_a_long_video_is_scored_window_by_window_in_one_head_pass():
    """7500 frames of 64x64 (5 minutes at 25 fps): the backbone never sees more than a batch of windows."""
    model = _model("gru", k=4)
    seen, head_lengths = [], []
    model.backbone.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0] * i[0].shape[2]))
    model.frame_head.register_forward_hook(lambda m, i, o: head_lengths.append(i[0].shape[-1]))
    probs = frame_scores(model, InputTransform("diff"), _video(7500, size=64), num_frames=16, stride=2,
                         device="cpu", batch_size=8)
    assert probs.shape == (7500, 4)
    assert torch.allclose(probs.sum(1), torch.ones(7500), atol=1e-5)
    assert max(seen) <= 8 * 16  # frames per backbone call: one batch of windows
    assert head_lengths == [1875, 1875]  # one pass per stride offset over the whole video's steps


class MeanHead(torch.nn.Module):
    """A sequence head whose scores follow the mean feature of each step (sharply)."""

    def forward(self, features, num_frames):
        m = features.mean(1, keepdim=True)
        m = (m - m.mean()) / (m.std() + 1e-6)
        return upsample(torch.cat([m, -m, 0 * m], 1) * 3, num_frames)


def test_stride_offsets_are_averaged_not_interleaved():
    """Even and odd frames differ completely: interleaving their two sequences would alternate frame by frame."""
    model, tf = _model("gru"), InputTransform("diff")
    model.frame_head = MeanHead()
    frames = _video(96)
    frames[1::2] = 0  # offset 1 sees a still black video
    frames[1::4] = 255
    probs = frame_scores(model, tf, frames, num_frames=16, stride=2, device="cpu")
    apart = (frame_scores(model, tf, frames[0::2], num_frames=16, stride=1, device="cpu")
             - frame_scores(model, tf, frames[1::2], num_frames=16, stride=1, device="cpu")).abs().sum(1).mean()
    assert apart > 0.3  # the offsets disagree ...
    step = (probs[1:] - probs[:-1]).abs().sum(1)
    assert step.mean() < 0.5 * apart  # ... yet neighbouring frames do not alternate between them


class MeanNet(torch.nn.Module):
    """In place of the linear head's conv stack: the same sharp scores as :class:`MeanHead`, per step."""

    def forward(self, features):
        m = features.mean(1, keepdim=True)
        m = (m - m.mean()) / (m.std() + 1e-6)
        return torch.cat([m, -m, 0 * m], 1) * 3


def test_the_linear_head_is_scored_stitched_with_offsets_averaged_not_interleaved():
    """The linear head goes through the stitched path too: its stride offsets must not alternate frame by frame."""
    model, tf = _model("linear"), InputTransform("diff")
    assert not model.sequence_head
    model.frame_head.net = MeanNet()
    frames = _video(96)
    frames[1::2] = 0
    frames[1::4] = 255
    probs = frame_scores(model, tf, frames, num_frames=16, stride=2, device="cpu")
    apart = (frame_scores(model, tf, frames[0::2], num_frames=16, stride=1, device="cpu")
             - frame_scores(model, tf, frames[1::2], num_frames=16, stride=1, device="cpu")).abs().sum(1).mean()
    assert apart > 0.3
    step = (probs[1:] - probs[:-1]).abs().sum(1)
    assert step.mean() < 0.5 * apart

"""Sequence heads (train/models/sequence.py): shapes, causality, checkpoints, the CLI."""

import argparse
import json

import numpy as np
import pytest
import torch

from simgen.pipelines import train_commands
from simgen.train.checkpoint import load_model, model_meta
from simgen.train.config import TrainConfig
from simgen.train.data.batch import to_float_video
from simgen.train.models import HEADS, create_action_model
from simgen.train.models.sequence import GRUFrameHead, MSTCNHead, TransformerFrameHead
from simgen.train.objective import TrainObjective
from simgen.train.objectives.supervised import ClassificationLoss

FAST = ["--size", "32", "--num-frames", "8", "--stride", "1", "--batch-size", "4", "--no-progress"]
SEQUENCE_HEADS = [h for h in HEADS if h != "linear"]


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="simgen")
    train_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("background", [False, True])
def test_every_head_keeps_the_output_keys_and_shapes(head, background):
    torch.manual_seed(0)
    m = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", head=head,
                            frame_background=background).eval()
    x = torch.rand(2, 1, 8, 32, 32)
    out = m(x)
    assert {"features", "temporal", "clip", "frame"} <= set(out)
    assert out["clip"].shape == (2, 3) and out["frame"].shape == (2, 3 + background, 8)
    assert out["features"].shape == (2, m.out_features) == m.features(x).shape
    assert m.sequence_head == (head != "linear")
    assert ("frame_stages" in out) == (head == "mstcn")


def _head(kind: str, causal: bool):
    torch.manual_seed(0)
    if kind == "transformer":
        return TransformerFrameHead(16, 3, causal=causal).eval()
    if kind == "gru":
        return GRUFrameHead(16, 3, causal=causal).eval()
    return MSTCNHead(16, 3, causal=causal).eval()


@pytest.mark.parametrize("kind", SEQUENCE_HEADS)
def test_a_causal_head_ignores_the_future_and_a_non_causal_one_does_not(kind):
    x = torch.randn(1, 16, 20)
    later = x.clone()
    later[:, :, 12:] += 3.0  # change only the future of step 11
    for causal in (True, False):
        head = _head(kind, causal)
        a, b = head(x, 20), head(later, 20)
        same_past = torch.allclose(a[..., :12], b[..., :12], atol=1e-5)
        assert same_past == causal, (kind, causal)
        assert not torch.allclose(a[..., 12:], b[..., 12:])


def test_relative_positions_run_on_sequences_longer_than_any_window_and_learned_ones_say_their_limit():
    head = TransformerFrameHead(16, 3, positions="relative").eval()
    assert head(torch.randn(1, 16, 600), 1200).shape == (1, 3, 1200)
    learned = TransformerFrameHead(16, 3, positions="learned", max_len=64).eval()
    assert learned(torch.randn(1, 16, 64), 64).shape == (1, 3, 64)
    # the same input at every step: only the positions can tell the steps apart
    steady = torch.randn(1, 16, 1).expand(1, 16, 20)
    assert learned(steady, 20).std(-1).max() > 1e-3
    assert head(steady, 20).std(-1).max() < 1e-5  # relative biases start at zero
    with pytest.raises(ValueError, match="longer than the learned positions"):
        learned(torch.randn(1, 16, 65), 65)


def test_each_mstcn_stage_refines_the_previous_stage_probabilities():
    head = _head("mstcn", False)
    x = torch.randn(1, 16, 10)
    stages = head.stage_logits(x, 10)
    assert len(stages) == 3 and torch.equal(stages[-1], head(x, 10))
    # stage 2 reads stage 1's probabilities only: the same probabilities give the same output
    assert torch.allclose(head.stages[1](torch.softmax(stages[0], 1)), stages[1], atol=1e-6)


def _objective(model, **kw):
    return TrainObjective(model, augment=None, input_mode="diff", clip_loss=ClassificationLoss(), **kw)


def test_mstcn_losses_cover_every_stage_and_the_smoothing_weight_counts():
    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", head="mstcn").eval()
    video = torch.randint(0, 255, (2, 8, 32, 32, 3), dtype=torch.uint8)
    label, frames = torch.tensor([0, 1]), torch.tensor([[0] * 4 + [1] * 4, [1] * 8])
    plain, s0 = _objective(model, smoothing_weight=0.0).eval()(video, label, frames)
    smooth, s1 = _objective(model, smoothing_weight=1.0).eval()(video, label, frames)
    assert "loss_smoothing" not in s0 and float(s1["loss_smoothing"]) > 0
    assert float(smooth.detach()) == pytest.approx(float(plain.detach()) + float(s1["loss_smoothing"]), rel=1e-5)
    out = model(_objective(model).model_input(to_float_video(video)))
    stage_ce = sum(float(ClassificationLoss()(s, frames).detach()) for s in out["frame_stages"])
    assert float(s0["loss_frame"]) == pytest.approx(stage_ce, rel=1e-5)


class Flicker(torch.nn.Module):
    """A stand-in model whose per-frame output alternates between two classes."""

    out_features = 4

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        b, t = x.shape[0], x.shape[2]
        frame = torch.nn.functional.one_hot(torch.arange(t) % 2, 3).float().t().expand(b, 3, t) * 5 * self.w
        return dict(clip=torch.zeros(b, 3) * self.w, frame=frame)


def test_the_consistency_weight_adds_its_loss():
    video = torch.randint(0, 255, (2, 8, 32, 32, 3), dtype=torch.uint8)
    label, frames = torch.tensor([0, 1]), torch.full((2, 8), -1)
    base, _ = _objective(Flicker())(video, label, frames)
    loss, stats = _objective(Flicker(), consistency_weight=0.5)(video, label, frames)
    assert float(stats["loss_consistency"]) > 1
    assert float(loss.detach()) == pytest.approx(float(base.detach()) + 0.5 * float(stats["loss_consistency"]))


@pytest.mark.parametrize("head,causal", [("gru", True), ("transformer", False), ("mstcn", False)])
def test_the_checkpoint_rebuilds_the_head_it_was_trained_with(tmp_path, head, causal):
    cfg = TrainConfig(out=str(tmp_path), head=head, causal=causal, positions="learned", epochs=1)
    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=2, input_mode="diff", head=head, causal=causal,
                                positions="learned").eval()
    torch.save(dict(meta=model_meta(cfg, ["a", "b"]), model=model.state_dict()), tmp_path / "m.pt")
    loaded, meta = load_model(tmp_path / "m.pt")
    assert meta["head"]["name"] == head and type(loaded.frame_head) is type(model.frame_head)
    assert getattr(loaded.frame_head, "causal") == causal
    x = torch.rand(1, 1, 8, 32, 32)
    assert torch.allclose(loaded(x)["frame"], model(x)["frame"])


def test_a_checkpoint_without_head_meta_gets_the_linear_head(tmp_path):
    cfg = TrainConfig(out=str(tmp_path), epochs=1)
    model = create_action_model(backbone="tiny3d", num_classes=2, input_mode="diff")
    meta = model_meta(cfg, ["a", "b"])
    del meta["head"]
    torch.save(dict(meta=meta, model=model.state_dict()), tmp_path / "m.pt")
    assert not load_model(tmp_path / "m.pt")[0].sequence_head


def test_bad_head_options_are_one_line_errors(tmp_path, synthetic_dir, simgen_cli):
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r", "--head", "gru",
                               "--no-frame-head"], "--head gru", "--no-frame-head")
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r", "--head", "lstm"],
                              "--head", "lstm")
    simgen_cli.one_line_error(["train", "--synthetic", synthetic_dir, "--out", tmp_path / "r",
                               "--temporal-dropout", "1.5"], "--temporal-dropout")


def test_train_and_evaluate_a_segment_run_with_a_sequence_head(tmp_path, segment_dir):
    out = tmp_path / "run"
    assert run("train", "--synthetic", segment_dir, "--out", out, "--epochs", "1", "--val-fraction", "0",
               "--head", "mstcn", "--temporal-dropout", "0.2", "--consistency-weight", "0.5", *FAST) == 0
    meta = torch.load(out / "model.pt", weights_only=True)["meta"]
    assert meta["head"]["name"] == "mstcn" and meta["head"]["temporal_dropout"] == 0.2
    ev = tmp_path / "ev.json"
    assert run("evaluate", "--checkpoint", out / "model.pt", "--data", segment_dir, "--out", ev, "--task", "segment",
               "--smoothing", "viterbi", "--no-progress", "--json") == 0
    m = json.loads(ev.read_text())
    assert 0 <= m["frame_accuracy"] <= 1 and m["n_frames"] > 0


def test_the_clip_head_is_initialised_before_the_frame_head():
    """Results in the README were trained with this draw order; building the frame head first
    changes every initial weight of the clip head (and every trained figure with it)."""
    from simgen.train.models import ClipHead, create_action_model
    from simgen.train.models.builder import BACKBONES

    torch.manual_seed(0)
    net = BACKBONES["tiny3d"](in_channels=1, weights=None)
    expected = ClipHead(net.out_features, 4, dropout=0.3)
    for head in ("linear", "gru"):
        torch.manual_seed(0)
        model = create_action_model(backbone="tiny3d", num_classes=4, input_mode="diff", head=head)
        for a, b in zip(model.clip_head.parameters(), expected.parameters()):
            assert torch.equal(a, b), head

"""The crop of a clip filmed by a still camera spans the clip (``clip_crop_box``): a bar hiding one arm for a
window moves that window's own box onto the other arm, the clip's box stays on the person; a moving camera,
a mode without a crop and ``--crop-span window`` keep one box per window."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from simgen.adapt.perturb import occluder_columns
from simgen.train.inputs import InputTransform, clip_crop_box, to_gray
from simgen.train.person_crop import motion_boxes
from tests.train.test_person_crop import _person
from tests.train.test_robust_input import _clip, _scene


def _filmed(frames=48, bar=0.0):
    """``uint8[T,64,64,3]``: the jumping-jack person on a textured wall (LK needs texture), a still camera, and
    optionally a light bar ``bar`` of the frame wide sweeping across as the benchmark's occluder does."""
    body = _person(1.0, frames=frames)[0, 0] < 0.3
    v = torch.from_numpy(_scene()).expand(frames, -1, -1, -1).clone()
    v[body] = 20
    if bar:
        width = int(round(bar * 64))
        for t, x in enumerate(occluder_columns(frames, 64, bar, np.random.default_rng(1))):
            v[t, :, x : x + width] = 200
    return v


def _window_box(frames: torch.Tensor) -> torch.Tensor:
    return motion_boxes(to_gray(frames[None].permute(0, 4, 1, 2, 3).float() / 255))[0]


def test_a_bar_moves_the_windows_boxes_but_not_the_clips():
    clean, occluded = _filmed(), _filmed(bar=0.45)
    person = clip_crop_box(clean, "psdiff", 1)
    first, last = _window_box(occluded[:16]), _window_box(occluded[-16:])
    # the bar hides one side, then the other: the windows' boxes close on the arm left in view
    assert abs(float(first[0] - person[0])) > 0.1 and abs(float(last[0] - person[0])) > 0.1
    assert float((first[0] - person[0]) * (last[0] - person[0])) < 0  # on opposite sides
    spanned = clip_crop_box(occluded, "psdiff", 1)
    assert abs(float(spanned[0] - person[0])) < 0.05 and abs(float(spanned[1] - person[1])) < 0.05
    assert clip_crop_box(occluded, "psrgb+diff", 1) is not None


def test_a_moving_camera_a_plain_mode_or_one_frame_keep_a_box_per_window():
    panning = (_clip(pan_px=1.5)[0].permute(1, 2, 3, 0) * 255).round().to(torch.uint8)
    still = (_clip(pan_px=0.0)[0].permute(1, 2, 3, 0) * 255).round().to(torch.uint8)
    assert clip_crop_box(still, "psdiff", 1) is not None
    assert clip_crop_box(panning, "psdiff", 1) is None
    assert clip_crop_box(still, "diff", 1) is None and clip_crop_box(still, "rgb+diff", 1) is None
    assert clip_crop_box(still[:1], "psdiff", 1) is None


class _Spy(InputTransform):
    """Records the boxes each batch of windows was cropped with."""

    def __init__(self, mode):
        super().__init__(mode)
        self.seen = []

    def forward(self, video, boxes=None):
        self.seen.append(None if boxes is None else boxes.clone())
        return super().forward(video, boxes)


def test_clip_scores_crops_every_window_with_the_clips_box_unless_told_window():
    from simgen.train.data.samplers import dense_windows
    from simgen.train.evaluate import clip_scores
    from simgen.train.models import create_action_model

    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="psdiff", frame_head=False).eval()
    frames = _filmed(bar=0.45)
    spy = _Spy("psdiff")
    clip_scores(model, spy, frames, num_frames=8, stride=2, device="cpu", batch_size=2)
    n = len(dense_windows(len(frames), 8, 2))
    assert n >= 3 and len(spy.seen) == (n + 1) // 2 and all(b is not None for b in spy.seen)  # 2 windows a batch
    boxes = torch.cat(spy.seen)
    assert torch.equal(boxes, boxes[:1].expand(n, 3)) and torch.equal(boxes[0], clip_crop_box(frames, "psdiff", 2))
    spy.seen.clear()
    clip_scores(model, spy, frames, num_frames=8, stride=2, device="cpu", crop_span="window")
    assert spy.seen == [None]
    with pytest.raises(ValueError, match="crop span"):
        clip_scores(model, spy, frames, num_frames=8, stride=2, device="cpu", crop_span="video")


def test_the_cli_copies_match_what_they_copy():
    import simgen.pipelines.train_commands as train_commands
    import simgen.train.evaluate as evaluate
    from simgen.pipelines.ensemble_options import CAMERA_GATE
    from simgen.train.inputs import STILL_CAMERA

    assert train_commands.CROP_SPANS == evaluate.CROP_SPANS and evaluate.CROP_SPAN == evaluate.CROP_SPANS[0]
    assert STILL_CAMERA == CAMERA_GATE


def test_evaluate_crop_span_is_recorded_and_does_not_outlive_the_command(synthetic_dir, train_cli, tmp_path):
    import simgen.train.evaluate as evaluate

    run = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", run, "--epochs", "1", "--val-fraction", "0",
                         "--input", "pdiff", *train_cli.FAST) == 0
    for span in ("window", "clip"):
        out = tmp_path / f"{span}.json"
        assert train_cli.run("evaluate", "--checkpoint", run / "model.pt", "--data", synthetic_dir, "--out", out,
                             "--crop-span", span, "--no-progress") == 0
        assert json.loads(out.read_text())["crop_span"] == span
        assert evaluate.CROP_SPAN == "clip"

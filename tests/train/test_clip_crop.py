"""The crop of a clip filmed by a still camera spans the clip (``clip_crop_box``): a bar hiding one arm for a
window moves that window's own box onto the other arm, the clip's box stays on the person; a region that moves in
one window only (a codec's bursts) stays in the clip's box, however little it moves over the whole clip; a
moving camera, a mode without a crop and ``--crop-span window`` keep one box per window."""

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


def _box(frames: torch.Tensor, mode: str = "psdiff", num_frames: int = 16, stride: int = 1):
    """The clip box over the windows a ``num_frames``-frame model at ``stride`` sees."""
    from simgen.train.data.samplers import dense_windows

    return clip_crop_box(frames, mode, dense_windows(len(frames), num_frames, stride))


def _window_box(frames: torch.Tensor) -> torch.Tensor:
    return motion_boxes(to_gray(frames[None].permute(0, 4, 1, 2, 3).float() / 255))[0]


def test_a_bar_moves_the_windows_boxes_but_not_the_clips():
    clean, occluded = _filmed(), _filmed(bar=0.45)
    person = _box(clean)
    first, last = _window_box(occluded[:16]), _window_box(occluded[-16:])
    # the bar hides one side, then the other: the windows' boxes close on the arm left in view
    assert abs(float(first[0] - person[0])) > 0.1 and abs(float(last[0] - person[0])) > 0.1
    assert float((first[0] - person[0]) * (last[0] - person[0])) < 0  # on opposite sides
    spanned = _box(occluded)
    assert abs(float(spanned[0] - person[0])) < 0.05 and abs(float(spanned[1] - person[1])) < 0.05
    assert _box(occluded, "psrgb+diff") is not None


def _bursts(frames=48):
    """``uint8[T,64,64,3]``: a block on the left that flickers every 3rd step all along, and one on the right
    that flickers every second step in the first 16 frames only (as H.264 at CRF 48 updates a region in
    bursts): over the whole clip the right one changes in 8 of 47 steps, under the 20% floor; in the first
    window in 7 of 15."""
    v = torch.from_numpy(_scene()).expand(frames, -1, -1, -1).clone()
    for t in range(frames):
        v[t, 24:40, 12:20] = 200 if (t // 3) % 2 else 20
        if t < 16:
            v[t, 24:40, 44:52] = 200 if (t // 2) % 2 else 20
        else:
            v[t, 24:40, 44:52] = 20
    return v


def test_a_region_that_moves_in_one_window_only_stays_in_the_clip_box():
    frames = _bursts()
    whole = _window_box(frames)  # one frequency map over the whole clip: only the left block passes the floor
    assert float(whole[0]) < 0.35
    for mode in ("pdiff", "psdiff"):
        box = _box(frames, mode)
        lo, hi = float(box[0] - box[2] / 2), float(box[0] + box[2] / 2)
        assert lo <= 12 / 64 and hi >= 52 / 64  # both blocks inside


def test_every_window_counts_the_same_in_the_clip_box():
    """A large region moving in the first window only must not outweigh a small one moving in the two others
    (the windows' weights are scaled to sum 1 before they are averaged)."""
    frames = torch.from_numpy(_scene()).expand(48, -1, -1, -1).clone()
    for t in range(48):
        frames[t, 16:48, 8:24] = 200 if (t < 16 and t % 2) else 20
        frames[t, 28:32, 48:50] = 200 if (t >= 16 and t % 2) else 20
    for mode in ("pdiff", "psdiff"):
        box = _box(frames, mode)
        assert float(box[0] - box[2] / 2) <= 8 / 64 and float(box[0] + box[2] / 2) >= 50 / 64


def test_a_clip_of_one_window_gets_that_windows_box():
    frames = _filmed(frames=16, bar=0.3)
    assert torch.equal(_box(frames, "pdiff", num_frames=16), _window_box(frames))


def test_a_moving_camera_a_plain_mode_or_one_frame_keep_a_box_per_window():
    panning = (_clip(pan_px=1.5)[0].permute(1, 2, 3, 0) * 255).round().to(torch.uint8)
    still = (_clip(pan_px=0.0)[0].permute(1, 2, 3, 0) * 255).round().to(torch.uint8)
    assert _box(still) is not None
    assert _box(panning) is None
    assert _box(still, "diff") is None and _box(still, "rgb+diff") is None
    assert _box(still[:1]) is None


class _Spy(InputTransform):
    """Records how each batch of windows was to be cropped: ``"pooled"``, the boxes given, or ``None``."""

    def __init__(self, mode):
        super().__init__(mode)
        self.seen = []

    def forward(self, video, boxes=None, *, pool_box=False):
        self.seen.append("pooled" if pool_box else None if boxes is None else boxes.clone())
        return super().forward(video, boxes, pool_box=pool_box)


def _counting_stabilise(monkeypatch) -> list:
    """Count the windows :func:`simgen.adapt.stabilise.stabilise` warps (``camera_speed`` does not call it)."""
    import simgen.adapt.stabilise as stab

    calls, real = [], stab.stabilise
    monkeypatch.setattr(stab, "stabilise", lambda frames, **kw: calls.append(1) or real(frames, **kw))
    return calls


def test_clip_scores_crops_every_window_with_the_clips_box_unless_told_window(monkeypatch):
    from simgen.train.data.samplers import dense_windows
    from simgen.train.data.batch import to_float_video
    from simgen.train.evaluate import clip_scores
    from simgen.train.models import create_action_model

    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="psdiff", frame_head=False).eval()
    frames = _filmed(bar=0.45)
    wins = dense_windows(len(frames), 8, 2)
    n = len(wins)
    # what scoring gave before the windows' inputs were built together: each window cropped with the clip's box
    tf = InputTransform("psdiff")
    with torch.no_grad():
        x = tf(to_float_video(frames[torch.from_numpy(wins)]), _box(frames, num_frames=8, stride=2).expand(n, 3))
        expected = torch.cat([torch.softmax(model(x[s : s + 2])["clip"], 1) for s in range(0, n, 2)]).mean(0)
    spy = _Spy("psdiff")
    calls = _counting_stabilise(monkeypatch)
    got = clip_scores(model, spy, frames, num_frames=8, stride=2, device="cpu", batch_size=2)
    assert n >= 3 and spy.seen == ["pooled"] and len(calls) == n  # every window stabilised once
    assert torch.equal(got, expected)
    spy.seen.clear()
    calls.clear()
    clip_scores(model, spy, frames, num_frames=8, stride=2, device="cpu", crop_span="window")
    assert spy.seen == [None] and len(calls) == n
    with pytest.raises(ValueError, match="crop span"):
        clip_scores(model, spy, frames, num_frames=8, stride=2, device="cpu", crop_span="video")


def test_pool_box_crops_with_the_clip_box_and_refuses_what_it_cannot_pool():
    frames = _filmed(bar=0.45)
    from simgen.train.data.samplers import dense_windows

    wins = dense_windows(len(frames), 8, 2)
    video = frames[torch.from_numpy(wins)].permute(0, 4, 1, 2, 3).float() / 255
    for mode in ("pdiff", "psdiff", "psrgb+diff"):
        box = _box(frames, mode, num_frames=8, stride=2)
        tf = InputTransform(mode)
        assert torch.equal(tf(video, pool_box=True), tf(video, box.expand(len(wins), 3)))
    with pytest.raises(ValueError, match="pool_box"):
        InputTransform("diff")(video, pool_box=True)
    with pytest.raises(ValueError, match="pool_box"):
        InputTransform("psdiff")(video, box.expand(len(wins), 3), pool_box=True)


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

"""Person-centred inputs (``pdiff``, ``psdiff``): the crop finds the moving person, follows their size and place,
ignores sparse noise, and makes a small person's input look like a large one's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simgen.train.person_crop import crop_windows, motion_boxes


def _person(scale=1.0, cx=32.0, cy=32.0, frames=16, size=64, background=0.6):
    """A dark stick person ``40*scale`` px tall centred at ``(cx, cy)``: a still body, both arms swinging
    up and down and the legs opening and closing (a jumping jack), drawn with sub-pixel-free boxes."""
    v = np.full((frames, size, size), background, np.float32)
    h, w = 40 * scale, 8 * scale
    for t in range(frames):
        phase = np.sin(2 * np.pi * t / 8)
        top, left = cy - h / 2, cx - w / 2

        def box(x0, y0, x1, y1):
            r0, c0 = int(round(y0)), int(round(x0))
            v[t, r0:max(int(round(y1)), r0 + 1), c0:max(int(round(x1)), c0 + 1)] = 0.15

        box(left, top, left + w, top + 0.55 * h)  # head and trunk
        reach = 0.35 * h
        for side in (-1, 1):  # arms: from the shoulder out and up/down with the phase
            ax = cx + side * (w / 2 + reach / 2)
            ay = top + 0.15 * h - phase * 0.2 * h
            box(ax - reach / 2, ay, ax + reach / 2, ay + 0.06 * h)
            lx = cx + side * (w / 4 + (0.5 + 0.5 * phase) * 0.2 * h)  # legs: apart and together
            box(lx - w / 4, top + 0.55 * h, lx + w / 4, top + h)
    return torch.from_numpy(v)[None, None]


def test_the_box_follows_the_person_size_and_place():
    big = motion_boxes(_person(1.0))[0]
    small = motion_boxes(_person(0.5))[0]
    off = motion_boxes(_person(0.5, cx=18, cy=40))[0]
    assert abs(float(big[0]) - 0.5) < 0.05 and abs(float(big[1]) - 0.5) < 0.1
    assert 0.4 < float(small[2] / big[2]) < 0.6  # half the person, half the box
    assert abs(float(off[0]) * 64 - 18) < 3 and abs(float(off[1]) * 64 - 40) < 4
    assert abs(float(off[2] - small[2])) < 0.03
    assert float(big[2]) < 1.0


def test_no_motion_or_one_frame_keeps_the_whole_frame():
    still = torch.full((2, 1, 8, 32, 32), 0.5)
    assert torch.equal(motion_boxes(still), torch.tensor([[0.5, 0.5, 1.0]] * 2))
    assert torch.equal(motion_boxes(_person()[:, :, :1]), torch.tensor([[0.5, 0.5, 1.0]]))


def test_sparse_flicker_far_away_does_not_move_the_box():
    clean = _person(0.5)
    noisy = clean.clone()
    noisy[0, 0, ::2, 2, 2] = 1.0  # one corner pixel blinking every other frame
    noisy[0, 0, 1::3, 60, 61] = 1.0
    a, b = motion_boxes(clean)[0], motion_boxes(noisy)[0]
    assert float((a - b).abs().max()) < 2 / 64


def test_an_edge_crossing_the_view_once_does_not_stretch_the_box():
    person = _person(0.5)
    crossed = person.clone()
    for t in range(crossed.shape[2]):  # a full-height bar, 10 px wide, sweeping left to right at 4 px a frame
        crossed[0, 0, t, :, max(0, 4 * t - 10):4 * t] = 0.9
    alone, with_bar = motion_boxes(person)[0], motion_boxes(crossed)[0]
    assert float((alone - with_bar).abs().max()) < 3 / 64
    no_floor = motion_boxes(crossed, min_frequency=0.0)[0]  # every moving pixel counted: the bar's edges too
    assert float(no_floor[2]) > 1.5 * float(alone[2])


def test_the_whole_frame_box_is_the_identity_and_a_quadrant_box_zooms_in():
    video = torch.rand(2, 3, 4, 16, 16)
    assert torch.allclose(crop_windows(video, torch.tensor([[0.5, 0.5, 1.0]] * 2)), video, atol=1e-5)
    quad = torch.zeros(1, 1, 2, 16, 16)
    quad[..., :8, :8] = 1.0
    zoomed = crop_windows(quad, torch.tensor([[0.25, 0.25, 0.5]]))
    assert float(zoomed[..., 1:-1, 1:-1].min()) > 0.99  # the top-left quadrant fills the frame


def test_each_window_gets_its_own_box_for_all_its_frames():
    windows = torch.cat([_person(0.5), _person(0.55, cx=26, cy=36)])  # two windows, two different boxes
    boxes = motion_boxes(windows)
    assert not torch.allclose(boxes[0], boxes[1])
    out = crop_windows(windows, boxes)
    last = windows.shape[2] - 1
    for t in (0, last):  # a frame alone, cropped with its window's box
        per_frame = crop_windows(windows[:, :, t : t + 1], boxes)
        assert torch.allclose(out[:, :, t : t + 1], per_frame, atol=1e-6)


def test_pdiff_makes_a_small_person_look_like_a_large_one():
    from simgen.train.inputs import InputTransform, input_channels, luma_only

    def rgb(x):
        return x.expand(-1, 3, -1, -1, -1)

    big, small = rgb(_person(1.0)), rgb(_person(0.55, cx=26, cy=36))

    def similarity(mode):
        a, b = InputTransform(mode)(big).flatten(), InputTransform(mode)(small).flatten()
        return float(torch.nn.functional.cosine_similarity(a, b, dim=0))

    assert input_channels("pdiff") == input_channels("psdiff") == 1 and luma_only("pdiff") and luma_only("psdiff")
    assert similarity("diff") < 0.3
    assert similarity("pdiff") > 0.6
    assert similarity("psdiff") > 0.6  # a still camera: stabilising changes nothing


@pytest.mark.parametrize("mode,channels", [("pdiff", 1), ("psrgb+diff", 3)])
def test_a_cropping_checkpoint_is_cropped_by_evaluate_without_being_told(mode, channels, synthetic_dir, train_cli,
                                                                         tmp_path, monkeypatch):
    import json

    import simgen.train.inputs as inputs
    from simgen.train.checkpoint import load_model

    run = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", run, "--epochs", "1", "--val-fraction", "0",
                         "--input", mode, *train_cli.FAST) == 0
    assert load_model(run / "model.pt")[1]["input"] == mode
    calls = []
    real = inputs.crop_windows
    monkeypatch.setattr(inputs, "crop_windows", lambda video, boxes: calls.append(video.shape[:2]) or real(video, boxes))
    assert train_cli.run("evaluate", "--checkpoint", run / "model.pt", "--data", synthetic_dir,
                         "--out", tmp_path / "m.json", "--no-progress") == 0
    # every window of the 12 clips cropped; psrgb+diff crops its (stabilised) RGB windows, the grey levels follow
    assert sum(n for n, _ in calls) >= 12 and {c for _, c in calls} == {channels}
    assert json.loads((tmp_path / "m.json").read_text())["n_clips"] == 12

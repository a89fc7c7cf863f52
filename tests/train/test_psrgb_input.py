"""``psrgb+diff``: appearance beside motion, both stabilised and person-centred. Its difference channel is
``psdiff``; its RGB stream shows the same box, holds still under a panning camera, and makes a small person
look like a large one; models are two streams (the checkpoint and evaluate: ``test_person_crop``)."""

from __future__ import annotations

import torch

from simgen.train.inputs import InputTransform, TWO_STREAM_INPUTS, input_channels, luma_only, to_gray
from simgen.train.person_crop import crop_windows, motion_boxes
from tests.train.test_person_crop import _person
from tests.train.test_robust_input import _clip


def _rgb_change(x: torch.Tensor) -> float:
    """Mean |frame-to-frame change| of the RGB stream (channels 0-2)."""
    rgb = x[0, :3]
    return float((rgb[:, 1:] - rgb[:, :-1]).abs().mean())


def test_channel_3_is_psdiff_and_the_rgb_stream_is_the_same_box():
    still = _clip(pan_px=0.0)
    both = InputTransform("psrgb+diff")(still)
    assert both.shape == (1, 4, 8, 64, 64) and input_channels("psrgb+diff") == 4 and not luma_only("psrgb+diff")
    torch.testing.assert_close(both[:, 3:], InputTransform("psdiff")(still), atol=1e-4, rtol=0)
    # a still camera: stabilising leaves the frames (nearly) alone, so the RGB stream is the crop of the clip
    boxes = motion_boxes(to_gray(still))
    assert float(boxes[0, 2]) < 0.9  # the box zooms in: the check below is not the identity
    expected = InputTransform("rgb")(crop_windows(still, boxes))
    assert float((both[:, :3] - expected).abs().mean()) < 0.02


def test_the_rgb_stream_holds_still_under_a_panning_camera():
    still, panning = _clip(pan_px=0.0), _clip(pan_px=1.5)
    plain = _rgb_change(InputTransform("rgb+diff")(panning)) / _rgb_change(InputTransform("rgb+diff")(still))
    stable = _rgb_change(InputTransform("psrgb+diff")(panning)) / _rgb_change(InputTransform("psrgb+diff")(still))
    assert plain > 10  # the plain RGB stream sees the wall slide by in every frame
    assert stable < 1.5  # the stabilised one sees about what a still camera gives


def test_a_small_persons_rgb_stream_looks_like_a_large_ones():
    big = _person(1.0).expand(-1, 3, -1, -1, -1)
    small = _person(0.55, cx=26, cy=36).expand(-1, 3, -1, -1, -1)

    def similarity(mode):
        a, b = (InputTransform(mode)(x)[:, :3].flatten() for x in (big, small))
        return float(torch.nn.functional.cosine_similarity(a - a.mean(), b - b.mean(), dim=0))

    assert similarity("rgb+diff") < 0.3
    assert similarity("psrgb+diff") > 0.7


def test_psrgb_models_are_two_streams():
    from simgen.train.models import create_action_model, create_tiny3d

    assert set(TWO_STREAM_INPUTS) == {"rgb+diff", "psrgb+diff"}
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="psrgb+diff", frame_head=False)
    assert model.out_features == 2 * create_tiny3d().out_features
    assert model(torch.rand(2, 4, 8, 32, 32))["clip"].shape == (2, 3)


def test_the_camera_gate_counts_psrgb_as_stabilised():
    from simgen.train.ensemble_scores import gate_applies, gated_members

    assert gate_applies(["diff", "psrgb+diff"])
    assert gated_members(["diff", "psrgb+diff"], speed=0.05, gate=0.008) == [1]

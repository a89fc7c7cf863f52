import pytest
import torch

from simgen.train.inputs import InputTransform, input_channels, temporal_difference, to_gray


@pytest.mark.parametrize("mode,channels", [("rgb", 3), ("gray", 1), ("diff", 1), ("rgb+diff", 4)])
def test_shapes(mode, channels):
    out = InputTransform(mode)(torch.rand(2, 3, 5, 8, 8))
    assert out.shape == (2, channels, 5, 8, 8) and input_channels(mode) == channels


def test_difference_of_a_static_clip_is_zero_and_of_a_ramp_constant():
    static = torch.rand(1, 3, 1, 8, 8).expand(1, 3, 6, 8, 8)
    assert InputTransform("diff")(static).abs().max() == 0
    ramp = torch.linspace(0, 1, 6).view(1, 1, 6, 1, 1).expand(1, 3, 6, 4, 4)
    d = temporal_difference(to_gray(ramp))
    torch.testing.assert_close(d, torch.full_like(d, 0.2))


def test_rgb_plus_diff_keeps_rgb_stream():
    x = torch.rand(1, 3, 4, 8, 8)
    both = InputTransform("rgb+diff")(x)
    torch.testing.assert_close(both[:, :3], InputTransform("rgb")(x))
    torch.testing.assert_close(both[:, 3:], InputTransform("diff")(x))


def test_bad_mode_and_bad_channels():
    with pytest.raises(ValueError, match="unknown input mode"):
        InputTransform("flow")
    with pytest.raises(ValueError, match="RGB"):
        InputTransform("gray")(torch.rand(1, 1, 2, 4, 4))

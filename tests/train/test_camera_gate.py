"""The camera gate of score ensembles: a clip filmed by a moving camera is scored by the members that
stabilise their input (train/ensemble_scores.py), the speed measured by adapt/stabilise.camera_speed."""

import cv2
import numpy as np
import pytest
import torch

from simgen.adapt.stabilise import camera_speed
from simgen.train.ensemble_scores import Member, ScoreEnsemble, gated_members
from simgen.train.evaluate import clip_scores, frame_scores


def _scene(n=24, size=64, pan_px=0.0, seed=0):
    """A textured wall filmed for ``n`` frames, the camera panning ``pan_px`` px per frame, and a bright
    block (the person) moving by itself in the middle of the view."""
    rng = np.random.default_rng(seed)
    wall = cv2.GaussianBlur((rng.random((size * 2, size * 3)) * 255).astype(np.uint8), (0, 0), 1.0)
    frames = []
    for t in range(n):
        x0 = int(round(10 + pan_px * t))
        view = wall[10 : 10 + size, x0 : x0 + size].copy()
        y = 20 + int(6 * np.sin(t / 2))  # the person's own motion: up and down, whatever the camera does
        view[y : y + 16, 26:38] = 250
        frames.append(np.repeat(view[..., None], 3, axis=2))
    return np.stack(frames)


def test_camera_speed_is_near_zero_for_a_still_camera_and_the_pan_rate_for_a_moving_one():
    still = camera_speed(_scene(pan_px=0.0))
    assert still < 0.002  # the moving block is an outlier to the global fit
    for pan in (1.0, 2.0):
        assert camera_speed(_scene(pan_px=pan)) == pytest.approx(pan / 64, rel=0.15)
    assert camera_speed(_scene(n=1)) == 0.0


def test_gated_members_keep_the_stabilised_ones_only_above_the_gate_and_only_when_inputs_mix():
    inputs = ["diff", "psdiff", "sdiff"]
    assert gated_members(inputs, speed=0.02, gate=0.008) == [1, 2]
    assert gated_members(inputs, speed=0.005, gate=0.008) == [0, 1, 2]
    assert gated_members(inputs, speed=0.02, gate=None) == [0, 1, 2]
    assert gated_members(["diff", "pdiff"], speed=0.5, gate=0.008) == [0, 1]  # nothing stabilised: all stay


class _Constant(torch.nn.Module):
    """A stand-in model: the same clip and per-frame probabilities whatever the input."""

    def __init__(self, probs):
        super().__init__()
        self.logits = torch.log(torch.tensor(probs))
        self.frame_head = object()

    def forward(self, x):
        b, _, t = x.shape[:3]
        return dict(clip=self.logits.expand(b, -1), frame=self.logits.view(1, -1, 1).expand(b, -1, t))


def _member(input_mode, probs, name):
    meta = dict(input=input_mode, num_frames=8, stride=1, classes=["a", "b"], size=64, frame_background=None, fps=None)
    return Member(_Constant(probs), meta, name)


def test_a_moving_camera_leaves_the_plain_difference_member_out_of_the_fused_scores():
    plain, steady = _member("diff", [0.9, 0.1], "plain.pt"), _member("psdiff", [0.3, 0.7], "steady.pt")
    ens = ScoreEnsemble([plain, steady], camera_gate=0.008)
    still, moving = torch.from_numpy(_scene(pan_px=0.0)), torch.from_numpy(_scene(pan_px=1.5))
    assert torch.allclose(clip_scores(ens, None, still, num_frames=8, stride=1, device="cpu"), torch.tensor([0.6, 0.4]))
    assert torch.allclose(clip_scores(ens, None, moving, num_frames=8, stride=1, device="cpu"), torch.tensor([0.3, 0.7]))
    per_frame = frame_scores(ens, None, moving, num_frames=8, stride=1, device="cpu")
    assert torch.allclose(per_frame, torch.tensor([0.3, 0.7]).expand_as(per_frame), atol=1e-5)
    assert ens.fused_members(moving) == [1] and ens.fused_members(still) == [0, 1]
    assert ens.gate_counts == dict(clips=3, gated=2, clutter_gated=0)
    # without the gate (a view sharing the scores), the moving clip is the plain mean again
    off = ens.view(camera_gate=None)
    assert torch.allclose(clip_scores(off, None, moving, num_frames=8, stride=1, device="cpu"), torch.tensor([0.6, 0.4]))
    # a view keeps the gate unless told otherwise
    assert ens.view(fusion="vote").camera_gate == 0.008


def test_predict_lists_the_members_an_ensemble_fused_for_each_video():
    from simgen.train.predict import predict_frames

    plain, steady = _member("diff", [0.9, 0.1], "plain.pt"), _member("psdiff", [0.3, 0.7], "steady.pt")
    ens = ScoreEnsemble([plain, steady], camera_gate=0.008)
    meta = dict(plain.meta, fps=25.0)
    moving = predict_frames(ens, meta, _scene(pan_px=1.5), 25.0, smoothing="none")
    still = predict_frames(ens, meta, _scene(pan_px=0.0), 25.0, smoothing="none")
    assert moving["members"] == ["steady.pt"] and moving["clip"]["label"] == "b"
    assert still["members"] == ["plain.pt", "steady.pt"] and still["clip"]["label"] == "a"


def test_the_camera_gate_option_takes_a_speed_or_off_and_names_what_it_expects():
    import argparse

    from simgen.pipelines.ensemble_options import CAMERA_GATE, camera_gate

    assert camera_gate("off") is None and camera_gate("0") is None and camera_gate("0.01") == 0.01
    for bad in ("2", "-0.1", "fast"):
        with pytest.raises(argparse.ArgumentTypeError, match="camera speed"):
            camera_gate(bad)
    # the default lies between a still camera's speed and the mildest moving crop's (see camera_speed)
    assert camera_speed(_scene(pan_px=0.0)) < CAMERA_GATE < camera_speed(_scene(pan_px=1.0))

"""Low-level clip statistics and the label-free person box, on hand-made frames with known answers."""

import numpy as np
import pytest

from simgen.adapt.calibrate.lowlevel import (
    clip_statistics,
    colour_histogram,
    flow_magnitude,
    frame_difference,
    luma,
    noise_sigma,
    sharpness,
)
from simgen.adapt.calibrate.person import mask_box, person_masks, person_statistics


def _textured(rng, size=64):
    """A smooth random texture (blurred noise): structure for flow, little high-frequency content."""
    import cv2

    base = rng.uniform(0, 255, (size, size)).astype(np.float32)
    return cv2.GaussianBlur(base, (0, 0), 3) * 3 - 250


@pytest.mark.parametrize("sigma", [2.0, 6.0])
def test_noise_sigma_recovers_added_gaussian_noise(sigma):
    rng = np.random.default_rng(0)
    clean = np.full((4, 64, 64), 120.0, np.float32) + np.linspace(0, 40, 64)[None, None, :]  # a smooth ramp cancels
    assert noise_sigma(clean) < 0.05
    assert noise_sigma(clean + rng.normal(0, sigma, clean.shape).astype(np.float32)) == pytest.approx(sigma, rel=0.12)


def test_sharpness_falls_with_blur():
    import cv2

    rng = np.random.default_rng(1)
    sharp = rng.uniform(0, 255, (2, 64, 64)).astype(np.float32)
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in sharp])
    assert sharpness(blurred) < sharpness(sharp) / 10


def test_frame_difference_and_flow_of_a_moving_texture():
    rng = np.random.default_rng(2)
    texture = _textured(rng, 96)
    still = np.stack([texture[:64, :64]] * 6)
    step = 2  # pixels per frame, to the right
    moving = np.stack([texture[:64, 16 - step * t: 80 - step * t] for t in range(6)])
    assert frame_difference(still) == 0.0 and flow_magnitude(still, 25.0) == pytest.approx(0.0, abs=0.01)
    assert frame_difference(moving) > 1.0
    # 2 px/frame at 25 fps in a 64 px frame: 2 * 25 / 64 = 0.78 frame heights per second
    assert flow_magnitude(moving, 25.0) == pytest.approx(step * 25.0 / 64, rel=0.25)
    assert flow_magnitude(moving, 50.0) == pytest.approx(2 * flow_magnitude(moving, 25.0))


def test_colour_histogram_and_brightness_of_known_frames():
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    frames[..., 0] = 255  # pure red
    hist = colour_histogram(frames, bins=4)
    assert hist.sum(axis=1) == pytest.approx(np.ones(3))
    assert hist[0, 3] == 1.0 and hist[1, 0] == 1.0 and hist[2, 0] == 1.0
    assert luma(frames).mean() == pytest.approx(0.299 * 255, rel=1e-4)
    stats = clip_statistics(frames, 25.0, 0.5)
    assert stats["contrast"] == pytest.approx(0.0, abs=1e-4) and stats["bits_per_pixel"] == 0.5 and stats["fps"] == 25.0


def _person_clip(rng, *, width, height, left, top, frames=8, size=64, background="gradient"):
    f = np.zeros((frames, size, size, 3), np.float32) + 150
    if background == "gradient":
        f += np.linspace(-70, 70, size)[None, :, None, None]  # vertical gradient: the border model is per row
    for t in range(frames):
        f[t, top:top + height, left:left + width] = (40, 50, 80)
        f[t, top + 4:top + 6, left + width + 2:left + width + 4] = (40, 50, 80)  # a hand 2 px off the body: one person still
    f += rng.normal(0, 3, f.shape)
    return np.clip(f, 0, 255).astype(np.uint8)


def test_person_box_is_found_on_a_gradient_background():
    rng = np.random.default_rng(3)
    clip = _person_clip(rng, width=10, height=40, left=27, top=18)
    masks = person_masks(clip)
    assert mask_box(masks[0]) == (27, 18, 41, 58)  # the hand (2 px right of the body) belongs to the person
    stats = person_statistics(masks)
    assert stats["person_height"] == pytest.approx(40 / 64)
    assert stats["person_bottom"] == pytest.approx(58 / 64)
    assert stats["person_centre_x"] == pytest.approx(34 / 64)
    assert stats["person_found"] == 1.0


def test_a_bulkier_person_scores_higher_bulk_at_the_same_height():
    rng = np.random.default_rng(4)
    thin = person_statistics(person_masks(_person_clip(rng, width=6, height=40, left=29, top=18)))
    wide = person_statistics(person_masks(_person_clip(rng, width=16, height=40, left=24, top=18)))
    assert wide["person_height"] == pytest.approx(thin["person_height"])
    assert wide["person_bulk"] > 2 * thin["person_bulk"]


def test_empty_scene_has_no_person():
    rng = np.random.default_rng(5)
    empty = np.clip(150 + rng.normal(0, 3, (4, 64, 64, 3)), 0, 255).astype(np.uint8)
    stats = person_statistics(person_masks(empty))
    assert stats["person_found"] == 0.0 and stats["person_height"] is None

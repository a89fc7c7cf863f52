"""Test-side perturbations: each kind changes what it says, at the stated level, deterministically."""

import numpy as np
import pytest

from simgen.adapt.perturb import (
    PERTURBATIONS,
    apply_perturbation,
    camera_path,
    kept_frames,
    occluder_columns,
)


def _textured_clip(t=12, h=48, w=64, seed=0):
    """A static, smooth but textured scene (so crops and codecs have something to change)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 4) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], -1).astype(np.float64)
    base += rng.normal(0, 6, base.shape)
    return np.repeat(np.clip(base, 0, 255).astype(np.uint8)[None], t, axis=0)


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


@pytest.mark.parametrize("kind", list(PERTURBATIONS))
def test_severity_zero_is_identity_and_levels_are_several(kind):
    clip = _textured_clip()
    out, fps = apply_perturbation(clip, 25.0, kind, 0, np.random.default_rng(0))
    assert fps == 25.0 and np.array_equal(out, clip)
    assert len(PERTURBATIONS[kind]) >= 2


@pytest.mark.parametrize("kind", list(PERTURBATIONS))
def test_deterministic_given_rng_and_changes_the_clip(kind):
    clip = _textured_clip()
    level = PERTURBATIONS[kind][-1]
    a, fa = apply_perturbation(clip, 25.0, kind, level, np.random.default_rng(3))
    b, fb = apply_perturbation(clip, 25.0, kind, level, np.random.default_rng(3))
    assert np.array_equal(a, b) and fa == fb
    assert a.dtype == np.uint8 and a.shape[1:] == clip.shape[1:]
    assert a.shape != clip.shape or not np.array_equal(a, clip)


@pytest.mark.parametrize("fraction", PERTURBATIONS["occlusion"])
def test_occlusion_covers_the_stated_fraction_of_every_frame_and_sweeps(fraction):
    clip = np.zeros((20, 40, 64, 3), np.uint8)  # black: every occluded pixel is the bar's colour
    rng = np.random.default_rng(1)
    out, _ = apply_perturbation(clip, 25.0, "occlusion", fraction, rng)
    covered = (out != 0).any(-1)
    bar = round(fraction * 64)
    for f in covered:
        cols = np.flatnonzero(f.any(0))
        assert f.all(0)[cols].all()  # full height
        assert len(cols) == bar and np.ptp(cols) == bar - 1  # one solid bar of that width
    assert covered.mean(axis=(1, 2)) == pytest.approx(bar / 64)
    lefts = [np.flatnonzero(f.any(0))[0] for f in covered]
    assert {lefts[0], lefts[-1]} == {0, 64 - bar}  # edge to edge
    assert np.all(np.diff(lefts) > 0) or np.all(np.diff(lefts) < 0)  # moves every frame, one way


def test_occluder_direction_and_colour_come_from_rng():
    dirs = {tuple(occluder_columns(5, 64, 0.3, np.random.default_rng(s))[:2]) for s in range(10)}
    assert len(dirs) == 2


@pytest.mark.parametrize("strength", PERTURBATIONS["camera"])
def test_camera_crop_moves_zooms_and_stays_inside(strength):
    path = camera_path(30, strength, np.random.default_rng(0))
    cx, cy, side = path.T
    assert side[0] == pytest.approx(1 - strength / 2) and side[-1] == pytest.approx(1 - strength)
    # pans: from -0.8 of the room at the start (s/4) to +0.8 at the end (s/2), i.e. 0.6 s
    assert np.hypot(cx[-1] - cx[0], cy[-1] - cy[0]) > 0.45 * strength
    jitter = np.diff(cx, 2)  # the pan is linear: second differences are the shake
    assert 0.5 * strength / 15 < jitter[1:].std() / np.sqrt(6) < 2 * strength / 15
    assert np.all(cx - side / 2 >= -1e-9) and np.all(cx + side / 2 <= 1 + 1e-9)
    assert np.all(cy - side / 2 >= -1e-9) and np.all(cy + side / 2 <= 1 + 1e-9)


def test_camera_makes_a_static_scene_move():
    clip = _textured_clip(t=10)
    out, _ = apply_perturbation(clip, 25.0, "camera", 0.2, np.random.default_rng(0))
    assert np.abs(np.diff(clip.astype(int), axis=0)).mean() == 0
    assert np.abs(np.diff(out.astype(int), axis=0)).mean() > 2  # every pixel sees the camera's motion
    # frame 0 is the centre crop of side 0.9 scaled up: its middle pixel matches the input's middle
    assert np.abs(out[0, 24, 32].astype(int) - clip[0, 24, 32].astype(int)).max() < 40


@pytest.mark.parametrize("shrink", PERTURBATIONS["scale"])
def test_scale_shrinks_about_the_centre_and_fills_the_border_without_black(shrink):
    clip = np.full((3, 64, 64, 3), 200, np.uint8)
    clip[:, 16:48, 24:40] = 10  # a dark "person" 32 px tall, 16 wide, centred
    out, fps = apply_perturbation(clip, 25.0, "scale", shrink, np.random.default_rng(0))
    dark = out[0, ..., 0] < 105
    rows, cols = np.flatnonzero(dark.any(1)), np.flatnonzero(dark.any(0))
    assert len(rows) == pytest.approx(32 * (1 - shrink), abs=1.5)
    assert len(cols) == pytest.approx(16 * (1 - shrink), abs=1.5)
    assert rows.mean() == pytest.approx(31.5, abs=1) and cols.mean() == pytest.approx(31.5, abs=1)
    assert out[0, 0, 0].min() > 150 and out[0, -1, -1].min() > 150  # border: the scene's own colour
    assert fps == 25.0


@pytest.mark.parametrize("divisor", PERTURBATIONS["fps"])
def test_fps_drops_frames_and_divides_the_rate(divisor):
    clip = np.arange(30, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 3), np.uint8)
    out, fps = apply_perturbation(clip, 30.0, "fps", divisor, np.random.default_rng(0))
    k = int(divisor)
    assert fps == pytest.approx(30.0 / k) and len(out) == len(range(0, 30, k))
    assert out[:, 0, 0, 0].tolist() == list(range(0, 30, k))
    assert kept_frames(30, "fps", divisor).tolist() == list(range(0, 30, k))
    assert kept_frames(30, "occlusion", 0.3).tolist() == list(range(30))


def test_compression_lowers_psnr_monotonically_with_crf():
    clip = _textured_clip(t=8)
    psnr = [_psnr(apply_perturbation(clip, 25.0, "compression", crf, np.random.default_rng(0))[0], clip)
            for crf in PERTURBATIONS["compression"]]
    assert all(a > b + 1 for a, b in zip(psnr, psnr[1:])), psnr
    assert psnr[-1] < 30


def test_compression_keeps_odd_sizes_and_frame_count():
    clip = _textured_clip(t=5, h=33, w=45)
    out, _ = apply_perturbation(clip, 12.5, "compression", 40, np.random.default_rng(0))
    assert out.shape == clip.shape


@pytest.mark.parametrize("kind,level,needle", [
    ("blur", 1, "unknown perturbation 'blur'; choices: occlusion, camera, scale, fps, compression"),
    ("occlusion", 0.9, "unknown occlusion level 0.9; choices: 0, 0.15, 0.3, 0.45"),
    ("fps", 4, "unknown fps level 4; choices: 0, 1, 2, 3"),
])
def test_unknown_kind_or_level_names_it_and_the_choices(kind, level, needle):
    with pytest.raises(ValueError) as err:
        apply_perturbation(_textured_clip(t=2), 25.0, kind, level, np.random.default_rng(0))
    assert str(err.value) == needle


def test_bad_frames_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        apply_perturbation(np.zeros((2, 4, 4, 3), np.float32), 25.0, "scale", 0.25, np.random.default_rng(0))

"""Global-motion compensation: known camera motion is recovered and undone; a still camera is left alone."""

import cv2
import numpy as np
import pytest

from simgen.adapt.perturb import apply_perturbation
from simgen.adapt.stabilise import pairwise_motion, stabilise


def _scene(size=64, seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (size // 4, size // 4))
    tex = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    tex = np.clip(128 + 40 * tex, 0, 255).astype(np.uint8)
    return np.repeat(tex[..., None], 3, -1)


def _with_person(scene, t):
    """A dark block (the person) whose top half swings left and right."""
    f = scene.copy()
    f[22:50, 28:36] = 20
    x = 28 + int(round(6 * np.sin(t / 2)))
    f[18:26, x : x + 10] = 20
    return f


def _diff(frames):
    return np.abs(np.diff(frames.astype(int), axis=0)).mean()


@pytest.mark.parametrize("dx,dy,zoom", [(2.0, 0.0, 1.0), (-1.5, 1.0, 1.0), (0.0, 0.0, 1.04)])
def test_pairwise_motion_recovers_a_known_similarity(dx, dy, zoom):
    prev = _scene()
    c = 31.5
    m = np.array([[zoom, 0, c - zoom * c + dx], [0, zoom, c - zoom * c + dy]])  # prev point x -> cur point m x
    cur = cv2.warpAffine(prev, m, (64, 64), borderMode=cv2.BORDER_REFLECT)
    est = pairwise_motion(prev, cur)
    assert est[:2] == pytest.approx(m, abs=0.08)


def test_a_still_camera_is_left_nearly_unchanged():
    clip = np.stack([_with_person(_scene(), t) for t in range(20)])
    out = stabilise(clip)
    assert np.abs(out.astype(int) - clip).mean() < 1.0  # the swinging arm does not drag the frame along


@pytest.mark.parametrize("strength", [0.1, 0.3])
def test_a_moving_camera_is_undone(strength):
    clip = np.stack([_with_person(_scene(), t) for t in range(24)])
    moved, _ = apply_perturbation(clip, 25.0, "camera", strength, np.random.default_rng(0))
    steady = stabilise(moved)
    assert _diff(moved) > 1.5 * _diff(clip)
    # what is left is close to the person's own motion
    assert _diff(steady) < _diff(clip) + 0.35 * (_diff(moved) - _diff(clip))


def test_flat_frames_fall_back_to_identity():
    flat = np.full((3, 32, 32, 3), 90, np.uint8)
    assert np.array_equal(stabilise(flat), flat)
    assert np.array_equal(pairwise_motion(flat[0], flat[1]), np.eye(3))


def test_a_cut_restarts_the_reference_instead_of_warping_by_garbage():
    a = np.stack([_with_person(_scene(seed=0), t) for t in range(10)])
    b = np.stack([_with_person(_scene(seed=1), t) for t in range(10)])
    moved, _ = apply_perturbation(np.concatenate([a, b]), 25.0, "camera", 0.3, np.random.default_rng(0))
    out = stabilise(moved)
    assert np.array_equal(out[10], moved[10])  # the first frame after the cut is the new reference
    assert _diff(out[10:]) < 0.6 * _diff(moved[10:])  # and the second clip is still steadied

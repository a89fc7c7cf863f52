"""Scene and camera realism: backgrounds from images, textures, distractors, blur, noise."""

import cv2
import numpy as np
import pytest

from simgen.camera_noise import apply_camera_noise
from simgen.clip import Simulator, make_clip
from simgen.errors import SimgenError
from simgen.jobs.runner import generate_dataset
from simgen.motion.library import ActionLibrary
from simgen.sampling import sample_factors


@pytest.fixture(scope="module")
def sim():
    s = Simulator(ActionLibrary())
    yield s
    s.close()


@pytest.fixture
def image_dir(tmp_path):
    folder = tmp_path / "backgrounds"
    folder.mkdir()
    img = np.zeros((80, 120, 3), np.uint8)
    img[:, :, 2] = 255  # pure red in BGR
    cv2.imwrite(str(folder / "red.png"), img)
    return folder


def _clip(sim, spec, label, seed, **scene):
    factors = sample_factors(spec, sim.library, label, seed)
    factors["scene"].update(scene)
    factors["camera"].update(trajectory="static", shake_deg=0.0)
    return factors, make_clip(sim, spec, factors, seed)


def test_image_background_fills_the_sky_only(sim, make_tiny_spec, image_dir):
    spec = make_tiny_spec(frames=3, size=[64, 64], **{"physics.enabled": False, "scene.background": "image", "scene.background_dir": str(image_dir)})
    factors, clip = _clip(sim, spec, "wave1", 1)
    assert factors["scene"]["background_image"].endswith("red.png")
    sky = clip.depth == 0  # nothing was hit there
    assert sky.any()
    assert (clip.frames[sky][:, 0] > 240).all() and (clip.frames[sky][:, 1:] < 15).all()
    assert (clip.mask[sky] == 0).all()


def test_behind_mode_covers_the_ground_too(sim, make_tiny_spec, image_dir):
    spec = make_tiny_spec(
        frames=2, size=[64, 64], **{"physics.enabled": False, "scene.background": "image", "scene.background_dir": str(image_dir), "scene.background_mode": "behind"}
    )
    _, clip = _clip(sim, spec, "wave1", 2)
    background = clip.mask == 0
    red = (clip.frames[..., 0] > 240) & (clip.frames[..., 1] < 15)
    assert red[background].mean() > 0.99
    assert not red[clip.mask == 1].any()


def test_background_folder_without_images_is_a_clear_error(make_tiny_spec, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here")
    spec = make_tiny_spec(**{"scene.background": "image", "scene.background_dir": str(empty)})
    with pytest.raises(SimgenError, match="holds no images") as err:
        generate_dataset(spec, tmp_path / "out", progress=False)
    assert str(empty) in str(err.value) and not (tmp_path / "out").exists()


def test_image_background_requires_a_folder(make_tiny_spec):
    with pytest.raises(SimgenError, match="background_dir"):
        make_tiny_spec(**{"scene.background": "image"})


def test_distractors_are_objects_in_the_mask(sim, make_tiny_spec):
    spec = make_tiny_spec(frames=2, size=[64, 64], **{"physics.enabled": False, "scene.distractor_count": 3})
    factors, clip = _clip(sim, spec, "clap", 4)
    assert len(factors["scene"]["distractors"]) == 3
    kinds = clip.annotations["objects"]
    assert list(kinds.values()).count("distractor") == 3
    assert any((clip.mask == int(v)).any() for v, k in kinds.items() if k == "distractor")


def test_motion_blur_smooths_fast_motion(sim, make_tiny_spec):
    spec = make_tiny_spec(frames=8, size=[64, 64], **{"physics.enabled": False})
    factors = sample_factors(spec, sim.library, "jack", 7)
    factors["camera"].update(trajectory="static", shake_deg=0.0)
    factors["camera_noise"].update(sensor_noise_std=0.0, jpeg_quality=None, motion_blur_subframes=1)
    sharp = make_clip(sim, spec, factors, 7)
    factors["camera_noise"]["motion_blur_subframes"] = 4
    blurred = make_clip(sim, spec, factors, 7)
    # Same ground truth; the blurred frames have softer edges (less high-frequency energy).
    assert np.array_equal(sharp.mask, blurred.mask)

    def edges(frames):
        return np.mean([np.abs(cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_32F)).mean() for f in frames[1:]])

    assert edges(blurred.frames) < edges(sharp.frames)


def test_sensor_noise_and_jpeg_are_seeded():
    frames = np.full((3, 32, 32, 3), 128, np.uint8)
    a = apply_camera_noise(frames, {"sensor_noise_std": 5.0, "jpeg_quality": 40, "noise_seed": 1})
    b = apply_camera_noise(frames, {"sensor_noise_std": 5.0, "jpeg_quality": 40, "noise_seed": 1})
    c = apply_camera_noise(frames, {"sensor_noise_std": 5.0, "jpeg_quality": None, "noise_seed": 2})
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 2.0 < np.std(c.astype(float)) < 8.0
    assert np.array_equal(apply_camera_noise(frames, {"sensor_noise_std": 0.0, "jpeg_quality": None, "noise_seed": 3}), frames)

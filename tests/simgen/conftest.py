import pytest

from simgen.jobs.runner import generate_dataset
from simgen.spec import load_spec

# Small and plain: tests switch on the features they are about.
TINY = {
    "clips": 6,
    "frames": 6,
    "size": [48, 48],
    "output.shard_size": 3,
    "seed": 11,
    "occlusion.probability": 0.0,
    "sequence.probability": 0.0,
    "scene.distractor_count": 0,
    "camera_noise.motion_blur_probability": 0.0,
    "camera_noise.jpeg_probability": 0.0,
    "camera_noise.sensor_noise_std": 0.0,
}
# Everything on, for the dataset that determinism and resume tests compare byte for byte.
ALL_FEATURES = {
    "frames": 10,
    "occlusion.probability": 0.5,
    "sequence.probability": 0.5,
    "scene.distractor_count": {"choice": [0, 1]},
    "camera_noise.motion_blur_probability": 0.5,
    "camera_noise.jpeg_probability": 0.3,
    "camera_noise.sensor_noise_std": [0, 4],
}


@pytest.fixture(scope="session")
def make_tiny_spec():
    """Factory for a small demo-preset spec; keyword overrides use dotted names via **{...}."""

    def make(**extra):
        return load_spec(preset="demo", overrides={**TINY, **extra})

    make.all_features = ALL_FEATURES
    return make


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, make_tiny_spec):
    """A small demo-preset dataset (2 shards, every feature on), generated once for the session."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    generate_dataset(make_tiny_spec(**ALL_FEATURES), out, workers=1, progress=False)
    return out

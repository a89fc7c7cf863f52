import pytest

from simgen.jobs.runner import generate_dataset
from simgen.spec import load_spec

TINY = {"clips": 6, "frames": 6, "size": [48, 48], "output.shard_size": 3, "seed": 11}


@pytest.fixture(scope="session")
def make_tiny_spec():
    """Factory for a small demo-preset spec; keyword overrides use dotted names via **{...}."""

    def make(**extra):
        return load_spec(preset="demo", overrides={**TINY, **extra})

    return make


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, make_tiny_spec):
    """A small demo-preset dataset (2 shards), generated once for the session."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    generate_dataset(make_tiny_spec(), out, workers=1, progress=False)
    return out

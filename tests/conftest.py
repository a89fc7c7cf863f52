from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def weizmann_dir() -> Path:
    path = SHARED_DATA / "weizmann4_dev"
    if not (path / "labels.csv").exists():
        pytest.skip(f"real clips not found at {path} (../shared/data/weizmann4_dev beside the checkout)")
    return path

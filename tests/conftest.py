from pathlib import Path

import os

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
LONG_TESTS_VAR = "SIMGEN_LONG_TESTS"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``long`` (measurements of many minutes) run only with SIMGEN_LONG_TESTS=1."""
    if os.environ.get(LONG_TESTS_VAR) == "1":
        return
    skip = pytest.mark.skip(reason=f"long measurement (minutes); run with {LONG_TESTS_VAR}=1 pytest -m long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def weizmann_dir() -> Path:
    path = SHARED_DATA / "weizmann4_dev"
    if not (path / "labels.csv").exists():
        pytest.skip(f"real clips not found at {path} (../shared/data/weizmann4_dev beside the checkout)")
    return path


class SimgenCli:
    """Runs the `simgen` CLI in-process and reads what it printed."""

    def __init__(self, capsys):
        self._capsys = capsys

    def run(self, argv) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of ``simgen ARGV``; argparse's exits count as statuses."""
        from simgen.pipelines.cli import main

        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's errors, --help, --version
            code = exc.code
        out = self._capsys.readouterr()
        return code, out.out, out.err

    def one_line_error(self, argv, *needles) -> str:
        """A command that must fail: exit 2, one line on stderr holding every needle, nothing on stdout.

        Returns that line."""
        code, out, err = self.run(argv)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in err and not out, (code, out, err)
        for needle in needles:
            assert str(needle) in lines[0], (needle, lines[0])
        return lines[0]


@pytest.fixture
def simgen_cli(capsys) -> SimgenCli:
    return SimgenCli(capsys)

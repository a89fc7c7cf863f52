"""The installed layout: one `simgen` namespace, every package listed, no generic top-level names."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLED_AS = {"simgen": "simgen", "train": "simgen.train", "adapt": "simgen.adapt", "pipelines": "simgen.pipelines", "assets": "simgen.assets"}


def _declared_packages() -> tuple[set[str], dict[str, str]]:
    setuptools_cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(setuptools_cfg["packages"]), setuptools_cfg["package-dir"]


def test_every_package_folder_is_declared_under_the_simgen_namespace():
    declared, package_dir = _declared_packages()
    on_disk = set()
    for folder, name in INSTALLED_AS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            on_disk.add(".".join((name, *rel)))
    assert on_disk == declared, f"pyproject packages differ from the tree: missing {on_disk - declared}, stale {declared - on_disk}"
    assert package_dir == {name: folder for folder, name in INSTALLED_AS.items()}
    assert all(p == "simgen" or p.startswith("simgen.") for p in declared)


def test_code_imports_the_namespaced_names_only():
    offenders = []
    for folder in ("simgen", "train", "adapt", "pipelines", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                words = line.strip().split()
                if len(words) >= 2 and words[0] in ("from", "import") and words[1].split(".")[0] in ("train", "adapt", "pipelines"):
                    offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_namespaced_modules_import_and_generic_names_do_not_exist(monkeypatch):
    # The repository root is on sys.path under pytest; the installed names must not need it.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != ROOT])
    import importlib

    assert importlib.import_module("simgen.train.fit").__file__.startswith(str(ROOT / "train"))
    assert importlib.import_module("simgen.pipelines.cli").__file__.startswith(str(ROOT / "pipelines"))
    assert importlib.util.find_spec("simgen.adapt") is not None

"""The README's examples work: its YAML blocks parse and validate, its `simgen` command lines (and those of
the measurement logs in docs/) parse, and its tour never tests a model on the real people it was trained on."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

README = Path(__file__).resolve().parents[1] / "README.md"
#: where the README's measurements moved with their commands (docs/sim2real-log.md)
DOCS = sorted((README.parent / "docs").glob("*.md"))


def _blocks(lang: str) -> list[str]:
    return [block for doc in (README, *DOCS) for block in re.findall(rf"```{lang}\n(.*?)```", doc.read_text(), flags=re.S)]


def _commands() -> list[list[str]]:
    """Every `simgen ...` command line of the bash blocks, as argv (optional `[...]` parts dropped)."""
    out = []
    for block in _blocks("bash"):
        block = re.sub(r"\\\n\s*", " ", block)  # join continued lines
        block = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", block)  # ${CLIPS:-200} -> its default
        for line in block.splitlines():
            line = re.sub(r"\s#.*$", "", line)  # a trailing comment
            line = re.sub(r"\s>\s*\S+", "", line)  # a redirection
            for part in line.split("&&"):
                words = shlex.split(re.sub(r"\[[^\]]*\]", "", part))
                if words and words[0].endswith("simgen"):
                    out.append(words[1:])
    return out


def test_readme_has_yaml_and_commands():
    assert len(_blocks("yaml")) >= 2 and len(_commands()) >= 15


@pytest.mark.parametrize("index", range(len(_blocks("yaml"))))
def test_every_yaml_block_parses_and_validates(index, tmp_path):
    text = _blocks("yaml")[index]
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    if "classes" in data:  # a generation spec
        from simgen.spec import validate_spec

        validate_spec(data, "README")
    elif "keyframes" in data:  # an action program
        from simgen.motion.program import load_program

        path = tmp_path / f"{data['name']}.yaml"
        path.write_text(text)
        load_program(path)
    elif "stages" in data:  # a recipe; DIR stands for a real-clips folder
        from simgen.pipelines.recipes import load_recipe

        path = tmp_path / "recipe.yaml"
        path.write_text(text.replace("DIR", str(tmp_path)))
        load_recipe(path)
    else:
        pytest.fail(f"README yaml block {index} is neither a spec, an action nor a recipe: {list(data)}")


def test_every_command_line_parses():
    from simgen.pipelines.cli import build_parser

    parser = build_parser()
    for argv in _commands():
        try:
            parser.parse_args(argv)
        except SystemExit as exc:  # argparse's way of saying no
            pytest.fail(f"README command does not parse (exit {exc.code}): simgen {' '.join(argv)}")


def _option(argv: list[str], name: str) -> set[str] | None:
    if name not in argv:
        return None
    return set(argv[argv.index(name) + 1].split(","))


def test_the_tour_tests_on_people_it_did_not_train_on():
    """An evaluation on a real folder some run trained on must keep to people that run left out."""
    commands = _commands()
    trained = []  # (run folder, real folder, people kept, people dropped)
    for argv in commands:
        if argv[0] == "train" and "--real" in argv:
            trained.append((argv[argv.index("--out") + 1], argv[argv.index("--real") + 1],
                            _option(argv, "--subjects"), _option(argv, "--exclude-subjects")))
    assert trained, "the README shows no training with real clips"
    checked = 0
    for argv in commands:
        if argv[0] != "evaluate":
            continue
        run, data = str(Path(argv[argv.index("--checkpoint") + 1]).parent), argv[argv.index("--data") + 1]
        test_kept, test_dropped = _option(argv, "--subjects"), _option(argv, "--exclude-subjects")
        for _, _, kept, dropped in [t for t in trained if t[:2] == (run, data)]:
            # the test people: an explicit list, or everyone but an explicit exclusion
            if kept is not None:
                apart = (test_dropped is not None and kept <= test_dropped) or (test_kept is not None and not kept & test_kept)
            else:
                apart = dropped is not None and test_kept is not None and test_kept <= dropped
            assert apart, f"tests on people it trained on: simgen {' '.join(argv)}"
            checked += 1
    assert checked >= 2

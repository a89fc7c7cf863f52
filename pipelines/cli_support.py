"""What every `simgen` subcommand shares: a parser that fails in one line, help that shows
defaults, range-checked option types, "did you mean", and checks of input and output paths
that run before any long work starts.

Pure Python (no torch, no pybullet): the CLI must answer `--help` and bad input fast.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
from pathlib import Path
from typing import Iterable

from simgen.errors import SimgenError

EXIT_USAGE = 2

#: ``--augment`` choices of `simgen train` and `simgen sim2real`, kept in step with simgen.train.config.AUGMENT_PRESETS
#: (tested; not imported here: --help must not load torch)
AUGMENTS = ("none", "light", "default", "strong", "robust", "occluded", "light-occluder")

#: ``--precision`` choices of `simgen train` and `simgen sim2real`: "auto" and the keys of
#: simgen.train.device.AUTOCAST_DTYPES (tested; not imported here, as above)
PRECISIONS = ("auto", "bf16", "fp16", "fp32")

#: Files `simgen train` writes into a run folder (``--force`` removes exactly these).
RUN_FILES = ("model.pt", "last.pt", "best.pt", "config.yaml", "metrics.json", "log.csv", "log.csv.tmp")
RUN_GLOBS = ("epoch*.pt", "*.pt.tmp*")
RUN_FOLDERS = ("tb",)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` did you mean 'x'?`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class HelpFormatter(argparse.HelpFormatter):
    """Shows every option's default; on/off for flags, read the right way round.

    ``--no-amp`` (store_false into ``amp``) reads "(default: amp on)"; a plain
    ``--quiet`` flag reads "(default: off)". Options whose help already says what the
    default is, required options and positionals are left alone; a ``None`` default
    must be explained in the help text itself (``test_every_option_has_help`` checks).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("(default" in text or "default:" in text or action.default is argparse.SUPPRESS or action.required
                or not action.option_strings):
            return text
        if isinstance(action, argparse._StoreFalseAction):
            return f"{text} (default: {action.dest.replace('_', ' ')} on)"
        if isinstance(action, argparse._StoreTrueAction):
            return f"{text} (default: off)"
        if action.default is None or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            return text
        if action.default == "":
            return f"{text} (default: none)"
        return f"{text} (default: %(default)s)"


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser without prefix abbreviations whose errors are one line, exit 2."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def harden(parser: argparse.ArgumentParser) -> None:
    """Give `parser` and every subcommand parser below it the CLI's rules.

    Applies to parsers that other modules add too: no abbreviations, one-line errors, help
    with defaults.
    """
    parser.allow_abbrev = False
    if parser.formatter_class in (argparse.HelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        parser.formatter_class = HelpFormatter
    if not isinstance(parser, CliParser):
        parser.error = CliParser.error.__get__(parser)  # type: ignore[method-assign]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                harden(sub)


def int_at_least(low: int):
    """argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got '{text}'") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text}")
    return value


def comma_list(text: str) -> list[str]:
    """argparse type: ``a,b,c`` -> ``['a', 'b', 'c']`` (no empty items)."""
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names, got '{text}'")
    return items


def _fail(option: str, path, message: str) -> SimgenError:
    return SimgenError(f"{option} {path}: {message}")


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_can_create(path: Path, option: str, shown) -> None:
    """Raise unless `path` (absent) could be created: its nearest existing ancestor is a writable folder."""
    ancestor = _nearest_existing(path.parent)
    if not ancestor.is_dir():
        raise _fail(option, shown, f"'{ancestor}' is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _fail(option, shown, f"cannot write in '{ancestor}' (permission denied)")


def check_output_file(path, option: str = "--out", suffixes: tuple[str, ...] = ()) -> Path:
    """Check, without creating anything, that `path` can be written as a file."""
    p = Path(path)
    if p.is_dir():
        raise _fail(option, path, "is a folder; give a file name")
    if suffixes and p.suffix.lower() not in suffixes:
        raise _fail(option, path, f"expected a file name ending in {' or '.join(suffixes)}")
    if p.exists():
        if not os.access(p, os.W_OK):
            raise _fail(option, path, "cannot overwrite (permission denied)")
        return p
    _check_can_create(p, option, path)
    return p


def check_output_folder(path, option: str = "--out") -> Path:
    """Check, without creating anything, that `path` is or can become a folder."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise _fail(option, path, "is a file, not a folder")
        if not os.access(p, os.W_OK | os.X_OK):
            raise _fail(option, path, "cannot write here (permission denied)")
        return p
    _check_can_create(p, option, path)
    return p


def check_input(path, option: str, *, folder: bool) -> Path:
    """An input that must exist: a folder (`folder=True`) or a file."""
    p = Path(path)
    if not p.exists():
        raise _fail(option, path, "not found")
    if folder and not p.is_dir():
        raise _fail(option, path, "is a file; expected a folder")
    if not folder and p.is_dir():
        raise _fail(option, path, "is a folder; expected a file")
    return p


def claim_run_folder(path, *, resume: bool, force: bool, option: str = "--out") -> Path:
    """Refuse to write a training run over another unless asked; ``force`` clears the old run's files.

    A folder that holds files other than a run's is refused even with ``force`` (they may
    be anything); ``resume`` needs the run to continue, which the fit loop checks.
    """
    p = check_output_folder(path, option)
    if resume and force:
        raise SimgenError("--resume and --force contradict each other: continue the run, or replace it")
    if not p.exists() or resume or not any(p.iterdir()):
        return p
    run_files = [f for f in p.iterdir() if _is_run_output(f)]
    others = sorted(f.name for f in p.iterdir() if not _is_run_output(f))
    if others:
        raise _fail(option, path, f"is not empty and not a training run (holds {', '.join(others[:3])}); use a new folder")
    if not force:
        names = ", ".join(sorted(f.name for f in run_files)[:4])
        raise _fail(option, path, f"holds a training run ({names}); add --resume to continue it or --force to replace it")
    for f in run_files:
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    return p


def _is_run_output(f: Path) -> bool:
    if f.is_dir():
        return f.name in RUN_FOLDERS
    return f.name in RUN_FILES or any(f.match(g) for g in RUN_GLOBS)


def unknown_word(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """One-line error for an unknown subcommand or option, naming the closest known one.

    argparse alone says "invalid choice" / "unrecognized arguments" without a suggestion.
    Returns ``None`` when every word is known (argparse then checks the rest).
    """
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return None
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = words[0]
    if command not in sub.choices:
        return (f"{parser.prog}: error: unknown command '{command}'{did_you_mean(command, sub.choices)} "
                f"(commands: {', '.join(sub.choices)})")
    subparser = sub.choices[command]
    options = [o for a in subparser._actions for o in a.option_strings]
    for arg in argv[argv.index(command) + 1:]:
        if arg == "--":
            break
        name = arg.split("=", 1)[0]
        if name.startswith("--") and name not in options:
            bare = {o.lstrip("-"): o for o in options}  # the shared "--" must not make words look alike
            close = difflib.get_close_matches(name.lstrip("-"), list(bare), n=1, cutoff=0.6)
            hint = f"; did you mean '{bare[close[0]]}'?" if close else ""
            return (f"{subparser.prog}: error: unknown option {name}{hint} "
                    f"(see `{subparser.prog} --help`)")
    return None


def print_error(command: str | None, message: str) -> int:
    print(f"simgen{' ' + command if command else ''}: error: {message}", file=sys.stderr)
    return EXIT_USAGE

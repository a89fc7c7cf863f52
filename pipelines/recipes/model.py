"""What a recipe file may say, and the checks that run before any stage starts.

A recipe names up to six stages, always run in this order::

    stages:
      generate:  {preset: weizmann4, clips: 200, seed: 0}          # simgen generate
      train:     {synthetic: $generate, model: tiny3d, epochs: 80}  # simgen train
      sim2real:  {synthetic: $generate, real: DIR, shots: 1, ...}   # simgen sim2real (the benchmark)
      adapt:     {checkpoint: $train/model.pt, real: DIR}           # simgen adapt (the model to deploy)
      evaluate:  {data: DIR, checkpoint: $train/model.pt, folds: $sim2real}
      calibrate: {synthetic: $generate, real: DIR, model: $train/model.pt}

A stage's keys are the options of the command it runs (``num_frames`` or ``num-frames`` for
``--num-frames``; ``true`` for a flag), checked against that command's own parser, so a recipe
accepts exactly what the command line does. The runner sets each stage's output options itself.
``$STAGE`` (optionally ``$STAGE/sub/path``) names an earlier stage's output; those references are
the stages' dependencies. Relative paths are read from the current folder, as on the command line.
Until 2026-12-02 the benchmark stage was called ``adapt``; such a recipe gets a one-line error
saying so (:func:`_renamed_benchmark_stage`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from simgen.errors import SimgenError
from simgen.pipelines.cli_support import did_you_mean


class RecipeError(SimgenError):
    """A recipe that cannot run: one line naming the file and the field."""


@dataclass(frozen=True)
class StageKind:
    """How one stage maps onto a ``simgen`` command."""

    command: str
    #: where ``$STAGE`` points inside ``OUT/STAGE``
    output: str
    #: options the runner sets (a recipe may not)
    managed: tuple[str, ...]
    #: options naming an input that must exist unless they are a ``$STAGE`` reference
    inputs: tuple[str, ...]
    #: options that change how, not what, a stage computes: left out of its hash
    not_hashed: tuple[str, ...] = ()
    #: keys of the stage's own, not the command's
    extra: tuple[str, ...] = ()


STAGES: dict[str, StageKind] = {
    "generate": StageKind("generate", "dataset", ("out",), ("config", "actions"),
                          not_hashed=("workers", "backend", "ray_address", "quiet", "json")),
    "train": StageKind("train", "run", ("out", "resume", "force", "json"), ("synthetic", "real", "val", "weights"),
                       not_hashed=("workers", "no_progress", "verbose", "cache_dir", "tensorboard")),
    "sim2real": StageKind("sim2real", "", ("out", "save_models"), ("synthetic", "real"),
                          not_hashed=("no_progress", "cache_dir")),
    "adapt": StageKind("adapt", "model.pt", ("out",), ("checkpoint", "real", "synthetic"),
                       not_hashed=("no_progress", "cache_dir")),
    "evaluate": StageKind("evaluate", "", ("out", "subjects", "exclude_subjects", "json"),
                          ("data", "checkpoint"), not_hashed=("no_progress", "cache_dir", "json"), extra=("folds",)),
    "calibrate": StageKind("calibrate", "", ("out",), ("synthetic", "real", "model", "spec"), not_hashed=("quiet",)),
}
STAGE_ORDER = tuple(STAGES)
REFERENCE = re.compile(r"^\$([A-Za-z_][\w-]*)(/.*)?$")


class StagesBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    generate: dict[str, Any] | None = None
    train: dict[str, Any] | None = None
    sim2real: dict[str, Any] | None = None
    adapt: dict[str, Any] | None = None
    evaluate: dict[str, Any] | None = None
    calibrate: dict[str, Any] | None = None


class RecipeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    stages: StagesBlock


@dataclass
class Stage:
    """One stage as the runner sees it: its options (references unresolved) and dependencies."""

    name: str
    options: dict[str, Any]
    depends: list[str]
    #: sha256 of the options and of the dependencies' hashes; ``options_hash``: of the options alone
    hash: str = ""
    options_hash: str = ""

    @property
    def kind(self) -> StageKind:
        return STAGES[self.name]


@dataclass
class Recipe:
    path: Path
    description: str
    #: ``simgen`` subcommand parsers by command name (to turn options into words)
    parsers: dict[str, argparse.ArgumentParser] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError("recipe file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RecipeError(f"malformed YAML: {' '.join(str(exc).split())}", file=str(path)) from None
    except RecursionError:
        raise RecipeError("malformed YAML: nested too deeply", file=str(path)) from None
    if not isinstance(data, dict):
        raise RecipeError("expected a mapping with a 'stages' key at the top level", file=str(path))
    return data


def _structure(data: dict, path: Path) -> RecipeFile:
    try:
        return RecipeFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            word = str(err["loc"][-1])
            known = STAGE_ORDER if len(err["loc"]) == 2 else ("description", "stages")
            what = "stage" if len(err["loc"]) == 2 else "key"
            message = f"unknown {what}{did_you_mean(word, known)} (known: {', '.join(known)})"
        elif err["type"] == "missing":
            message = "required"
        else:
            message = err["msg"].removeprefix("Value error, ")
        raise RecipeError(message, file=str(path), field=loc) from None


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """The ``simgen`` subcommand parsers, by command name."""
    from simgen.pipelines.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def option_action(parser: argparse.ArgumentParser, key: str) -> argparse.Action | None:
    return parser._option_string_actions.get("--" + key.replace("_", "-"))


def _key_name(action: argparse.Action) -> str:
    return action.option_strings[0].lstrip("-").replace("-", "_")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def option_argv(action: argparse.Action, value: Any, where: str, file: str) -> list[str]:
    """The command-line words for one recipe key: a flag, ``--opt v``, ``--opt a,b``, repeated ``--set k=v``."""
    flag = action.option_strings[0]
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if not isinstance(value, bool):
            raise RecipeError(f"expected true or false (a flag), got {value!r}", file=file, field=where)
        return [flag] if value else []
    if isinstance(value, bool) or value is None:
        raise RecipeError(f"expected a value for {flag}, got {value!r}", file=file, field=where)
    if isinstance(action, argparse._AppendAction):  # generate's --set: a mapping of dotted fields
        if not isinstance(value, dict):
            raise RecipeError(f"expected a mapping of dotted fields to values, e.g. {{camera.fov_deg: [30, 50]}}",
                              file=file, field=where)
        return [w for k, v in value.items() for w in (flag, f"{k}={_text(v)}")]
    if isinstance(value, dict):
        raise RecipeError(f"expected a value for {flag}, got a mapping", file=file, field=where)
    if isinstance(value, list):
        if action.nargs in ("+", "*"):
            return [flag, *map(str, value)]
        return [flag, ",".join(map(str, value))]
    return [flag, str(value)]


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and REFERENCE.match(value) is not None


def references(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [REFERENCE.match(v).group(1) for v in values if is_reference(v)]


def _renamed_benchmark_stage(name: str, key: str, parsers: dict[str, argparse.ArgumentParser]) -> bool:
    """Whether ``key`` of stage ``adapt`` is a ``simgen sim2real`` option: a recipe from before 2026-12-02,
    when the benchmark stage was called ``adapt``."""
    return name == "adapt" and option_action(parsers["sim2real"], key) is not None


RENAMED = ("the benchmark stage (`simgen sim2real`) is called sim2real since 2026-12-02, and adapt runs `simgen "
           "adapt` (the model to deploy, adapted to every clip of real); rename the stage to sim2real")


def _check_stage(name: str, options: dict, parser: argparse.ArgumentParser, earlier: list[str], file: str,
                 parsers: dict[str, argparse.ArgumentParser]) -> Stage:
    kind = STAGES[name]
    depends: list[str] = []
    for key, value in options.items():
        where = f"stages.{name}.{key}"
        key = str(key).replace("-", "_")
        action = option_action(parser, key)
        if key not in kind.extra:
            if action is None and _renamed_benchmark_stage(name, key, parsers):
                raise RecipeError(f"not an option of `simgen adapt`: {RENAMED}", file=file, field=where)
            if action is None:
                known = sorted({_key_name(a) for a in parser._actions if a.option_strings} - {"help", *kind.managed}
                               | set(kind.extra))
                raise RecipeError(f"unknown key{did_you_mean(key, known)} (`simgen {kind.command} --help` lists the "
                                  "options; write --num-frames as num_frames)", file=file, field=where)
            if key in kind.managed:
                raise RecipeError(f"set by `simgen run` (each stage writes under OUT/{name}/); remove it",
                                  file=file, field=where)
        for ref in references(value):
            if ref not in STAGES:
                raise RecipeError(f"${ref}: no such stage{did_you_mean(ref, STAGE_ORDER)} "
                                  f"(stages: {', '.join(STAGE_ORDER)})", file=file, field=where)
            if ref not in earlier:
                raise RecipeError(f"${ref}: not an earlier stage of this recipe (stages run in the order "
                                  f"{', '.join(STAGE_ORDER)})", file=file, field=where)
            depends.append(ref)
        if key in kind.inputs or key in kind.extra:
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, str):
                    raise RecipeError(f"expected a path or a $STAGE reference, got {item!r}", file=file, field=where)
                if not is_reference(item) and not Path(item).exists():
                    raise RecipeError(f"{item}: not found (relative paths are read from the current folder)",
                                      file=file, field=where)
    stage = Stage(name, {str(k).replace("-", "_"): v for k, v in options.items()}, list(dict.fromkeys(depends)))
    _parse_check(stage, parser, file)
    return stage


class _ParseError(Exception):
    pass


def _parse_check(stage: Stage, parser: argparse.ArgumentParser, file: str) -> None:
    """Parse the stage's options with the command's parser (types, choices, required options)."""
    argv = command_argv(stage, parser, lambda v: v if not is_reference(v) else "REF", file)
    argv += placeholder_argv(stage, parser)

    def error(message: str):
        raise _ParseError(message)

    parser.error = error  # type: ignore[method-assign]  # this parser object is ours, built for the check
    try:
        args = parser.parse_args(argv)
    except _ParseError as exc:
        message = str(exc)
        m = re.match(r"argument (--[\w-]+)(?:/[^:]*)?: (.*)", message)
        if m:
            raise RecipeError(m.group(2), file=file, field=f"stages.{stage.name}.{m.group(1)[2:].replace('-', '_')}") from None
        m = re.match(r"the following arguments are required: (.*)", message)
        if m:
            keys = [w.strip().lstrip("-").replace("-", "_") for w in m.group(1).split(",")]
            raise RecipeError("required", file=file, field=f"stages.{stage.name}.{keys[0]}") from None
        raise RecipeError(message, file=file, field=f"stages.{stage.name}") from None
    _semantic_check(stage, args, file)


def _semantic_check(stage: Stage, args: argparse.Namespace, file: str) -> None:
    """What the command checks after parsing: the generation spec, the training configuration."""
    if stage.name == "generate":
        from simgen.pipelines.cli import _spec_from_args

        try:
            _spec_from_args(args)
        except SimgenError as exc:
            raise RecipeError(exc.message if not exc.file else f"{exc.file}: {exc.message}", file=file,
                              field=f"stages.generate.{exc.field}" if exc.field else "stages.generate") from None
        return
    if stage.name not in ("train", "sim2real"):
        return
    from simgen.train.config import TrainConfig

    if stage.name == "train":
        fields = {k: getattr(args, k) for k in TrainConfig.model_fields if getattr(args, k, None) is not None}
        fields["selfsup"] = [t for t in (args.selfsup or "").split(",") if t]
    else:  # sim2real trains with these
        fields = {k: getattr(args, k) for k in ("model", "size", "num_frames", "stride")}
    try:
        TrainConfig(**{**fields, "out": "unused"})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"])
        raise RecipeError(err["msg"].removeprefix("Value error, "), file=file, field=f"stages.{stage.name}.{key}") from None


def placeholder_argv(stage: Stage, parser: argparse.ArgumentParser) -> list[str]:
    """Stand-ins for the options the runner sets, so that the check does not call them missing."""
    out = []
    for key in stage.kind.managed:
        action = option_action(parser, key)
        if action is not None and action.required:
            out += [action.option_strings[0], "PLACEHOLDER"]
    if stage.name == "evaluate":
        out += ["--checkpoint", "PLACEHOLDER"] if "checkpoint" not in stage.options else []
    return out


def command_argv(stage: Stage, parser: argparse.ArgumentParser, resolve, file: str) -> list[str]:
    """The stage's options as ``simgen COMMAND`` words (its own keys, e.g. evaluate's ``folds``, left out)."""
    argv = []
    for key, value in stage.options.items():
        if key in stage.kind.extra:
            continue
        action = option_action(parser, key)
        resolved = [resolve(v) for v in value] if isinstance(value, list) else resolve(value)
        argv += option_argv(action, resolved, f"stages.{stage.name}.{key}", file)
    return argv


def _evaluate_guard(recipe: Recipe, file: str) -> None:
    """Real-footage figures only on people a model never learned from."""
    ev, train = recipe.stage("evaluate"), recipe.stage("train")
    if ev is None:
        return
    if "checkpoint" not in ev.options and "folds" not in ev.options:
        raise RecipeError("give checkpoint (a model scored on every clip of data) and/or folds ($sim2real: each "
                          "fold's model scored on its test people only)", file=file, field="stages.evaluate")
    if "data" not in ev.options:
        raise RecipeError("required", file=file, field="stages.evaluate.data")
    if "folds" in ev.options and references(ev.options["folds"]) != ["sim2real"]:
        hint = f"; {RENAMED}" if references(ev.options["folds"]) == ["adapt"] else ""
        raise RecipeError(f"expected $sim2real (the benchmark stage's output){hint}", file=file,
                          field="stages.evaluate.folds")
    checkpoints = ev.options.get("checkpoint", [])
    if train is not None and train.options.get("real") and "train" in references(checkpoints):
        raise RecipeError("the train stage learns from real clips (stages.train.real), so scoring its model on every "
                          "person of data would test on people it trained on; score adapted models by fold "
                          "(folds: $sim2real) instead", file=file, field="stages.evaluate.checkpoint")
    adapt = recipe.stage("adapt")
    if adapt is not None and "adapt" in references(checkpoints) and _same_folder(adapt.options.get("real"),
                                                                                 ev.options["data"]):
        raise RecipeError("the adapt stage's model learned from the clips of this folder (stages.adapt.real), so "
                          "scoring it there would test on clips it trained on; the benchmark (folds: $sim2real) scores "
                          "the same method on people it never saw (and OUT/adapt/model.json holds a leave-one-person-"
                          "out estimate with select: cv)", file=file, field="stages.evaluate.checkpoint")


def _same_folder(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and not is_reference(a) and Path(a).resolve() == Path(b).resolve()


def stage_hash(stage: Stage, dep_hashes: dict[str, str]) -> str:
    """sha256 of the stage's options (as written, minus the how-not-what ones) and its dependencies' hashes."""
    hashed = {k: v for k, v in stage.options.items() if k not in stage.kind.not_hashed}
    text = json.dumps(dict(stage=stage.name, options=hashed, depends={d: dep_hashes[d] for d in stage.depends}),
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def hash_stages(stages: list[Stage]) -> None:
    """Fill each stage's hashes, in order (a stage's hash needs its dependencies')."""
    hashes: dict[str, str] = {}
    for stage in stages:
        stage.options_hash = stage_hash(Stage(stage.name, stage.options, []), {})
        stage.hash = hashes[stage.name] = stage_hash(stage, hashes)


def load_recipe(path: str | Path) -> Recipe:
    """Read and check a recipe; raises :class:`RecipeError` (one line: file, field, what is wrong)."""
    path = Path(path)
    file = str(path)
    structure = _structure(_read(path), path)
    parsers = command_parsers()
    recipe = Recipe(path=path, description=structure.description, parsers=parsers)
    given = structure.stages.model_dump()
    for name in structure.stages.model_fields_set:
        if given[name] is None:
            raise RecipeError("expected a mapping of options (use {} for the defaults)", file=file,
                              field=f"stages.{name}")
    if not any(v is not None for v in given.values()):
        raise RecipeError("no stage given (stages: " + ", ".join(STAGE_ORDER) + ")", file=file, field="stages")
    for name in STAGE_ORDER:
        options = given[name]
        if options is None:
            continue
        stage = _check_stage(name, options, parsers[STAGES[name].command], [s.name for s in recipe.stages], file,
                             parsers)
        recipe.stages.append(stage)
    hash_stages(recipe.stages)
    _evaluate_guard(recipe, file)
    return recipe

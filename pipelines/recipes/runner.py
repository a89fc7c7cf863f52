"""Run a recipe's stages under ``OUT/<stage>/``, skipping finished ones and resuming an interrupted one.

Each stage writes ``OUT/<stage>/started.json`` (its hash) before it starts and ``done.json`` (hash,
options, dependencies' hashes, commands, seconds, output files, headline figures) when it ends.
A stage's hash covers its options and the hashes of the stages it references, so a change
re-runs that stage and every stage downstream of it, and nothing upstream. Stages run as
``simgen`` subprocesses: each keeps its own one-line errors, progress bars and tables, and a
killed stage leaves what the command itself would leave (generate and train resume from it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from simgen.pipelines.recipes.model import STAGES, Recipe, RecipeError, Stage, command_argv, is_reference, REFERENCE
from simgen.pipelines.recipes import stages as stage_runners

MARKERS = ("started.json", "done.json")


@dataclass
class Step:
    stage: Stage
    action: str  # skip | run | resume
    reason: str


class StageFailed(Exception):
    def __init__(self, stage: str, argv: list[str], code: int):
        self.stage, self.argv, self.code = stage, argv, code
        super().__init__(f"stage {stage}: `simgen {' '.join(argv)}` exited with status {code} (its message is above); "
                         "finished stages are kept: fix the cause and re-run the same command")


def read_marker(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)  # a marker is whole or absent


def _can_resume(stage: Stage, folder: Path) -> bool:
    if stage.name == "generate":
        return (folder / "dataset" / "dataset.json").is_file()
    if stage.name == "train":
        return (folder / "run" / "last.pt").is_file()
    return False


def plan(recipe: Recipe, out: Path) -> list[Step]:
    """skip / run / resume for each stage, with the reason; checks that ``OUT/<stage>`` folders are ours."""
    steps: list[Step] = []
    running: set[str] = set()
    for stage in recipe.stages:
        folder = out / stage.name
        if folder.exists() and (not folder.is_dir() or (any(folder.iterdir())
                                                         and not any((folder / m).exists() for m in MARKERS))):
            raise RecipeError(f"{folder} holds files `simgen run` did not write (no started.json); "
                              "give another --out", field=None)
        done, started = read_marker(folder / "done.json"), read_marker(folder / "started.json")
        upstream = [d for d in stage.depends if d in running]
        if done and done.get("hash") == stage.hash and not upstream:
            steps.append(Step(stage, "skip", "finished"))
            continue
        running.add(stage.name)
        if not (done or started):
            reason = "not run yet"
        elif upstream:
            reason = f"uses {', '.join(upstream)}, which runs again"
        elif started and started.get("hash") == stage.hash:
            if _can_resume(stage, folder):
                steps.append(Step(stage, "resume", "interrupted; continues from what it kept"))
                continue
            reason = "interrupted; starts over" + ("" if stage.name in ("generate", "train") else
                                                  f" (`simgen {stage.kind.command}` cannot resume)")
        else:
            before = (done or started).get("options_hash")
            reason = "its options changed" if before != stage.options_hash else "an earlier stage changed"
        steps.append(Step(stage, "run", reason))
    return steps


def format_plan(steps: list[Step], out: Path) -> str:
    lines = [f"plan for {out}:"]
    for i, s in enumerate(steps, 1):
        lines.append(f"  {i}. {s.stage.name:9s} {s.action:6s} ({s.reason})")
    return "\n".join(lines)


@dataclass
class Context:
    """What a stage runner needs: its folder, reference resolution and a way to run ``simgen``."""

    recipe: Recipe
    out: Path
    stage: Stage
    commands: list[list[str]] = field(default_factory=list)
    echo: Callable[[str], None] = print

    @property
    def folder(self) -> Path:
        return self.out / self.stage.name

    def resolve(self, value):
        if not is_reference(value):
            return value
        m = REFERENCE.match(value)
        target = self.out / m.group(1) / STAGES[m.group(1)].output
        return str(target / m.group(2).lstrip("/")) if m.group(2) else str(target)

    def argv(self, skip: tuple[str, ...] = ()) -> list[str]:
        """The stage's options as words, references resolved, ``skip`` keys left out."""
        stage = self.stage
        if skip:
            stage = Stage(stage.name, {k: v for k, v in stage.options.items() if k not in skip}, stage.depends)
        return command_argv(stage, self.recipe.parsers[stage.kind.command], self.resolve, str(self.recipe.path))

    def simgen(self, argv: list) -> None:
        """Run ``simgen ARGV`` in a subprocess (output straight to the terminal); raise on failure."""
        argv = [str(a) for a in argv]
        self.commands.append(argv)
        self.echo(f"$ simgen {' '.join(argv)}")
        sys.stdout.flush()
        proc = subprocess.Popen([sys.executable, "-m", "simgen.pipelines.cli", *argv])
        try:
            code = proc.wait()
        except KeyboardInterrupt:  # Ctrl-C reached the child too; let it finish its own clean-up
            proc.wait()
            raise
        if code != 0:
            raise StageFailed(self.stage.name, argv, code)


def _clear(folder: Path) -> None:
    """Empty a stage folder this runner owns (its markers say so) before running the stage afresh."""
    if not folder.exists():
        return
    for f in folder.iterdir():
        shutil.rmtree(f) if f.is_dir() and not f.is_symlink() else f.unlink()


def run_recipe(recipe: Recipe, out: str | Path, *, until: str | None = None,
               echo: Callable[[str], None] = print) -> list[dict]:
    """Run every stage that is not finished (up to and including ``until``); returns their ``done.json`` records."""
    out = Path(out)
    steps = plan(recipe, out)
    if until is not None:
        names = [s.stage.name for s in steps]
        if until not in names:
            raise RecipeError(f"--until {until}: not a stage of {recipe.path} (its stages: {', '.join(names)})")
        steps = steps[:names.index(until) + 1]
    echo(format_plan(steps, out))
    records = []
    for i, step in enumerate(steps, 1):
        stage, folder = step.stage, out / step.stage.name
        if step.action == "skip":
            records.append(read_marker(folder / "done.json"))
            continue
        echo(f"[{i}/{len(steps)}] {stage.name}: {step.action} ({step.reason})")
        if step.action == "run":
            _clear(folder)
        else:
            (folder / "done.json").unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _write_json(folder / "started.json", dict(stage=stage.name, hash=stage.hash, options_hash=stage.options_hash,
                                                  started_at=started_at))
        ctx = Context(recipe, out, stage, echo=echo)
        t0 = time.perf_counter()
        result = stage_runners.RUNNERS[stage.name](ctx, resume=step.action == "resume")
        record = dict(stage=stage.name, hash=stage.hash, options_hash=stage.options_hash, options=stage.options,
                      depends={d: recipe.stage(d).hash for d in stage.depends}, commands=ctx.commands,
                      started_at=started_at, seconds=round(time.perf_counter() - t0, 1), resumed=step.action == "resume",
                      outputs=[str(p) for p in result.outputs], figures=result.figures)
        _write_json(folder / "done.json", record)
        records.append(record)
        echo(f"[{i}/{len(steps)}] {stage.name}: done in {record['seconds']:.1f} s")
    echo(summary(records, steps))
    return records


def summary(records: list[dict], steps: list[Step]) -> str:
    lines = ["", "summary:"]
    for rec, step in zip(records, steps):
        how = "skipped (finished earlier)" if step.action == "skip" else f"{step.action}, {rec['seconds']:.1f} s"
        lines.append(f"  {rec['stage']}: {how}")
        for name, value in rec.get("figures", {}).items():
            lines.append(f"    {name}: {value}")
        for path in rec.get("outputs", []):
            lines.append(f"    {path}")
    return "\n".join(lines)

"""``simgen run RECIPE.yaml``: generate -> train -> sim2real -> adapt -> evaluate -> calibrate from one recipe file.

``register(subparsers)`` adds the command. The whole recipe is checked (every stage's keys against
its command, every input path, every ``$STAGE`` reference) before anything runs: a bad recipe is one
line naming the file and the field, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_run(args: argparse.Namespace) -> int:
    from simgen.pipelines.cli_support import check_output_folder
    from simgen.pipelines.recipes import load_recipe, plan, run_recipe
    from simgen.pipelines.recipes.runner import StageFailed, format_plan

    recipe = load_recipe(args.recipe)
    out = Path(args.out) if args.out is not None else Path("runs") / Path(args.recipe).stem
    check_output_folder(out, "--out")
    if args.plan:
        print(format_plan(plan(recipe, out), out))
        return 0
    try:
        run_recipe(recipe, out, until=args.until)
    except StageFailed as exc:
        print(f"simgen run: error: {exc}", file=sys.stderr)
        return 2 if exc.code == 2 else 1
    except KeyboardInterrupt:
        raise KeyboardInterrupt("finished stages are kept; re-run the same command to resume") from None
    return 0


def register(subparsers) -> None:
    """Add ``run`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "run", help="run a recipe: generate -> train -> sim2real -> adapt -> evaluate -> calibrate, skipping "
                    "finished stages",
        description="Run the stages of a recipe file (see pipelines/demo.yaml) in order, each into OUT/STAGE/ with a "
                    "done.json marker. Re-running skips finished stages, resumes an interrupted generate or train, and "
                    "re-runs a stage whose options (or an earlier stage it uses) changed, with every stage after it.")
    p.add_argument("recipe", type=Path, metavar="RECIPE.yaml", help="the recipe file")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: runs/RECIPE_NAME)")
    p.add_argument("--until", metavar="STAGE", help="stop after this stage (run the rest later: finished stages are "
                   "skipped; default: run every stage)")
    p.add_argument("--plan", action="store_true", help="print what would run (skip / run / resume per stage) and stop")
    p.set_defaults(func=cmd_run)

"""Recipes: one YAML file that chains generate -> train -> adapt -> evaluate -> calibrate.

``load_recipe`` validates the file (every stage's keys against the ``simgen`` command it runs);
``plan`` decides per stage skip / run / resume from the completion markers under ``OUT``;
``run_recipe`` runs the stages that need it. ``simgen run`` (``pipelines/run_commands.py``) is
the command line.
"""

from simgen.pipelines.recipes.model import STAGE_ORDER, Recipe, RecipeError, load_recipe
from simgen.pipelines.recipes.runner import plan, run_recipe

__all__ = ["STAGE_ORDER", "Recipe", "RecipeError", "load_recipe", "plan", "run_recipe"]

"""Plan seeds60-62, how its candidates were chosen: the robust member's weight x ALPHA on the seen seeds 49-59.

Reads the full member files of sessions 33-35 (``runs/s33/targets`` for 49-51, ``runs/s34/targets`` for 52-54,
``runs/s35/targets`` for 55-57, ``runs/s35/targets58`` for 58-59, K = 0 only): they are not in the repository
(the committed copies keep no per-clip scores), so this runs on the machine that made them. Prints the log's
development table (section "Seeds 60-62"): per K and ALPHA the clean mean over the seeds (and how many scored
under 100), the levels within 5 points summed over the sets, and the mean of the sets' level means.

    python docs/results/seeds60-62/dev_sweep.py
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from simgen.adapt.benchmark.targets import check_targets

_spec = importlib.util.spec_from_file_location("reweigh", Path(__file__).with_name("reweigh.py"))
reweigh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reweigh)

SETS = {"runs/s33/targets": (49, 50, 51), "runs/s34/targets": (52, 53, 54), "runs/s35/targets": (55, 56, 57),
        "runs/s35/targets58": (58, 59)}
ALPHAS = (1, 1.25, 1.5, 2, 3, 4, 5, 8, float("inf"))  # inf: the robust member alone


def set_figures(run_dir: str, seeds: tuple, shots: int, alpha: float) -> tuple[list[float], int, float] | None:
    """(clean per seed, levels within 5 of the set's clean mean, the set's level mean), or None without K runs."""
    if not (Path(run_dir) / f"recipes_k{shots}_seed{seeds[0]}.json").is_file():
        return None
    if alpha == float("inf"):  # the robust member's own results: what weights 0 and 1 fuse to
        method = "best"
        files = {f"{run_dir}/robust_k{shots}_seed{s}.json":
                 json.loads((Path(run_dir) / f"robust_k{shots}_seed{s}.json").read_text()) for s in seeds}
    else:
        method = "recipes"
        files = {f"{run_dir} x{alpha:g} seed {s}": reweigh.reweighed(Path(run_dir), shots, s, alpha) for s in seeds}
    verdict = check_targets(files, method, clean_min=0.0, max_drop=5.0)
    return verdict["clean"]["per_seed"], verdict["within"]["count"], verdict["levels_mean"]


def main() -> None:
    print("| K | robust weight x | clean mean (seeds under 100) | levels within 5, summed over the sets "
          "| level mean, mean of the sets |")
    print("|---|---|---|---|---|")
    for shots in (0, 1):
        for alpha in ALPHAS:
            figures = [f for d, seeds in SETS.items() if (f := set_figures(d, seeds, shots, alpha))]
            clean = [c for f in figures for c in f[0]]
            name = "robust alone" if alpha == float("inf") else f"{alpha:g}" + (" (adopted)" if alpha == 1 else "")
            print(f"| {shots} | {name} | {sum(clean) / len(clean):.1f} ({sum(c < 100 for c in clean)} of "
                  f"{len(clean)}) | {sum(f[1] for f in figures)} of {14 * len(figures)} "
                  f"| {sum(f[2] for f in figures) / len(figures):.1f} |")


if __name__ == "__main__":
    main()

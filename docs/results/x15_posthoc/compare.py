"""The K = 1 recipe ensemble with the robust member x1.5 (as recorded) against the same ensemble stage without it,
on seeds 66-89, the sets run since x1.5 was adopted (session 40; post hoc on 66-77, whose runs were seen first;
planned and reported on 78-80, 81-83, 84-86 and 87-89). Per seed: clean accuracy and how many of the 14 levels are
higher or lower; per set of three: clean mean, levels within 5 points of it, level mean
(`simgen.adapt.benchmark.targets`).

    python docs/results/x15_posthoc/compare.py
The files without x1.5: `python -m simgen.adapt.benchmark.ensemble` with the pipeline's K = 1 arguments but no
--member-scale, on each seed's kept member runs (here for 66-77, in the set's folder from 78-80 on).
"""
import statistics
from pathlib import Path

from simgen.adapt.benchmark.targets import check_targets, read_results

RESULTS = Path(__file__).resolve().parent.parent
SETS = (66, 69, 72, 75, 78, 81, 84, 87)


def verdict(paths: list[Path]) -> dict:
    """The targets' verdict on the recipe ensemble of ``paths`` (K = 1: clean 99, 5 points)."""
    return check_targets(read_results(paths), "recipes", clean_min=99, max_drop=5)


def files(seed: int) -> tuple[Path, Path]:
    """(with x1.5, without) for ``seed``."""
    first = next(f for f in SETS if f <= seed < f + 3)
    where = RESULTS / f"seeds{first}-{first + 2}"
    name = f"recipes_nox15_k1_seed{seed}.json"  # beside the set's results where its plan made it, else here
    without = where / name if (where / name).is_file() else Path(__file__).resolve().parent / name
    return where / f"recipes_k1_seed{seed}.json", without


def main() -> None:
    for first in SETS:
        per_config = []
        for column in (0, 1):
            v = verdict([files(s)[column] for s in range(first, first + 3)])
            level_mean = statistics.fmean(lv["mean"] for lv in v["levels"].values())
            per_config.append(f"clean {v['clean']['mean']:.1f}, {v['within']['count']} of 14 within 5, "
                              f"level mean {level_mean:.1f}")
        print(f"seeds {first}-{first + 2}: x1.5 {per_config[0]}; without {per_config[1]}")
        for s in range(first, first + 3):
            with_x, without = (verdict([f]) for f in files(s))
            diffs = [lv["mean"] - without["levels"][k]["mean"] for k, lv in with_x["levels"].items()]
            print(f"  seed {s}: clean {with_x['clean']['mean']:.0f} with x1.5, {without['clean']['mean']:.0f} without; "
                  f"levels higher with x1.5 {sum(d > 0 for d in diffs)}, lower {sum(d < 0 for d in diffs)}")


if __name__ == "__main__":
    main()

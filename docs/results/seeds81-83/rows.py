"""The log's table rows for a set of three seeds from its folder's verdicts (docs/sim2real-log.md, "Seeds 81-83"):

    python docs/results/seeds81-83/rows.py docs/results/seeds81-83
    python docs/results/seeds81-83/rows.py docs/results/seeds87-89 _last   # verdict_recipes_last_k1.json, ...

With a suffix, the rows of the verdicts named TAG-with-suffix (a candidate's, as last_epoch.sh runs); a row whose
verdict file is absent is left out.
"""
import json
import sys
from pathlib import Path


def f(x: float) -> str:
    """93.3333 -> 93.3, 100.0 -> 100 (as docs/results/target_sets.py prints them)."""
    return f"{round(x, 1):g}"


ROWS = [("K = 1, recipes (adopted: robust x1.5)", "recipes_k1", True),
        ("K = 1, without x1.5 (reported)", "recipes_nox15_k1", False),
        ("K = 1, robust member alone", "robust_k1", False), ("K = 1, default member alone", "default_k1", False),
        ("K = 0, recipes (adopted: clutter gate)", "recipes_k0", True),
        ("K = 0, without the clutter gate (reported)", "recipes_nogate_k0", False),
        ("K = 0, robust member alone", "robust_k0", False), ("K = 0, default member alone", "default_k0", False)]


def main(folder: Path, suffix: str = "") -> None:
    for name, tag, bold in ROWS:
        path = folder / f"verdict_{tag[:-3]}{suffix}{tag[-3:]}.json"  # recipes_k1 -> recipes_last_k1
        if suffix and not path.exists():
            continue
        v = json.loads(path.read_text())
        c = v["clean"]
        clean = " / ".join(f(x) for x in c["per_seed"]) + ": "
        clean += (f"**{f(c['mean'])}** (target {f(v['clean_min'])}: {'met' if c['met'] else 'missed'})" if bold
                  else f(c["mean"]))
        lv = v["levels"]
        kinds = ("occlusion", "camera", "scale", "fps", "compression")
        groups = [[k for k in lv if k.startswith(kind)] for kind in kinds]
        cells = ["/".join(f(lv[k]["mean"]) for k in g) for g in groups]
        within = f"{v['within']['count']} of {v['within']['of']}"
        within = f"**{within}**" if bold else within
        print(f"| {name} | {clean} | " + " | ".join(cells) + f" | {within} | {v['levels_mean']:.1f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]), *sys.argv[2:3])

"""One row per set of seeds run with `pipelines/sim2real_targets.sh`: the recipe ensemble's verdicts and times.

Every figure is read from the committed files of docs/results (the verdicts of
`python -m simgen.adapt.benchmark.targets` and the pipeline's times_k1_seedS.json); only the set's label and
the fusion rule it was scored with are written here. Prints a Markdown table (the README's "Where the targets
stand"), or JSON with --json.

    python docs/results/target_sets.py [--json]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: how the table names a perturbation kind
SHORT = {"occlusion": "occl", "camera": "cam", "scale": "scale", "fps": "fps ÷", "compression": "CRF"}


def _run_set(first: int, last: int, sessions: str, fusion: str) -> tuple:
    """A set run with the pipeline and kept in ``seedsFIRST-LAST/`` under the usual names: its ensemble's verdicts
    at K = 1 and K = 0 and each seed's K = 1 times."""
    where = f"seeds{first}-{last}"
    return (f"{first}-{last}", sessions, fusion, f"{where}/verdict_recipes_k1.json", f"{where}/verdict_recipes_k0.json",
            [f"{where}/times_k1_seed{s}.json" for s in range(first, last + 1)])


#: (seeds, session(s), fusion rule, K = 1 verdict or None, K = 0 verdict or None, K = 1 times files)
SETS = [
    _run_set(26, 28, "21-22", "equal weights"),
    ("26-28", "22", "fold stability (rebuilt)", "seeds26-28/verdict_recipes_stability_k1.json",
     "seeds26-28/verdict_recipes_stability_k0.json", []),
    ("29-30", "22", "fold stability", "seeds29-30/verdict_recipes_stability_k1.json",
     "seeds29-30/verdict_recipes_stability_k0.json", [f"seeds29-30/times_k1_seed{s}.json" for s in (29, 30)]),
    _run_set(32, 34, "23", "fold stability"),
    ("35-37", "24-25", "fold stability", "seeds35-37/verdict_recipes_k1.json", "seeds35-37/verdict_recipes_k0.json",
     ["seed35/times_k1_seed35.json", "seeds35-37/times_k1_seed36.json", "seeds35-37/times_k1_seed37.json"]),
    _run_set(38, 40, "26", "fold stability"),
    _run_set(41, 43, "27-28", "fold stability"),
    ("41-43", "28", "per-clip stability (adopted)", "seeds41-43/verdict_recipesclip_k1.json",
     "seeds41-43/verdict_recipesclip_k0.json", []),
    _run_set(44, 46, "29-31", "per-clip stability"),
    _run_set(46, 48, "31-32", "per-clip stability"),
    ("46-48 (46-47 rerun)", "32", "per-clip stability", "bf16_reruns/verdict_recipes_k1_bf16.json", None,
     ["bf16_reruns/times_k1_seed46.json", "bf16_reruns/times_k1_seed47.json", "seeds46-48/times_k1_seed48.json"]),
    _run_set(49, 51, "33", "per-clip stability"),
    _run_set(52, 54, "34", "per-clip stability"),
    _run_set(55, 57, "35", "per-clip stability"),
    ("55-57", "35", "+ clutter gate (plan candidate, not adopted)", "seeds55-57/verdict_recipes_gated_k1.json",
     "seeds55-57/verdict_recipes_gated_k0.json", []),
    ("58-59 (K = 0 only)", "35", "per-clip stability", None, "seeds58-59/verdict_recipes_k0.json", []),
    ("58-59 (K = 0 only)", "35", "+ clutter gate (K = 0 plan: passed on 2 seeds, not adopted)", None,
     "seeds58-59/verdict_recipes_gated_k0.json", []),
    _run_set(60, 62, "36", "per-clip stability"),
    ("60-62", "36", "+ robust member's weight x1.5 at K = 1, x3 at K = 0 (plan candidates: K = 1 passed, promising; "
     "K = 0 failed, not adopted)", "seeds60-62/verdict_recipes_robustx1_5_k1.json",
     "seeds60-62/verdict_recipes_robustx3_k0.json", []),
    _run_set(63, 65, "36-37", "per-clip stability"),
    ("63-65", "37", "+ robust member's weight x1.5 at K = 1 (the plan's second test: passed, adopted from session 37)",
     "seeds63-65/verdict_recipes_robustx1_5_k1.json", None, []),
    _run_set(66, 68, "37", "per-clip stability, robust member x1.5 at K = 1"),
    ("66-68", "37", "+ clutter gate at K = 0 (the third planned test: passed, adopted from session 37)", None,
     "seeds66-68/verdict_recipes_gated_k0.json", []),
    _run_set(69, 71, "38", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("69-71", "38", "+ clutter gate at K = 1 (plan candidate: passed once, not adopted); K = 0 without the gate "
     "(reported)", "seeds69-71/verdict_recipes_gated_k1.json", "seeds69-71/verdict_recipes_nogate_k0.json", []),
    _run_set(72, 74, "38-39", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("72-74", "39", "+ clutter gate at K = 1 (the plan's second test: failed, not adopted); K = 0 without the gate "
     "(reported)", "seeds72-74/verdict_recipes_gated_k1.json", "seeds72-74/verdict_recipes_nogate_k0.json", []),
    _run_set(75, 77, "39", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("75-77", "39", "K = 0 without the clutter gate (reported)", None, "seeds75-77/verdict_recipes_nogate_k0.json", []),
    _run_set(78, 80, "40", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("78-80", "40", "K = 1 without x1.5, K = 0 without the clutter gate (both reported)",
     "seeds78-80/verdict_recipes_nox15_k1.json", "seeds78-80/verdict_recipes_nogate_k0.json", []),
    _run_set(81, 83, "41", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("81-83", "41", "K = 1 without x1.5, K = 0 without the clutter gate (both reported)",
     "seeds81-83/verdict_recipes_nox15_k1.json", "seeds81-83/verdict_recipes_nogate_k0.json", []),
    _run_set(84, 86, "42", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("84-86", "42", "K = 1 without x1.5, K = 0 without the clutter gate (both reported)",
     "seeds84-86/verdict_recipes_nox15_k1.json", "seeds84-86/verdict_recipes_nogate_k0.json", []),
    ("84-86", "42", "+ both sim-only models at their last epoch (plan candidate, judged on 85-86: not promising)",
     "seeds84-86/verdict_recipes_last_k1.json", "seeds84-86/verdict_recipes_last_k0.json", []),
    _run_set(87, 89, "43", "per-clip stability, robust member x1.5 at K = 1, clutter gate at K = 0"),
    ("87-89", "43", "K = 1 without x1.5, K = 0 without the clutter gate (both reported)",
     "seeds87-89/verdict_recipes_nox15_k1.json", "seeds87-89/verdict_recipes_nogate_k0.json", []),
    ("87-89", "43", "+ both sim-only models at their last epoch (same trainings; the plan's test: passed, adopted "
     "from session 43)",
     "seeds87-89/verdict_recipes_last_k1.json", "seeds87-89/verdict_recipes_last_k0.json", []),
]


def _verdict(rel: str | None) -> dict | None:
    if rel is None:
        return None
    v = json.loads((HERE / rel).read_text())
    levels = v["levels"]
    return {"file": rel, "seeds": v["seeds"], "clean_per_seed": v["clean"]["per_seed"],
            "clean_mean": round(v["clean"]["mean"], 1), "clean_met": v["clean"]["met"],
            "within": v["within"]["count"], "levels": v["within"]["of"],
            "missed": [name for name, lv in levels.items() if not lv["within"]],
            "level_mean": round(statistics.fmean(lv["mean"] for lv in levels.values()), 1)}


def _times(files: list[str]) -> list[dict]:
    out = []
    for rel in files:
        t = json.loads((HERE / rel).read_text())
        # the pipeline records its precision since session 26; every run before trained in fp32
        out.append({"seed": t["seed"], "seconds": t["benchmark_seconds"], "precision": t.get("precision", "fp32")})
    return out


def rows() -> list[dict]:
    return [{"seeds": seeds, "sessions": sessions, "fusion": fusion, "k1": _verdict(k1), "k0": _verdict(k0),
             "k1_times": _times(times)} for seeds, sessions, fusion, k1, k0, times in SETS]


def _clean(v: dict | None) -> str:
    if v is None:
        return "—"
    per_seed = " / ".join(f"{c:g}" for c in v["clean_per_seed"])
    return f"{per_seed}: **{v['clean_mean']:g}**" + (" ✓" if v["clean_met"] else " ✗")


def _levels(v: dict | None) -> str:
    return "—" if v is None else f"{v['within']} of {v['levels']} ({v['level_mean']:.1f})"


def _missed(v: dict | None) -> str:
    """``occl .15/.3/.45, CRF 48``: the levels more than 5 points under clean, by kind."""
    if v is None:
        return "—"
    kinds: dict[str, list[str]] = {}
    for name in v["missed"]:
        kind, level = name.split("@")
        kinds.setdefault(kind, []).append(f"{float(level):g}".removeprefix("0"))
    named = [f"{SHORT.get(k, k)}{'' if k == 'fps' else ' '}{'/'.join(ls)}" for k, ls in kinds.items()]
    return ", ".join(named) or "none"


def _time(times: list[dict]) -> str:
    if not times:
        return "— (the trainings of the run above)"
    if len({t["precision"] for t in times}) > 1:
        return " / ".join(f"{t['seconds']} ({t['precision']})" for t in times)
    return " / ".join(str(t["seconds"]) for t in times) + f" ({times[0]['precision']})"


def markdown(table: list[dict]) -> str:
    lines = ["| seeds | session | fusion of the two members | K = 1 clean, per seed: mean (target 99) "
             "| K = 1 levels within 5 (level mean) | K = 1 levels missed | K = 0 clean (target 95) "
             "| K = 0 levels within 5 (level mean) | K = 1 seconds per seed (precision) |",
             "|---|---|---|---|---|---|---|---|---|"]
    ran_k1 = {r["seeds"] for r in table if r["k1"]}  # a set's other rows fuse its runs again
    for r in table:
        lines.append(f"| {r['seeds']} | {r['sessions']} | {r['fusion']} | {_clean(r['k1'])} | {_levels(r['k1'])} "
                     f"| {_missed(r['k1'])} | {_clean(r['k0'])} | {_levels(r['k0'])} "
                     f"| {_time(r['k1_times']) if r['seeds'] in ran_k1 else '— (no K = 1 run)'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    table = rows()
    print(json.dumps(table, indent=1) if "--json" in sys.argv[1:] else markdown(table))

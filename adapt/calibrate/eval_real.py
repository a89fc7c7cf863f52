"""``simgen calibrate --tune --eval-real DIR``: does tuning raise sim-only accuracy on people it never saw?

Leave-one-person-out over the labelled real clips in DIR: for each held-out subject, the spec is tuned
against the *other* subjects' clips only (the tuned spec never sees the test person), a training set
is generated from the tuned spec and tiny3d is trained on it alone (no real clip); one model trained
the same way on the untuned spec is the baseline. Both are scored on the held-out subject's clips.
Same clip count, seed, epochs and model for both: only the spec differs. One training seed is noise on
20 real clips (sim-only tiny3d on one weizmann4 set scored 65-90% across seeds), so ``train_seeds``
trains each arm with that many seeds (the same training set) and reports their mean and each seed's.

Every stage writes its result into OUT/eval_real/ and is skipped when that result is there, so an
interrupted run resumes where it stopped (``--folds`` runs some subjects per call). Folds whose searches
end on the very same spec (common with one seed: the probes are the same, only the real clips differ)
share its training set and model, kept under OUT/eval_real/tuned/<spec digest>/.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from simgen.errors import SimgenError


#: models trained per arm by default (``--train-seeds``): on weizmann4_dev one seed's verdict flipped with
#: the next (untuned 0.90 -> tuned 0.90 on seed 0; 0.75 -> 0.85 and 0.65 -> 0.80 on seeds 1 and 2)
EVAL_TRAIN_SEEDS = 3


def _simgen(argv: list[str]) -> None:
    from simgen.pipelines.cli import main

    code = main([str(a) for a in argv])
    if code != 0:
        raise SimgenError(f"--eval-real: `simgen {' '.join(map(str, argv))}` failed with status {code}")


def _train_set(spec_path: Path, folder: Path, clips: int, seed: int, workers: int) -> None:
    """Generate (or finish generating) ``clips`` clips of the spec; generation resumes by itself."""
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    spec = load_spec(path=spec_path, overrides={"clips": clips, "seed": seed})
    generate_dataset(spec, folder, workers=workers, progress=False)


def _model(data: Path, run: Path, epochs: int, seed: int) -> Path:
    """tiny3d trained on ``data`` alone (resumed from RUN/last.pt when a previous call was cut off)."""
    model = run / "model.pt"
    if not model.is_file():
        resume = ["--resume"] if (run / "last.pt").is_file() else []
        _simgen(["train", "--synthetic", data, "--out", run, "--model", "tiny3d", "--device", "cpu", "--seed", seed,
                 "--epochs", epochs, "--no-progress", "--json", *resume])
    return model


def spec_digest(spec_path: Path) -> str:
    """A short digest of a calibrated spec's settings (its ``#`` comment lines, which carry the fold's own
    scores, left out): two folds with the same digest would generate the same clips."""
    body = "\n".join(line for line in spec_path.read_text().splitlines() if not line.startswith("#"))
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def seed_suffix(train_seed: int, seed: int) -> str:
    """File-name suffix of a training seed's model and scores: none for the first (``seed``), so a
    run made before ``train_seeds`` existed resumes as its first seed."""
    return "" if train_seed == seed else f"_seed{train_seed}"


def _evaluate(model: Path, real: Path, subject: str, out: Path) -> dict:
    if not out.is_file():
        _simgen(["evaluate", "--checkpoint", model, "--data", real, "--subjects", subject, "--out", out,
                 "--no-progress", "--json"])
    return json.loads(out.read_text())


def subjects_of(real: Path, option: str = "--eval-real") -> tuple[list[dict], list[str]]:
    """The labelled rows of a real folder and its subjects; one clear error when it has no labels or no subjects."""
    from simgen.adapt.calibrate import clips as clip_io

    rows = clip_io.list_real(real, option)
    if not rows or any(r["label"] is None for r in rows):
        raise SimgenError(f"{option} {real}: needs labelled clips (labels.csv with path,label,subject or class folders)")
    subjects = sorted({r["subject"] for r in rows if r["subject"]})
    if len(subjects) < 2:
        raise SimgenError(f"{option} {real}: labels.csv needs a subject column with at least two people "
                          "(folds hold one person out)")
    return rows, subjects


def eval_real(spec_path: Path, tune_real: Path, eval_real_dir: Path, out: Path, *, folds: list[str] | None, budget: int,
              factors: list[str] | None, probe_clips: int, train_clips: int, epochs: int, seed: int = 0,
              train_seeds: int = EVAL_TRAIN_SEEDS, workers: int = 1, progress: bool = True) -> dict:
    """Run (or resume) the folds; write OUT/metrics.json and OUT/report.html from every fold finished so far."""
    from simgen.adapt.calibrate import clips as clip_io
    from simgen.adapt.calibrate.tune import tune_spec

    rows, subjects = subjects_of(eval_real_dir)
    chosen = subjects if not folds else folds
    unknown = [s for s in chosen if s not in subjects]
    if unknown:
        raise SimgenError(f"--folds: {', '.join(unknown)} not among the subjects of {eval_real_dir} ({', '.join(subjects)})")
    tune_rows = clip_io.list_real(tune_real)
    root = out / "eval_real"
    root.mkdir(parents=True, exist_ok=True)
    settings = dict(budget=budget, probe_clips=probe_clips, train_clips=train_clips, epochs=epochs, seed=seed,
                    train_seeds=train_seeds, factors=factors, spec=str(spec_path), tune_real=str(tune_real), eval_real=str(eval_real_dir))
    (root / "settings.json").write_text(json.dumps(settings, indent=1))
    seeds = [seed + i for i in range(train_seeds)]
    _train_set(spec_path, root / "untuned" / "data", train_clips, seed, workers)
    untuned_models = {s: _model(root / "untuned" / "data", root / "untuned" / f"model{seed_suffix(s, seed)}", epochs, s)
                      for s in seeds}
    for subject in chosen:
        fold = root / f"fold_{subject}"
        if not (fold / "tune" / "tuning.json").is_file():
            # tune on every clip of --real except the held-out person's
            kept = [r for r in tune_rows if r["subject"] != subject]
            if not kept:
                raise SimgenError(f"--real {tune_real}: no clip left to tune on once {subject} is held out")
            tune_spec(spec_path, tune_real, fold / "tune", budget=budget, factors=factors, probe_clips=probe_clips,
                      seed=seed, workers=workers, progress=progress, real_rows=kept)
        refused = fold / "refused.txt"
        if refused.is_file():
            continue  # generation is seeded: it would fail again
        shared = root / "tuned" / spec_digest(fold / "tune" / "calibrated.yaml")
        try:
            _train_set(fold / "tune" / "calibrated.yaml", shared / "data", train_clips, seed, workers)
        except SimgenError as err:
            # the tuned ranges rendered at probe size but not at full size (a rarer draw the physics refuses):
            # the fold has no tuned model; the others go on
            refused.write_text(f"{err}\n")
            print(f"warning: --eval-real fold {subject}: the tuned spec cannot generate its {train_clips} training clips "
                  f"({err}); fold left out", file=sys.stderr)
            continue
        for s in seeds:
            tag = seed_suffix(s, seed)
            tuned_model = _model(shared / "data", shared / f"model{tag}", epochs, s)
            _evaluate(untuned_models[s], eval_real_dir, subject, fold / f"untuned_metrics{tag}.json")
            _evaluate(tuned_model, eval_real_dir, subject, fold / f"tuned_metrics{tag}.json")
    metrics = summarise(root, subjects, settings)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    write_report(out / "report.html", metrics)
    return metrics


def summarise(root: Path, subjects: list[str], settings: dict) -> dict:
    """Accuracy before (untuned) and after (tuned), pooled over the folds finished: the mean over training
    seeds, each seed's, and per class (over every seed's clips)."""
    seed = settings.get("seed", 0)
    tags = [seed_suffix(seed + i, seed) for i in range(settings.get("train_seeds", 1))]
    folds, refused = {}, {}
    clips = {arm: {t: [] for t in tags} for arm in ("before", "after")}
    for subject in subjects:
        fold = root / f"fold_{subject}"
        if (fold / "refused.txt").is_file():
            refused[subject] = (fold / "refused.txt").read_text().strip()
            continue
        if not all((fold / f"tuned_metrics{t}.json").is_file() for t in tags):
            continue
        scores = {arm: [json.loads((fold / f"{name}_metrics{t}.json").read_text()) for t in tags]
                  for arm, name in (("before", "untuned"), ("after", "tuned"))}
        tuning = json.loads((fold / "tune" / "tuning.json").read_text())
        folds[subject] = dict(before=float(np.mean([m["accuracy"] for m in scores["before"]])),
                              after=float(np.mean([m["accuracy"] for m in scores["after"]])),
                              n_clips=scores["after"][0]["n_clips"], factors=tuning["factors"],
                              gap_before=tuning["gap_before"], gap_after=tuning["gap_after"])
        if len(tags) > 1:
            folds[subject].update(before_per_seed=[m["accuracy"] for m in scores["before"]],
                                  after_per_seed=[m["accuracy"] for m in scores["after"]])
        for arm in clips:
            for t, m in zip(tags, scores[arm]):
                clips[arm][t] += m["per_clip"]

    def pooled(by_seed: dict[str, list[dict]]) -> dict:
        rows = [r for seed_rows in by_seed.values() for r in seed_rows]
        labels = sorted({r["label"] for r in rows})
        per_class = {c: float(np.mean([r["predicted"] == c for r in rows if r["label"] == c])) for c in labels}
        out = dict(accuracy=float(np.mean([r["predicted"] == r["label"] for r in rows])) if rows else None,
                   per_class=per_class, n_clips=len(rows) // len(by_seed))
        if len(by_seed) > 1:
            out["per_seed"] = [float(np.mean([r["predicted"] == r["label"] for r in seed_rows])) if seed_rows else None
                               for seed_rows in by_seed.values()]
        return out

    return dict(eval_real=dict(folds=folds, before=pooled(clips["before"]), after=pooled(clips["after"]),
                               settings=settings, folds_done=len(folds), folds_total=len(subjects), folds_refused=refused,
                               protocol="leave one person out: the spec is tuned on the other people's clips only; "
                                        "tiny3d trained on synthetic clips alone, untuned vs tuned spec"))


def write_report(path: Path, metrics: dict) -> None:
    from html import escape

    from simgen.adapt.calibrate.html import page, table

    e = metrics["eval_real"]
    s = e["settings"]
    fold_rows = [[subject, f"{f['before']:.2f}", f"{f['after']:.2f}", str(f["n_clips"]),
                  "; ".join(f"{n}: [{r['after'][0]:.3g}, {r['after'][1]:.3g}]" for n, r in f["factors"].items())]
                 for subject, f in e["folds"].items()]
    classes = sorted(set(e["before"]["per_class"]) | set(e["after"]["per_class"]))
    class_rows = [[c, f"{e['before']['per_class'].get(c, float('nan')):.2f}", f"{e['after']['per_class'].get(c, float('nan')):.2f}"]
                  for c in classes]
    acc = (lambda v: "-" if v is None else f"{v:.3f}")
    seeds = ""
    if s.get("train_seeds", 1) > 1 and e["folds_done"]:
        pairs = ", ".join(f"{b:.3f} -> {a:.3f}" for b, a in zip(e["before"]["per_seed"], e["after"]["per_seed"]))
        seeds = (f" Accuracies are means over {s['train_seeds']} training seeds per arm (seeds {s['seed']}-"
                 f"{s['seed'] + s['train_seeds'] - 1}, the same clips); per seed, untuned -> tuned: {pairs}.")
    intro = escape(f"{e['protocol']}. Folds done: {e['folds_done']} of {e['folds_total']}. Accuracy on the held-out people: "
             f"{acc(e['before']['accuracy'])} untuned, {acc(e['after']['accuracy'])} tuned ({e['after']['n_clips']} clips). "
             f"Each model: {s['train_clips']} synthetic clips (seed {s['seed']}), {s['epochs']} epochs; tuning budget "
             f"{s['budget']} probes of {s['probe_clips']} clips." + seeds
             + "".join(f" Fold {k} left out: its tuned spec could not generate the training set ({v})."
                       for k, v in e.get("folds_refused", {}).items()))
    path.write_text(page("simgen calibration: sim-to-real accuracy before and after tuning", [
        ("Accuracy by held-out person", f"<p>{intro}</p>" + table(["held out", "untuned", "tuned", "clips", "tuned ranges"], fold_rows)),
        ("Per class (pooled over folds)", table(["class", "untuned", "tuned"], class_rows)),
    ]))


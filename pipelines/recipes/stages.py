"""What each stage runs (``simgen`` commands) and what it reports: output files and headline figures.

Layout under ``OUT``:

- ``generate/``: ``dataset/`` (``$generate``), ``sheet.png`` (contact sheet), ``first.mp4`` (the first clip
  with keypoints and captions);
- ``train/``: ``run/`` (``$train``: ``model.pt``, ``metrics.json``, ``log.csv``, ``last.pt``);
- ``sim2real/``: ``results.json`` (``simgen sim2real``) and ``models/`` (each method's model per seed and fold);
- ``adapt/``: ``model.pt`` (``$adapt``: ``simgen adapt``, the model adapted to every clip of ``real``) and
  ``model.json`` (how: method, chosen steps, pseudo-labels, the cross-validated estimate);
- ``evaluate/``: ``model.json`` (``checkpoint`` on every clip of ``data``), ``folds/*.json`` (each adapted
  fold model on its own test people only) and ``summary.json``;
- ``calibrate/``: ``report.html`` and ``metrics.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StageResult:
    outputs: list[Path]
    figures: dict = field(default_factory=dict)


def _json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def run_generate(ctx, resume: bool) -> StageResult:
    dataset = ctx.folder / "dataset"
    ctx.simgen(["generate", *ctx.argv(), "--out", dataset])  # resumes by itself when the folder holds a partial run
    ctx.simgen(["preview", dataset, "--out", ctx.folder / "sheet.png"])
    first = json.loads((dataset / "manifest.jsonl").read_text().splitlines()[0])["key"]
    ctx.simgen(["export", dataset, first, "--out", ctx.folder / "first.mp4", "--overlays"])
    spec = _json(dataset / "dataset.json")["spec"]
    return StageResult([dataset / "dataset.json", ctx.folder / "sheet.png", ctx.folder / "first.mp4"],
                       {"clips": f"{spec['clips']} x {spec['frames']} frames, {spec['size'][1]}x{spec['size'][0]}, "
                                 f"classes {', '.join(spec['classes'])}"})


def run_train(ctx, resume: bool) -> StageResult:
    run = ctx.folder / "run"
    ctx.simgen(["train", *ctx.argv(), "--out", run, *(["--resume"] if resume else [])])
    metrics = _json(run / "metrics.json")
    figures = {"validation accuracy": f"{_pct(metrics.get('val_accuracy'))} (epoch {metrics.get('model_epoch')})"}
    return StageResult([run / "model.pt", run / "metrics.json", run / "log.csv"], figures)


def run_sim2real(ctx, resume: bool) -> StageResult:
    results = ctx.folder / "results.json"
    ctx.simgen(["sim2real", *ctx.argv(), "--out", results, "--save-models", ctx.folder / "models"])
    data = _json(results)
    folds = ", ".join(f["name"] for f in data["config"]["folds"])
    figures = {f"{m} accuracy (test people {folds})": _pct(r.get("accuracy_mean")) for m, r in data["methods"].items()}
    return StageResult([results, ctx.folder / "models"], figures)


def run_adapt(ctx, resume: bool) -> StageResult:
    model = ctx.folder / "model.pt"
    ctx.simgen(["adapt", *ctx.argv(), "--out", model])
    record = _json(model.with_suffix(".json"))
    how = record["method"] + (f" (= {record['picked']})" if record.get("picked") else "")
    figures = {"method": how, "real clips": f"{len(record['shots'])} labelled, {len(record['unlabelled'])} unlabelled"}
    for run in record["runs"]:
        figures[f"{run['method']} checkpoint"] = (run.get("not_applicable") or
                                                  (f"step {run['chosen_step']}" if run["chosen_step"] else "its start")
                                                  + f" (by {run['chosen_by']})")
    cv = record.get("cross_validation")
    if cv and cv.get("estimate") is not None:  # honest only as an upper bound: the steps were chosen on it
        figures["leave-one-person-out accuracy at the chosen steps (optimistic)"] = (
            f"{_pct(cv['estimate'])} over {len(cv['people'])} people")
    return StageResult([model, model.with_suffix(".json")], figures)


def fold_models(sim2real_dir: Path) -> list[dict]:
    """Each saved model of a sim2real run with the people it was tested on (and never trained or selected on)."""
    cfg = _json(sim2real_dir / "results.json")["config"]
    multi = len(cfg["folds"]) > 1
    out = []
    for method in cfg["methods"]:
        if method == "sim-only":  # the benchmark keeps no sim-only model: the train stage's model is that
            continue
        for seed in cfg["seeds"]:
            for fold in cfg["folds"]:
                folder = sim2real_dir / "models" / f"{method}-seed{seed}"
                model = (folder / f"test-{fold['name']}" if multi else folder) / "model.pt"
                out.append(dict(method=method, seed=seed, fold=fold["name"], test_subjects=fold["test_subjects"],
                                model=model))
    return out


def run_evaluate(ctx, resume: bool) -> StageResult:
    common = ctx.argv(skip=("checkpoint",))
    outputs, figures, summary = [], {}, {}
    if "checkpoint" in ctx.stage.options:
        checkpoints = ctx.stage.options["checkpoint"]
        checkpoints = [ctx.resolve(c) for c in (checkpoints if isinstance(checkpoints, list) else [checkpoints])]
        out = ctx.folder / "model.json"
        ctx.simgen(["evaluate", "--checkpoint", *checkpoints, *common, "--out", out])
        m = _json(out)
        summary["model"] = dict(checkpoint=checkpoints, accuracy=m["accuracy"], macro_f1=m.get("macro_f1"),
                                n_clips=m["n_clips"], file=str(out))
        figures["model accuracy (every clip of data)"] = f"{_pct(m['accuracy'])} of {m['n_clips']} clips"
        outputs += [out, out.with_name("model.predictions.csv")]
    if "folds" in ctx.stage.options:
        sim2real_dir = Path(ctx.resolve(ctx.stage.options["folds"]))
        benchmark = _json(sim2real_dir / "results.json")["methods"]
        per_method: dict[str, dict] = {}
        for item in fold_models(sim2real_dir):
            out = ctx.folder / "folds" / f"{item['method']}-seed{item['seed']}-{item['fold']}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            # only the fold's test people: the fold's model never trained or selected on them
            ctx.simgen(["evaluate", "--checkpoint", item["model"], *common,
                        "--subjects", ",".join(item["test_subjects"]), "--out", out])
            m = _json(out)
            entry = per_method.setdefault(item["method"], dict(correct=0, n_clips=0, per_fold={}))
            correct = round(m["accuracy"] * m["n_clips"])
            entry["correct"] += correct
            entry["n_clips"] += m["n_clips"]
            entry["per_fold"][f"seed{item['seed']}-{item['fold']}"] = round(m["accuracy"], 4)
            outputs.append(out)
        for method, entry in per_method.items():
            entry["accuracy"] = round(entry["correct"] / max(entry["n_clips"], 1), 4)
            entry["benchmark_accuracy"] = benchmark.get(method, {}).get("accuracy_mean")
            figures[f"{method} accuracy by fold (test people only)"] = (
                f"{_pct(entry['accuracy'])} of {entry['n_clips']} clips (sim2real's own scoring: "
                f"{_pct(entry['benchmark_accuracy'])})")
        summary["folds"] = per_method
    path = ctx.folder / "summary.json"
    path.write_text(json.dumps(summary, indent=1))
    return StageResult([path, *outputs], figures)


def run_calibrate(ctx, resume: bool) -> StageResult:
    ctx.simgen(["calibrate", *ctx.argv(), "--out", ctx.folder])
    m = _json(ctx.folder / "metrics.json")
    figures = {name: f"{m[key]['value']:.4g} [95% CI {m[key]['ci95'][0]:.4g}, {m[key]['ci95'][1]:.4g}]"
               for name, key in (("Fréchet distance", "frechet_distance"), ("MMD²", "mmd"),
                                 ("proxy A-distance", "proxy_a_distance"))}
    return StageResult([ctx.folder / "report.html", ctx.folder / "metrics.json"], figures)


RUNNERS = {"generate": run_generate, "train": run_train, "sim2real": run_sim2real, "adapt": run_adapt,
           "evaluate": run_evaluate, "calibrate": run_calibrate}

"""The short human-readable tables `generate`, `train` and `evaluate` print when they finish.

Each takes the same dict the command writes as JSON, so the terminal and the file agree.
"""

from __future__ import annotations


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the first left-aligned, the rest right-aligned."""
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def percent(x) -> str:
    return "-" if x is None or x == "" else f"{100 * float(x):.1f}%"


def generate_summary(run: dict, meta: dict) -> str:
    """Clips and physics rejections per class, then the job's totals.

    Args:
        run: what ``generate_dataset`` returns (clips, made_now, seconds, clips_per_second, ...).
        meta: the dataset's ``dataset.json``.
    """
    per_class = meta.get("counts", {}).get("per_class", {})
    rejected = meta.get("rejections", {}).get("rate_per_class", {})
    rows = [[c, str(n), percent(rejected.get(c))] for c, n in per_class.items()]
    rate = run.get("clips_per_second")
    speed = f", {rate:.2f} clips/s" if rate else ""
    return "\n".join([
        table(["class", "clips", "rejected (physics)"], rows),
        f"{run['clips']} clips in {run['out']} ({run['made_now']} made now, {run['resumed_from']} kept from "
        f"an earlier run; {run['seconds']:.1f} s{speed}; {percent(run['rejection_rate'])} of samples rejected)",
    ])


def train_summary(metrics: dict, out: str) -> str:
    """Training and validation clips per class, validation accuracy per class, the chosen epoch."""
    classes = metrics.get("classes", [])
    counts = metrics.get("clips_per_class", {})
    val_acc = metrics.get("val_per_class") or {}
    rows = [[c, str(counts.get("train", {}).get(c, "-")), str(counts.get("val", {}).get(c, "-")), percent(val_acc.get(c))]
            for c in classes]
    lines = [table(["class", "train clips", "val clips", "val accuracy"], rows)]
    val = (f"validation accuracy {percent(metrics['val_accuracy'])}, macro-F1 {metrics['val_macro_f1']:.3f}"
           if metrics.get("val_accuracy") is not None else "no validation set")
    lines.append(f"model.pt = epoch {metrics.get('model_epoch')} ({metrics.get('select')}); {val}; "
                 f"training accuracy {percent(metrics.get('train_accuracy'))}; {metrics.get('train_seconds', 0):.1f} s")
    lines.append(f"wrote {out}/model.pt and {out}/metrics.json")
    return "\n".join(lines)


def evaluate_summary(metrics: dict, out: str, predictions: str | None) -> str:
    """Per-class accuracy, the confusion matrix in clip counts, the headline figures."""
    classes = metrics.get("classes", [])
    counts = metrics.get("confusion_counts") or [[0] * len(classes) for _ in classes]
    per_class = metrics.get("per_class", {})
    rows = [[c, str(sum(counts[i])), percent(per_class.get(c))] for i, c in enumerate(classes)]
    lines = [table(["class", "clips", "accuracy"], rows), "",
             "confusion (rows: true class, columns: predicted, clip counts)",
             table(["", *classes], [[c, *(str(v) for v in counts[i])] for i, c in enumerate(classes)]), ""]
    n = metrics.get("n_clips", 0)
    if n:
        right = sum(counts[i][i] for i in range(len(classes)))
        lines.append(f"accuracy {percent(metrics['accuracy'])} ({right}/{n} clips), macro-F1 {metrics['macro_f1']:.3f}")
    else:
        lines.append("no labelled clips: nothing to score (predictions are still written)")
    if "frame_accuracy" in metrics:
        lines.append(f"frames: accuracy {percent(metrics['frame_accuracy'])}, F1@10/25/50 "
                     f"{metrics['f1@10']:.3f}/{metrics['f1@25']:.3f}/{metrics['f1@50']:.3f}, edit {metrics['edit']:.3f}")
    lines.append(f"wrote {out}" + (f" and {predictions}" if predictions else ""))
    return "\n".join(lines)

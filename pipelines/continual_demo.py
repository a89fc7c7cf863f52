"""What adding a class costs the old ones: ``simgen update``'s machinery over actor folds of a real folder.

A base model knows the old classes (trained on their synthetic clips only). For each test person
``a`` it is grown by the new class's synthetic clips plus that class's real clips of the *other*
people, rehearsing a replay buffer of the old classes' synthetic clips, and scored before and after
on person ``a``'s real clips (never used in the update) and on a synthetic test set. Writes
``OUT/summary.json`` and ``OUT/table.md``. With ``--real-replay`` each fold's base model is trained on
the old classes' synthetic clips plus their real clips of the fold's training people (never the test
person, never the new class), and those real clips join the replay buffer::

    python -m simgen.pipelines.continual_demo --checkpoint runs/cl/base/model.pt --new-synthetic runs/cl/bend_syn \\
        --replay runs/cl/old_syn --real ../shared/data/weizmann4_dev --new-class bend \\
        --synthetic-test /work/data/w4_acc/test --out runs/cl/demo [--real-replay]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _linked_folder(real: Path, rows: list[dict], out: Path) -> Path:
    """``out/labels.csv`` over symbolic links to ``rows``' clips: a real folder's label file may only name
    clips inside that folder, and links are followed."""
    out.mkdir(parents=True, exist_ok=True)
    lines = ["path,label,subject"]
    for r in rows:
        link = out / r["path"]
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to((real / r["path"]).resolve())
        lines.append(f"{r['path']},{r['label']},{r['subject']}")
    (out / "labels.csv").write_text("\n".join(lines) + "\n")
    return out


def new_class_folder(real: Path, new_class: str, exclude: str, out: Path) -> Path:
    """A folder of the real clips of ``new_class`` of every person but ``exclude``."""
    from simgen.train.data.real import _read_csv

    rows = _read_csv(real / "labels.csv", ("path", "label", "subject"))
    return _linked_folder(real, [r for r in rows if r["label"] == new_class and r["subject"] != exclude], out)


def old_real_folder(real: Path, old_classes: list[str], exclude: str, out: Path) -> Path:
    """A folder of the real clips of the old classes of every person but ``exclude``."""
    from simgen.train.data.real import _read_csv

    rows = _read_csv(real / "labels.csv", ("path", "label", "subject"))
    return _linked_folder(real, [r for r in rows if r["label"] in old_classes and r["subject"] != exclude], out)


def fold_base(synthetic: str, old_real: Path, out: Path, *, epochs: int, seed: int) -> Path:
    """The fold's base model: the old classes' synthetic clips plus their real clips of the training people
    (``simgen train``'s fit loop and defaults); reused when ``out/model.pt`` exists."""
    from simgen.train.config import TrainConfig
    from simgen.train.fit import fit

    if not (out / "model.pt").is_file():
        fit(TrainConfig(synthetic=synthetic, real=str(old_real), out=str(out), epochs=epochs, seed=seed,
                        progress=False))
    return out / "model.pt"


def _sum(folds: list[dict], where: str, when: str, part: str) -> tuple[int, int]:
    """(correct, clips) over folds."""
    correct = clips = 0
    for f in folds:
        e = f[where][when][part]
        if e["accuracy"] is not None:
            correct += round(e["accuracy"] * e["n_clips"])
            clips += e["n_clips"]
    return correct, clips


def main(argv: list[str] | None = None) -> int:
    from simgen.adapt.update import UPDATE_STEPS, _dataset, evaluate_split, run_update
    from simgen.train.checkpoint import load_model
    from simgen.train.data.cache import FrameCache
    from simgen.train.data.real import RealFolderReader
    from simgen.train.data.synthetic import open_reader

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="the base model (old classes); or --real-replay to train one per fold")
    p.add_argument("--real-replay", action="store_true",
                   help="per fold, train the base on the old classes' synthetic clips (first --replay) plus their real "
                        "clips of the training people, and rehearse those real clips too")
    p.add_argument("--base-epochs", type=int, default=80)
    p.add_argument("--bases", help="with --real-replay: where the fold base models are (trained if absent; "
                                   "default: OUT)")
    p.add_argument("--new-synthetic", required=True)
    p.add_argument("--replay", required=True, action="append")
    p.add_argument("--real", required=True)
    p.add_argument("--new-class", required=True)
    p.add_argument("--synthetic-test", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--subjects", help="test people (default: every person of --real)")
    p.add_argument("--steps", type=int, default=UPDATE_STEPS)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train", default="last")
    p.add_argument("--distill", type=float, default=1.0)
    p.add_argument("--replay-per-class", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    real, out = Path(args.real), Path(args.out)
    cache_dir = str(out.parent / "cache")
    t0 = time.time()
    people = args.subjects.split(",") if args.subjects else sorted({r["subject"] for r in RealFolderReader(real).rows})
    if not args.checkpoint and not args.real_replay:
        p.error("give --checkpoint or --real-replay")
    old_classes = open_reader(args.replay[0]).classes
    classes = old_classes + [args.new_class]
    folds = []
    for person in people:
        fold = out / f"test-{person}"
        new_real = new_class_folder(real, args.new_class, person, fold / "new_real")
        replay = list(args.replay)
        checkpoint = args.checkpoint
        if args.real_replay:
            old_real = old_real_folder(real, old_classes, person, fold / "old_real")
            bases = Path(args.bases) if args.bases else out
            checkpoint = str(fold_base(args.replay[0], old_real, bases / f"test-{person}" / "base",
                                       epochs=args.base_epochs, seed=args.seed))
            replay.append(str(old_real))
        base, meta = load_model(checkpoint)
        syn_test = _dataset(open_reader(args.synthetic_test, classes=classes, size=meta["size"]), meta,
                            FrameCache(cache_dir), args.seed)
        syn_before = evaluate_split(base, meta, syn_test, len(meta["classes"]), "cpu")
        m = run_update(checkpoint, [args.new_synthetic, str(new_real)], fold / "run", replay=replay,
                       replay_per_class=args.replay_per_class, eval_dir=str(real), eval_subjects=[person],
                       steps=args.steps, lr=args.lr, trainable=args.train, distill=args.distill, seed=args.seed,
                       cache_dir=cache_dir)
        grown, grown_meta = load_model(fold / "run" / "model.pt")
        syn_after = evaluate_split(grown, grown_meta, syn_test, len(meta["classes"]), "cpu")
        folds.append(dict(person=person, real_new_clips=m["clips"]["new"][args.new_class],
                          real=m["evaluation"], synthetic=dict(before=syn_before, after=syn_after),
                          seconds=m["seconds"]))
        print(f"test {person}: real old {m['evaluation']['before']['old']['accuracy']} -> "
              f"{m['evaluation']['after']['old']['accuracy']}, new -> {m['evaluation']['after']['new']['accuracy']}; "
              f"synthetic old {syn_before['old']['accuracy']} -> {syn_after['old']['accuracy']}, new -> "
              f"{syn_after['new']['accuracy']} ({m['seconds']} s)", file=sys.stderr)
    rows, summary = [], {}
    for where in ("real", "synthetic"):
        for part in ("old", "new"):
            cb, nb = _sum(folds, where, "before", part)
            ca, na = _sum(folds, where, "after", part)
            summary[f"{where}_{part}"] = dict(before=cb / nb if nb else None, after=ca / na if na else None,
                                              correct_before=cb, correct_after=ca, clips=na)
            rows.append(f"| {where} | {part} | {ca}/{na} | {100 * cb / nb:.1f}% | {100 * ca / na:.1f}% |")
    for where in ("real", "synthetic"):
        s = summary[f"{where}_old"]
        s["cost_points"] = round(100 * (s["before"] - s["after"]), 2)
    table = "\n".join(["| clips | classes | correct after (clips summed over folds) | before | after |",
                       "|---|---|---|---|---|", *rows])
    (out / "table.md").write_text(table + "\n")
    (out / "summary.json").write_text(json.dumps(dict(
        settings=vars(args), people=people, seconds=round(time.time() - t0, 1), summary=summary, folds=folds),
        indent=1))
    print(table)
    print(f"old-class cost: real {summary['real_old']['cost_points']} points, synthetic "
          f"{summary['synthetic_old']['cost_points']} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())

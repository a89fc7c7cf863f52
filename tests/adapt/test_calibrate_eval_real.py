"""`simgen calibrate --tune --eval-real`: the leave-one-person-out summary, its report, and bad input.

The full pipeline (tune, generate, train, evaluate per fold) is exercised by the measured run in the
README; here the pieces that decide what is reported: pooling over folds, per class, from the files a
fold leaves, and the refusals."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser

import pytest


def _fold(root, subject, before, after, labels=("wave1", "jack"), tag=""):
    fold = root / f"fold_{subject}"
    (fold / "tune").mkdir(parents=True, exist_ok=True)
    for name, predicted in (("untuned", before), ("tuned", after)):
        per_clip = [dict(path=f"{subject}_{l}.mp4", subject=subject, label=l, predicted=p) for l, p in zip(labels, predicted)]
        acc = sum(r["label"] == r["predicted"] for r in per_clip) / len(per_clip)
        (fold / f"{name}_metrics{tag}.json").write_text(json.dumps(dict(accuracy=acc, n_clips=len(per_clip), per_clip=per_clip)))
    (fold / "tune" / "tuning.json").write_text(json.dumps(dict(
        factors={"camera.actor_height_fraction": dict(before=[0.6, 0.7], after=[0.8, 0.9])}, gap_before=1.0, gap_after=0.5)))


def test_summary_pools_folds_and_classes_before_and_after(tmp_path):
    from simgen.adapt.calibrate.eval_real import summarise, write_report

    _fold(tmp_path, "s0", before=["wave1", "wave1"], after=["wave1", "jack"])  # jack fixed by tuning
    _fold(tmp_path, "s1", before=["jack", "jack"], after=["wave1", "wave1"])  # both flipped
    settings = dict(budget=4, probe_clips=4, train_clips=8, epochs=1, seed=0)
    metrics = summarise(tmp_path, ["s0", "s1", "s2"], settings)["eval_real"]  # s2 not run yet: left out, counted
    assert metrics["folds_done"] == 2 and metrics["folds_total"] == 3
    assert metrics["folds"]["s0"] == dict(before=0.5, after=1.0, n_clips=2, gap_before=1.0, gap_after=0.5,
                                          factors={"camera.actor_height_fraction": dict(before=[0.6, 0.7], after=[0.8, 0.9])})
    assert metrics["before"] == dict(accuracy=0.5, per_class={"jack": 0.5, "wave1": 0.5}, n_clips=4)
    assert metrics["after"] == dict(accuracy=0.75, per_class={"jack": 0.5, "wave1": 1.0}, n_clips=4)
    write_report(tmp_path / "report.html", dict(eval_real=metrics))
    html = (tmp_path / "report.html").read_text()
    cells = []

    class Cells(HTMLParser):
        def handle_data(self, data):
            cells.append(data.strip())

    Cells().feed(html)
    assert ["s0", "0.50", "1.00", "2"] == cells[cells.index("s0"):cells.index("s0") + 4]
    assert ["wave1", "0.50", "1.00"] == cells[cells.index("wave1"):cells.index("wave1") + 3]
    assert "0.500 untuned, 0.750 tuned" in html


def test_several_training_seeds_are_averaged_and_each_is_reported(tmp_path):
    """Seed 3 (the first) keeps the unsuffixed files; seed 4's carry _seed4; a fold missing a seed waits."""
    from simgen.adapt.calibrate.eval_real import summarise, write_report

    _fold(tmp_path, "s0", before=["wave1", "wave1"], after=["wave1", "jack"])  # seed 3: 0.5 -> 1.0
    _fold(tmp_path, "s0", before=["jack", "jack"], after=["jack", "jack"], tag="_seed4")  # seed 4: 0.5 -> 0.5
    _fold(tmp_path, "s1", before=["wave1", "jack"], after=["wave1", "jack"])  # seed 4 not scored yet
    settings = dict(budget=4, probe_clips=4, train_clips=8, epochs=1, seed=3, train_seeds=2)
    metrics = summarise(tmp_path, ["s0", "s1"], settings)["eval_real"]
    assert metrics["folds_done"] == 1 and list(metrics["folds"]) == ["s0"]
    fold = metrics["folds"]["s0"]
    assert (fold["before"], fold["after"]) == (0.5, 0.75)
    assert (fold["before_per_seed"], fold["after_per_seed"]) == ([0.5, 0.5], [1.0, 0.5])
    assert metrics["before"] == dict(accuracy=0.5, per_class={"jack": 0.5, "wave1": 0.5}, n_clips=2, per_seed=[0.5, 0.5])
    assert metrics["after"] == dict(accuracy=0.75, per_class={"jack": 1.0, "wave1": 0.5}, n_clips=2, per_seed=[1.0, 0.5])
    write_report(tmp_path / "report.html", dict(eval_real=metrics))
    assert "means over 2 training seeds per arm (seeds 3-4, the same clips); per seed, untuned -&gt; tuned: " \
           "0.500 -&gt; 1.000, 0.500 -&gt; 0.500." in (tmp_path / "report.html").read_text()


@pytest.fixture
def unlabelled(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    with open(real / "labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "subject"])
        w.writerow(["a.mp4", "wave1", "s0"])
        w.writerow(["b.mp4", "jack", "s0"])
    return real


def test_eval_real_needs_two_subjects(unlabelled, simgen_cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: demo\n")
    simgen_cli.one_line_error(["calibrate", "--tune", "--spec", spec, "--real", unlabelled, "--eval-real", unlabelled,
                               "--out", tmp_path / "o"], "--eval-real", "subject", "two people")


def test_eval_real_without_tune_is_one_clear_error(unlabelled, simgen_cli, tmp_path):
    simgen_cli.one_line_error(["calibrate", "--synthetic", tmp_path, "--real", unlabelled, "--eval-real", unlabelled,
                               "--out", tmp_path / "o"], "--eval-real needs --tune")


def test_folds_tuned_to_the_same_spec_share_one_digest(tmp_path):
    from simgen.adapt.calibrate.eval_real import spec_digest

    body = "name: w4\ncamera:\n  actor_height_fraction:\n  - 0.81\n  - 0.99\n"
    (tmp_path / "a.yaml").write_text("# calibrated against s1-s4: gap 2.48 -> 1.95\n" + body)
    (tmp_path / "b.yaml").write_text("# calibrated against s0,s2-s4: gap 2.62 -> 1.97\n" + body)
    (tmp_path / "c.yaml").write_text(body.replace("0.99", "0.98"))
    assert spec_digest(tmp_path / "a.yaml") == spec_digest(tmp_path / "b.yaml") != spec_digest(tmp_path / "c.yaml")


def test_a_fold_whose_tuned_spec_cannot_be_generated_is_left_out_and_said(tmp_path, monkeypatch):
    """The other folds go on; the summary pools only folds with both models and names the refused one."""
    from simgen.adapt.calibrate import eval_real as er
    from simgen.errors import SimgenError

    real = tmp_path / "real"
    real.mkdir()
    rows = ["path,label,subject"] + [f"{p}_{l}.mp4,{l},{p}" for p in ("s0", "s1") for l in ("wave1", "jack")]
    (real / "labels.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr("simgen.adapt.calibrate.clips.list_real",
                        lambda folder, option="--real": [dict(path=r.split(",")[0], label=r.split(",")[1], subject=r.split(",")[2])
                                                         for r in rows[1:]])

    def tune(spec, real_dir, out, **kw):  # s0's search ends on a range the generator refuses at full size
        out.mkdir(parents=True)
        bad = all(r["subject"] != "s0" for r in kw["real_rows"])
        (out / "calibrated.yaml").write_text("name: w4\n" + ("speed: [3, 4]\n" if bad else "speed: [1, 1.2]\n"))
        (out / "tuning.json").write_text(json.dumps(dict(factors={}, gap_before=1.0, gap_after=0.5)))

    def train_set(spec_path, folder, clips, seed, workers):
        if "speed: [3, 4]" in spec_path.read_text():
            raise SimgenError("field 'physics': clip 108 ('wave1'): all 30 attempts were physically implausible")
        folder.mkdir(parents=True, exist_ok=True)

    def model(data, run, epochs, seed):
        run.mkdir(parents=True, exist_ok=True)
        return run / "model.pt"

    def evaluate(model_path, real_dir, subject, out):
        per_clip = [dict(path=f"{subject}_{l}.mp4", subject=subject, label=l, predicted="jack") for l in ("wave1", "jack")]
        out.write_text(json.dumps(dict(accuracy=0.5, n_clips=2, per_clip=per_clip)))
        return json.loads(out.read_text())

    monkeypatch.setattr("simgen.adapt.calibrate.tune.tune_spec", tune)
    monkeypatch.setattr(er, "_train_set", train_set)
    monkeypatch.setattr(er, "_model", model)
    monkeypatch.setattr(er, "_evaluate", evaluate)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: w4\n")
    metrics = er.eval_real(spec, real, real, tmp_path / "out", folds=None, budget=2, factors=None, probe_clips=4,
                           train_clips=8, epochs=1, progress=False)["eval_real"]
    assert list(metrics["folds"]) == ["s1"] and metrics["folds_done"] == 1 and metrics["folds_total"] == 2
    assert "physically implausible" in metrics["folds_refused"]["s0"]
    assert metrics["before"]["n_clips"] == metrics["after"]["n_clips"] == 2  # paired: s0's untuned score is left out too
    assert "Fold s0 left out" in (tmp_path / "out" / "report.html").read_text()


def test_each_arm_trains_one_model_per_seed_on_one_training_set(tmp_path, monkeypatch):
    from simgen.adapt.calibrate import eval_real as er

    real = tmp_path / "real"
    real.mkdir()
    rows = [dict(path=f"{p}_{l}.mp4", label=l, subject=p) for p in ("s0", "s1") for l in ("wave1", "jack")]
    monkeypatch.setattr("simgen.adapt.calibrate.clips.list_real", lambda folder, option="--real": rows)

    def tune(spec, real_dir, out, **kw):
        out.mkdir(parents=True)
        (out / "calibrated.yaml").write_text("name: w4\nspeed: [1, 1.2]\n")
        (out / "tuning.json").write_text(json.dumps(dict(factors={}, gap_before=1.0, gap_after=0.5)))

    generated, trained = [], []
    monkeypatch.setattr("simgen.adapt.calibrate.tune.tune_spec", tune)
    monkeypatch.setattr(er, "_train_set", lambda spec, folder, clips, seed, workers: generated.append((folder.parent.name, seed)))
    monkeypatch.setattr(er, "_model", lambda data, run, epochs, seed: trained.append((run.parent.name, run.name, seed)) or run / "model.pt")

    def evaluate(model_path, real_dir, subject, out):
        per_clip = [dict(path="x.mp4", subject=subject, label="jack", predicted="jack" if "seed" in model_path.parent.name else "wave1")]
        out.write_text(json.dumps(dict(accuracy=float(per_clip[0]["predicted"] == "jack"), n_clips=1, per_clip=per_clip)))

    monkeypatch.setattr(er, "_evaluate", evaluate)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: w4\n")
    metrics = er.eval_real(spec, real, real, tmp_path / "out", folds=None, budget=2, factors=None, probe_clips=4,
                           train_clips=8, epochs=1, seed=5, train_seeds=3, progress=False)["eval_real"]
    digest = er.spec_digest(tmp_path / "out" / "eval_real" / "fold_s0" / "tune" / "calibrated.yaml")
    assert sorted(set(generated)) == [(digest, 5), ("untuned", 5)]  # one data seed per arm, whatever the model seed
    assert sorted(set(trained)) == sorted((arm, f"model{tag}", s) for arm in ("untuned", digest)
                                          for tag, s in (("", 5), ("_seed6", 6), ("_seed7", 7)))
    assert metrics["before"]["per_seed"] == metrics["after"]["per_seed"] == [0.0, 1.0, 1.0]
    assert metrics["folds"]["s1"]["after_per_seed"] == [0.0, 1.0, 1.0]


def test_the_cli_default_is_the_measured_seed_count():
    from simgen.adapt.calibrate.eval_real import EVAL_TRAIN_SEEDS
    from simgen.pipelines.cli import build_parser

    args = build_parser().parse_args(["calibrate", "--tune", "--spec", "s.yaml", "--real", "r", "--eval-real", "r",
                                      "--out", "o"])
    assert args.train_seeds == EVAL_TRAIN_SEEDS == 3

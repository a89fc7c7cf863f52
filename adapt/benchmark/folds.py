"""Test folds by person, and the K labelled shots per class drawn for each.

A fold names the people it tests on. Everything a method may learn from or select
with (the labelled shots, the unlabelled real clips) comes from the *other* people;
:func:`check_fold` asserts it, and every fold is checked when it is made.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np


class BenchmarkInputError(ValueError):
    """Bad benchmark input (labels, subjects, shots, label map): the message is the one line shown."""


@dataclass(frozen=True)
class RealRow:
    """One real clip: its path, class index in the synthetic class list (-1 unlabelled) and person."""

    path: str
    label: int
    subject: str


@dataclass(frozen=True)
class Fold:
    """One train/test split of the real clips by person (indices into the list of :class:`RealRow`).

    ``shots``: labelled clips (K per class) a method may train and select on; ``unlabelled``:
    real clips of the training people whose labels are hidden; ``test``: the test people's
    labelled clips, scored only.
    """

    name: str
    test_subjects: tuple[str, ...]
    train_subjects: tuple[str, ...]
    shots: tuple[int, ...]
    unlabelled: tuple[int, ...]
    test: tuple[int, ...]


class FoldLeakError(AssertionError):
    """A fold lets a test person's clip (or a test clip) into training or selection."""


def check_fold(fold: Fold, rows: list[RealRow]) -> None:
    """Raise :class:`FoldLeakError` unless the fold keeps its test people apart.

    Checked: no shot or unlabelled clip belongs to a test person or has no person; no
    test clip is also a shot or unlabelled clip (by index or by file); every test clip
    belongs to a test person and is labelled; shots are labelled.
    """
    test_people = set(fold.test_subjects)
    if test_people & set(fold.train_subjects):
        raise FoldLeakError(f"fold {fold.name}: people both trained and tested on: {sorted(test_people & set(fold.train_subjects))}")
    used = set(fold.shots) | set(fold.unlabelled)
    for i in used:
        if rows[i].subject in test_people or not rows[i].subject:
            raise FoldLeakError(f"fold {fold.name}: training clip {rows[i].path} belongs to test person "
                                f"{rows[i].subject or '(none)'}")
    for i in fold.shots:
        if rows[i].label < 0:
            raise FoldLeakError(f"fold {fold.name}: shot {rows[i].path} has no label")
    if used & set(fold.test):
        raise FoldLeakError(f"fold {fold.name}: clips both trained and tested on: {sorted(used & set(fold.test))}")
    used_paths = {rows[i].path for i in used}
    for i in fold.test:
        if rows[i].subject not in test_people or rows[i].label < 0:
            raise FoldLeakError(f"fold {fold.name}: test clip {rows[i].path} is not a labelled clip of a test person")
        if rows[i].path in used_paths:
            raise FoldLeakError(f"fold {fold.name}: test file {rows[i].path} is also a training clip")


def check_subjects(rows: list[RealRow], names: list[str], where: str) -> None:
    """An unknown test person is one line with the closest known name."""
    known = sorted({r.subject for r in rows if r.subject})
    if not known:
        raise BenchmarkInputError(f"{where}: no clip has a subject; labels.csv needs columns path,label,subject "
                                  "to split by person")
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise BenchmarkInputError(f"--test-subjects: no clip of subject '{name}' in {where}{hint} "
                                      f"(subjects: {', '.join(known)})")


def fold_splits(rows: list[RealRow], *, test_subjects: list[str] | None, leave_one_out: bool,
                where: str) -> list[tuple[str, ...]]:
    """The test people of each fold: one fold of ``test_subjects``, or one fold per person."""
    if leave_one_out:
        check_subjects(rows, [], where)
        people = sorted({r.subject for r in rows if r.subject and r.label >= 0})
        if len(people) < 2:
            raise BenchmarkInputError(f"--leave-one-subject-out: {where} has labelled clips of {len(people)} "
                                      "person(s); it needs at least 2")
        return [(p,) for p in people]
    names = list(dict.fromkeys(test_subjects or []))
    check_subjects(rows, names, where)
    if not {r.subject for r in rows if r.subject and r.label >= 0} - set(names):
        raise BenchmarkInputError(f"--test-subjects {','.join(names)}: leaves no labelled person in {where} to train on")
    return [tuple(names)]


def sample_shots(rows: list[RealRow], candidates: list[int], classes: list[str], shots: int,
                 rng: np.random.Generator, fold_name: str) -> list[int]:
    """``shots`` labelled clips per class present among the real labels, drawn from ``candidates``.

    Raises :class:`BenchmarkInputError` when a class has fewer than ``shots`` clips there.
    """
    if shots == 0:
        return []
    present = sorted({r.label for r in rows if r.label >= 0})
    picked = []
    for k in present:
        pool = [i for i in candidates if rows[i].label == k]
        if len(pool) < shots:
            people = sorted({rows[i].subject for i in candidates})
            raise BenchmarkInputError(
                f"--shots {shots}: class '{classes[k]}' has {len(pool)} labelled clip(s) among the training people "
                f"of fold {fold_name} ({', '.join(people)}); lower --shots or add clips")
        picked += sorted(rng.choice(pool, size=shots, replace=False).tolist())
    return picked


def make_folds(rows: list[RealRow], splits: list[tuple[str, ...]], classes: list[str], shots: int,
               rng: np.random.Generator) -> list[Fold]:
    """One checked :class:`Fold` per split; shots drawn from ``rng`` (pass one per seed)."""
    folds = []
    for test_people in splits:
        name = "+".join(test_people)
        train_idx = [i for i, r in enumerate(rows) if r.subject and r.subject not in test_people]
        labelled = [i for i in train_idx if rows[i].label >= 0]
        shot_idx = sample_shots(rows, labelled, classes, shots, rng, name)
        chosen = set(shot_idx)
        fold = Fold(name=name, test_subjects=tuple(test_people),
                    train_subjects=tuple(sorted({rows[i].subject for i in train_idx})),
                    shots=tuple(shot_idx), unlabelled=tuple(i for i in train_idx if i not in chosen),
                    test=tuple(i for i, r in enumerate(rows) if r.subject in test_people and r.label >= 0))
        check_fold(fold, rows)
        folds.append(fold)
    return folds


def parse_label_map(text: str | None) -> dict[str, str]:
    """``--label-map real=synthetic,...`` -> ``{real: synthetic}``."""
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        real, sep, synthetic = (s.strip() for s in item.partition("="))
        if not sep or not real or not synthetic:
            raise BenchmarkInputError(f"--label-map: expected REAL=SYNTHETIC pairs separated by commas, got '{item}'")
        out[real] = synthetic
    return out


def map_labels(raw_labels: list[str], classes: list[str], label_map: dict[str, str], where: str) -> list[int]:
    """Class index of each real label ('' = unlabelled -> -1) after ``label_map``.

    Raises :class:`BenchmarkInputError` listing every real label that names no synthetic class.
    """
    bad_targets = sorted({v for v in label_map.values() if v not in classes})
    if bad_targets:
        raise BenchmarkInputError(f"--label-map: {', '.join(repr(v) for v in bad_targets)} not among the synthetic "
                                  f"classes ({', '.join(classes)})")
    mapped = [label_map.get(x, x) if x else "" for x in raw_labels]
    missing = sorted({raw for raw, m in zip(raw_labels, mapped) if m and m not in classes})
    if missing:
        raise BenchmarkInputError(
            f"{where}: real label(s) {', '.join(repr(m) for m in missing)} are not synthetic classes "
            f"({', '.join(classes)}); rename them with --label-map REAL=SYNTHETIC,...")
    return [classes.index(m) if m else -1 for m in mapped]

"""Folds keep test people out of training and selection; shots are K per class; bad splits are one line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simgen.adapt.benchmark.folds import (BenchmarkInputError, Fold, FoldLeakError, RealRow, check_fold, make_folds,
                                          map_labels, parse_label_map, fold_splits)

CLASSES = ["a", "b", "c"]


def _rows(people=("p0", "p1", "p2", "p3"), per_class=2, unlabelled=1):
    rows = []
    for p in people:
        for k in range(len(CLASSES)):
            rows += [RealRow(path=f"{p}/{CLASSES[k]}{j}.mp4", label=k, subject=p) for j in range(per_class)]
        rows += [RealRow(path=f"{p}/u{j}.mp4", label=-1, subject=p) for j in range(unlabelled)]
    return rows


@pytest.mark.parametrize("shots", [0, 1, 2])
def test_leave_one_out_folds_keep_each_test_person_apart(shots):
    rows = _rows()
    splits = fold_splits(rows, test_subjects=None, leave_one_out=True, where="x")
    folds = make_folds(rows, splits, CLASSES, shots, np.random.default_rng(0))
    assert [f.test_subjects for f in folds] == [("p0",), ("p1",), ("p2",), ("p3",)]
    for fold in folds:
        (person,) = fold.test_subjects
        used = set(fold.shots) | set(fold.unlabelled)
        assert all(rows[i].subject != person for i in used)  # nothing of the test person is trained or selected on
        assert {i for i, r in enumerate(rows) if r.subject == person and r.label >= 0} == set(fold.test)
        assert not used & set(fold.test)
        # every other clip of the other people is available, the shots labelled and K per class
        assert used == {i for i, r in enumerate(rows) if r.subject != person}
        assert sorted(rows[i].label for i in fold.shots) == sorted(list(range(3)) * shots)


def test_shots_depend_on_the_generator():
    rows = _rows()
    splits = fold_splits(rows, test_subjects=["p0"], leave_one_out=False, where="x")
    picks = {tuple(make_folds(rows, splits, CLASSES, 1, np.random.default_rng(s))[0].shots) for s in range(8)}
    assert len(picks) > 1


def _fold(rows):
    return make_folds(rows, [("p0",)], CLASSES, 1, np.random.default_rng(0))[0]


def test_check_fold_catches_a_test_persons_clip_in_training():
    rows = _rows()
    fold = _fold(rows)
    check_fold(fold, rows)
    leaked = next(i for i in fold.test)
    with pytest.raises(FoldLeakError, match="belongs to test person p0"):
        check_fold(dataclasses.replace(fold, unlabelled=fold.unlabelled + (leaked,)), rows)
    with pytest.raises(FoldLeakError, match="belongs to test person p0"):
        check_fold(dataclasses.replace(fold, shots=fold.shots + (leaked,)), rows)
    unlabelled_of_p0 = next(i for i, r in enumerate(rows) if r.subject == "p0" and r.label < 0)
    with pytest.raises(FoldLeakError):
        check_fold(dataclasses.replace(fold, unlabelled=fold.unlabelled + (unlabelled_of_p0,)), rows)


def test_check_fold_catches_the_same_file_under_two_people():
    rows = _rows()
    fold = _fold(rows)
    test_file = rows[fold.test[0]].path
    rows = rows + [RealRow(path=test_file, label=rows[fold.test[0]].label, subject="p1")]
    fold = dataclasses.replace(fold, unlabelled=fold.unlabelled + (len(rows) - 1,))
    with pytest.raises(FoldLeakError, match="also a training clip"):
        check_fold(fold, rows)


def test_check_fold_catches_a_test_clip_of_another_person():
    rows = _rows()
    fold = _fold(rows)
    with pytest.raises(FoldLeakError, match="not a labelled clip of a test person"):
        check_fold(dataclasses.replace(fold, test=fold.test + (fold.unlabelled[0],), unlabelled=fold.unlabelled[1:]), rows)


def test_too_few_clips_for_k_shots_names_the_class_and_fold():
    rows = [r for r in _rows(per_class=2) if not (r.label == 2 and r.subject in ("p1", "p2"))]
    splits = fold_splits(rows, test_subjects=["p0"], leave_one_out=False, where="x")
    make_folds(rows, splits, CLASSES, 2, np.random.default_rng(0))  # p3 still has 2 of class c
    with pytest.raises(BenchmarkInputError, match=r"--shots 3: class 'c' has 2 labelled clip\(s\) .* fold p0"):
        make_folds(rows, splits, CLASSES, 3, np.random.default_rng(0))


def test_unknown_test_subject_suggests_the_closest():
    with pytest.raises(BenchmarkInputError, match=r"no clip of subject 'p9'.*subjects: p0, p1, p2, p3"):
        fold_splits(_rows(), test_subjects=["p9"], leave_one_out=False, where="x")
    with pytest.raises(BenchmarkInputError, match="did you mean 's0'"):
        fold_splits(_rows(people=("s0", "anna")), test_subjects=["s01"], leave_one_out=False, where="x")
    with pytest.raises(BenchmarkInputError, match="leaves no labelled person"):
        fold_splits(_rows(people=("p0", "p1")), test_subjects=["p0", "p1"], leave_one_out=False, where="x")


def test_labels_outside_the_synthetic_classes_are_listed_and_can_be_mapped():
    with pytest.raises(BenchmarkInputError, match=r"'run', 'walk' are not synthetic classes.*--label-map"):
        map_labels(["a", "walk", "run", "", "walk"], CLASSES, {}, "labels.csv")
    assert map_labels(["a", "walk", "run", ""], CLASSES, parse_label_map("walk=b, run=c"), "x") == [0, 1, 2, -1]
    with pytest.raises(BenchmarkInputError, match="'zz' not among the synthetic classes"):
        map_labels(["a"], CLASSES, parse_label_map("walk=zz"), "x")
    with pytest.raises(BenchmarkInputError, match="expected REAL=SYNTHETIC"):
        parse_label_map("walk")

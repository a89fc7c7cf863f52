"""The ``simgen sim2real`` benchmark: folds and shots (:mod:`.folds`), label-hiding clip sets
(:mod:`.data`), scoring (:mod:`.scoring`), label-free model selection (:mod:`.selection`),
the methods (:mod:`.methods`), the run loop (:mod:`.runner`) and the results (:mod:`.results`)."""

from simgen.adapt.benchmark.folds import BenchmarkInputError, Fold, check_fold, make_folds, parse_label_map

__all__ = ["BenchmarkInputError", "Fold", "check_fold", "make_folds", "parse_label_map"]

"""Clip and per-frame metrics, temporal decoding and ensembling."""

from simgen.train.metrics.clip import clip_metrics, confusion_matrix
from simgen.train.metrics.decode import median_smooth, median_smooth_labels, viterbi_decode
from simgen.train.metrics.ensemble import FUSIONS, Ensemble, average_probabilities, fuse_scores
from simgen.train.metrics.segment import edit_score, segment_counts, segmentation_metrics, segments_of

__all__ = ["clip_metrics", "confusion_matrix", "segmentation_metrics", "edit_score", "segment_counts",
           "segments_of", "median_smooth", "median_smooth_labels", "viterbi_decode", "Ensemble", "FUSIONS", "fuse_scores",
           "average_probabilities"]

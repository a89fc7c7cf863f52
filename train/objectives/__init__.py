"""Training objectives: supervised, self-supervised temporal pretext tasks, weak labels."""

from simgen.train.objectives.selfsup import (
    PRETEXT_TASKS,
    ArrowOfTime,
    PlaybackSpeedPrediction,
    TemporalContrastive,
    TemporalOrderVerification,
    info_nce,
)
from simgen.train.objectives.supervised import ClassificationLoss, class_balance_weights
from simgen.train.objectives.weak import WeakFrameLoss, temporal_smoothing_loss

__all__ = ["ClassificationLoss", "class_balance_weights", "WeakFrameLoss", "temporal_smoothing_loss",
           "TemporalOrderVerification", "PlaybackSpeedPrediction", "ArrowOfTime", "TemporalContrastive",
           "info_nce", "PRETEXT_TASKS"]

"""Clip-consistent augmentation on the training device (kornia)."""

from train.augment.camera import Compression, MotionBlur, SensorNoise
from train.augment.pipeline import ClipAugmentation, create_clip_augmentation
from train.augment.spatial import FrameJitter, create_spatial_augment
from train.augment.temporal import (
    RandomFrameDrop,
    RandomReverse,
    RandomSpeed,
    RandomTemporalCrop,
    TemporalCompose,
)

__all__ = [
    "ClipAugmentation", "create_clip_augmentation", "create_spatial_augment", "FrameJitter",
    "RandomSpeed", "RandomFrameDrop", "RandomReverse", "RandomTemporalCrop", "TemporalCompose",
    "SensorNoise", "MotionBlur", "Compression",
]

"""Clip-consistent augmentation on the training device (kornia)."""

from simgen.train.augment.camera import Compression, MotionBlur, MovingOccluder, SensorNoise
from simgen.train.augment.pipeline import ClipAugmentation, create_clip_augmentation
from simgen.train.augment.spatial import FrameJitter, create_spatial_augment
from simgen.train.augment.temporal import (
    RandomFrameDrop,
    RandomFrameRate,
    RandomReverse,
    RandomSpeed,
    RandomTemporalCrop,
    TemporalCompose,
)

__all__ = [
    "ClipAugmentation", "create_clip_augmentation", "create_spatial_augment", "FrameJitter",
    "RandomSpeed", "RandomFrameDrop", "RandomFrameRate", "RandomReverse", "RandomTemporalCrop", "TemporalCompose",
    "SensorNoise", "MotionBlur", "Compression", "MovingOccluder",
]

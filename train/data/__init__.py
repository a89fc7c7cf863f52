"""Readers, temporal samplers, frame cache and batching for video clips.

Readers are usable outside training: ``reader.read(i) -> (frames uint8[T,H,W,3],
annotations dict)``.
"""

from simgen.train.data.real import RealFolderReader
from simgen.train.data.samplers import (
    dense_windows,
    random_window,
    resample_fps,
    tsn_segments,
    uniform_indices,
)
from simgen.train.data.synthetic import SyntheticReader, open_reader

__all__ = [
    "RealFolderReader",
    "SyntheticReader",
    "open_reader",
    "uniform_indices",
    "random_window",
    "dense_windows",
    "tsn_segments",
    "resample_fps",
]

"""Errors raised by ``train`` for bad input.

Every message names the file, the field and what was expected, so a user can fix
the data without reading a traceback (see DESIGN.md, "Bad input gets a clear error").
"""


class TrainDataError(ValueError):
    """A dataset folder, label file or annotation is malformed."""


class VideoDecodeError(TrainDataError):
    """A video file is missing, empty, truncated or not decodable by PyAV."""


class WeightsFileError(TrainDataError):
    """A ``--weights`` file is missing, unreadable, not a state dict or does not fit the model."""

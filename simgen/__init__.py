"""simgen: procedurally generated, physically simulated human action clips.

`simgen` never imports torch: it produces datasets that `train/` consumes.
"""

__version__ = "0.1.0"

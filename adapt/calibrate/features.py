"""Clip features for the feature-level gap: a trained model's, or a fixed network's when none is given.

With ``--model RUN/model.pt`` the features are ``model.temporal_features`` averaged over time and over
the clip's windows: what the classifier sees, so a gap there is a gap that costs accuracy. Without
one, the fixed network is a Tiny3D backbone with *random* weights drawn from ``torch.manual_seed(0)``
(no pretrained video network can be fetched offline): its distances measure appearance and motion
statistics at several scales, not semantics, and are comparable only between reports that use it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simgen.errors import SimgenError

#: frames per window and input size of the fixed network
FIXED_NUM_FRAMES = 16
FIXED_SEED = 0


class FeatureExtractor:
    """``extractor(frames uint8[T,H,W,3]) -> float32[D]``; ``description`` says which network."""

    def __init__(self, model_path: str | Path | None, *, size: int):
        import torch

        from simgen.train.inputs import InputTransform

        if model_path is not None:
            from simgen.train.checkpoint import load_model
            from simgen.train.errors import TrainDataError

            try:
                self.model, meta = load_model(model_path)
            except TrainDataError as exc:
                raise SimgenError(f"--model {exc}") from None
            self.num_frames, self.stride = int(meta["num_frames"]), int(meta["stride"])
            self.size = int(meta["size"]) if isinstance(meta["size"], int) else int(meta["size"][0])
            self.input = InputTransform(meta["input"])
            self.description = (f"trained model {model_path} ({meta['backbone']}, input {meta['input']}, "
                                f"{self.num_frames} frames x stride {self.stride} at {self.size}x{self.size}): "
                                "temporal_features averaged over time and windows")
            self.kind = "model"
        else:
            from simgen.train.models import create_action_model

            with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG as it was
                torch.manual_seed(FIXED_SEED)
                self.model = create_action_model(backbone="tiny3d", num_classes=1, input_mode="rgb", frame_head=False).eval()
            self.num_frames, self.stride, self.size = FIXED_NUM_FRAMES, 1, size
            self.input = InputTransform("rgb")
            self.description = (f"fixed network: tiny3d with random weights (torch seed {FIXED_SEED}; no pretrained video "
                                f"network offline), {self.num_frames} frames at {size}x{size}; measures appearance and "
                                "motion statistics, not semantics; compare only with reports made the same way")
            self.kind = "fixed"
        self.model.eval()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch

        from simgen.train.data.batch import to_float_video
        from simgen.train.data.samplers import dense_windows
        from simgen.train.data.video_io import fit_frame

        if frames.shape[1:3] != (self.size, self.size):
            frames = np.stack([fit_frame(f, self.size) for f in frames])
        windows = dense_windows(len(frames), self.num_frames, self.stride)
        video = torch.from_numpy(np.ascontiguousarray(frames))
        with torch.no_grad():
            x = self.input(to_float_video(video[torch.from_numpy(windows)]))
            features = self.model.temporal_features(x).mean(-1)  # (W, D)
        return features.mean(0).float().numpy()

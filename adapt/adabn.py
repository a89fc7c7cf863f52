"""AdaBN: re-estimate a model's batch-norm statistics on clips of the target domain (labels unused).

Li, Wang, Shi, Liu and Hou, "Revisiting Batch Normalization For Practical Domain Adaptation"
(ICLR 2017 workshop; Pattern Recognition 2018): the weights learnt on the source stay, only each
batch-norm layer's running mean and variance are recomputed from target data, so every layer sees
target features normalised as the source features were in training.

Why here: a sim-only model reads real clips whose frame differences are larger than the synthetic
ones (real wave2's moving area at a 2-frame gap is about 3x synthetic wave2's, as large as synthetic
jack's), and takes real waves and bends for jack. Halving the real differences by hand moved one
sim-only model from 80% to 95% on weizmann4_dev (a diagnostic that looked at the test clips, docs/sim2real-log.md);
AdaBN makes such a correction from unlabelled clips, per layer, without a hand-set factor.
"""

from __future__ import annotations

import copy
from typing import Iterable

import numpy as np
import torch
from torch import nn

from simgen.train.data.batch import to_float_video
from simgen.train.data.samplers import dense_windows, resample_fps
from simgen.train.inputs import InputTransform

#: windows per forward pass: windows of different clips share a batch, so each batch's variance
#: holds the spread between clips, not only within one
ADABN_BATCH = 8


def norm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recompute_batch_norm(model: nn.Module, batches: Iterable[torch.Tensor], device="cpu") -> tuple[nn.Module, int]:
    """A copy of ``model`` whose batch-norm running statistics are the average over ``batches``
    (model inputs, e.g. ``(B,C,T,H,W)``) of each batch's statistics; other layers run in eval mode
    (no dropout) and no weight changes. Returns ``(model in eval mode, batches seen)``; with no batch
    the copy keeps the original statistics."""
    adapted = copy.deepcopy(model).to(device).eval()
    layers = norm_layers(adapted)
    saved = [(copy.deepcopy(m.running_mean), copy.deepcopy(m.running_var), m.momentum) for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches, not an exponential one
        m.train()
    seen = 0
    for x in batches:
        adapted(x.to(device))
        seen += 1
    for m, (mean, var, momentum) in zip(layers, saved):
        m.momentum = momentum
        m.eval()
        if seen == 0:
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
    return adapted, seen


def clip_windows(clips, *, input_mode: str, num_frames: int, stride: int, fps: float | None,
                 batch_size: int = ADABN_BATCH, seed: int = 0) -> list[torch.Tensor]:
    """Model inputs for AdaBN from ``clips`` (objects with ``frames`` uint8 ``[T,H,W,3]`` and ``fps``):
    every non-overlapping window of each clip at the model's frame rate (as scoring reads them),
    shuffled across clips with ``seed`` and cut into batches of ``batch_size``."""
    input_tf = InputTransform(input_mode)
    windows = []
    for clip in clips:
        idx = resample_fps(len(clip.frames), clip.fps, fps)
        frames = torch.from_numpy(np.ascontiguousarray(clip.frames[idx]))
        for w in dense_windows(len(frames), num_frames, stride):
            windows.append(frames[torch.from_numpy(w)])
    order = np.random.default_rng(seed).permutation(len(windows))
    return [input_tf(to_float_video(torch.stack([windows[i] for i in order[s:s + batch_size]])))
            for s in range(0, len(order), batch_size)]

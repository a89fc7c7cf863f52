"""Per-frame scores of a long video from a frame head: windowed backbone, stitched features, one head pass.

A 3D backbone holds every activation of its input at once, so a 5-minute video cannot go
through it whole. :func:`stitched_features` runs it on overlapping windows of the training
length, keeps the middle of each window (its edges saw zero padding, not the
neighbouring frames) and joins the middles into one feature sequence of the whole video;
where the backbone's receptive field fits in the overlap this equals running the backbone
on the whole video (tested). :func:`sequence_frame_scores` then runs the frame head over
that sequence, so a sequence head's context is the whole video while memory stays that of a
few windows. The ``linear`` head (a kernel-3 conv) is scored the same way: its steps then see
their true neighbours instead of a window edge's padding.

::

    frames (N,H,W,3) --every stride-th frame, per offset--> (M,H,W,3)
      -> windows of num_frames, hop = num_frames - 2 * margin -> backbone -> (W, D, T')
      -> keep steps [margin, T' - margin) (all at the video's ends) -> (D, ceil(M / r))
      -> frame head over the whole sequence -> (K, M * stride) -> shift by the offset, mean of offsets -> (N, K)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from simgen.train.data.batch import to_float_video


@torch.no_grad()
def stitched_features(model, input_tf, frames: torch.Tensor, *, num_frames: int, device="cpu",
                      batch_size: int = 16) -> torch.Tensor:
    """The backbone's temporal features of a whole frame sequence, computed in overlapping windows.

    Args:
        model: an :class:`~simgen.train.models.ActionModel` (``temporal_features``).
        input_tf: the model's :class:`~simgen.train.inputs.InputTransform`.
        frames: ``uint8[M,H,W,3]``, already at the model's frame spacing.
        num_frames: window length (the training clip length ``T``); the backbone's output
            length ``T'`` must divide it.

    Returns:
        ``float[D, ceil(M / r)]`` on the CPU, ``r = T / T'`` frames per step. A sequence shorter
        than a window (or a tail that does not fill one) is padded with its last frame.
    """
    m = len(frames)
    if m == 0:
        raise ValueError("no frames to score")

    def run(starts: list[int]) -> torch.Tensor:
        idx = torch.as_tensor(np.minimum(np.asarray(starts)[:, None] + np.arange(num_frames), m - 1))
        x = input_tf(to_float_video(frames[idx].to(device)))
        return model.temporal_features(x).float().cpu()

    first = run([0])
    steps = first.shape[-1]
    if num_frames % steps:
        raise ValueError(f"the backbone gives {steps} steps for {num_frames} frames; stitching needs a divisor")
    rate = num_frames // steps
    margin = steps // 4  # steps at each window edge that saw padding instead of neighbours
    hop = (steps - 2 * margin) * rate
    n_windows = 1 if m <= num_frames else math.ceil((m - num_frames) / hop) + 1
    total = ((n_windows - 1) * hop + num_frames) // rate
    out = torch.empty(first.shape[1], total)
    starts = [i * hop for i in range(n_windows)]
    for s in range(0, n_windows, batch_size):
        chunk = starts[s : s + batch_size]
        feats = first if s == 0 and len(chunk) == 1 else run(chunk)
        for w, start in enumerate(chunk):
            i = s + w
            lo = 0 if i == 0 else margin
            hi = steps if i == n_windows - 1 else steps - margin
            out[:, start // rate + lo : start // rate + hi] = feats[w, :, lo:hi]
    return out[:, : math.ceil(m / rate)]


@torch.no_grad()
def sequence_frame_scores(model, input_tf, frames: torch.Tensor, *, num_frames: int, stride: int, device="cpu",
                          batch_size: int = 16) -> torch.Tensor:
    """Per-frame class probabilities ``float[N, K]`` of a whole video from the model's frame head.

    Every ``stride``-th frame from each offset ``0..stride-1`` forms one sequence at the
    training frame spacing; each is stitched (:func:`stitched_features`) and labelled by one
    pass of the head, its scores are spread over every frame of the video, and the offsets'
    probabilities are averaged. (Interleaving the offsets instead would let two separately
    labelled sequences alternate frame by frame: flicker the head did not make.)
    """
    n = len(frames)
    offsets = range(min(stride, n))
    total = None
    for offset in offsets:
        idx = torch.arange(offset, n, stride)
        feats = stitched_features(model, input_tf, frames[idx], num_frames=num_frames, device=device,
                                  batch_size=batch_size)
        # the head's own upsampling to stride x the sampled frames: one score per video frame from offset on
        logits = model.frame_head(feats[None].to(device), len(idx) * stride).float()
        p = torch.softmax(logits, 1)[0].t().cpu()
        full = torch.empty(n, p.shape[1])
        span = min(n - offset, len(p))
        full[offset : offset + span] = p[:span]
        full[:offset] = p[0]
        total = full if total is None else total + full
    return total / len(offsets)

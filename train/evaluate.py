"""Evaluate a model on a dataset: clip metrics (multi-window) and per-frame metrics."""

from __future__ import annotations

import numpy as np
import torch

from simgen.train.data.batch import ClipDataset, to_float_video
from simgen.train.data.samplers import dense_windows
from simgen.train.inputs import InputTransform
from simgen.train.metrics.clip import clip_metrics
from simgen.train.metrics.decode import median_smooth, viterbi_decode
from simgen.train.metrics.segment import segmentation_metrics


@torch.no_grad()
def _window_outputs(model, input_tf, frames: torch.Tensor, windows: np.ndarray, device, batch_size: int):
    """Run the model on windows ``(W,T)`` of one clip's frames ``uint8[N,H,W,3]``."""
    clips, frame_logits = [], []
    for s in range(0, len(windows), batch_size):
        idx = torch.from_numpy(windows[s : s + batch_size])
        x = input_tf(to_float_video(frames[idx].to(device)))
        out = model(x)
        clips.append(torch.softmax(out["clip"].float(), 1).cpu())
        if "frame" in out:
            frame_logits.append(torch.softmax(out["frame"].float(), 1).cpu())
    return torch.cat(clips), (torch.cat(frame_logits) if frame_logits else None)


def clip_scores(model, input_tf, frames: torch.Tensor, *, num_frames: int, stride: int, device,
                batch_size: int = 16) -> torch.Tensor:
    """Class probabilities of a whole clip: mean over non-overlapping windows (``float[K]``)."""
    wins = dense_windows(len(frames), num_frames, stride)
    probs, _ = _window_outputs(model, input_tf, frames, wins, device, batch_size)
    return probs.mean(0)


def frame_scores(model, input_tf, frames: torch.Tensor, *, num_frames: int, stride: int, device,
                 batch_size: int = 16) -> torch.Tensor:
    """Per-frame class probabilities ``float[N,K]``.

    Windows start at every offset ``0..stride-1`` so every frame is seen; frames in
    several windows get the mean of their scores.
    """
    n = len(frames)
    base = dense_windows(n, num_frames, stride)
    wins = np.concatenate([np.minimum(base + o, n - 1) for o in range(stride)])
    _, probs = _window_outputs(model, input_tf, frames, wins, device, batch_size)
    if probs is None:
        raise ValueError("model has no per-frame head; train it with frame_head=True")
    k = probs.shape[1]
    total = torch.zeros(n, k)
    count = torch.zeros(n, 1)
    for w, p in zip(wins, probs):
        total.index_add_(0, torch.from_numpy(w), p.t())
        count.index_add_(0, torch.from_numpy(w), torch.ones(len(w), 1))
    return total / count.clamp(min=1)


def evaluate_dataset(model, dataset: ClipDataset, *, input_mode: str, num_frames: int, stride: int,
                     device="cpu", task: str = "classify", smoothing: str = "none", median_size: int = 5,
                     min_duration: int = 1, progress: bool = False) -> dict:
    """Metrics of ``model`` over every (readable) clip of ``dataset``.

    Args:
        task: ``classify`` (clip metrics) or ``segment`` (per-frame metrics, plus clip metrics).
        smoothing: per-frame decoding: ``none`` | ``median`` | ``viterbi``.
        median_size, min_duration: settings of the smoothing.

    Returns:
        ``classify``: see :func:`clip_metrics` (clips without a label are left out);
        ``segment``: ``frame_accuracy``, ``f1@10/25/50``, ``edit`` (+ clip metrics).
    """
    from tqdm import tqdm

    model = model.to(device).eval()
    input_tf = InputTransform(input_mode)
    y_true, y_pred, pairs, keys = [], [], [], []
    for j in tqdm(range(len(dataset)), desc="evaluate", disable=not progress, leave=False):
        clip = dataset.clip(j)
        frames = clip["frames"]
        if clip["label"] >= 0:
            p = clip_scores(model, input_tf, frames, num_frames=num_frames, stride=stride, device=device)
            y_true.append(clip["label"])
            y_pred.append(int(p.argmax()))
            keys.append(clip["key"])
        if task == "segment":
            truth = clip["frame_labels"].numpy()
            if not (truth >= 0).any():
                continue
            probs = frame_scores(model, input_tf, frames, num_frames=num_frames, stride=stride, device=device).numpy()
            if smoothing == "median":
                probs = median_smooth(probs, median_size)
            if smoothing == "viterbi":
                pred = viterbi_decode(np.log(probs + 1e-9), min_duration=min_duration)
            else:
                pred = probs.argmax(1)
            pairs.append((pred, truth))
    metrics = clip_metrics(y_true, y_pred, dataset.classes) if y_true else dict(classes=dataset.classes, n_clips=0)
    if task == "segment":
        if not pairs:
            raise ValueError("no clip has per-frame labels (frame_labels in shards or segments.csv)")
        metrics.update(segmentation_metrics(pairs))
    metrics["skipped"] = [dict(path=p, reason=r) for p, r in dataset.skipped]
    return metrics

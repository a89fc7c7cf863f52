"""Label a person's own video with a trained model: clip label + top-k, per-frame labels, segments.

The video is replayed at the model's frame rate (train/frame_rate.py), scored window by
window exactly as ``simgen evaluate`` scores a clip, then the per-frame labels are mapped
back onto every frame of the video as filmed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from simgen.train.data.video_io import fit_frame, visit_frames
from simgen.train.evaluate import _window_outputs, clip_scores, frame_scores
from simgen.train.data.samplers import dense_windows
from simgen.train.frame_rate import back_to_source, model_fps, to_model_rate
from simgen.train.inputs import DIFFERENCE_INPUTS, InputTransform, is_frozen
from simgen.train.metrics.decode import decode_frame_scores
from simgen.train.metrics.segment import segments_of

BACKGROUND = "background"  # the name per-frame outputs give frames of no action


def read_video(path: str | Path, *, size: int, display_side: tuple[int, int] = (256, 640)):
    """Decode a video once into model frames and display frames.

    Args:
        size: the model's square input side (short-side resize + centre crop, as in training).
        display_side: the display copy's shorter side is raised to at least the first value
            (whole-factor enlargement, so small clips stay legible) and its longer side
            lowered to at most the second (so a 4K video does not fill the memory).

    Returns:
        ``(model frames uint8[N,size,size,3], display frames uint8[N,h,w,3], fps)``.

    Raises:
        VideoDecodeError: naming the file (missing, empty, no video stream, corrupt).
    """
    import cv2

    from simgen.captions import upscale

    small, shown = [], []

    def keep(rgb: np.ndarray) -> None:
        small.append(fit_frame(rgb, size))
        scale = min(1.0, display_side[1] / max(rgb.shape[:2]))
        if scale < 1.0:
            rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                             interpolation=cv2.INTER_AREA)
        shown.append(upscale(rgb, display_side[0]))

    fps = visit_frames(path, keep)
    return np.stack(small), np.stack(shown), fps


@torch.no_grad()
def _clip_head_per_frame(model, input_tf, frames, *, num_frames, stride, device) -> torch.Tensor:
    """Per-frame scores from the clip head of a model without a per-frame head: each frame gets
    the mean class probabilities of the windows (starts a quarter window apart) spanning it."""
    n = len(frames)
    span = (num_frames - 1) * stride + 1
    wins = dense_windows(n, num_frames, stride, step=max(1, span // 4))
    probs, _ = _window_outputs(model, input_tf, frames, wins, device, 16)
    total, count = torch.zeros(n, probs.shape[1]), torch.zeros(n, 1)
    for w, p in zip(wins, probs):
        total[w[0] : w[-1] + 1] += p
        count[w[0] : w[-1] + 1] += 1
    return total / count.clamp(min=1)


def predict_frames(model, meta: dict, frames: np.ndarray, fps: float, *, device="cpu", smoothing: str = "viterbi",
                   median_size: int = 5, min_duration: int = 8, top_k: int = 3) -> dict:
    """Clip and per-frame predictions for one video's model frames ``uint8[N,S,S,3]`` at ``fps``.

    Clip label: class probabilities averaged over non-overlapping windows (``clip_scores``).
    Per-frame: the per-frame head (its background output, if any, gives ``background``)
    decoded with ``smoothing`` on the model's timeline, then each frame of the video takes
    the label of the model frame that shows it.

    Returns:
        dict with ``clip`` (``label``, ``confidence``, ``top_k`` [(label, p)]), ``frame_labels``
        (str per source frame), ``frame_confidence`` (float per source frame), ``segments``
        [dict(start_frame, end_frame (exclusive), start, end (seconds), label, confidence)] of
        actions (background runs left out), ``fps``, ``model_fps``, ``frames``, ``frames_scored``, ``frozen``
        (every frame the model sees is one picture, :func:`~simgen.train.inputs.is_frozen`) and
        ``sees_nothing_move`` (frozen, and every model reads frame differences alone: its label is the one any
        frozen video gets, whatever it shows); for a score ensemble also ``members``: the names of those it fused
        (its camera gate may leave some out), and with per-clip stability ``member_stability``: each of those
        members' share of perturbed copies of the video on which it kept its clip label (``None`` where they
        agree on the label: no weighting changes it, so it is not measured).
    """
    classes = list(meta["classes"])
    target = model_fps(meta)
    timeline, idx = to_model_rate(torch.from_numpy(np.ascontiguousarray(frames)), fps, target)
    model = model.to(device).eval()
    input_tf = InputTransform(meta["input"])
    common = dict(num_frames=meta["num_frames"], stride=meta["stride"], device=device)
    clip = clip_scores(model, input_tf, timeline, **common)
    order = clip.argsort(descending=True)[:top_k].tolist()
    if getattr(model, "frame_head", None) is not None:
        probs = frame_scores(model, input_tf, timeline, **common).numpy()
    else:
        probs = _clip_head_per_frame(model, input_tf, timeline, **common).numpy()
    labels = decode_frame_scores(probs, len(classes), smoothing=smoothing, median_size=median_size,
                                 min_duration=min_duration)
    # confidence of a frame: the probability of its decoded label (background: the background output's)
    columns = np.where(labels >= 0, labels, probs.shape[1] - 1)
    confidence = probs[np.arange(len(labels)), columns]
    if probs.shape[1] == len(classes):  # no background output: nothing is decoded as -1
        confidence = np.where(labels >= 0, confidence, 0.0)
    to_model = back_to_source(idx, len(frames))
    src_labels, src_conf = labels[to_model], confidence[to_model]
    segments = [dict(start_frame=s, end_frame=e, start=round(s / fps, 3), end=round(e / fps, 3), label=classes[k],
                     confidence=round(float(src_conf[s:e].mean()), 4))
                for k, s, e in segments_of(src_labels)]
    out = dict(clip=dict(label=classes[order[0]], confidence=round(float(clip[order[0]]), 4),
                         top_k=[(classes[i], round(float(clip[i]), 4)) for i in order]),
               frame_labels=[classes[k] if k >= 0 else BACKGROUND for k in src_labels.tolist()],
               frame_confidence=[round(float(c), 4) for c in src_conf],
               segments=segments, fps=fps, model_fps=target, frames=len(frames), frames_scored=len(timeline))
    out["frozen"] = is_frozen(timeline)
    inputs = [m.meta["input"] for m in model.members] if hasattr(model, "members") else [meta["input"]]
    out["sees_nothing_move"] = out["frozen"] and all(mode in DIFFERENCE_INPUTS for mode in inputs)
    if hasattr(model, "fused_members"):  # a score ensemble: which members labelled this video (the gates)
        out["members"] = [model.members[i].name for i in model.fused_members(timeline)]
    if getattr(model, "clutter_gate", None) is not None:  # what the clutter gate read
        clutter = model.clutter(timeline)
        out["clutter"] = None if clutter is None else round(clutter, 4)
    if getattr(model, "clip_stability", None) is not None:  # what weighted the clip label (scores already kept)
        stable = model.member_stability(timeline, device=device) if model.undecided(timeline, device=device) else {}
        out["member_stability"] = {model.members[i].name: round(share, 4) for i, share in stable.items()} or None
    return out

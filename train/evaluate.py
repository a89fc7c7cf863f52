"""Evaluate a model on a dataset: clip metrics (multi-window) and per-frame metrics."""

from __future__ import annotations

import numpy as np
import torch

from simgen.train.data.batch import ClipDataset, to_float_video
from simgen.train.data.samplers import dense_windows
from simgen.train.inputs import CROPPED_INPUTS, InputTransform, crop_spans_clip
from simgen.train.memo import active_inputs, content_key
from simgen.train.metrics.clip import clip_metrics
from simgen.train.metrics.decode import decode_frame_scores
from simgen.train.metrics.segment import segmentation_metrics


#: how far a person-centred input's crop reaches when a clip is classified: ``clip`` (one box pooled from the
#: motion of all the clip's windows, for every window, :func:`~simgen.train.inputs.clip_crop_box`; a moving
#: camera keeps per-window boxes) or ``window`` (each window its own box, as in training; the only way before session 15).
#: ``simgen evaluate --crop-span`` sets it. Per-frame scores (segments) always crop per window: a video may
#: chain actions whose regions differ.
CROP_SPANS = ("clip", "window")
CROP_SPAN = "clip"


def _window_inputs(input_tf, frames: torch.Tensor, windows: np.ndarray, device, batch_size: int, pool_box: bool,
                   key: tuple | None = None):
    """The model inputs of windows ``(W,T)`` of ``frames``, in batches of ``batch_size``: made as they are used,
    or kept and reused inside :func:`simgen.train.memo.remembered_inputs` (``key``: the frames'
    :func:`~simgen.train.memo.content_key`, when the caller has it)."""
    def make():
        if pool_box:
            pooled = input_tf(to_float_video(frames[torch.from_numpy(windows)].to(device)), pool_box=True)
            return (pooled[s : s + batch_size] for s in range(0, len(windows), batch_size))
        return (input_tf(to_float_video(frames[torch.from_numpy(windows[s : s + batch_size])].to(device)))
                for s in range(0, len(windows), batch_size))

    memo = active_inputs()
    if memo is None:
        return make()
    key = (key or content_key(frames.cpu()), input_tf.mode, input_tf.diff_scale, windows.shape, windows.tobytes(),
           pool_box, batch_size, str(device))
    return memo.get(key, make)


@torch.no_grad()
def _window_outputs(model, input_tf, frames: torch.Tensor, windows: np.ndarray, device, batch_size: int,
                    pool_box: bool = False, key: tuple | None = None):
    """Run the model on windows ``(W,T)`` of one clip's frames ``uint8[N,H,W,3]``.

    ``pool_box``: every window cropped with one box pooled from all their motion; their inputs are then built
    together (each window stabilised once, the box found on those frames) before the model sees them in
    batches. ``key``: see :func:`_window_inputs`."""
    clips, frame_logits = [], []
    for batch in _window_inputs(input_tf, frames, windows, device, batch_size, pool_box, key):
        out = model(batch)
        clips.append(torch.softmax(out["clip"].float(), 1).cpu())
        if "frame" in out:
            frame_logits.append(torch.softmax(out["frame"].float(), 1).cpu())
    return torch.cat(clips), (torch.cat(frame_logits) if frame_logits else None)


def clip_scores(model, input_tf, frames: torch.Tensor, *, num_frames: int, stride: int, device,
                batch_size: int = 16, crop_span: str | None = None) -> torch.Tensor:
    """Class probabilities of a whole clip: mean over non-overlapping windows (``float[K]``).

    ``crop_span``: see :data:`CROP_SPAN` (its default)."""
    if hasattr(model, "fused_clip_scores"):
        return model.fused_clip_scores(frames, device=device)
    span = CROP_SPAN if crop_span is None else crop_span
    if span not in CROP_SPANS:
        raise ValueError(f"unknown crop span {span!r}; expected one of {list(CROP_SPANS)}")
    wins = dense_windows(len(frames), num_frames, stride)
    # the frames' content key, hashed once, when something is looked up by it
    key = content_key(frames.cpu()) if active_inputs() is not None or input_tf.mode in CROPPED_INPUTS else None
    pool = span == "clip" and crop_spans_clip(frames, input_tf.mode, key=key)
    probs, _ = _window_outputs(model, input_tf, frames, wins, device, batch_size, pool, key)
    return probs.mean(0)


def frame_scores(model, input_tf, frames: torch.Tensor, *, num_frames: int, stride: int, device,
                 batch_size: int = 16) -> torch.Tensor:
    """Per-frame class probabilities ``float[N,K]``.

    Every per-frame head, the ``linear`` one included, is scored the same way: the backbone's
    features are stitched from overlapping windows and the head labels the whole video in
    one pass per stride offset, the offsets' scores averaged
    (:func:`simgen.train.windowed.sequence_frame_scores`). (The linear head used to label
    each offset's windows separately and interleave them, so that neighbouring frames came
    from two labellings and alternated: raw F1@25 0.174 against 0.450 stitched, README.)
    A score ensemble (:class:`simgen.train.ensemble_scores.ScoreEnsemble`) fuses its members' scores.
    """
    if hasattr(model, "fused_frame_scores"):
        return model.fused_frame_scores(frames, device=device)
    if hasattr(model, "temporal_features"):
        if getattr(model, "frame_head", None) is None:
            raise ValueError("model has no per-frame head; train it with frame_head=True")
        from simgen.train.windowed import sequence_frame_scores

        return sequence_frame_scores(model, input_tf, frames, num_frames=num_frames, stride=stride, device=device,
                                     batch_size=batch_size)
    return _window_frame_scores(model, input_tf, frames, num_frames=num_frames, stride=stride, device=device,
                                batch_size=batch_size)


def _window_frame_scores(model, input_tf, frames: torch.Tensor, *, num_frames: int, stride: int, device,
                         batch_size: int = 16) -> torch.Tensor:
    """For a model that only has ``forward`` (a stand-in, the logit-level ``Ensemble``): its ``frame`` output
    on windows from every offset ``0..stride-1``, each frame the mean of the windows that hold it."""
    n = len(frames)
    base = dense_windows(n, num_frames, stride)
    wins = np.concatenate([np.minimum(base + o, n - 1) for o in range(stride)])
    _, probs = _window_outputs(model, input_tf, frames, wins, device, batch_size)
    if probs is None:
        raise ValueError("model has no per-frame head; train it with frame_head=True")
    total = torch.zeros(n, probs.shape[1])
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
    y_true, y_pred, pairs, per_clip = [], [], [], []
    classes = dataset.classes
    for j in tqdm(range(len(dataset)), desc="evaluate", disable=not progress, leave=False):
        clip = dataset.clip(j)
        frames = clip["frames"]
        p = clip_scores(model, input_tf, frames, num_frames=num_frames, stride=stride, device=device)
        if clip["label"] >= 0:
            y_true.append(clip["label"])
            y_pred.append(int(p.argmax()))
        row = dataset.reader.rows[dataset.indices[j]]
        per_clip.append(dict(path=str(row.get("path", clip["key"])), subject=row.get("subject") or None,
                             label=classes[clip["label"]] if clip["label"] >= 0 else None,
                             predicted=classes[int(p.argmax())],
                             scores={c: round(float(v), 6) for c, v in zip(classes, p.tolist())}))
        if task == "segment":
            truth = clip["frame_labels"].numpy()
            if not (truth >= 0).any():
                continue
            probs = frame_scores(model, input_tf, frames, num_frames=num_frames, stride=stride, device=device).numpy()
            pred = decode_frame_scores(probs, len(classes), smoothing=smoothing, median_size=median_size,
                                       min_duration=min_duration)
            # background (the head's extra output; transition frames in the truth) is "no action": -1
            pairs.append((pred, np.where(truth >= len(classes), -1, truth)))
    metrics = clip_metrics(y_true, y_pred, dataset.classes) if y_true else dict(classes=dataset.classes, n_clips=0)
    if task == "segment":
        if not pairs:
            raise ValueError("no clip has per-frame labels (frame_labels in shards or segments.csv)")
        metrics.update(segmentation_metrics(pairs))
    metrics["skipped"] = [dict(path=p, reason=r) for p, r in dataset.skipped]
    metrics["per_clip"] = per_clip
    return metrics


def write_predictions(per_clip: list[dict], classes: list[str], path) -> None:
    """``per_clip`` as CSV: ``path,subject,label,predicted,score_<class>...`` (label empty when unknown)."""
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "subject", "label", "predicted", *(f"score_{c}" for c in classes)])
        for r in per_clip:
            w.writerow([r["path"], r["subject"] or "", r["label"] or "", r["predicted"],
                        *(f"{r['scores'][c]:.6f}" for c in classes)])


def split_size_warning(dataset, name: str = "validation", min_per_class: int = 5, min_total: int = 20) -> str | None:
    """A one-line warning when ``dataset`` is too small to rank models or epochs by, else ``None``.

    With 2 clips a class, one clip moves that class's accuracy by 50 points; "best epoch"
    picked on such a split is mostly noise.
    """
    counts = {c: 0 for c in dataset.classes}
    for i in dataset.indices:
        k = dataset.reader.label_index(i)
        if k >= 0:
            counts[dataset.classes[k]] += 1
    total = sum(counts.values())
    thin = [f"{c} {n}" for c, n in counts.items() if n < min_per_class]
    if total >= min_total and not thin:
        return None
    detail = f"{total} labelled clips" + (f"; per class: {', '.join(thin)}" if thin else "")
    return (f"warning: the {name} split is small ({detail}): its accuracy is noisy; aim for >= {min_per_class} "
            f"clips per class and >= {min_total} in all (--val-fraction, or --val DIR)")

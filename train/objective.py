"""One training step's computation: augment -> input transform -> model -> weighted losses."""

from __future__ import annotations

import torch
from torch import nn

from simgen.train.augment.pipeline import ClipAugmentation
from simgen.train.data.batch import to_float_video
from simgen.train.inputs import InputTransform
from simgen.train.objectives.selfsup import PRETEXT_TASKS
from simgen.train.objectives.supervised import ClassificationLoss
from simgen.train.objectives.temporal import consistency_loss, truncated_mse
from simgen.train.objectives.weak import WeakFrameLoss


def to_channels_last(model: nn.Module) -> nn.Module:
    """Each convolution's weights in its channels-last format (3D or 2D), in place.

    ``model.to(memory_format=channels_last_3d)`` raises on the 4-D weights of a 2D
    backbone (``tsm_r18``); converting per layer also covers mixed nets.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            m.to(memory_format=torch.channels_last_3d)
        elif isinstance(m, nn.Conv2d):
            m.to(memory_format=torch.channels_last)
    return model


class TrainObjective(nn.Module):
    """Model plus every loss of a run, as one module (so DDP wraps one ``forward``).

    Losses: clip cross-entropy on labelled clips; per-frame cross-entropy where frame
    labels exist; weak per-frame loss from clip tags where they do not (``weak``);
    self-supervised pretext losses on all clips, labelled or not.

    Args:
        model: an :class:`~train.models.ActionModel`.
        augment: a :class:`ClipAugmentation` (or ``None``).
        input_mode: one of :data:`simgen.train.inputs.INPUT_MODES`.
        clip_loss: supervised loss for clip logits.
        weak: enable :class:`WeakFrameLoss`.
        selfsup: names of pretext tasks (keys of ``PRETEXT_TASKS``).
        selfsup_weight: weight of each pretext loss.
        channels_last: run the model in ``channels_last_3d`` memory format.
        consistency_weight: weight of :func:`consistency_loss` on the per-frame output.
        smoothing_weight: weight of MS-TCN's :func:`truncated_mse` on every stage of a
            multi-stage head (the head's ``frame_stages``; no effect on other heads).

    A multi-stage head's cross-entropy is summed over its stages, as in MS-TCN.
    """

    def __init__(self, model: nn.Module, *, augment: ClipAugmentation | None, input_mode: str,
                 clip_loss: ClassificationLoss, weak: bool = False, selfsup: list[str] = (),
                 selfsup_weight: float = 0.5, channels_last: bool = False, consistency_weight: float = 0.0,
                 smoothing_weight: float = 0.0):
        super().__init__()
        self.model = to_channels_last(model) if channels_last else model
        self.channels_last = channels_last
        self.augment = augment
        self.input_tf = InputTransform(input_mode)
        self.clip_loss = clip_loss
        self.frame_loss = ClassificationLoss()
        self.weak_loss = WeakFrameLoss() if weak else None
        self.pretext = nn.ModuleDict({name: PRETEXT_TASKS[name](model.out_features) for name in selfsup})
        self.selfsup_weight = selfsup_weight
        self.consistency_weight, self.smoothing_weight = consistency_weight, smoothing_weight

    def _augment(self, video, frame_labels, generator):
        # augmentation runs in float32 even under AMP: warps and colour maths in half
        # precision lose the small differences the temporal-difference input relies on
        with torch.autocast(video.device.type, enabled=False):
            return self.augment(video.float(), frame_labels, generator=generator)

    def model_input(self, video: torch.Tensor) -> torch.Tensor:
        """Augmented ``[0,1]`` RGB clips -> model input, in the model's memory format."""
        x = self.input_tf(video)
        if self.channels_last:
            # channels-last 3D lets oneDNN/cuDNN pick their fast conv3d kernels (~25% on the CPU)
            x = x.contiguous(memory_format=torch.channels_last_3d)
        return x

    def encode(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Raw ``[0,1]`` RGB clips -> model input (augmented when training)."""
        if self.augment is not None and self.training:
            video, _ = self._augment(video, None, generator)
        return self.model_input(video)

    def forward(self, video: torch.Tensor, label: torch.Tensor, frame_labels: torch.Tensor,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
        """Loss and stats of a batch.

        Args:
            video: uint8 ``(B,T,H,W,3)`` raw clips (augmented here), or float
                ``(B,3,T,H,W)`` clips already augmented (by :class:`AugmentingCollate`).
        """
        raw = video
        if video.dtype == torch.uint8:
            video = to_float_video(video)
            if self.augment is not None and self.training:
                video, frame_labels = self._augment(video, frame_labels, generator)
        out = self.model(self.model_input(video))
        loss = self.clip_loss(out["clip"], label)
        stats = {"loss_clip": loss.detach()}
        if "frame" in out:
            has_frames = (frame_labels >= 0).any(1)
            stages = out.get("frame_stages", [out["frame"]])
            if bool(has_frames.any()):
                fl = sum(self.frame_loss(s, frame_labels) for s in stages)
                loss = loss + fl
                stats["loss_frame"] = fl.detach()
            if self.smoothing_weight > 0 and "frame_stages" in out:
                sm = sum(truncated_mse(s) for s in stages)
                loss = loss + self.smoothing_weight * sm
                stats["loss_smoothing"] = sm.detach()
            if self.consistency_weight > 0:
                cl = consistency_loss(out["frame"], frame_labels)
                loss = loss + self.consistency_weight * cl
                stats["loss_consistency"] = cl.detach()
            if self.weak_loss is not None:
                tag = torch.where(has_frames, torch.full_like(label, -1), label)
                wl = self.weak_loss(out["frame"], tag)
                loss = loss + wl
                stats["loss_weak"] = wl.detach()
            else:
                loss = loss + out["frame"].sum() * 0.0  # keep the head in the graph for DDP
        for name, task in self.pretext.items():
            if raw.dtype != torch.uint8:
                raise ValueError("self-supervised tasks need raw clips; augment on the device, not in workers")
            res = task(self.model, to_float_video(raw), encode=lambda v: self.encode(v, generator),
                       generator=generator)
            loss = loss + self.selfsup_weight * res["loss"]
            stats[f"loss_{name}"] = res["loss"].detach()
            stats[f"acc_{name}"] = res["accuracy"]
        labelled = label >= 0
        if bool(labelled.any()):
            stats["correct"] = (out["clip"].argmax(1)[labelled] == label[labelled]).sum().detach()
        stats["labelled"] = labelled.sum().detach()
        return loss, stats

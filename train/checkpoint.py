"""Save and load run checkpoints (``model.pt``, ``last.pt``, ``best.pt``)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from simgen.train.errors import TrainDataError
from simgen.train.models import ActionModel, create_action_model

FORMAT = "simgen-train-checkpoint/1"


def save_atomic(obj: dict, path: str | Path) -> None:
    """``torch.save`` to a temporary name, then rename: a kill never leaves a half file."""
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def model_meta(cfg, classes: list[str], defaulted: list[str] = (), *, train_fps: float | None = None,
               frame_background: str | None = None) -> dict:
    """What :func:`load_model` needs to rebuild the model and its input pipeline, plus how it was trained.

    ``optim`` records the optimisation settings used; ``optim.from_backbone_defaults`` names
    those taken from the backbone's defaults rather than given by the user.
    ``train_fps``: the frame rate of the training clips (:func:`~simgen.train.frame_rate.training_fps`);
    ``frame_background``: the label the per-frame head's extra background output stands for
    (``None``: no such output).
    """
    return dict(format=FORMAT, backbone=cfg.model, input=cfg.input, classes=list(classes),
                num_frames=cfg.num_frames, stride=cfg.stride, fps=cfg.fps, size=cfg.size,
                frame_head=cfg.frame_head, train_fps=train_fps, frame_background=frame_background,
                head=head_options(cfg),
                optim=dict(lr=cfg.lr, weight_decay=cfg.weight_decay, batch_size=cfg.batch_size,
                           warmup_epochs=cfg.warmup_epochs, epochs=cfg.epochs, precision=cfg.precision,
                           from_backbone_defaults=list(defaulted)))


def head_options(cfg) -> dict:
    """The per-frame head's build options (``meta.head``): ``name``, ``causal``, ``positions``.

    Also the temporal regularisation the run used (for the record; it is inactive at evaluation).
    """
    return dict(name=cfg.head, causal=cfg.causal, positions=cfg.positions, temporal_dropout=cfg.temporal_dropout,
                temporal_dropout_mode=cfg.temporal_dropout_mode, consistency_weight=cfg.consistency_weight,
                smoothing_weight=cfg.smoothing_weight if cfg.head == "mstcn" else None)


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint with ``weights_only=True`` (plain tensors and containers only)."""
    path = Path(path)
    if not path.is_file():
        raise TrainDataError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainDataError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("meta", {}).get("format") != FORMAT:
        raise TrainDataError(f"{path}: not a simgen train checkpoint (field 'meta.format' != {FORMAT!r})")
    return ckpt


def load_model(path: str | Path) -> tuple[ActionModel, dict]:
    """Rebuild the model of a checkpoint; returns ``(model in eval mode, meta)``."""
    ckpt = load_checkpoint(path)
    meta = ckpt["meta"]
    head = meta.get("head") or {}  # checkpoints from before sequence heads: the linear head
    model = create_action_model(backbone=meta["backbone"], num_classes=len(meta["classes"]),
                                input_mode=meta["input"], frame_head=meta["frame_head"],
                                frame_background=bool(meta.get("frame_background")),
                                head=head.get("name", "linear"), causal=bool(head.get("causal")),
                                positions=head.get("positions", "relative"))
    model.load_state_dict(ckpt["model"])
    return model.eval(), meta

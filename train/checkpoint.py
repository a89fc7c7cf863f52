"""Save and load run checkpoints (``model.pt``, ``last.pt``, ``best.pt``)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch

from simgen.train.errors import TrainDataError
from simgen.train.models import ActionModel, create_action_model

FORMAT = "simgen-train-checkpoint/1"
#: meta fields a checkpoint needs to rebuild its model and input pipeline
MODEL_META = ("backbone", "classes", "input", "frame_head", "num_frames", "stride", "size")


def save_atomic(obj: dict, path: str | Path) -> None:
    """``torch.save`` to a temporary name, then rename: a kill never leaves a half file.

    Serialised in memory first: torch's own writer reports a full disk as a bare
    RuntimeError, a plain file write as ``OSError(ENOSPC)`` naming the file, which the CLI
    prints as one line. Either way the previous checkpoint stays whole.
    """
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    buf = io.BytesIO()
    torch.save(obj, buf)
    try:
        with open(tmp, "wb") as fh:
            fh.write(buf.getbuffer())
        os.replace(tmp, path)
    except OSError as exc:  # a failed write() names no file: name the checkpoint
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:160]


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
        raise TrainDataError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {_first_line(exc)})") from exc
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("meta"), dict) or ckpt["meta"].get("format") != FORMAT:
        raise TrainDataError(f"{path}: not a simgen train checkpoint (field 'meta.format' != {FORMAT!r})")
    return ckpt


def load_model(path: str | Path) -> tuple[ActionModel, dict]:
    """Rebuild the model of a checkpoint; returns ``(model in eval mode, meta)``."""
    return model_from_checkpoint(load_checkpoint(path), path)


def model_from_checkpoint(ckpt: dict, path: str | Path) -> tuple[ActionModel, dict]:
    """:func:`load_model` on a checkpoint already read by :func:`load_checkpoint` (``path`` names it in errors)."""
    meta = ckpt["meta"]
    missing = [k for k in MODEL_META if k not in meta]
    if missing:
        raise TrainDataError(f"{path}: field 'meta.{missing[0]}' missing (not a complete simgen train checkpoint)")
    if not isinstance(meta["classes"], list) or not meta["classes"] or not all(isinstance(c, str) for c in meta["classes"]):
        raise TrainDataError(f"{path}: field 'meta.classes' must be a non-empty list of class names")
    head = meta.get("head") or {}  # checkpoints from before sequence heads: the linear head
    if not isinstance(head, dict):
        raise TrainDataError(f"{path}: field 'meta.head' must be a mapping (name, causal, positions)")
    try:
        model = create_action_model(backbone=meta["backbone"], num_classes=len(meta["classes"]),
                                    input_mode=meta["input"], frame_head=meta["frame_head"],
                                    frame_background=bool(meta.get("frame_background")),
                                    head=head.get("name", "linear"), causal=bool(head.get("causal")),
                                    positions=head.get("positions", "relative"))
    except (KeyError, TypeError, ValueError) as exc:  # an unknown backbone or input mode
        raise TrainDataError(f"{path}: field 'meta' does not describe a model ({_first_line(exc)})") from exc
    state = ckpt.get("model")
    if not isinstance(state, dict):
        raise TrainDataError(f"{path}: field 'model' missing (no model weights)")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # missing, unexpected or mis-shaped tensors
        raise TrainDataError(f"{path}: field 'model' does not fit a {meta['backbone']} model ({' '.join(str(exc).split())[:240]})") from exc
    return model.eval(), meta

"""Run configuration (validated with pydantic, saved as ``RUN/config.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simgen.train.inputs import INPUT_MODES
from simgen.train.models.builder import BACKBONES


class TrainConfig(BaseModel):
    """Everything that defines a training run; every field has a CLI flag of the same name.

    Data: ``synthetic`` and/or ``real`` folders feed training (labelled real clips join
    the supervised loss, every clip the self-supervised ones); ``val`` is the model
    selection set (default: ``val_fraction`` of the synthetic clips, held out).
    ``select``: which weights become ``model.pt``: the last epoch (default; the cosine
    schedule ends at a low learning rate, and a small validation set picks noisy
    winners) or the best validation epoch (also always saved as ``best.pt``).
    """

    model_config = ConfigDict(extra="forbid")

    synthetic: str | None = None
    real: str | None = None
    subjects: list[str] | None = None  # people of the real folder to train on (labels.csv subject column)
    exclude_subjects: list[str] | None = None  # people of the real folder kept out of training
    val: str | None = None
    out: str
    model: str = "tiny3d"
    input: str = "diff"
    weights: str | None = None
    epochs: int = Field(80, ge=1)
    batch_size: int = Field(8, ge=1)
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    num_frames: int = Field(16, ge=2)
    stride: int = Field(2, ge=1)
    fps: float | None = None
    size: int = Field(64, ge=16)
    sampler: Literal["random_window", "uniform", "tsn"] = "random_window"
    augment: Literal["none", "light", "default", "strong"] = "light"
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    class_balance: bool = False
    selfsup: list[str] = Field(default_factory=list)
    selfsup_weight: float = Field(0.5, ge=0)
    weak: bool = False
    frame_head: bool = True
    val_fraction: float = Field(0.1, ge=0, lt=1)
    select: Literal["last", "best"] = "last"
    val_every: int = Field(5, ge=1)
    device: str = "cpu"
    amp: bool = True
    channels_last: bool = True
    seed: int = 0
    workers: int = Field(0, ge=0)
    cache_dir: str | None = None
    strict: bool = False
    tensorboard: bool = False
    progress: bool = True
    keep_snapshots: bool = False

    @field_validator("model", "input")
    @classmethod
    def _known_name(cls, v: str, info) -> str:
        allowed = BACKBONES if info.field_name == "model" else INPUT_MODES
        if v not in allowed:
            raise ValueError(f"unknown {info.field_name} {v!r}; expected one of {list(allowed)}")
        return v

    @field_validator("selfsup")
    @classmethod
    def _selfsup(cls, v: list[str]) -> list[str]:
        from simgen.train.objectives.selfsup import PRETEXT_TASKS

        bad = [t for t in v if t not in PRETEXT_TASKS]
        if bad:
            raise ValueError(f"unknown self-supervised task(s) {bad}; expected from {sorted(PRETEXT_TASKS)}")
        return v


#: ``light`` (per-clip geometry + brightness/contrast) is the default: on the weizmann4 preset it
#: learned the synthetic classes best in a CPU budget; ``default``/``strong`` add the temporal and
#: camera-realism transforms meant for sim-to-real transfer.
AUGMENT_PRESETS: dict[str, dict] = {
    "none": dict(spatial=False, speed=None, noise=0.0, blur=0.0),
    "light": dict(spatial=True, speed=None, noise=0.0, blur=0.0),
    "default": dict(spatial=True, speed=(0.8, 1.25), noise=0.3, blur=0.2),
    "strong": dict(spatial=True, frame_jitter=0.3, speed=(0.7, 1.4), frame_drop=0.1, noise=0.5, blur=0.3,
                   compression=0.3),
}

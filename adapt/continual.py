"""Continual learning from a stream: add newly labelled clips (and new classes) to a trained model
without forgetting the old ones.

Three things keep the old classes:

* **Growing, not replacing, the heads** (:func:`grow_heads`): the clip head's and per-frame
  head's rows of the old classes are copied; a new class's clip-head row is *imprinted* from
  the mean feature of its clips, scaled to the old rows' mean norm (Qi et al., "Low-Shot
  Learning with Imprinted Weights", CVPR 2018), so the new class starts near right instead of
  at random; its per-frame row starts at zero weights.
* **Rehearsal** (Rebuffi et al., iCaRL, CVPR 2017): a replay buffer of earlier clips
  (synthetic and real) is drawn into every batch, each class equally often
  (:class:`ClassBalancedBatches`); within a class that has both, real clips take a stated share.
* **Light fine-tuning** (:func:`set_trainable`): only the heads and the backbone's last stage
  train (``last``), at a low learning rate for a few hundred steps; the earlier stages (the
  core temporal layers) and every batch-norm statistic are frozen. Optionally the old
  classes' outputs are distilled from the starting model (Li & Hoiem, "Learning without
  Forgetting", 2017): ``distill`` x KL(old softmax / T || new softmax over the old classes / T) x T².
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

TRAINABLE = ("head", "last", "all")


def grow_linear_rows(layer: nn.Module, old_rows: int, new_rows: int, *, extra_after: int = 0) -> nn.Module:
    """A copy of ``layer`` (``nn.Linear`` or 1x1 ``nn.Conv1d``) with ``new_rows`` more outputs inserted after
    the first ``old_rows``; the ``extra_after`` outputs that followed them (e.g. a background output) move to
    the end. New rows: zero weights, bias = the mean old bias."""
    w, b = layer.weight.data, layer.bias.data
    if w.shape[0] != old_rows + extra_after:
        raise ValueError(f"layer has {w.shape[0]} outputs, expected {old_rows} + {extra_after}")
    new_w = torch.zeros((old_rows + new_rows + extra_after, *w.shape[1:]), dtype=w.dtype)
    new_b = torch.full((old_rows + new_rows + extra_after,), float(b[:old_rows].mean()), dtype=b.dtype)
    new_w[:old_rows], new_b[:old_rows] = w[:old_rows], b[:old_rows]
    if extra_after:
        new_w[-extra_after:], new_b[-extra_after:] = w[old_rows:], b[old_rows:]
    grown = copy.deepcopy(layer)
    if isinstance(layer, nn.Linear):
        grown.out_features = new_w.shape[0]
    else:
        grown.out_channels = new_w.shape[0]
    grown.weight, grown.bias = nn.Parameter(new_w), nn.Parameter(new_b)
    return grown


def imprint(clip_fc: nn.Linear, old_rows: int, features: Sequence[torch.Tensor]) -> None:
    """Set rows ``old_rows..`` of ``clip_fc`` to the mean feature of each new class's clips, scaled to the old
    rows' mean norm (in place). ``features[j]``: ``(n_j, D)`` features of new class ``j``."""
    scale = clip_fc.weight.data[:old_rows].norm(dim=1).mean()
    with torch.no_grad():
        for j, f in enumerate(features):
            mean = f.float().mean(0)
            clip_fc.weight[old_rows + j] = mean / mean.norm().clamp_min(1e-12) * scale


def grow_heads(model: nn.Module, old_classes: int, new_classes: int, *, frame_background: bool) -> nn.Module:
    """``model`` with ``new_classes`` more outputs on its clip head and per-frame head (in place; returned).

    The old classes' rows are copied; on the per-frame head the background output (when
    ``frame_background``) stays last.
    """
    if new_classes == 0:
        return model
    model.clip_head.fc = grow_linear_rows(model.clip_head.fc, old_classes, new_classes)
    if model.frame_head is not None:
        last = model.frame_head.net[-1]
        model.frame_head.net[-1] = grow_linear_rows(last, old_classes, new_classes, extra_after=int(frame_background))
    return model


def backbone_stages(model: nn.Module) -> list[nn.Module]:
    """The backbone's stages, input first (tiny3d: stem and each block; others: their top-level children)."""
    backbone = model.backbone
    if hasattr(backbone, "blocks") and hasattr(backbone, "stem"):
        return [backbone.stem, *backbone.blocks]
    return [m for m in backbone.children() if any(True for _ in m.parameters())]


def set_trainable(model: nn.Module, which: str) -> list[nn.Parameter]:
    """Freeze all but ``which`` (``head``: the heads; ``last``: + the last backbone stage; ``all``) and put every
    batch-norm layer in eval mode (its statistics are the old data's). Returns the trainable parameters."""
    if which not in TRAINABLE:
        raise ValueError(f"unknown trainable set {which!r}; expected one of {', '.join(TRAINABLE)}")
    for p in model.parameters():
        p.requires_grad_(which == "all")
    parts = [model.clip_head] + ([model.frame_head] if model.frame_head is not None else [])
    if which == "last":
        parts.append(backbone_stages(model)[-1])
    for part in parts:
        for p in part.parameters():
            p.requires_grad_(True)
    freeze_norm_statistics(model)
    return [p for p in model.parameters() if p.requires_grad]


def freeze_norm_statistics(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


class ClassBalancedBatches:
    """Batches of item indices, every class equally often; within a class, real items take ``real_share``
    of its draws when it has real and synthetic items.

    Classes come in shuffled rounds; inside a (class, domain) group items come in shuffled passes
    (each used once before any repeats). All randomness from ``numpy.random.default_rng((seed, epoch))``.

    Args:
        labels: class index per item (``-1``: not drawn).
        real: whether each item is a real clip.
    """

    def __init__(self, labels: Sequence[int], real: Sequence[bool], *, batch_size: int, num_batches: int,
                 seed: int, real_share: float = 0.5):
        self.labels, self.real = np.asarray(labels, dtype=np.int64), np.asarray(real, dtype=bool)
        if len(self.labels) != len(self.real):
            raise ValueError(f"{len(self.labels)} labels for {len(self.real)} domain flags")
        if not (self.labels >= 0).any():
            raise ValueError("no labelled item to draw")
        if not 0.0 <= real_share <= 1.0:
            raise ValueError(f"real_share must be in [0, 1], got {real_share}")
        self.batch_size, self.num_batches, self.seed, self.real_share = batch_size, num_batches, seed, real_share
        self.classes = np.unique(self.labels[self.labels >= 0])
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        cycles: dict[tuple[int, bool], list] = {}

        def draw(group: np.ndarray, key) -> int:
            order, pos = cycles.get(key, (np.empty(0, np.int64), 0))
            if pos == len(order):
                order, pos = rng.permutation(group), 0
            cycles[key] = (order, pos + 1)
            return int(order[pos])

        rounds, r = np.empty(0, np.int64), 0
        for _ in range(self.num_batches):
            batch = []
            for _ in range(self.batch_size):
                if r == len(rounds):
                    rounds, r = rng.permutation(self.classes), 0
                c = int(rounds[r])
                r += 1
                real = np.flatnonzero((self.labels == c) & self.real)
                synthetic = np.flatnonzero((self.labels == c) & ~self.real)
                use_real = len(real) > 0 and (len(synthetic) == 0 or rng.random() < self.real_share)
                batch.append(draw(real if use_real else synthetic, (c, use_real)))
            yield batch


def distillation_loss(new_logits: torch.Tensor, old_logits: torch.Tensor, temperature: float = 2.0) -> torch.Tensor:
    """KL(old || new) over the old classes' outputs, softened by ``temperature``, times ``temperature**2``."""
    k = old_logits.shape[1]
    log_new = F.log_softmax(new_logits[:, :k] / temperature, dim=1)
    old = F.softmax(old_logits / temperature, dim=1)
    return F.kl_div(log_new, old, reduction="batchmean") * temperature ** 2

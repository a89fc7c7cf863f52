"""Temporal attentive alignment (TA3N): domain attention over frames, attentive entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from simgen.adapt.align._shapes import check_pair
from simgen.adapt.align.dann import DomainAdversarialLoss, DomainDiscriminator
from simgen.adapt.align.grl import GradientReverseLayer


def binary_entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of ``Bernoulli(sigmoid(z))``, elementwise; ``ln 2`` at ``z = 0``.

    Written with softplus so that large ``|z|`` gives 0, not ``nan``.
    """
    p = torch.sigmoid(logits)
    return p * F.softplus(-logits) + (1 - p) * F.softplus(logits)


def domain_attention(domain_logits: torch.Tensor) -> torch.Tensor:
    """TA3N's domain attention weight per frame: ``1 + (1 - H(d))`` (eq. 6 of the ICCV paper).

    Frames whose domain the discriminator is *sure* about (low entropy ``H``)
    carry the largest domain gap, so they get the most weight (2 at certainty,
    ``2 - ln 2 = 1.307`` at a coin flip); the residual ``1 +`` keeps every frame in.

    Shape:
        ``(..., T) -> (..., T)``.
    """
    return 2.0 - binary_entropy_from_logits(domain_logits)


class TemporalAttentiveAlignment(nn.Module):
    """TA3N-style alignment of frame features (Chen et al., "Temporal Attentive
    Alignment for Large-Scale Video Domain Adaptation", ICCV 2019).

    ::

        frame features (B, D, T) --GRL--> frame discriminator --> d_t (B, T)   -> frame-level DANN loss
              |                                                    |
              '----- attentive pooling  h = mean_t (2 - H(d_t)) f_t  (B, D)
                                         |
                                         '--GRL--> clip discriminator        -> clip-level DANN loss

    The paper attends over temporal-relation features from a TRN module; here the
    time steps of the backbone's temporal features play that role (the frame
    features of TA2N/TA3N's spatial level), and pooling is a mean over ``T``
    (the paper sums, which only scales ``h`` by ``T``). The pooled features are
    returned so that the classifier can use the attended clip representation,
    as TA3N does.

    Args:
        in_features: ``D``.
        hidden: width of both discriminators.
        frame_grl, clip_grl: reversal layers (e.g. with a warm-up); default
            constant coefficient 1 each.

    Shape:
        source ``(B_s, D, T)``, target ``(B_t, D, T)`` -> dict with ``loss`` (scalar;
        frame + clip domain losses), ``source_clip`` ``(B_s, D)``, ``target_clip``
        ``(B_t, D)``, ``source_attention`` ``(B_s, T)``, ``target_attention`` ``(B_t, T)``.

    Example:
        >>> ta3n = TemporalAttentiveAlignment(16, hidden=32)
        >>> out = ta3n(torch.randn(3, 16, 8), torch.randn(2, 16, 8))
        >>> out["loss"].shape, out["source_clip"].shape, out["target_attention"].shape
        (torch.Size([]), torch.Size([3, 16]), torch.Size([2, 8]))
    """

    def __init__(self, in_features: int, *, hidden: int = 256, frame_grl: GradientReverseLayer | None = None,
                 clip_grl: GradientReverseLayer | None = None):
        super().__init__()
        self.frame_loss = DomainAdversarialLoss(DomainDiscriminator(in_features, hidden=hidden), frame_grl)
        self.clip_loss = DomainAdversarialLoss(DomainDiscriminator(in_features, hidden=hidden), clip_grl)

    def frame_domain_logits(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, D, T) -> (B, T)`` logits of "real", through the frame branch's reversal layer."""
        b, d, t = frames.shape
        flat = frames.permute(0, 2, 1).reshape(b * t, d)
        return self.frame_loss.discriminator(self.frame_loss.grl(flat)).view(b, t)

    def pool(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Attentive pooling: ``(B, D, T) -> (pooled (B, D), attention (B, T), domain logits (B, T))``."""
        logits = self.frame_domain_logits(frames)
        attention = domain_attention(logits)
        return (frames * attention.unsqueeze(1)).mean(-1), attention, logits

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        if source.dim() != 3 or target.dim() != 3:
            raise ValueError(f"expected frame features (B, D, T) for both domains, got {tuple(source.shape)} and {tuple(target.shape)}")
        check_pair(source, target)
        pooled_s, att_s, logit_s = self.pool(source)
        pooled_t, att_t, logit_t = self.pool(target)
        frame_loss = 0.5 * (F.binary_cross_entropy_with_logits(logit_s, torch.zeros_like(logit_s))
                            + F.binary_cross_entropy_with_logits(logit_t, torch.ones_like(logit_t)))
        clip_loss = self.clip_loss(pooled_s, pooled_t)
        return dict(loss=frame_loss + clip_loss, frame_loss=frame_loss.detach(), clip_loss=clip_loss.detach(),
                    source_clip=pooled_s, target_clip=pooled_t, source_attention=att_s, target_attention=att_t)


class AttentiveEntropyLoss(nn.Module):
    """TA3N's attentive entropy (Chen et al., ICCV 2019, eq. 7).

    .. math::
        \\mathcal{L}_{ae} = \\frac1N \\sum_i \\big(1 + H(d_i)\\big)\\, H(\\hat y_i)

    Minimising the class-prediction entropy :math:`H(\\hat y_i)` sharpens
    predictions; the weight :math:`1 + H(d_i)` puts the most of it on clips whose
    domain the discriminator cannot tell (the already-aligned ones), where
    sharpening is safest. The weights are constants here by default, so this
    loss only moves the class predictions; TA3N's code also lets gradient reach
    the domain branch, which ``detach_weights=False`` restores.

    Args:
        detach_weights: treat :math:`1 + H(d)` as a constant.

    Shape:
        class logits ``(N, K)``, domain logits ``(N,)`` -> scalar.

    Example:
        >>> loss = AttentiveEntropyLoss()
        >>> sure = torch.tensor([[10.0, -10.0]])
        >>> float(loss(sure, torch.zeros(1))) < 1e-3
        True
    """

    def __init__(self, *, detach_weights: bool = True):
        super().__init__()
        self.detach_weights = detach_weights

    @staticmethod
    def weights(domain_logits: torch.Tensor) -> torch.Tensor:
        """``1 + H(d)``: 1 for a certain domain prediction, ``1 + ln 2`` for a coin flip."""
        return 1.0 + binary_entropy_from_logits(domain_logits)

    def forward(self, class_logits: torch.Tensor, domain_logits: torch.Tensor) -> torch.Tensor:
        if class_logits.dim() != 2 or domain_logits.shape != class_logits.shape[:1]:
            raise ValueError(f"expected class logits (N, K) and domain logits (N,), got {tuple(class_logits.shape)} "
                             f"and {tuple(domain_logits.shape)}")
        w = self.weights(domain_logits)
        if self.detach_weights:
            w = w.detach()
        log_p = F.log_softmax(class_logits, dim=1)
        class_entropy = -(log_p.exp() * log_p).sum(1)
        return (w * class_entropy).mean()

"""Domain-adversarial training (DANN): a domain discriminator behind gradient reversal."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from simgen.adapt.align._shapes import check_pair
from simgen.adapt.align.grl import GradientReverseLayer

SYNTHETIC, REAL = 0, 1  # the domain tags a batch carries (train.data.batch: ``domain``)


class DomainDiscriminator(nn.Module):
    """MLP that tells real features from synthetic ones.

    ::

        (N, D) -> [Linear -> ReLU -> Dropout] x num_layers -> Linear -> (N,) logit of "real"

    Args:
        in_features: ``D``.
        hidden: width of the hidden layers.
        num_layers: number of hidden layers.
        dropout: dropout after each hidden layer.

    Shape:
        ``(N, D) -> (N,)``.

    Example:
        >>> disc = DomainDiscriminator(8, hidden=16)
        >>> disc(torch.randn(5, 8)).shape
        torch.Size([5])
    """

    def __init__(self, in_features: int, *, hidden: int = 256, num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)


class DomainAdversarialLoss(nn.Module):
    """DANN's domain loss (Ganin et al., "Domain-Adversarial Training of Neural
    Networks", JMLR 2016; Ganin & Lempitsky, ICML 2015).

    The discriminator :math:`D` sees features through a gradient reversal layer
    :math:`R_\\lambda` and predicts the probability that a sample is real:

    .. math::
        \\mathcal{L} = \\tfrac12 \\Big(
            -\\tfrac{1}{n_s}\\sum_i \\log\\big(1 - \\sigma(D(R_\\lambda(f^s_i)))\\big)
            -\\tfrac{1}{n_t}\\sum_j \\log \\sigma(D(R_\\lambda(f^t_j))) \\Big)

    Minimising it trains :math:`D` to separate the domains while the reversed
    gradient trains the features to confuse it. Each domain is averaged on its
    own, so a batch's synthetic:real ratio does not tilt the loss.

    **Levels.** Clip features ``(N, D)`` give clip-level alignment; frame features
    ``(B, D, T)`` give frame-level alignment, every time step one sample. Use one
    instance (its own discriminator) per level.

    After each call, :attr:`accuracy` holds the discriminator's accuracy on that
    batch (0.5 means the domains are indistinguishable).

    Args:
        discriminator: ``(N, D) -> (N,)`` logits of "real", e.g. :class:`DomainDiscriminator`.
        grl: the reversal layer; its coefficient may warm up
            (``GradientReverseLayer(WarmStartCoefficient(max_iters=...))``).
            Default: constant coefficient 1.

    Shape:
        source ``(N_s, D)`` or ``(B_s, D, T)``, target ``(N_t, D)`` or ``(B_t, D, T)`` -> scalar.

    Example:
        >>> from simgen.adapt.align.grl import GradientReverseLayer, WarmStartCoefficient
        >>> clip_level = DomainAdversarialLoss(DomainDiscriminator(16, hidden=32),
        ...                                    GradientReverseLayer(WarmStartCoefficient(max_iters=1000)))
        >>> frame_level = DomainAdversarialLoss(DomainDiscriminator(16, hidden=32))
        >>> loss = clip_level(torch.randn(4, 16), torch.randn(4, 16)) \\
        ...     + frame_level(torch.randn(4, 16, 8), torch.randn(4, 16, 8))
        >>> loss.shape
        torch.Size([])
    """

    def __init__(self, discriminator: nn.Module, grl: GradientReverseLayer | None = None):
        super().__init__()
        self.discriminator = discriminator
        self.grl = grl if grl is not None else GradientReverseLayer(1.0)
        self.accuracy = torch.tensor(float("nan"))

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        s, t = check_pair(source, target)
        logits = self.discriminator(self.grl(torch.cat([s, t])))
        logit_s, logit_t = logits[: len(s)], logits[len(s):]
        loss_s = F.binary_cross_entropy_with_logits(logit_s, torch.full_like(logit_s, SYNTHETIC))
        loss_t = F.binary_cross_entropy_with_logits(logit_t, torch.full_like(logit_t, REAL))
        with torch.no_grad():
            self.accuracy = 0.5 * ((logit_s < 0).float().mean() + (logit_t > 0).float().mean())
        return 0.5 * (loss_s + loss_t)

"""Feature alignment losses for sim-to-real adaptation; each cites its paper.

* :class:`GradientReverseLayer`, :class:`WarmStartCoefficient` — gradient reversal with warm-up.
* :class:`DomainAdversarialLoss`, :class:`DomainDiscriminator` — DANN at clip or frame level.
* :class:`CoralLoss` — Deep CORAL.
* :class:`MultiKernelMMD` — DAN's multi-kernel MMD.
* :class:`TemporalAttentiveAlignment`, :class:`AttentiveEntropyLoss` — TA3N.
"""

from simgen.adapt.align._shapes import as_samples, split_by_domain
from simgen.adapt.align.coral import CoralLoss, covariance
from simgen.adapt.align.dann import DomainAdversarialLoss, DomainDiscriminator
from simgen.adapt.align.grl import GradientReverseLayer, WarmStartCoefficient, reverse_gradient, step_reversal_schedules
from simgen.adapt.align.mmd import MultiKernelMMD
from simgen.adapt.align.temporal import (
    AttentiveEntropyLoss,
    TemporalAttentiveAlignment,
    binary_entropy_from_logits,
    domain_attention,
)

__all__ = [
    "GradientReverseLayer", "WarmStartCoefficient", "reverse_gradient", "step_reversal_schedules",
    "DomainAdversarialLoss", "DomainDiscriminator",
    "CoralLoss", "covariance",
    "MultiKernelMMD",
    "TemporalAttentiveAlignment", "AttentiveEntropyLoss", "domain_attention", "binary_entropy_from_logits",
    "as_samples", "split_by_domain",
]

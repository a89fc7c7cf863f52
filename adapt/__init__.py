"""Sim-to-real adaptation: alignment losses (:mod:`simgen.adapt.align`) and mixed-domain batches
(:mod:`simgen.adapt.data`)."""

from simgen.adapt.align import (
    AttentiveEntropyLoss,
    CoralLoss,
    DomainAdversarialLoss,
    DomainDiscriminator,
    GradientReverseLayer,
    MultiKernelMMD,
    TemporalAttentiveAlignment,
    WarmStartCoefficient,
    split_by_domain,
    step_reversal_schedules,
)
from simgen.adapt.data import MixedDomainBatchSampler, mixed_loader

__all__ = [
    "GradientReverseLayer", "WarmStartCoefficient", "step_reversal_schedules",
    "DomainAdversarialLoss", "DomainDiscriminator", "CoralLoss", "MultiKernelMMD",
    "TemporalAttentiveAlignment", "AttentiveEntropyLoss", "split_by_domain",
    "MixedDomainBatchSampler", "mixed_loader",
]

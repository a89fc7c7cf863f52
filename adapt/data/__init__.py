"""Data for adaptation: batches mixing synthetic and real clips."""

from simgen.adapt.data.mixed import MixedDomainBatchSampler, dataset_labels, mixed_loader

__all__ = ["MixedDomainBatchSampler", "dataset_labels", "mixed_loader"]

"""Temporal action models: data, clip-consistent augmentation, backbones, objectives, metrics.

Submodules: ``train.data`` (readers, samplers, cache), ``train.augment``,
``train.inputs``, ``train.models``, ``train.objectives``, ``train.metrics``,
``train.fit`` (the loop), ``train.evaluate``.
"""

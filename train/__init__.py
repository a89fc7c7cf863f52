"""Temporal action models: data, clip-consistent augmentation, backbones, objectives, metrics.

Submodules: ``simgen.train.data`` (readers, samplers, cache), ``simgen.train.augment``,
``simgen.train.inputs``, ``simgen.train.models``, ``simgen.train.objectives``, ``simgen.train.metrics``,
``simgen.train.fit`` (the loop), ``simgen.train.evaluate``.
"""

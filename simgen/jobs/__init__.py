"""Batch generation: shard tasks, run on a local process pool or a Ray cluster, resumable."""

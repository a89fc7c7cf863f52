"""The on-disk dataset: WebDataset shards, a manifest, and dataset.json (writer, reader, validator)."""

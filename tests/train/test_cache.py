import numpy as np

from simgen.train.data.cache import FrameCache


def test_memmap_cache_decodes_once_and_round_trips(tmp_path):
    calls = []
    frames = np.random.default_rng(0).integers(0, 255, (5, 8, 6, 3), dtype=np.uint8)

    def load():
        calls.append(1)
        return frames, {"fps": 30.0, "label": "a", "frame_labels": ["a"] * 5}

    cache = FrameCache(tmp_path / "c")
    a, ann = cache.get("k", load)
    b, ann2 = FrameCache(tmp_path / "c").get("k", load)  # a new process-like instance
    assert len(calls) == 1
    assert isinstance(b, np.memmap) and np.array_equal(b, frames)
    assert ann2 == ann == {"fps": 30.0, "label": "a", "frame_labels": ["a"] * 5}


def test_incomplete_entry_is_not_trusted(tmp_path):
    cache = FrameCache(tmp_path)
    data_path, meta_path = cache._paths("k")
    data_path.write_bytes(b"\x00" * 10)  # data without metadata: a killed write
    frames = np.ones((2, 2, 2, 3), np.uint8)
    out, _ = cache.get("k", lambda: (frames, {}))
    assert cache.misses == 1 and np.array_equal(out, frames)


def test_in_memory_cache(tmp_path):
    cache = FrameCache(None)
    n = []
    for _ in range(3):
        cache.get("x", lambda: (n.append(1) or np.zeros((1, 1, 1, 3), np.uint8), {}))
    assert len(n) == 1 and cache.hits == 2

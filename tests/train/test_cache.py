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


def test_a_clips_metadata_is_parsed_once_per_cache(tmp_path, monkeypatch):
    """An epoch reads every clip again: its JSON (annotations with per-frame keypoints, tens of kB) is
    parsed on the first read only, and later reads give the same frames and annotations."""
    import simgen.train.data.cache as cache_module

    frames = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    FrameCache(tmp_path).get("k", lambda: (frames, {"fps": 25.0, "boxes": [[1, 2, 3, 4]] * 2}))
    parsed = []
    real_loads = cache_module.json.loads
    monkeypatch.setattr(cache_module.json, "loads", lambda text: parsed.append(1) or real_loads(text))
    cache = FrameCache(tmp_path)
    for _ in range(5):
        out, ann = cache.get("k", lambda: (_ for _ in ()).throw(AssertionError("decoded again")))
        assert np.array_equal(out, frames) and ann == {"fps": 25.0, "boxes": [[1, 2, 3, 4]] * 2}
    assert len(parsed) == 1 and cache.hits == 5 and cache.misses == 0


def test_the_parsed_metadata_kept_is_bounded(tmp_path, monkeypatch):
    """Parsed, a clip's annotations take ~250 KB: a large set must not keep them all; the most recently read stay."""
    import simgen.train.data.cache as cache_module

    monkeypatch.setattr(cache_module, "META_KEPT", 3)
    cache = FrameCache(tmp_path)
    frames = np.zeros((1, 2, 2, 3), np.uint8)
    for k in "abcd":
        cache.get(k, lambda: (frames, {}))
    assert list(cache._meta) == ["b", "c", "d"]
    cache.get("b", lambda: (frames, {}))  # read again: now the most recent
    cache.get("e", lambda: (frames, {}))
    assert list(cache._meta) == ["d", "b", "e"] and cache.misses == 5 and cache.hits == 1


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


def _dataset(root, cache_dir):
    from simgen.train.data.batch import ClipDataset
    from simgen.train.data.synthetic import open_reader

    return ClipDataset(open_reader(root, size=32), FrameCache(cache_dir), num_frames=4)


def _clips(helpers, level: int) -> list[np.ndarray]:
    """One flat grey clip per class: easy to tell apart after lossy coding."""
    return [np.full((8, 32, 32, 3), level + 20 * k, np.uint8) for k in range(len(helpers.CLASSES))]


def _shows(decoded: np.ndarray, clip: np.ndarray, other: np.ndarray) -> bool:
    """``decoded`` is (lossy H.264) ``clip``, not ``other``."""
    err = lambda x: np.abs(decoded.astype(int) - x).mean()
    return err(clip) < 0.5 * err(other)


def test_real_clip_rewritten_in_place_is_decoded_again(helpers, tmp_path):
    old, new = _clips(helpers, 40), _clips(helpers, 160)
    root = tmp_path / "real"
    path = helpers.write_video_file(root / "a" / "c0.mp4", old[0])
    first, _ = _dataset(root, tmp_path / "cache").load(0)
    assert _shows(first, old[0], new[0])
    helpers.write_video_file(path, new[0])  # same path, same key: new bytes
    again = _dataset(root, tmp_path / "cache")
    frames, _ = again.load(0)
    assert again.cache.misses == 1 and _shows(frames, new[0], old[0])
    path.touch()  # same bytes, newer time: the cached frames stay valid
    same = _dataset(root, tmp_path / "cache")
    same.load(0)
    assert same.cache.hits == 1 and same.cache.misses == 0


def test_synthetic_dataset_regenerated_in_place_is_decoded_again(helpers, tmp_path):
    old, new = _clips(helpers, 40), _clips(helpers, 160)
    root = tmp_path / "synth"
    helpers.write_synthetic(root, [(c, f, [c] * 8) for c, f in zip(helpers.CLASSES, old)])
    first, _ = _dataset(root, tmp_path / "cache").load(2)
    assert _shows(first, old[2], new[2])
    helpers.write_synthetic(root, [(c, f, [c] * 8) for c, f in zip(helpers.CLASSES, new)])  # same keys
    again = _dataset(root, tmp_path / "cache")
    frames, _ = again.load(2)
    assert again.cache.misses == 1 and _shows(frames, new[2], old[2])

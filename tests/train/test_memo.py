"""Scoring keeps what it computes from a clip's frames alone (``simgen.train.memo``): the same scores, each
clip's window inputs built once inside ``remembered_inputs``, each clip's camera speed measured once."""

from __future__ import annotations

import numpy as np
import torch

from simgen.train import memo
from simgen.train.evaluate import clip_scores
from simgen.train.inputs import InputTransform
from simgen.train.memo import InputMemo, remembered_inputs
from tests.train.test_clip_crop import _counting_stabilise, _filmed


def _model(seed: int):
    from simgen.train.models import create_action_model

    torch.manual_seed(seed)
    return create_action_model(backbone="tiny3d", num_classes=3, input_mode="psdiff", frame_head=False).eval()


def test_inside_remembered_inputs_a_clips_windows_are_built_once_and_score_the_same(monkeypatch):
    first, second = _model(0), _model(1)
    occluded, clean = _filmed(bar=0.45), _filmed()
    tf = InputTransform("psdiff")
    score = lambda m, f: clip_scores(m, tf, f, num_frames=8, stride=2, device="cpu", batch_size=2)
    expected = [score(first, occluded), score(second, occluded)]  # no memo: every call builds its inputs
    calls = _counting_stabilise(monkeypatch)
    with remembered_inputs() as kept:
        got = [score(first, occluded)]
        windows = len(calls)
        got.append(score(second, occluded))  # another model, the same clip: its inputs are kept
        assert len(calls) == windows and kept.hits == 1 and kept.misses == 1
        score(first, clean)  # another clip: built
        assert len(calls) == 2 * windows and kept.misses == 2
    assert windows >= 3
    assert all(torch.equal(g, e) for g, e in zip(got, expected))
    score(first, occluded)  # outside: nothing is kept
    assert len(calls) == 3 * windows


def test_an_enclosing_memo_is_used_and_a_given_one_is_activated():
    outer, own = InputMemo(2**20), InputMemo(2**20)
    assert memo.active_inputs() is None
    with remembered_inputs(outer):
        with remembered_inputs() as inner:
            assert inner is outer
        with remembered_inputs(own):
            assert memo.active_inputs() is own
        assert memo.active_inputs() is outer
    assert memo.active_inputs() is None


def test_the_least_recently_used_inputs_go_first_past_the_budget():
    kept = InputMemo(max_bytes=3 * 400)  # three batches of 100 float32
    made = []

    def get(key, value):
        def make():
            made.append(key)
            return [torch.full((100,), float(value))]
        return float(kept.get(key, make)[0][0])

    for k, v in (("a", 1), ("b", 2), ("c", 3)):
        get(k, v)
    assert get("a", 9) == 1  # kept: made once
    get("d", 4)  # over budget: "b", the least recently used, goes
    assert kept.bytes == 3 * 400 and made == ["a", "b", "c", "d"]
    assert get("a", 9) == 1 and get("c", 9) == 3 and get("b", 5) == 5 and made[-1] == "b"
    huge = kept.get("huge", lambda: [torch.zeros(1000)])  # over the whole budget: returned, not kept
    assert len(huge[0]) == 1000 and "huge" not in kept._items and kept.bytes <= kept.max_bytes


def test_a_clips_camera_speed_is_measured_once_per_content(monkeypatch):
    import simgen.adapt.stabilise as stabilise

    calls, measure = [], stabilise.camera_speed
    monkeypatch.setattr(stabilise, "camera_speed", lambda f, *a, **k: calls.append(1) or measure(f, *a, **k))
    monkeypatch.setattr(memo, "_SPEEDS", {})
    frames = _filmed().numpy()
    first = memo.camera_speed(frames)
    assert memo.camera_speed(np.array(frames)) == first == measure(frames)  # a copy: same content
    assert len(calls) == 1
    memo.camera_speed(frames[:20])
    assert len(calls) == 2

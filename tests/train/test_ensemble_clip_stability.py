"""Per-clip stability weights in a score ensemble (``ScoreEnsemble(clip_stability=SEED)``, ``simgen evaluate/predict
--clip-stability``): the benchmark's adopted rule, applied to a person's own clips."""

import numpy as np
import pytest
import torch

from simgen.adapt.benchmark.clip_stability import clip_stability
from simgen.adapt.benchmark.scoring import Clip, ModelInput
from simgen.adapt.benchmark.stability import STABILITY_CONDITIONS, drawn_frames
from simgen.train.ensemble_scores import Member, ScoreEnsemble, clip_stability_weights
from simgen.train.frame_rate import to_model_rate
from simgen.train.memo import content_key
from simgen.train.models import create_action_model

P = torch.tensor


def test_the_rule_is_weight_times_stability_then_the_weights_then_equal():
    assert clip_stability_weights([1.0, 2.0], [0.4, 0.0]) == pytest.approx([0.4, 0.0])
    assert clip_stability_weights(None, [0.2, 0.6]) == pytest.approx([0.2, 0.6])
    assert clip_stability_weights([1.0, 3.0], [0.0, 0.0]) == pytest.approx([1.0, 3.0])  # nobody keeps: the weights
    assert clip_stability_weights(None, [0.0, 0.0]) == pytest.approx([1.0, 1.0])
    assert clip_stability_weights([0.0, 0.0], [0.5, 0.5]) is None


def _member(seed, fps=25.0, input_mode="diff", gain=1.0):
    torch.manual_seed(seed)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode=input_mode).eval()
    with torch.no_grad():  # larger weights: a random model whose answer depends on its input
        for p in model.parameters():
            p.mul_(gain)
    meta = dict(input=input_mode, num_frames=8, stride=1, classes=["a", "b", "c"], size=32, frame_background=None,
                fps=fps, backbone="tiny3d")
    return Member(model, meta, f"m{seed}")


def _clip(n=24):
    """A square sliding right on a grey field: something moves, as in a real clip."""
    frames = np.full((n, 32, 32, 3), 90, np.uint8)
    for t in range(n):
        frames[t, 10:20, 2 + t : 12 + t] = 220
    return torch.from_numpy(frames)


class _Scripted(ScoreEnsemble):
    """Members' clip scores scripted: on the clip itself, ``base[i]``; on the c-th copy, class ``copies[i][c]``."""

    def __init__(self, base, copies, **kw):
        super().__init__([_member(0), _member(1)], **kw)
        self.base, self.copies, self.calls = base, copies, 0
        self.clip = _clip()

    def member_scores(self, kind, frames, *, device="cpu", which=None):
        which = self.active if which is None else which
        if torch.equal(frames, self.clip):
            return [self.base[i] for i in which]
        c, self.calls = self.calls, self.calls + 1  # copies come in condition order
        return [torch.nn.functional.one_hot(P(self.copies[i][c]), 3).float() for i in which]


def test_the_fused_clip_scores_weigh_each_member_by_its_stability_on_that_clip():
    base = [P([0.7, 0.2, 0.1]), P([0.1, 0.3, 0.6])]
    # member 0 keeps class 0 on 2 of the 5 copies, member 1 keeps class 2 on 4 of them
    ens = _Scripted(base, [[0, 1, 1, 0, 2], [2, 2, 0, 2, 2]], weights=[3.0, 1.0], clip_stability=0)
    assert ens.member_stability(ens.clip) == pytest.approx({0: 0.4, 1: 0.8})
    want = (3 * 0.4 * base[0] + 1 * 0.8 * base[1]) / (3 * 0.4 + 0.8)
    assert torch.allclose(ens.fused_clip_scores(ens.clip), want)
    assert ens.calls == len(STABILITY_CONDITIONS)  # measured once per clip, kept
    off = _Scripted(base, [[0] * 5, [2] * 5], weights=[3.0, 1.0])
    assert torch.allclose(off.fused_clip_scores(off.clip), (3 * base[0] + base[1]) / 4) and off.calls == 0
    # a member that never keeps its answer drops out; when none keeps it, the fold weights alone
    one = _Scripted(base, [[0] * 5, [1] * 5], weights=[1.0, 1.0], clip_stability=0)
    assert torch.allclose(one.fused_clip_scores(one.clip), base[0])
    none = _Scripted(base, [[1] * 5, [1] * 5], weights=[1.0, 3.0], clip_stability=0)
    assert torch.allclose(none.fused_clip_scores(none.clip), (base[0] + 3 * base[1]) / 4)
    # members that agree on the class: no weighting changes it, so nothing is measured and the weights fuse
    agree = _Scripted([base[0], P([0.5, 0.3, 0.2])], [[1] * 5, [1] * 5], weights=[1.0, 3.0], clip_stability=0)
    assert not agree.undecided(agree.clip) and ens.undecided(ens.clip)
    assert torch.allclose(agree.fused_clip_scores(agree.clip), (base[0] + 3 * P([0.5, 0.3, 0.2])) / 4)
    assert agree.calls == 0
    with pytest.raises(ValueError, match="clip_stability seed"):
        off.member_stability(off.clip)


def test_member_stability_is_what_the_benchmark_measures_on_the_same_copies():
    """The ensemble's copies (drawn from the clip's content) scored the benchmark's way give the same shares:
    one scoring path, one rule. The fps copy (half the frames) is replayed at the members' rate in both."""
    members = [_member(7, gain=3.0), _member(107, input_mode="psdiff", gain=3.0)]
    ens = ScoreEnsemble(members, clip_stability=5)
    frames = _clip()
    got = ens.member_stability(frames)
    key = content_key(frames.numpy())[1].hex()
    copies = []
    for k in range(len(STABILITY_CONDITIONS)):
        f, fps = drawn_frames(frames.numpy(), 25.0, k, 5, key)
        copies.append([Clip(key="x", frames=f, fps=fps, label=-1)])
    half = copies[3][0]
    assert len(half.frames) < len(frames)  # the fps condition's copy has fewer frames ...
    replayed, _ = to_model_rate(torch.from_numpy(half.frames), half.fps, 25.0)
    assert len(replayed) == len(frames)  # ... and is scored replayed at the members' 25 fps, as the benchmark does
    assert all((i, ("clip", *content_key(replayed.numpy()))) in ens._cache for i in (0, 1))
    for i, m in enumerate(members):
        _, want = clip_stability(m.model, ModelInput.from_meta(m.meta), [Clip(key="x", frames=frames.numpy(),
                                                                                 fps=25.0, label=-1)], 5, copies=copies)
        assert got[i] == pytest.approx(float(want[0]))
    assert any(0 < share < 1 for share in got.values())  # some copy changed a member's answer

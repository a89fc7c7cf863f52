"""Score-level ensembles of models that read clips differently (window length, frame rate, backbone, head).

Averaging logits inside one forward pass (:class:`simgen.train.metrics.ensemble.Ensemble`)
needs members that take the same input window. Members trained on windows of 8 or 16
frames, or at a frame gap (``stride``) of 1, 2 or 4 (25, 12.5, 6.25 fps from a 25 fps
clip), each score a whole clip or video their own way (:func:`simgen.train.evaluate.clip_scores`,
:func:`~simgen.train.evaluate.frame_scores`); :class:`ScoreEnsemble` fuses those scores,
which are per clip ``(K,)`` or per frame of the same video ``(N, K)`` whatever the member's
window: mean probability or majority vote (:func:`simgen.train.metrics.ensemble.fuse_scores`).
Models trained with different window lengths and frame rates see different temporal
context, so their errors differ, which is what an ensemble needs (Dietterich, MCS 2000).

Every member's scores of a clip are computed once and kept (keyed by the frames' content),
so the fused result, each member alone and each fusion (:meth:`ScoreEnsemble.view`) are
scored from the same passes.

A member reading plain frame differences sees a moving camera's motion everywhere and falls to
chance under the mildest moving crop, while one reading stabilised differences (``sdiff``,
``psdiff``) holds. Averaging them lets the first pull the second down, so with ``camera_gate``
a clip whose camera moves faster than that (:func:`simgen.adapt.stabilise.camera_speed`) is
scored by the stabilising members alone (:func:`gated_members`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from simgen.train.frame_rate import to_model_rate
from simgen.train.inputs import CROPPED_INPUTS, InputTransform
from simgen.train.memo import camera_speed, content_key
from simgen.train.metrics.ensemble import FUSIONS, fuse_scores

#: input modes that undo the camera's motion before differencing (:func:`simgen.train.inputs.stabilised_gray`)
STABILISED_INPUTS = ("sdiff", "psdiff", "psrgb+diff")
#: meta fields every member must share: what the clips are read as, and what the outputs mean
SHARED_META = ("classes", "size")


@dataclass
class Member:
    """One model with its own reading of the clips (``meta``: ``input``, ``num_frames``, ``stride``)."""

    model: torch.nn.Module
    meta: dict
    name: str = ""
    input_tf: InputTransform = field(init=False)

    def __post_init__(self):
        self.input_tf = InputTransform(self.meta["input"])


def check_members(metas: Sequence[dict], names: Sequence[str], fps_of) -> None:
    """``ValueError`` naming the first member whose classes, frame size, background output or frame rate differ.

    ``fps_of(meta)``: the rate the member replays clips at (:func:`simgen.train.frame_rate.model_fps`);
    members read clips at one rate and differ in how many of its frames they skip (``stride``).
    """
    first = metas[0]
    # a per-frame background output (``frame_background``, e.g. transition frames) may be missing in some
    # members: their frame scores give it probability 0 (:func:`pad_background`); two labels cannot mix
    backgrounds = {meta.get("frame_background") for meta in metas} - {None}
    if len(backgrounds) > 1:
        raise ValueError(f"members' per-frame background outputs stand for different labels ({sorted(backgrounds)}); "
                         "cannot ensemble")
    for meta, name in zip(metas[1:], names[1:]):
        for key in SHARED_META:
            if meta.get(key) != first.get(key):
                raise ValueError(f"{name}: field '{key}' = {meta.get(key)!r} differs from {names[0]}'s "
                                 f"{first.get(key)!r}; cannot ensemble")
        if fps_of(meta) != fps_of(first):
            raise ValueError(f"{name}: field 'fps' (replay rate {fps_of(meta)!r}) differs from {names[0]}'s "
                             f"{fps_of(first)!r}; members must share it (vary --stride for other frame rates)")


def ensemble_meta(metas: Sequence[dict]) -> dict:
    """The meta the fused outputs are read by: the first member's, with the background output any member has."""
    background = next((m["frame_background"] for m in metas if m.get("frame_background")), None)
    return dict(metas[0], frame_background=background)


def pad_background(scores: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per-frame scores ``(N, K)`` of members without a background output, given one more column of 0
    when another member has it ``(N, K+1)``, so the fused background is the mean over all members."""
    width = max(s.shape[-1] for s in scores)
    return [s if s.shape[-1] == width else torch.nn.functional.pad(s, (0, width - s.shape[-1])) for s in scores]


def gate_applies(inputs: Sequence[str]) -> bool:
    """Whether a camera gate can narrow members of these input modes: they mix stabilised and plain ones."""
    return len({m in STABILISED_INPUTS for m in inputs}) > 1


def gated_members(inputs: Sequence[str], speed: float, gate: float | None) -> list[int]:
    """Positions in ``inputs`` (the members' input modes) to fuse for a clip whose camera moves at ``speed``.

    All of them, unless ``gate`` is set, ``speed`` exceeds it and the members mix stabilised and plain
    inputs: then the stabilised ones alone.
    """
    everyone = list(range(len(inputs)))
    if gate is None or speed <= gate:
        return everyone
    steady = [i for i in everyone if inputs[i] in STABILISED_INPUTS]
    return steady if steady else everyone


def clip_stability_weights(weights: Sequence[float] | None, stable: Sequence[float] | None) -> list[float] | None:
    """One clip's fusion weights under per-clip stability (:meth:`ScoreEnsemble.member_stability`): each member's
    weight (1 each when ``weights`` is ``None``) times its stability on the clip; the weights alone where every
    product is 0 (no member keeps its answer) or a stability is NaN (not measured: the members agree on the class);
    ``None`` (equal) where those are all 0 too."""
    base = np.ones(len(stable)) if weights is None else np.asarray(weights, float)
    if stable is not None and not np.isnan(stable).any() and (base * np.asarray(stable, float)).sum() > 0:
        return list(base * np.asarray(stable, float))
    return list(base) if base.sum() > 0 else None


class ScoreEnsemble:
    """Members scored each with its own window settings, their scores fused.

    Drops in where :func:`simgen.train.evaluate.clip_scores` / ``frame_scores`` take a model
    (they call :meth:`fused_clip_scores` / :meth:`fused_frame_scores`; the window arguments
    given there are ignored: each member uses its own).

    Args:
        members: the models.
        fusion: ``mean`` | ``vote`` (see :func:`fuse_scores`).
        only: score with this member alone (index), ignoring ``fusion``.
        weights: one number >= 0 per member for the fusion (:func:`fuse_scores`), e.g. their prediction
            stability (:mod:`simgen.adapt.benchmark.stability`); ``None``: equal.
        camera_gate: with members of stabilised and of plain inputs, a clip whose camera speed
            (:func:`simgen.adapt.stabilise.camera_speed`) exceeds this is fused over the stabilised ones
            alone (:func:`gated_members`); ``None``: every active member, always.
        clip_stability: a seed: each clip's fused *clip* scores weight every member by ``weights`` times its
            stability on that clip (:meth:`member_stability`, the rule the recipe ensemble of the benchmark
            adopted, :mod:`simgen.adapt.benchmark.clip_stability`) where the members disagree on its class
            (:meth:`undecided`); per-frame scores keep ``weights``. ``None``: off.
        clutter_gate: with members of person-cropped and of whole-frame inputs, a clip whose clutter (the share of
            its motion outside the person box, :func:`simgen.train.clutter.clip_clutter` with the first cropped
            member's windows) exceeds this is fused over the cropped ones alone, after the camera gate
            (:func:`~simgen.train.clutter.clutter_gated_members`); ``None``: off.
    """

    def __init__(self, members: Sequence[Member], fusion: str = "mean", *, only: int | None = None,
                 active: Sequence[int] | None = None, camera_gate: float | None = None,
                 weights: Sequence[float] | None = None, clip_stability: int | None = None,
                 clutter_gate: float | None = None, _cache: dict | None = None):
        if not members:
            raise ValueError("nothing to ensemble")
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; expected one of {FUSIONS}")
        self.members, self.fusion, self.only = list(members), fusion, only
        #: indices of the members fused (a sub-ensemble shares the others' scores)
        self.active = list(range(len(self.members))) if active is None else list(active)
        if not self.active or not all(0 <= i < len(self.members) for i in self.active):
            raise ValueError(f"members {self.active} not in 0..{len(self.members) - 1}")
        self.camera_gate = camera_gate
        if weights is not None and (len(weights) != len(self.members) or min(weights) < 0 or not sum(weights) > 0):
            raise ValueError(f"member weights: expected {len(self.members)} numbers >= 0, not all 0 (one per member); "
                             f"got {list(weights)}")
        self.weights = None if weights is None else [float(w) for w in weights]
        self.clip_stability = clip_stability
        self.clutter_gate = clutter_gate
        self._cache = {} if _cache is None else _cache
        #: clips scored by the fused view, and how many of them the camera gate and the clutter gate narrowed
        self.gate_counts = dict(clips=0, gated=0, clutter_gated=0)

    def view(self, *, fusion: str | None = None, only: int | None = None, active: Sequence[int] | None = None,
             camera_gate: float | None | str = "same", clutter_gate: float | None | str = "same") -> "ScoreEnsemble":
        """The same members and cached scores, fused another way, over a subset (``active``), or one member alone;
        ``camera_gate``, ``clutter_gate``: other gates (``None``: off), by default this one's."""
        return ScoreEnsemble(self.members, fusion or self.fusion, only=only,
                             active=self.active if active is None else active,
                             camera_gate=self.camera_gate if camera_gate == "same" else camera_gate,
                             weights=self.weights, clip_stability=self.clip_stability,
                             clutter_gate=self.clutter_gate if clutter_gate == "same" else clutter_gate,
                             _cache=self._cache)

    def to(self, device) -> "ScoreEnsemble":
        for m in self.members:
            m.model.to(device)
        return self

    def eval(self) -> "ScoreEnsemble":
        for m in self.members:
            m.model.eval()
        return self

    @property
    def frame_head(self):
        """Not ``None`` when every member has a per-frame head (what callers check before per-frame scoring)."""
        heads = [getattr(m.model, "frame_head", None) for m in self.members]
        return None if any(h is None for h in heads) else heads

    def member_scores(self, kind: str, frames: torch.Tensor, *, device="cpu",
                      which: Sequence[int] | None = None) -> list[torch.Tensor]:
        """Members' (``which``, default the active ones) ``clip`` ``(K,)`` or ``frame`` ``(N,K)`` probabilities
        of ``frames``, each computed once per content of ``frames``."""
        from simgen.train.evaluate import clip_scores, frame_scores

        frames = frames if isinstance(frames, torch.Tensor) else torch.as_tensor(frames)
        key = (kind, *content_key(frames.numpy()))
        score = clip_scores if kind == "clip" else frame_scores
        out = []
        for i in self.active if which is None else which:
            if (i, key) not in self._cache:
                m = self.members[i]
                self._cache[(i, key)] = score(m.model, m.input_tf, frames, num_frames=m.meta["num_frames"],
                                              stride=m.meta["stride"], device=device)
            out.append(self._cache[(i, key)])
        return out

    def camera_speed(self, frames) -> float:
        """:func:`simgen.adapt.stabilise.camera_speed` of ``frames`` (``uint8[N,H,W,3]``), once per content."""
        frames = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
        return camera_speed(frames)

    def clutter(self, frames) -> float | None:
        """:func:`simgen.train.clutter.clip_clutter` of ``frames`` (on the members' timeline) with the windows of the
        first person-cropped member, once per content; ``None`` without a cropped member."""
        from simgen.train.clutter import clip_clutter

        reader = next((m for m in self.members if m.meta["input"] in CROPPED_INPUTS), None)
        if reader is None:
            return None
        frames = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
        key = ("clutter", *content_key(frames))
        if key not in self._cache:
            # already on the members' timeline: no replay, so the clip's own rate (1.0 here) is never read
            self._cache[key] = clip_clutter(frames, 1.0, num_frames=reader.meta["num_frames"],
                                            stride=reader.meta["stride"], model_fps=None)
        return self._cache[key]

    def _gated(self, frames) -> tuple[list[int], list[int]]:
        """The active members the camera gate leaves on ``frames``, and those of them the clutter gate leaves."""
        from simgen.train.clutter import clutter_gate_applies, clutter_gated_members

        inputs = [self.members[i].meta["input"] for i in self.active]
        steady = list(range(len(inputs)))
        if self.camera_gate is not None and gate_applies(inputs):  # else nothing to narrow: skip the motion estimate
            steady = gated_members(inputs, self.camera_speed(frames), self.camera_gate)
        kept = steady
        if self.clutter_gate is not None and clutter_gate_applies([inputs[i] for i in steady]):
            kept = clutter_gated_members(inputs, self.clutter(frames), self.clutter_gate, steady)
        return [self.active[i] for i in steady], [self.active[i] for i in kept]

    def fused_members(self, frames) -> list[int]:
        """The members the fused scores of ``frames`` average: the active ones, narrowed by the camera gate, then by
        the clutter gate."""
        return self._gated(frames)[1]

    def undecided(self, frames, *, device="cpu") -> bool:
        """Whether the members fused on ``frames`` name different classes: only then can per-clip weights change
        the fused class (where all put class c first, every weighted mean of their scores does too), so only
        then is their stability measured (:meth:`member_stability`), as in the benchmark
        (:func:`~simgen.adapt.benchmark.clip_stability.undecided_clips`)."""
        scores = self.member_scores("clip", frames, device=device, which=self.fused_members(frames))
        return len({int(s.argmax()) for s in scores}) > 1

    def member_stability(self, frames, *, device="cpu") -> dict[int, float]:
        """For each member the fused scores of ``frames`` (a clip on the members' timeline, ``uint8[N,H,W,3]``)
        average: the share of the stability conditions
        (:data:`~simgen.adapt.benchmark.stability.STABILITY_CONDITIONS`, one middle level of each perturbation
        family) under which its predicted class on a perturbed copy of the clip equals its class on the clip.
        Labels play no part. The copies are drawn from the clip's content and the ``clip_stability`` seed
        (the benchmark draws them from the clip's file name instead, so its copies are others of the same
        kinds), at the members' frame rate, and scored as the clip is; kept per content, like the scores."""
        from simgen.adapt.benchmark.stability import STABILITY_CONDITIONS, drawn_frames
        from simgen.train.frame_rate import model_fps

        if self.clip_stability is None:
            raise ValueError("member_stability needs the ensemble's clip_stability seed")
        frames = frames if isinstance(frames, torch.Tensor) else torch.as_tensor(np.asarray(frames))
        which = self.fused_members(frames)
        key = ("stability", self.clip_stability, *content_key(frames.numpy()))
        todo = [i for i in which if (i, key) not in self._cache]
        if todo:
            rate = model_fps(self.members[0].meta)  # members share it (check_members)
            classes = [int(s.argmax()) for s in self.member_scores("clip", frames, device=device, which=todo)]
            kept = np.zeros(len(todo))
            for condition in range(len(STABILITY_CONDITIONS)):
                copy, fps = drawn_frames(frames.numpy(), rate or 25.0, condition, self.clip_stability, key[-1].hex())
                copy, _ = to_model_rate(torch.from_numpy(np.ascontiguousarray(copy)), fps, rate)
                scores = self.member_scores("clip", copy, device=device, which=todo)
                kept += [int(s.argmax()) == c for s, c in zip(scores, classes)]
            for i, share in zip(todo, kept / len(STABILITY_CONDITIONS)):
                self._cache[(i, key)] = float(share)
        return {i: self._cache[(i, key)] for i in which}

    def _fused(self, kind: str, frames, device) -> torch.Tensor:
        if self.only is not None:
            return self.member_scores(kind, frames, device=device, which=[self.only])[0]
        steady, which = self._gated(frames)
        self.gate_counts["clips"] += 1
        self.gate_counts["gated"] += len(steady) < len(self.active)
        self.gate_counts["clutter_gated"] += len(which) < len(steady)
        weights = None if self.weights is None else [self.weights[i] for i in which]
        if weights is not None and not sum(weights) > 0:  # the gate kept only members weighted 0
            weights = None
        if kind == "clip" and self.clip_stability is not None and self.undecided(frames, device=device):
            stable = self.member_stability(frames, device=device)
            weights = clip_stability_weights(weights, [stable[i] for i in which])
        return fuse_scores(pad_background(self.member_scores(kind, frames, device=device, which=which)), self.fusion,
                           weights)

    def fused_clip_scores(self, frames: torch.Tensor, *, device="cpu") -> torch.Tensor:
        """The clip's class probabilities ``(K,)``, fused."""
        return self._fused("clip", frames, device)

    def fused_frame_scores(self, frames: torch.Tensor, *, device="cpu") -> torch.Tensor:
        """Per-frame probabilities ``(N,K)``, fused frame by frame (members see the same frames)."""
        return self._fused("frame", frames, device)

"""What the actor does in a clip: one action, or a chain of actions with blended transitions.

`sample_action_factors` draws the plan (segments, their timing, speed, phase, amplitude,
mirroring); `plan_poses` turns a plan into the per-frame kinematic target plus the
per-frame labels and `[start, end, label]` segments. Frames that blend two actions, and
idle standing between them, carry the spec's background label.
"""

from __future__ import annotations

import numpy as np

from simgen import rotations as rot
from simgen.motion.library import ActionLibrary
from simgen.motion.pose import PoseSequence, blend
from simgen.spec import GenerationSpec

IDLE_ACTION = "idle"


def mirror_label_map(spec: GenerationSpec) -> dict[str, str]:
    """The spec's label pairs for mirroring, made symmetric (wave_left <-> wave_right)."""
    pairs = dict(spec.actor.mirror_labels)
    pairs.update({v: k for k, v in spec.actor.mirror_labels.items()})
    return pairs


def resolve_action(label: str, mirror: bool, library: ActionLibrary, pairs: dict[str, str]) -> tuple[str, bool]:
    """Which library action to perform, and mirrored or not, so that the clip shows `label`.

    A label with a mirror partner can be made by mirroring the partner; a label that only
    exists as its partner's mirror image is always made that way; and a label whose mirror
    image is another class is never mirrored into it.
    """
    partner = pairs.get(label)
    if label not in library.actions:
        if partner is None or partner not in library.actions:
            library.get(label)  # raises: unknown action
        return partner, True
    if partner is not None:
        # Mirroring this action would show the partner class; mirror the partner instead.
        return (partner, True) if mirror and partner in library.actions else (label, False)
    return label, mirror


def _segment(spec: GenerationSpec, library: ActionLibrary, label: str, action: str, rng: np.random.Generator) -> dict:
    a = spec.actor
    return {
        "label": label,
        "action": action,
        "speed": a.speed.sample(rng),
        "phase": a.phase.sample(rng),
        "amplitude": a.amplitude.sample(rng),
        "amplitudes": {n: float(rng.uniform(lo, hi)) for n, (lo, hi) in sorted(library.get(action).amplitude_ranges.items())},
    }


def sample_action_factors(spec: GenerationSpec, library: ActionLibrary, label: str, rng: np.random.Generator) -> dict:
    """The clip's action plan. `label` is the clip's class (when chained, at least 40% of the
    frames and its longest segment)."""
    pairs = mirror_label_map(spec)
    mirror = bool(rng.uniform() < spec.actor.mirror_probability)
    facing = spec.actor.facing_deg.sample(rng)
    frames = spec.frames
    seq = spec.sequence
    chained = seq.probability > 0 and rng.uniform() < seq.probability
    labels = [label]
    if chained:
        count = int(round(float(seq.actions.sample(rng))))
        # Other actions, each at most once and never the clip's own class: the class must be
        # what the clip mostly shows.
        pool = [c for c in (seq.pool or spec.classes) if c != label]
        picks = rng.permutation(len(pool))[: max(count - 1, 0)]
        others = [str(pool[i]) for i in picks]
        position = int(rng.integers(len(others) + 1))
        labels = others[:position] + [label] + others[position:]
    gaps = []
    for _ in range(len(labels) - 1):
        transition = max(1, int(round(seq.transition_seconds.sample(rng) * spec.fps)))
        idle = int(round(seq.idle_seconds.sample(rng) * spec.fps)) if rng.uniform() < seq.idle_probability else 0
        gaps.append((transition, idle))
    labels, gaps, cores = _timeline(frames, labels, labels.index(label), gaps, rng)
    segments, start = [], 0
    for k, lbl in enumerate(labels):
        action, seg_mirror = resolve_action(lbl, mirror, library, pairs)
        segment = _segment(spec, library, lbl, action, rng)
        segment.update(start=start, end=start + int(cores[k]), mirror=seg_mirror)
        segments.append(segment)
        start += int(cores[k])
        if k < len(gaps):
            transition, idle = gaps[k]
            if idle:
                idle_seg = _segment(spec, library, seq.background_label, IDLE_ACTION, rng)
                idle_seg.update(start=start + transition, end=start + transition + idle, mirror=False, idle=True)
                segments.append(idle_seg)
                start += 2 * transition + idle
            else:
                start += transition
    primary = next(s for s in segments if s["label"] == label)
    return {
        "label": label,
        "mirror": primary["mirror"],  # as performed (a class with a mirror partner may override the draw)
        "facing_deg": facing,
        "speed": primary["speed"],
        "phase": primary["phase"],
        "amplitude": primary["amplitude"],
        "amplitudes": primary["amplitudes"],
        "chained": len(segments) > 1,
        "segments": segments,
    }


MAIN_SHARE = (0.4, 0.6)  # of a chained clip's frames, for its class


def _gap_frames(gap: tuple[int, int]) -> int:
    """Frames of one gap between actions: a transition, or transition + idle + transition."""
    transition, idle = gap
    return 2 * transition + idle if idle else transition


def _timeline(frames: int, labels: list[str], main: int, gaps: list[tuple[int, int]], rng: np.random.Generator):
    """(labels, gaps, core lengths) of a clip. The class `labels[main]` gets at least 40%
    of the frames and is longer than any other action and any transition run, so that
    `label` names what the clip mostly shows. To fit, idle standing goes first, then
    transitions shorten, then the other actions farthest from the class are dropped."""
    labels, gaps = list(labels), list(gaps)
    main_core = int(np.ceil(rng.uniform(*MAIN_SHARE) * frames))
    cap = main_core - 1  # the longest any other run may be
    gaps = [(t, i) if _gap_frames((t, i)) <= cap else (min(t, cap), 0) for t, i in gaps]
    while len(labels) > 1:
        min_core = max(2, frames // (4 * len(labels)))
        rest = frames - main_core - sum(_gap_frames(g) for g in gaps)
        if rest >= (len(labels) - 1) * min_core and min_core <= cap:
            break
        if any(i for _, i in gaps):
            gaps = [(t, 0) for t, _ in gaps]
        elif any(t > 1 for t, _ in gaps):
            gaps = [(max(1, t - 1), 0) for t, _ in gaps]
        else:
            drop = 0 if main == len(labels) - 1 else len(labels) - 1
            labels.pop(drop)
            gaps.pop(min(drop, len(gaps) - 1))
            main -= int(drop < main)
    if len(labels) == 1:
        return labels, [], np.array([frames])
    # The other actions share the rest at random, each shorter than the class; what is
    # left over goes to the class.
    others = len(labels) - 1
    shares = rng.dirichlet(np.ones(others) * 4.0)
    other_cores = np.minimum(min_core + np.floor(shares * (rest - others * min_core)).astype(int), cap)
    cores = np.insert(other_cores, main, main_core + rest - other_cores.sum())
    return labels, gaps, cores


def _segment_poses(library: ActionLibrary, seg: dict, frames: int, fps: float, grounded: bool) -> PoseSequence:
    """Poses of one segment for every frame of the clip (its time starts at its first frame)."""
    times = (np.arange(frames) - seg["start"]) / fps
    window_s = max(seg["end"] - seg["start"] - 1, 0) / fps  # from its first shown frame to its last
    pose = library.get(seg["action"]).sample(times, speed=seg["speed"], phase=seg["phase"], amplitudes=seg["amplitudes"], window_s=window_s)
    pose = pose.with_amplitude(seg["amplitude"])
    if seg["mirror"]:
        pose = pose.mirrored()
    if grounded and not pose.ground:
        # Motion capture inside a chain: keep its vertical motion as lift above the floor.
        first, last = max(seg["start"], 0), max(min(seg["end"], frames), 1)
        base = pose.root_pos[first:last, 1].min()
        pose.lift = np.maximum(pose.root_pos[:, 1] - base, 0.0)
        pose.root_pos = pose.root_pos.copy()
        pose.root_pos[:, 1] = 0.847
        pose.ground = True
    return pose


def plan_poses(library: ActionLibrary, plan: dict, frames: int, fps: float, background_label: str):
    """(PoseSequence, frame_labels, segments) for an action plan."""
    segs = plan["segments"]
    chained = len(segs) > 1
    pose = None
    for k, seg in enumerate(segs):
        nxt = _segment_poses(library, seg, frames, fps, grounded=chained)
        if pose is None:
            pose = nxt
            continue
        prev = segs[k - 1]
        a, b = prev["end"], seg["start"]
        # Carry on from where the previous action left the body, not from the origin.
        shift = pose.root_pos[min(a, frames - 1)] - nxt.root_pos[min(b, frames - 1)]
        shift[1] = 0.0
        nxt.root_pos = nxt.root_pos + shift
        ramp = np.clip((np.arange(frames) - a + 0.5) / max(b - a, 1), 0.0, 1.0)
        weight = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no jerk at either end
        pose = blend(pose, nxt, weight)
    facing = rot.yaw(np.radians(plan["facing_deg"]))
    pose.root_rot = rot.multiply(facing, pose.root_rot)
    pose.root_pos = rot.rotate(facing, pose.root_pos)
    frame_labels = [background_label] * frames
    for seg in segs:
        for t in range(max(seg["start"], 0), min(seg["end"], frames)):
            frame_labels[t] = seg["label"]
    if not chained:
        frame_labels = [segs[0]["label"]] * frames
    segments = []
    for t, lbl in enumerate(frame_labels):
        if segments and segments[-1][2] == lbl:
            segments[-1][1] = t + 1
        else:
            segments.append([t, t + 1, lbl])
    return pose, frame_labels, segments


def check_actions(spec: GenerationSpec, library: ActionLibrary) -> None:
    """Every class (or its mirror partner), pool entry and the idle action must exist and parse."""
    pairs = mirror_label_map(spec)
    fields = [(label, "classes") for label in spec.classes] + [(label, "sequence.pool") for label in spec.sequence.pool or []]
    for label, field in fields:
        if label not in library.actions and pairs.get(label) not in library.actions:
            raise library.unknown(label, field, note=" (and no mirror_labels partner)" if pairs else "")
        library.get(label if label in library.actions else pairs[label]).source
    if spec.sequence.probability > 0:
        library.get(IDLE_ACTION).source

"""What the actor does in a clip: one action, or a chain of actions with blended transitions.

`sample_action_factors` draws the plan (segments, their timing, speed, phase, amplitude,
mirroring); `plan_poses` turns a plan into the per-frame kinematic target plus the
per-frame labels and `[start, end, label]` segments. Frames that blend two actions, and
idle standing between them, carry the spec's background label.
"""

from __future__ import annotations

import numpy as np

from simgen import rotations as rot
from simgen.actor import planted_feet_shift
from simgen.motion import kinematics
from simgen.motion.kinematics import joint_speeds
from simgen.motion.library import ActionLibrary
from simgen.motion.pose import PoseSequence, blend
from simgen.motion.skeleton import KEYPOINT_NAMES
from simgen.factors import Factor
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


def capped_speed(speed: Factor, drawn: float, cap: float | None) -> float:
    """A speed drawn from `speed`, for an action played at most `cap` times its captured
    speed: a range [lo, hi] reaching above the cap is squeezed linearly into [lo, cap]
    (still uniform; the same draw), a choice clipped at the cap."""
    if cap is None or drawn <= cap and (speed.high is None or speed.high <= cap):
        return drawn
    if speed.choice is not None or speed.low >= cap:
        return min(drawn, cap)
    return speed.low + (drawn - speed.low) * (cap - speed.low) / (speed.high - speed.low)


def _segment(spec: GenerationSpec, library: ActionLibrary, label: str, action: str, rng: np.random.Generator) -> dict:
    a = spec.actor
    return {
        "label": label,
        "action": action,
        "speed": capped_speed(a.speed, a.speed.sample(rng), a.max_speed.get(action)),
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
    main_share = rng.uniform(*MAIN_SHARE)
    weights = rng.dirichlet(np.ones(len(labels) - 1) * 4.0) if chained and len(labels) > 1 else np.ones(1)
    draws: dict = {}  # each segment's speed, phase, ... drawn once, in the order first laid out

    def lay_out(labels, gaps, cores) -> list[dict]:
        segments, start = [], 0
        for k, lbl in enumerate(labels):
            action, seg_mirror = resolve_action(lbl, mirror, library, pairs)
            if lbl not in draws:
                draws[lbl] = _segment(spec, library, lbl, action, rng)
            segments.append({**draws[lbl], "start": start, "end": start + int(cores[k]), "mirror": seg_mirror})
            start += int(cores[k])
            if k < len(gaps):
                transition, idle = gaps[k]
                if idle:
                    if ("idle", k) not in draws:
                        draws[("idle", k)] = _segment(spec, library, seq.background_label, IDLE_ACTION, rng)
                    segments.append({**draws[("idle", k)], "start": start + transition, "end": start + transition + idle, "mirror": False, "idle": True})
                    start += 2 * transition + idle
                else:
                    start += transition
        return segments

    # Transitions last at least as long as it takes to go from one pose to the next with no
    # joint faster than in the actions joined: drawn before the poses are known, they used
    # to move joints at up to 10 m/s between actions that move them at 3.6-5.5.
    minima: dict = {}
    for _ in range(MAX_TIMING_ROUNDS):
        timed = _timeline(frames, labels, labels.index(label), gaps, main_share, weights, minima)
        segments = lay_out(*timed)
        needed = _transition_minima(library, segments, frames, spec.fps)
        if all(minima.get(pair, 1) >= n for pair, n in needed.items()):
            break
        for pair, n in needed.items():
            minima[pair] = max(minima.get(pair, 1), n)
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
MAX_TIMING_ROUNDS = 8  # re-timings of a chained clip until its transitions are slow enough
MIN_TRANSITION_SPEED = 1.0  # m/s: transitions may always move this fast (between near-still actions)
SPEED_MARGIN = 0.85  # room for the sampled body: arms and legs 8% longer or shorter move that much faster or slower


def _gap_frames(gap: tuple[int, int]) -> int:
    """Frames of one gap between actions: a transition, or transition + idle + transition."""
    transition, idle = gap
    return 2 * transition + idle if idle else transition


def _timeline(frames: int, labels: list[str], main: int, gaps: list[tuple[int, int]], main_share: float, weights: np.ndarray, minima: dict):
    """(labels, gaps, core lengths) of a clip. The class `labels[main]` gets at least 40%
    of the frames and is longer than any other action and any transition run, so that
    `label` names what the clip mostly shows. A transition between labels a and b lasts at
    least minima[(a, b)] frames (default 1). To fit, idle standing goes first, then
    transitions shorten to their minimum, then the other actions farthest from the class
    are dropped. `main_share` (in MAIN_SHARE) and the Dirichlet `weights` are the random
    draws, given so that re-timing a clip draws nothing new."""
    labels, gaps = list(labels), list(gaps)
    main_core = int(np.ceil(main_share * frames))
    cap = main_core - 1  # the longest any other run may be

    def least(k: int) -> int:
        return minima.get((labels[k], labels[k + 1]), 1)

    gaps = [(max(t, least(k)), i) for k, (t, i) in enumerate(gaps)]
    gaps = [(t, i) if _gap_frames((t, i)) <= cap else (max(min(t, cap), least(k)), 0) for k, (t, i) in enumerate(gaps)]
    while len(labels) > 1:
        min_core = max(2, frames // (4 * len(labels)))
        rest = frames - main_core - sum(_gap_frames(g) for g in gaps)
        if rest >= (len(labels) - 1) * min_core and min_core <= cap and all(_gap_frames(g) <= cap for g in gaps):
            break
        if any(i for _, i in gaps):
            gaps = [(t, 0) for t, _ in gaps]
        elif any(t > least(k) for k, (t, _) in enumerate(gaps)):
            gaps = [(max(least(k), t - 1), 0) for k, (t, _) in enumerate(gaps)]
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
    shares = weights[:others] / weights[:others].sum()
    other_cores = np.minimum(min_core + np.floor(shares * (rest - others * min_core)).astype(int), cap)
    cores = np.insert(other_cores, main, main_core + rest - other_cores.sum())
    return labels, gaps, cores


def _placed_keypoints(pose: PoseSequence) -> np.ndarray:
    """float[T, J, 3]: the keypoints of the default body as the clip will place it: on the
    floor (the lowest keypoint standing in for the lowest surface) and with standing feet
    kept in place, as `simgen.clip` does, since both move the root."""
    points = kinematics.keypoints(pose)
    if pose.ground:
        lift = pose.lift if pose.lift is not None else 0.0
        points[..., 1] += (lift - points[..., 1].min(axis=1))[:, None]
    ankles = points[:, [KEYPOINT_NAMES.index("right_ankle"), KEYPOINT_NAMES.index("left_ankle")]]
    points[..., [0, 2]] += planted_feet_shift(ankles)[:, None]
    return points


def _transition_minima(library: ActionLibrary, segments: list[dict], frames: int, fps: float) -> dict:
    """(label before, label after) -> the frames each transition between them needs so that
    no joint moves faster in it than in the clip's actions themselves (their fastest step,
    from the planned poses' forward kinematics, less SPEED_MARGIN), for every pair where the
    laid-out one is too fast. Where an action joined moves faster on its own during the
    transition frames, that speed is the bound (no duration could go below it)."""
    if len(segments) < 2:
        return {}
    pose, _, _ = plan_poses(library, {"segments": segments, "facing_deg": 0.0}, frames, fps, "-")
    speed = joint_speeds(_placed_keypoints(pose), fps)  # [T-1]: step t -> t+1
    actions = [s for s in segments if not s.get("idle")]
    own = [speed[max(s["start"], 0) : max(min(s["end"], frames) - 1, 0)] for s in actions]
    limit = max(max((float(v.max()) for v in own if len(v)), default=0.0), MIN_TRANSITION_SPEED) * SPEED_MARGIN
    needed = {}
    for before, after in zip(actions, actions[1:]):
        a, b = before["end"], after["start"]  # the frames between them (transitions and idle)
        steps = slice(max(a - 1, 0), min(b, frames - 1))
        # What the two actions do on their own, faded out and in as the blend weighs them.
        s_before, s_after = (joint_speeds(_placed_keypoints(_segment_poses(library, seg, frames, fps, True)), fps) for seg in (before, after))
        ramp = np.clip((np.arange(frames - 1) + 1.0 - a + 0.5) / max(b - a, 1), 0.0, 1.0)
        w = ramp * ramp * (3.0 - 2.0 * ramp)
        alone = float(((1.0 - w) * s_before + w * s_after)[steps].max(initial=0.0))
        bound = max(limit, alone)
        peak = float(speed[steps].max(initial=0.0))
        if peak > bound:
            idle = next((s for s in segments if s.get("idle") and a <= s["start"] < b), None)
            transition = (idle["start"] - a) if idle else (b - a)
            needed[(before["label"], after["label"])] = transition + max(1, int(np.ceil(transition * (peak / bound - 1.0))))
    return needed


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
    for name in spec.actor.max_speed:
        if name not in library.actions:
            raise library.unknown(name, "actor.max_speed")
    if spec.sequence.probability > 0:
        library.get(IDLE_ACTION).source

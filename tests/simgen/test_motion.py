import json

import numpy as np
import pytest

from simgen import rotations as rot
from simgen.errors import SimgenError
from simgen.motion.library import ActionLibrary
from simgen.motion.mocap import FRAME_WIDTH, load_mocap
from simgen.motion.program import load_program
from simgen.motion.skeleton import MOVABLE

REQUIRED_PROGRAMS = ["wave1", "wave2", "jack", "bend", "clap", "squat"]
REQUIRED_MOCAP = ["walk", "run", "jump", "kick", "punch", "spin"]


def test_library_has_required_programs_and_mocap():
    lib = ActionLibrary()
    for name in REQUIRED_PROGRAMS:
        assert lib.get(name).kind == "program"
    for name in REQUIRED_MOCAP:
        assert lib.get(name).kind == "mocap"
    with pytest.raises(SimgenError, match="unknown action 'moonwalk'"):
        lib.get("moonwalk")


@pytest.mark.parametrize("name", REQUIRED_MOCAP)
def test_mocap_parser_reads_every_joint(name):
    clip = ActionLibrary().get(name).source
    assert set(clip.joints) == set(MOVABLE)
    assert clip.duration > 0.3
    q = clip.joints["chest"]
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0)
    pose = clip.sample(np.linspace(0, 3 * clip.duration, 50))
    assert pose.root_pos.shape == (50, 3) and np.isfinite(pose.root_pos).all()


def test_walk_loop_keeps_moving_forward():
    walk = ActionLibrary().get("walk").source
    pose = walk.sample(np.array([0.0, walk.duration * 2.5]))
    assert np.linalg.norm(pose.root_pos[1, [0, 2]] - pose.root_pos[0, [0, 2]]) > 1.0


def test_malformed_mocap_names_file_and_frame(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(json.dumps({"Loop": "wrap", "Frames": [[0.1] * FRAME_WIDTH, [0.1] * 10]}))
    with pytest.raises(SimgenError, match="frame 1 has 10 values") as err:
        load_mocap(bad)
    assert str(bad) in str(err.value)
    text = [[0.1] * FRAME_WIDTH, [0.1] * FRAME_WIDTH]
    text[1][5] = "x"
    bad.write_text(json.dumps({"Frames": text}))
    with pytest.raises(SimgenError, match="frame 1, value 5 is 'x', not a number"):
        load_mocap(bad)
    text[1][5] = 0.1
    text[0][4:8] = [0.0, 0.0, 0.0, 0.0]
    bad.write_text(json.dumps({"Frames": text}))
    with pytest.raises(SimgenError, match="frame 0: the root rotation is a zero quaternion"):
        load_mocap(bad)


def _program(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: x\nkeyframes:\n  - {t: 0.5, chest: [0,0,0]}\n  - {t: 0.2, chest: [0,0,9]}\n", "increase strictly"),
        ("name: x\nkeyframes:\n  - {t: 0.0, tail: [0,0,0]}\n", "unknown joint"),
        ("name: x\nkeyframes:\n  - {t: 0.0, chest: [0,0,0], neck: [0,0,0]}\n  - {t: 0.5, chest: [0,0,9]}\n", "lacks joint neck"),
        ("name: x\nkeyframes:\n  - {t: 0.0, right_knee: 40}\n", "outside the joint's limits"),
        ("name: x\nkeyframes:\n  - {t: 0.0, chest: [0, 0]}\n", r"takes \[x, y, z\]"),
        ("name: x\nspeed: 3\nkeyframes:\n  - {t: 0.0, chest: [0,0,0]}\n", "unknown field"),
        ("name: x\nloop: 'no'\nkeyframes:\n  - {t: 0.0, chest: [0,0,0]}\n", "must be true or false"),
        ("name: x\nkeyframes:\n  - {t: 0.0, 5: [0,0,0]}\n", "joint names must be text"),
        ("name: x\namplitudes: {a: {range: [0, 1], channels: 5}}\nkeyframes:\n  - {t: 0.0, chest: [0,0,0]}\n", "must be a list"),
    ],
)
def test_broken_program_is_rejected_with_file_and_field(tmp_path, text, message):
    path = _program(tmp_path, text)
    with pytest.raises(SimgenError, match=message) as err:
        load_program(path)
    assert str(path) in str(err.value)


def test_program_interpolates_through_keyframes_and_loops():
    prog = ActionLibrary().get("wave1").source
    pose = prog.sample(np.array([0.0, 0.5, 1.0]))
    key0 = rot.from_euler_xyz_deg(prog.channels["right_shoulder"][0])
    assert np.allclose(np.abs(np.sum(pose.joints["right_shoulder"][0] * key0)), 1.0, atol=1e-6)
    assert np.allclose(pose.joints["right_shoulder"][0], pose.joints["right_shoulder"][2])  # phase 1 == phase 0
    assert not np.allclose(pose.joints["right_shoulder"][0], pose.joints["right_shoulder"][1])


def test_amplitude_scales_the_swing():
    prog = ActionLibrary().get("jack").source
    phases = np.linspace(0, 1, 40, endpoint=False)
    small = prog.sample(phases, {"legs": 0.5, "arms": 1.0, "hop": 1.0})
    big = prog.sample(phases, {"legs": 1.3, "arms": 1.0, "hop": 1.0})

    def spread(p):
        return np.ptp(2 * np.arccos(np.clip(np.abs(p.joints["right_hip"][:, 3]), 0, 1)))

    assert spread(big) > 2 * spread(small)


def test_mirroring_swaps_left_and_right():
    lib = ActionLibrary()
    pose = lib.get("wave1").sample(np.linspace(0, 1, 10), speed=1.0, phase=0.0, amplitudes={})
    mirrored = pose.mirrored()
    # wave1 raises the right arm; mirrored, the left arm does the same motion, reflected.
    assert np.allclose(mirrored.joints["left_shoulder"], rot.mirror_z(pose.joints["right_shoulder"]))
    assert np.allclose(mirrored.mirrored().joints["right_shoulder"], pose.joints["right_shoulder"])


def test_user_action_folder(tmp_path):
    (tmp_path / "salute.yaml").write_text(
        "name: salute\ncycle_seconds: 1\nkeyframes:\n  - {t: 0.0, right_shoulder: [-90, 0, 60], right_elbow: 120}\n"
    )
    lib = ActionLibrary(tmp_path)
    assert lib.get("salute").kind == "program"
    (tmp_path / "broken.yaml").write_text("name: broken\nkeyframes: nope\n")
    with pytest.raises(SimgenError, match="broken.yaml"):
        ActionLibrary(tmp_path)


ONCE = """name: raise_once
description: lifts the right forearm once, 0 to 90 degrees
cycle_seconds: 1.0
loop: false
keyframes:
  - {t: 0.0, right_elbow: 0}
  - {t: 0.999, right_elbow: 90}
"""


@pytest.mark.parametrize("phase", [0.0, 0.3, 1.0])
def test_an_action_played_once_is_never_shown_frozen(tmp_path, phase):
    """The phase places a one-shot action in the shown window: a short window lies inside
    the motion, a long one contains all of it; neither shows only the held end pose."""
    (tmp_path / "raise_once.yaml").write_text(ONCE)
    action = ActionLibrary(tmp_path).get("raise_once")
    fps = 25.0
    for frames in (10, 75):
        times = np.arange(frames) / fps
        window_s = times[-1]
        elbow = np.degrees(action.sample(times, speed=1.0, phase=phase, amplitudes={}, window_s=window_s).joints["right_elbow"][:, 0])
        moving = np.count_nonzero(np.abs(np.diff(elbow)) > 1e-6)
        if window_s < 1.0:  # 0.36 s of a 1 s motion
            assert moving == len(times) - 1  # every frame inside the motion
        else:
            assert elbow.min() < 1e-6 and elbow.max() > 90 - 1e-6  # the whole motion, start to end
            assert moving >= fps - 1
    # Looping actions keep the plain phase: starting `phase` into a cycle.
    wave = ActionLibrary().get("wave1")
    a = wave.sample(np.zeros(1), speed=1.0, phase=phase, amplitudes={}, window_s=0.4)
    b = wave.sample(np.zeros(1), speed=1.0, phase=phase, amplitudes={})
    assert np.allclose(a.joints["right_shoulder"], b.joints["right_shoulder"])


@pytest.mark.parametrize("name", ["walk", "run", "spinkick"])
def test_looping_motion_capture_wraps_without_a_snap(name):
    clip = ActionLibrary().get(name).source
    d = clip.duration
    pose = clip.sample(np.array([d - 1e-6, d + 1e-6]))
    for joint, values in {**pose.joints, "root": pose.root_rot}.items():  # the root turned 5-11 degrees
        if values.shape[1] == 4:
            turn = np.degrees(2 * np.arccos(np.clip(abs(np.dot(values[0], values[1])), 0.0, 1.0)))
        else:
            turn = np.degrees(abs(values[0, 0] - values[1, 0]))
        assert turn < 0.5, (joint, turn)  # was up to 58 degrees in one instant

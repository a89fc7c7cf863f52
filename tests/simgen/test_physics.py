"""The physics-tracked actor: plausible motions pass, impossible ones are rejected."""

import numpy as np
import pytest

from simgen.clip import Simulator, make_clip
from simgen.errors import SimgenError
from simgen.jobs.shard_task import make_plausible_clip
from simgen.motion.library import ActionLibrary
from simgen.sampling import clip_seed, sample_factors

HOVER = """name: hover
description: floats half a metre above the floor - impossible without a hidden hand
cycle_seconds: 1.0
keyframes:
  - {t: 0.0, root_height: 0.6, right_shoulder: [-20, 0, 0]}
  - {t: 0.5, root_height: 0.6, right_shoulder: [-30, 0, 0]}
"""
LEAN = """name: lean
description: stands stiffly leant 30 degrees forward - only a hidden hand holds it there
cycle_seconds: 1.0
keyframes:
  - {t: 0.0, root_pitch: 30, right_shoulder: [-20, 0, 0]}
  - {t: 0.5, root_pitch: 30, right_shoulder: [-30, 0, 0]}
"""
OWL = """name: owl
description: turns its head 150 degrees round - beyond any neck
cycle_seconds: 1.0
keyframes:
  - {t: 0.0, neck: [0, 150, 0]}
  - {t: 0.5, neck: [0, 150, 0]}
"""
STAND = LEAN.replace("lean", "stand").replace("root_pitch: 30", "root_pitch: 0")


@pytest.fixture(scope="module")
def hover_sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("actions")
    for name, text in {"hover": HOVER, "lean": LEAN, "stand": STAND, "owl": OWL}.items():
        (folder / f"{name}.yaml").write_text(text)
    sim = Simulator(ActionLibrary(folder))
    yield sim
    sim.close()


@pytest.mark.parametrize("label", ["wave1", "squat", "clap"])
def test_programmed_actions_are_plausible(hover_sim, make_tiny_spec, label):
    spec = make_tiny_spec(frames=24, size=[32, 32])
    factors = sample_factors(spec, hover_sim.library, label, 5)
    clip = make_clip(hover_sim, spec, factors, 5)
    metrics = clip.annotations["plausibility"]
    assert set(metrics) == {
        "max_foot_penetration_m", "foot_skate_mps", "joint_limit_violation_rate", "max_joint_limit_excess_deg", "mean_root_assist",
        "root_torque_mean_lean_deg", "root_torque_peak_lean_deg", "root_torque_at_bound_share", "tracking_error_m",
    }  # fmt: skip
    assert spec.physics.failures(metrics) == []
    assert metrics["tracking_error_m"] < 0.1 and metrics["max_foot_penetration_m"] < 0.03


def test_hovering_is_rejected_every_time(hover_sim, make_tiny_spec):
    spec = make_tiny_spec(frames=16, size=[32, 32], classes=["hover"], **{"physics.max_attempts": 3})
    factors = sample_factors(spec, hover_sim.library, "hover", 1)
    clip = make_clip(hover_sim, spec, factors, 1)
    failures = spec.physics.failures(clip.annotations["plausibility"])
    assert any(f.startswith("tracking_error_m") for f in failures), failures
    with pytest.raises(SimgenError, match="all 3 attempts were physically implausible"):
        make_plausible_clip(hover_sim, spec, 0)


def test_the_body_falls_without_support(hover_sim, make_tiny_spec):
    """The assist at its largest allowed bound cannot hold the hovering body up: it ends on the floor."""
    spec = make_tiny_spec(frames=25, size=[32, 32], classes=["hover"], **{"physics.root_assist_limit": 0.8})
    clip = make_clip(hover_sim, spec, sample_factors(spec, hover_sim.library, "hover", 2), 2)
    pelvis_height = np.asarray(clip.annotations["keypoints_3d"])[:, 0, 1]
    assert pelvis_height[-1] < pelvis_height[0] - 0.3


LOOK = """name: look
description: looks round over its shoulder - some draws turn the head further than a neck can
cycle_seconds: 1.0
amplitudes:
  turn: {range: [0.2, 0.8], channels: [neck]}
keyframes:
  - {t: 0.0, neck: [0, 20, 0]}
  - {t: 0.5, neck: [0, 140, 0]}
"""


def test_an_implausible_draw_is_rejected_and_redrawn(tmp_path, make_tiny_spec):
    """Some draws of `look` turn the head 105-130 degrees, 20-45 beyond the neck's 85: the
    first such clip is rejected, redrawn with derived seeds, and the clip kept is the first
    plausible redraw - reproducibly."""
    from simgen.clip import simulate_plausibility

    (tmp_path / "look.yaml").write_text(LOOK)
    sim = Simulator(ActionLibrary(tmp_path))
    spec = make_tiny_spec(frames=16, size=[32, 32], classes=["look"], **{"physics.max_joint_limit_violation_rate": 1.0})
    limit = spec.physics.max_joint_limit_excess_deg

    def first_try(index):
        return simulate_plausibility(sim, spec, sample_factors(spec, sim.library, "look", clip_seed(spec.seed, index)))

    index = next(i for i in range(10) if first_try(i)["max_joint_limit_excess_deg"] > limit)
    clip = make_plausible_clip(sim, spec, index)
    attempts = clip.annotations["attempts"]
    assert attempts > 1
    assert clip.annotations["seed"] == clip_seed(spec.seed, index, attempts - 1)
    assert clip.annotations["plausibility"]["max_joint_limit_excess_deg"] <= limit
    rejected = [simulate_plausibility(sim, spec, sample_factors(spec, sim.library, "look", clip_seed(spec.seed, index, a))) for a in range(attempts - 1)]
    assert all(m["max_joint_limit_excess_deg"] > limit for m in rejected)
    again = make_plausible_clip(sim, spec, index)
    assert again.annotations["attempts"] == attempts and again.annotations["plausibility"] == clip.annotations["plausibility"]
    sim.close()


def test_kinematic_mode_has_no_plausibility(hover_sim, make_tiny_spec):
    spec = make_tiny_spec(frames=4, size=[32, 32], **{"physics.enabled": False})
    clip = make_clip(hover_sim, spec, sample_factors(spec, hover_sim.library, "jack", 3), 3)
    assert "plausibility" not in clip.annotations


def _foot(position, angle_deg, contacts):
    """A foot state as Actor.feet gives it: pose rotated about the z axis by angle_deg."""
    half = np.radians(angle_deg) / 2.0
    return {"lowest": 0.0, "pose": (np.asarray(position, float), np.array([0.0, 0.0, np.sin(half), np.cos(half)])), "contacts": np.asarray(contacts, float).reshape(-1, 3)}


def test_skating_is_the_slide_of_the_contact_points_not_the_ankle():
    from simgen.physics import PlausibilityMeter

    sole = [[0.1, 0.0, 0.05], [0.1, 0.0, -0.05], [-0.05, 0.0, 0.05], [-0.05, 0.0, -0.05]]  # world points under a foot at (0, 0.05, 0)
    sliding = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    for t in range(3):  # the whole foot slides 2 cm per frame along x while touching
        shift = np.array([0.02 * t, 0.0, 0.0])
        sliding.frame([_foot([0.02 * t, 0.05, 0.0], 0.0, np.asarray(sole) + shift)] * 2, 0.0, 0.0)
    assert sliding.summary()["foot_skate_mps"] == pytest.approx(0.5, abs=1e-6)

    rolling = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    toe = np.array([[0.1, 0.0, 0.0]])
    for angle in (0.0, 10.0, 20.0):  # heel rises, the foot pivots about its toe: the ankle moves, the toe does not
        r = np.radians(angle)
        ankle = toe[0] + np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]]) @ np.array([-0.1, 0.05, 0.0])
        rolling.frame([_foot(ankle, angle, toe)] * 2, 0.0, 0.0)
    assert rolling.summary()["foot_skate_mps"] < 1e-6

    airborne = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    for t in range(3):
        airborne.frame([_foot([0.5 * t, 0.3, 0.0], 0.0, [])] * 2, 0.0, 0.0)
    assert airborne.summary()["foot_skate_mps"] == 0.0


@pytest.mark.parametrize("seed", range(4))
def test_the_physics_only_check_agrees_with_the_filmed_clip(hover_sim, make_tiny_spec, seed):
    """Redrawn samples are first simulated without rendering; that must be the same
    simulation, metric for metric, as the clip that is then filmed."""
    from simgen.clip import simulate_plausibility

    spec = make_tiny_spec(**{**make_tiny_spec.all_features, "frames": 16, "size": [32, 32], "classes": ["walk", "punch", "jack", "wave1"], "occlusion.probability": 1.0})
    label = spec.classes[seed]
    factors = sample_factors(spec, hover_sim.library, label, seed)
    assert simulate_plausibility(hover_sim, spec, factors) == make_clip(hover_sim, spec, factors, seed).annotations["plausibility"]


def test_replayed_frames_are_the_filmed_ones(hover_sim, make_tiny_spec):
    """The benchmark's bare renders replay the world; each frame must look as it was filmed."""
    from simgen.clip import replay_frames
    from simgen.render import render_frame

    features = {**make_tiny_spec.all_features, "camera_noise.motion_blur_probability": 0.0}  # a blurred frame is no single state
    spec = make_tiny_spec(**{**features, "frames": 12, "classes": ["walk"], "occlusion.probability": 1.0})
    factors = sample_factors(spec, hover_sim.library, "walk", 5)
    clip = make_clip(hover_sim, spec, factors, 5)
    for t, camera, light in replay_frames(hover_sim, spec, factors):
        _, depth, _ = render_frame(hover_sim.client, camera, t, light, {})
        np.testing.assert_allclose(depth, clip.depth[t], atol=1e-6)


def test_the_root_assist_bound_cannot_float_a_body(make_tiny_spec):
    """Above 0.8 body weight the assist would all but carry the body: the spec refuses it."""
    assert make_tiny_spec(**{"physics.root_assist_limit": 0.8}).physics.root_assist_limit == 0.8
    with pytest.raises(SimgenError, match="root_assist_limit"):
        make_tiny_spec(**{"physics.root_assist_limit": 0.81})


def test_the_assist_torque_is_reported_as_the_lean_it_could_hold():
    from simgen.physics import AssistTally, PlausibilityMeter, lean_equivalent_deg

    weight, height = 700.0, 1.6
    at_10_deg = weight * height / 2 * np.sin(np.radians(10.0))
    assert lean_equivalent_deg(at_10_deg, weight, height) == pytest.approx(10.0)
    assert lean_equivalent_deg(2 * weight * height, weight, height) == 90.0
    meter = PlausibilityMeter(weight_n=weight, dt_frame=0.04, height_m=height)
    feet = [_foot([0, 0.05, 0], 0.0, [])] * 2
    # Frame 1: 3 steps at 10 degrees' worth, one at the bound; frame 2: no torque.
    meter.frame(feet, 0.0, 0.0, AssistTally(force_n=3 * 70.0, torque_nm=3 * at_10_deg, torque_at_bound=1, steps=3))
    meter.frame(feet, 0.0, 0.0, AssistTally(steps=3))
    summary = meter.summary()
    assert summary["root_torque_peak_lean_deg"] == pytest.approx(10.0, abs=0.01)
    assert summary["root_torque_mean_lean_deg"] == pytest.approx(np.degrees(np.arcsin(np.sin(np.radians(10.0)) / 2)), abs=0.01)
    assert summary["root_torque_at_bound_share"] == pytest.approx(1 / 6, abs=1e-4)
    assert summary["mean_root_assist"] == pytest.approx(0.05)


def test_a_body_held_at_a_lean_needs_the_assist_torque(hover_sim, make_tiny_spec):
    """Stiffly leant 30 degrees, the body would fall: the assist's torque holds it (with its
    force), ~10 degrees' worth; standing upright needs well under one degree's."""
    torque = {}
    for label in ("lean", "stand"):
        spec = make_tiny_spec(frames=24, size=[32, 32], classes=[label])
        torque[label] = make_clip(hover_sim, spec, sample_factors(spec, hover_sim.library, label, 0), 0).annotations["plausibility"]
    assert torque["lean"]["root_torque_mean_lean_deg"] > 5.0 and torque["lean"]["root_torque_peak_lean_deg"] > 8.0
    assert torque["stand"]["root_torque_peak_lean_deg"] < 2.0


def test_a_clip_leaning_on_the_assist_torque_is_rejected(make_tiny_spec):
    physics = make_tiny_spec(**{"physics.max_root_torque_mean_lean_deg": 20.0}).physics
    assert physics.failures({"root_torque_mean_lean_deg": 19.9}) == []
    assert physics.failures({"root_torque_mean_lean_deg": 25.0}) == ["root_torque_mean_lean_deg 25 > 20"]


def test_dataset_json_aggregates_the_physics_metrics(tiny_dataset):
    import json

    from simgen.dataset.reader import DatasetReader

    meta = json.loads((tiny_dataset / "dataset.json").read_text())
    ds = DatasetReader(tiny_dataset)
    torques = [ds.read_annotations(key)["plausibility"]["root_torque_mean_lean_deg"] for key in ds.keys]
    reported = meta["plausibility"]["root_torque_mean_lean_deg"]
    assert reported["peak"] == pytest.approx(max(torques)) and reported["mean"] == pytest.approx(np.mean(torques), abs=1e-4)
    assert set(reported["mean_per_class"]) == {row["label"] for row in ds.rows}


def test_a_joint_driven_beyond_its_range_is_measured_and_rejected(hover_sim, make_tiny_spec):
    """Nothing in the body stops a neck turned 150 degrees (spherical joints have no URDF
    limits): the meter must see it, 150 - 85 = 65 degrees beyond, and reject the clip."""
    spec = make_tiny_spec(frames=16, size=[32, 32], classes=["owl"])
    metrics = make_clip(hover_sim, spec, sample_factors(spec, hover_sim.library, "owl", 0), 0).annotations["plausibility"]
    assert metrics["max_joint_limit_excess_deg"] > 40.0 and metrics["joint_limit_violation_rate"] > 0.5
    assert any(f.startswith("max_joint_limit_excess_deg") for f in spec.physics.failures(metrics))


def test_the_meter_counts_frames_beyond_the_tolerance():
    from simgen.physics import PlausibilityMeter

    meter = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    for excess in (0.0, 2.0, 5.0, 12.5):  # 2 degrees is within the solver's slack
        meter.frame([_foot([0, 0.05, 0], 0.0, [])] * 2, excess, 0.0)
    summary = meter.summary()
    assert summary["joint_limit_violation_rate"] == 0.5 and summary["max_joint_limit_excess_deg"] == 12.5


def test_standing_feet_stay_put_and_the_root_moves_instead():
    """A right foot standing while the target slides it 2 cm a frame, then lifted: the shift
    cancels the slide while it stands and stops changing once it is in the air."""
    from simgen.actor import planted_feet_shift

    ankles = np.zeros((6, 2, 3))
    ankles[:, 0, 0] = 0.02 * np.arange(6)  # right ankle slides along x ...
    ankles[4:, 0, 1] = 0.2  # ... and is lifted from frame 4
    ankles[:, 1, 1] = 0.3  # the left foot is in the air throughout (its lowest is frame 0's)
    ankles[0, 1, 1] = 0.0
    shift = planted_feet_shift(ankles)
    np.testing.assert_allclose(shift[:, 0], [0.0, -0.02, -0.04, -0.06, -0.06, -0.06], atol=1e-12)
    np.testing.assert_allclose(shift[:, 1], 0.0)
    np.testing.assert_allclose((ankles[:4, 0, 0] + shift[:4, 0]), 0.0, atol=1e-12)  # it stood still


def test_a_hovering_standing_foot_is_put_down_but_a_jump_is_kept():
    from simgen.actor import stance_snap

    hover = np.array([0.0, 0.03, 0.08, 0.12, 0.16, 0.5])
    np.testing.assert_allclose(stance_snap(hover, 0.08), [0.0, 0.03, 0.08, 0.04, 0.0, 0.0], atol=1e-12)

    from types import SimpleNamespace

    from simgen.actor import ground_offsets
    from simgen.body import BodyShape

    mocap = SimpleNamespace(ground=False, lift=None)  # grounded once per clip, then snapped
    lowest = np.array([0.1, 0.13, 0.6])
    np.testing.assert_allclose(ground_offsets(mocap, lowest, BodyShape()), [-0.1, -0.13, -0.1], atol=1e-12)


def test_clips_keep_standing_feet_planted(hover_sim, make_tiny_spec):
    """In a made squat the target ankles, where they stand, no longer slide (the programmed
    squat folds its legs under a root that does not move back)."""
    from simgen.clip import _build_world
    from simgen.motion.skeleton import KEYPOINT_NAMES

    spec = make_tiny_spec(frames=25, size=[32, 32])
    world = _build_world(hover_sim, spec, sample_factors(spec, hover_sim.library, "squat", 3))
    ankles = world.target_keypoints[:, [KEYPOINT_NAMES.index("right_ankle"), KEYPOINT_NAMES.index("left_ankle")]]
    slide = np.abs(np.diff(ankles[:, :, [0, 2]], axis=0)).max()
    assert slide < 1e-6  # keypoints come back from pybullet in float32

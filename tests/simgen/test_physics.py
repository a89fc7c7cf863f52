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


@pytest.fixture(scope="module")
def hover_sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("actions")
    (folder / "hover.yaml").write_text(HOVER)
    sim = Simulator(ActionLibrary(folder))
    yield sim
    sim.close()


@pytest.mark.parametrize("label", ["wave1", "squat", "clap"])
def test_programmed_actions_are_plausible(hover_sim, make_tiny_spec, label):
    spec = make_tiny_spec(frames=24, size=[32, 32])
    factors = sample_factors(spec, hover_sim.library, label, 5)
    clip = make_clip(hover_sim, spec, factors, 5)
    metrics = clip.annotations["plausibility"]
    assert set(metrics) == {"max_foot_penetration_m", "foot_skate_mps", "joint_limit_violation_rate", "mean_root_assist", "tracking_error_m"}
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
    """The bounded assist cannot hold the hovering body up: it ends on the floor."""
    spec = make_tiny_spec(frames=25, size=[32, 32], classes=["hover"])
    clip = make_clip(hover_sim, spec, sample_factors(spec, hover_sim.library, "hover", 2), 2)
    pelvis_height = np.asarray(clip.annotations["keypoints_3d"])[:, 0, 1]
    assert pelvis_height[-1] < pelvis_height[0] - 0.3


def test_rejected_clips_resample_deterministically(make_tiny_spec):
    """A rejected sample is retried with a derived seed; the retry is reproducible."""
    assert clip_seed(0, 5, 1) != clip_seed(0, 5, 0)
    assert clip_seed(0, 5, 1) == clip_seed(0, 5, 1)


def test_kinematic_mode_has_no_plausibility(hover_sim, make_tiny_spec):
    spec = make_tiny_spec(frames=4, size=[32, 32], **{"physics.enabled": False})
    clip = make_clip(hover_sim, spec, sample_factors(spec, hover_sim.library, "jack", 3), 3)
    assert "plausibility" not in clip.annotations


def _foot(position, angle_deg, contacts):
    """A foot state as Actor.feet gives it: pose rotated about the z axis by angle_deg."""
    half = np.radians(angle_deg) / 2.0
    return {"lowest": 0.0, "pose": (np.asarray(position, float), np.array([0.0, 0.0, np.sin(half), np.cos(half)])), "contacts": np.asarray(contacts, float).reshape(-1, 3)}


def test_skating_is_the_slide_of_the_contact_points_not_the_ankle():
    from simgen.motion.skeleton import REVOLUTE_LIMITS
    from simgen.physics import PlausibilityMeter

    STRAIGHT = {name: 0.0 for name in REVOLUTE_LIMITS}

    sole = [[0.1, 0.0, 0.05], [0.1, 0.0, -0.05], [-0.05, 0.0, 0.05], [-0.05, 0.0, -0.05]]  # world points under a foot at (0, 0.05, 0)
    sliding = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    for t in range(3):  # the whole foot slides 2 cm per frame along x while touching
        shift = np.array([0.02 * t, 0.0, 0.0])
        sliding.frame([_foot([0.02 * t, 0.05, 0.0], 0.0, np.asarray(sole) + shift)] * 2, STRAIGHT, 0.0, 0.0)
    assert sliding.summary()["foot_skate_mps"] == pytest.approx(0.5, abs=1e-6)

    rolling = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    toe = np.array([[0.1, 0.0, 0.0]])
    for angle in (0.0, 10.0, 20.0):  # heel rises, the foot pivots about its toe: the ankle moves, the toe does not
        r = np.radians(angle)
        ankle = toe[0] + np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]]) @ np.array([-0.1, 0.05, 0.0])
        rolling.frame([_foot(ankle, angle, toe)] * 2, STRAIGHT, 0.0, 0.0)
    assert rolling.summary()["foot_skate_mps"] < 1e-6

    airborne = PlausibilityMeter(weight_n=700.0, dt_frame=0.04)
    for t in range(3):
        airborne.frame([_foot([0.5 * t, 0.3, 0.0], 0.0, [])] * 2, STRAIGHT, 0.0, 0.0)
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

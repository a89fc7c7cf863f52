"""visible_fraction: the windowed measurement (the actor alone, everything else transparent,
rendered again only around the blocker pixels in front of it) agrees with the brute-force
one (the real world rendered again in full with everything else moved away)."""

from pathlib import Path

import numpy as np
import pybullet_data
import pytest

import simgen.clip
from simgen.camera import CameraPath
from simgen.clip import Simulator, make_clip
from simgen.motion.library import ActionLibrary
from simgen.render import render_frame
from simgen.sampling import clip_seed, sample_factors
from simgen.visibility import VisibleFraction, actor_silhouette, hiding_window, screen_extents, world_aabb


class BruteForce(VisibleFraction):
    """The reference: the real world rendered again in full, at full resolution, with every
    other body moved below the floor (fine here: physics is off, nothing is simulated)."""

    def __call__(self, t, mask, depth):
        seen = int(np.count_nonzero(mask == 1))
        others = [b for b in range(self.client.getNumBodies()) if b != self.actor]
        saved = [(b, *self.client.getBasePositionAndOrientation(b), *self.client.getBaseVelocity(b)) for b in others]
        for b, _, orn, _, _ in saved:
            self.client.resetBasePositionAndOrientation(b, [0.0, -60.0, 0.0], orn)
        _, _, clear = render_frame(self.client, self.camera, t, {"shadow": 0}, {self.actor: 1})
        for b, pos, orn, linear, angular in saved:  # as they were, velocities too (props are falling)
            self.client.resetBasePositionAndOrientation(b, pos, orn)
            self.client.resetBaseVelocity(b, linear, angular)
        total = np.count_nonzero(clear == 1)
        return round(min(seen / total, 1.0), 4) if total else 0.0


@pytest.fixture(scope="module")
def sim():
    s = Simulator(ActionLibrary())
    yield s
    s.close()


def _clip(sim, spec, label, seed, monkeypatch=None, brute=False):
    factors = sample_factors(spec, sim.library, label, seed)
    if brute:
        monkeypatch.setattr(simgen.clip, "VisibleFraction", BruteForce)
    clip = make_clip(sim, spec, factors, seed)
    monkeypatch.undo() if brute else None
    return clip


TABLE = str(Path(pybullet_data.getDataPath()) / "table" / "table.urdf")  # five visual shapes in one link


@pytest.mark.parametrize(
    "index, static_kind, moving_kind",
    [(0, "wall", "walker"), (1, "pillar", "throw"), (7, "asset", "roll"), (3, "wall", "fall"), (4, "asset", "walker"), (5, "pillar", "fall")],
)
def test_windowed_visibility_matches_brute_force(sim, make_tiny_spec, monkeypatch, index, static_kind, moving_kind):
    # Every occluder kind, distractors and moving cameras; physics off (posing is exact, so
    # both runs film the very same world).
    spec = make_tiny_spec(
        frames=12,
        size=[80, 80],
        **{
            "occlusion.probability": 1.0,
            "occlusion.static_kinds": [static_kind],
            "occlusion.moving_kinds": [moving_kind],
            "occlusion.moving_count": 1,
            "occlusion.assets": [TABLE],
            "scene.distractor_count": {"choice": [1, 2]},
            "physics.enabled": False,
        },
    )
    label = spec.classes[index % len(spec.classes)]
    seed = clip_seed(21, index)
    fast = np.asarray(_clip(sim, spec, label, seed).annotations["visible_fraction"])
    brute = np.asarray(_clip(sim, spec, label, seed, monkeypatch, brute=True).annotations["visible_fraction"])
    assert np.abs(fast - brute).max() <= 1e-4, np.round(np.stack([fast, brute]), 3)  # exact, up to rounding
    assert (brute < 0.95).any(), "the sample should include occluded frames"


def test_windowed_render_counts_calls(sim, make_tiny_spec):
    """Frames where nothing can hide the actor need no second render."""
    spec = make_tiny_spec(frames=10, size=[64, 64], **{"occlusion.probability": 0.0, "scene.distractor_count": 0})
    calls = []
    original = VisibleFraction.__call__

    def counting(self, t, mask, depth):
        calls.append(self)
        return original(self, t, mask, depth)

    VisibleFraction.__call__ = counting
    try:
        clip = make_clip(sim, spec, sample_factors(spec, sim.library, "wave1", 3), 3)
    finally:
        VisibleFraction.__call__ = original
    assert calls and calls[0].renders == 0
    assert clip.annotations["visible_fraction"] == [1.0] * 10


def test_screen_extents_of_boxes_in_front_of_and_around_the_camera():
    cam = CameraPath(
        eye=np.array([[0.0, 1.0, 5.0]]), target=np.array([[0.0, 1.0, 0.0]]), fov_deg=np.array([50.0]), roll_deg=np.array([0.0]), width=64, height=64
    )
    boxes = np.array(
        [
            [[-0.3, 0.0, -0.2], [0.3, 1.8, 0.2]],  # in front of the camera, 4.8-5.2 m away
            [[-1.0, 0.0, 4.0], [1.0, 2.0, 6.0]],  # around the camera: unbounded
        ]
    )
    pixel_box, near, far = screen_extents(cam, 0, boxes)
    assert np.isfinite(pixel_box[0]).all() and np.isinf(pixel_box[1]).all()
    assert near[0] == pytest.approx(4.8) and far[0] == pytest.approx(5.2)
    u0, v0, u1, v1 = pixel_box[0]
    assert 0 < u0 < 32 < u1 < 64 and 0 < v0 < 32 < v1 < 64  # centred, a thin upright box


def test_hiding_window_is_the_blocker_pixels_in_front_of_the_actor():
    mask = np.zeros((20, 30), np.uint8)
    depth = np.full((20, 30), 9.0, np.float32)
    mask[5:15, 10:20], depth[5:15, 10:20] = 1, 5.0  # the actor, 5 m away, far side 5.5 m
    actor_box, far = np.array([9.5, 4.5, 20.5, 15.5]), 5.5
    assert hiding_window(mask, depth, actor_box, far) is None  # nothing in front of it
    mask[0:20, 0:4], depth[0:20, 0:4] = 2, 3.0  # in front, but outside the actor's box
    mask[8:10, 22:25], depth[8:10, 22:25] = 3, 3.0  # beside it (the box's margin ends at 21)
    assert hiding_window(mask, depth, actor_box, far) is None
    mask[12:14, 12:16], depth[12:14, 12:16] = 4, 6.0  # over the actor's pixels, but behind it
    assert hiding_window(mask, depth, actor_box, far) is None
    mask[6:8, 14:17], depth[6:8, 14:17] = 2, 4.0  # in front of it
    mask[11, 18], depth[11, 18] = 3, 5.4
    assert hiding_window(mask, depth, actor_box, far) == (14, 6, 19, 12)
    unbounded = np.array([-np.inf, -np.inf, np.inf, np.inf])  # the actor reaches behind the camera
    mask[0, 0], depth[0, 0] = 2, 0.5
    assert hiding_window(mask, depth, unbounded, far) == (0, 0, 25, 20)  # the blockers beside it count now


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_actor_silhouette_in_its_box_equals_the_full_render(sim, make_tiny_spec, seed):
    spec = make_tiny_spec(frames=6, size=[72, 96], **{"occlusion.probability": 0.0, "scene.distractor_count": 0, "physics.enabled": False})
    clip = make_clip(sim, spec, sample_factors(spec, sim.library, spec.classes[seed % len(spec.classes)], seed), seed)
    camera, t = clip.camera_path, spec.frames - 1  # the world is left in the last frame
    actor = next(b for b in range(sim.client.getNumBodies()) if sim.client.getNumJoints(b) > 0)
    full = render_frame(sim.client, camera, t, {"shadow": 0}, {actor: 1})[2] == 1
    cropped = actor_silhouette(sim.client, camera, t, actor, world_aabb(sim.client, actor))
    assert full.sum() > 50
    assert np.array_equal(cropped, full)

"""visible_fraction: the windowed measurement (the actor alone, everything else transparent,
rendered only where something may hide it) agrees with the brute-force one (the real world
rendered again in full with everything else moved away)."""

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
from simgen.visibility import VisibleFraction, may_hide, screen_extents


class BruteForce(VisibleFraction):
    """The reference: the real world rendered again in full, at full resolution, with every
    other body moved below the floor (fine here: physics is off, nothing is simulated)."""

    def __call__(self, t, mask):
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

    def counting(self, t, mask):
        calls.append(self)
        return original(self, t, mask)

    VisibleFraction.__call__ = counting
    try:
        clip = make_clip(sim, spec, sample_factors(spec, sim.library, "wave1", 3), 3)
    finally:
        VisibleFraction.__call__ = original
    assert calls and calls[0].renders == 0
    assert clip.annotations["visible_fraction"] == [1.0] * 10


def test_a_body_behind_the_actor_cannot_hide_it():
    cam = CameraPath(
        eye=np.array([[0.0, 1.0, 5.0]]), target=np.array([[0.0, 1.0, 0.0]]), fov_deg=np.array([50.0]), roll_deg=np.array([0.0]), width=64, height=64
    )
    boxes = np.array(
        [
            [[-0.3, 0.0, -0.2], [0.3, 1.8, 0.2]],  # the actor
            [[-1.0, 0.0, -3.0], [1.0, 2.0, -2.0]],  # behind it
            [[-1.0, 0.0, 2.0], [1.0, 2.0, 2.5]],  # in front of it
            [[3.0, 0.0, 2.0], [3.5, 2.0, 2.5]],  # in front, off to the side
            [[-1.0, 0.0, 4.0], [1.0, 2.0, 6.0]],  # around the camera: unbounded
        ]
    )
    pixel_box, near, far = screen_extents(cam, 0, boxes)
    assert np.isfinite(pixel_box[:4]).all() and np.isinf(pixel_box[4]).all()
    assert may_hide(pixel_box[0], far[0], pixel_box[1:], near[1:]).tolist() == [False, True, False, True]

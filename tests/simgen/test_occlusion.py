"""Occluders: visibility is measured from the segmentation; a fully covered actor is invisible."""

import numpy as np
import pytest

from simgen.clip import Simulator, make_clip
from simgen.errors import SimgenError
from simgen.jobs.runner import generate_dataset
from simgen.motion.library import ActionLibrary
from simgen.motion.skeleton import KEYPOINT_NAMES
from simgen.sampling import sample_factors


@pytest.fixture(scope="module")
def sim():
    s = Simulator(ActionLibrary())
    yield s
    s.close()


def _wall(coverage, depth=0.5):
    return {"kind": "wall", "coverage": coverage, "depth_fraction": depth, "side": 1.0, "shape": "box", "asset": None, "rgb": [0.2, 0.3, 0.8]}


def _occluded_clip(sim, spec, label, seed, static=(), moving=()):
    factors = sample_factors(spec, sim.library, label, seed)
    factors["camera"].update(trajectory="static", shake_deg=0.0, elevation_deg=5.0)
    factors["occlusion"] = {"occluded": True, "static": list(static), "moving": list(moving)}
    return make_clip(sim, spec, factors, seed)


def test_fully_covered_actor_has_visibility_zero(sim, make_tiny_spec):
    spec = make_tiny_spec(frames=6, size=[64, 64], **{"physics.enabled": False})
    clip = _occluded_clip(sim, spec, "idle", 3, static=[_wall(1.0)])
    assert clip.annotations["visible_fraction"] == [0.0] * 6
    kp = np.asarray(clip.annotations["keypoints_2d"])
    assert kp[..., 2].sum() == 0
    assert clip.annotations["bbox"] == [[0, 0, 0, 0]] * 6
    assert (clip.mask == 2).any() and not (clip.mask == 1).any()


@pytest.mark.parametrize("target", [0.3, 0.6, 0.85])
def test_wall_hides_the_sampled_share(sim, make_tiny_spec, target):
    spec = make_tiny_spec(frames=5, size=[96, 96], **{"physics.enabled": False})
    clip = _occluded_clip(sim, spec, "idle", 4, static=[_wall(1.0 - target)])
    visible = clip.annotations["visible_fraction"][2]  # the middle frame, which the wall is sized for
    assert abs(visible - target) < 0.1, (visible, target)


def test_keypoints_behind_a_wall_are_invisible_and_above_it_visible(sim, make_tiny_spec):
    spec = make_tiny_spec(frames=4, size=[96, 96], **{"physics.enabled": False})
    clip = _occluded_clip(sim, spec, "idle", 5, static=[_wall(0.5)])
    kp = np.asarray(clip.annotations["keypoints_2d"])
    feet = [KEYPOINT_NAMES.index(n) for n in ("right_ankle", "left_ankle")]
    assert kp[:, feet, 2].sum() == 0  # hidden by the wall
    assert kp[:, KEYPOINT_NAMES.index("head"), 2].all()  # sticks out above it
    # Visibility agrees with the mask: every visible keypoint is on the actor's pixels (1 px tolerance).
    for t in range(len(kp)):
        for x, y, v in kp[t]:
            if v:
                r, c = int(y), int(x)
                assert (clip.mask[t, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2] == 1).any()


@pytest.mark.parametrize("kind", ["roll", "throw", "fall", "walker"])
def test_moving_occluders_cross_the_view(sim, make_tiny_spec, kind):
    spec = make_tiny_spec(frames=30, size=[64, 64], **{"physics.enabled": False})
    moving = {"kind": kind, "depth_fraction": 0.5, "side": 1.0, "cross_time_fraction": 0.5, "size": 1.2, "rgb": [0.9, 0.1, 0.1],
              "body": {"height_m": 1.7, "torso_girth": 1.4, "limb_girth": 1.3}, "clothing": {p: [0.5, 0.5, 0.5] for p in ("skin", "shirt", "sleeves", "trousers", "shoes")}, "phase": 0.0}
    clip = _occluded_clip(sim, spec, "wave2", 6, moving=[moving])
    seen = (clip.mask == 2).any(axis=(1, 2))
    assert seen.any(), f"the {kind} never appears"
    assert clip.annotations["objects"] == {"2": kind}
    vis = np.asarray(clip.annotations["visible_fraction"])
    # It enters from outside the actor's box, passes in front of the actor and hides at least
    # a twentieth of it (lowest: roll 0.89, throw 0.74, fall 0.37, walker 0.23). A ball rolled
    # on the floor halfway to the camera used to pass below the feet in the image: 1.0 throughout.
    assert vis[:4].min() == 1.0 and vis.min() < 0.95, np.round(vis, 2)
    # ... when the plan says: it crosses the line of sight at cross_time_fraction (frame 15;
    # a roll with the wrong spin braked to 3/7 of its speed and crossed after frame 28). A
    # falling box lands then, and hides the actor on its way down.
    lowest = int(np.argmin(vis))
    assert (lowest <= 15 if kind == "fall" else abs(lowest - 15) <= 3), (lowest, np.round(vis, 2))


def test_occlusion_rate_and_dataset_fields(make_tiny_spec, tmp_path):
    spec = make_tiny_spec(clips=4, frames=4, size=[32, 32], **{"occlusion.probability": 1.0, "physics.enabled": False})
    generate_dataset(spec, tmp_path / "ds", progress=False)
    from simgen.dataset.reader import DatasetReader

    ds = DatasetReader(tmp_path / "ds")
    for i in range(len(ds)):
        ann = ds.read_annotations(i)
        assert ann["factors"]["occlusion"]["occluded"]
        assert len(ann["visible_fraction"]) == 4


def test_broken_occluder_asset_is_a_clear_error(make_tiny_spec, tmp_path):
    bad = tmp_path / "crate.urdf"
    bad.write_text("<robot name='crate'><link name='base'>")
    spec = make_tiny_spec(**{"occlusion.probability": 1.0, "occlusion.static_kinds": ["asset"], "occlusion.assets": [str(bad)]})
    with pytest.raises(SimgenError, match="crate.urdf"):
        generate_dataset(spec, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()

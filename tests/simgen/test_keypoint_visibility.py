"""Depth-tested keypoint visibility: a joint behind the actor's own body is not seen."""

import numpy as np
import pytest

from simgen.actor import Actor, CLOTHING
from simgen.annotate import depth_visible, project_keypoints
from simgen.body import BodyShape
from simgen.camera import CameraPath
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import KEYPOINT_NAMES
from simgen.native import Client
from simgen.native import pybullet as p
from simgen.render import render_frame

SIZE = 96
FAR_ARM = ("left_shoulder", "left_elbow", "left_wrist")  # the actor's left is -z


@pytest.fixture(scope="module")
def standing():
    """The actor standing in its rest pose (arms hanging at its sides), facing +x."""
    client = Client(p.DIRECT)
    actor = Actor(client, BodyShape(), {part: [0.5, 0.5, 0.5] for part in CLOTHING})
    actor.set_pose(PoseSequence.rest(1), 0, np.zeros(3))
    yield client, actor
    client.disconnect()


def _seen(standing, eye, **kwargs):
    client, actor = standing
    camera = CameraPath(np.array([eye], float), np.array([[0.0, 0.9, 0.0]]), np.array([45.0]), np.zeros(1), SIZE, SIZE)
    _, depth, mask = render_frame(client, camera, 0, {"shadow": 0}, {actor.body: 1})
    points = actor.keypoints_world()
    by_mask = dict(zip(KEYPOINT_NAMES, project_keypoints(camera, 0, points, mask)[:, 2]))
    by_depth = dict(zip(KEYPOINT_NAMES, depth_visible(camera, 0, points, mask, depth, **kwargs)))
    return by_mask, by_depth


def test_the_far_arm_behind_the_torso_is_hidden(standing):
    """Seen from its right side, the left arm hangs behind the torso: it projects onto the
    actor's pixels (the mask flag says visible) but lies a torso's depth behind them."""
    by_mask, by_depth = _seen(standing, [0.0, 1.0, 3.5])
    assert all(by_mask[j] == 1 for j in FAR_ARM)
    assert all(by_depth[j] == 0 for j in FAR_ARM), by_depth
    assert all(by_depth[j] == 1 for j in ("right_shoulder", "right_elbow", "right_wrist", "head", "right_hip"))


def test_facing_the_camera_every_joint_is_seen(standing):
    by_mask, by_depth = _seen(standing, [3.5, 1.0, 0.0])
    assert all(by_depth.values()) and by_depth == by_mask


def test_a_generous_tolerance_sees_through_the_torso(standing):
    """The tolerance is what separates the two: with a metre of it the far arm counts as seen."""
    _, by_depth = _seen(standing, [0.0, 1.0, 3.5], tolerance_m=1.0)
    assert all(by_depth[j] == 1 for j in FAR_ARM)


def test_clips_carry_the_depth_tested_flag(tiny_dataset):
    from simgen.dataset.reader import DatasetReader

    ds = DatasetReader(tiny_dataset)
    ann = ds.read_annotations(0)
    seen = np.asarray(ann["keypoints_visible_depth"])
    mask_flag = np.asarray(ann["keypoints_2d"])[..., 2]
    assert seen.shape == mask_flag.shape and set(np.unique(seen)) <= {0, 1}
    assert np.all(seen <= mask_flag)  # depth-tested visible implies the mask flag
    assert seen.sum() >= 0.8 * mask_flag.sum() > 0  # and most joints on the actor's pixels are in front


def test_validate_checks_the_flag_and_accepts_clips_without_it():
    from simgen.dataset.validate import _check_annotations

    ann = {"label": "a", "frame_labels": ["a"] * 2, "segments": [[0, 2, "a"]], "keypoints_2d": np.zeros((2, 3, 3)).tolist(), "joint_names": ["x", "y", "z"], "bbox": [[0, 0, 1, 1]] * 2, "camera": {"extrinsics": [np.eye(4).tolist()] * 2}, "factors": {}, "seed": 0}
    assert _check_annotations(ann, 2, (8, 8)) == []  # written before the field existed
    assert _check_annotations({**ann, "keypoints_visible_depth": [[0, 1, 1]] * 2}, 2, (8, 8)) == []
    assert _check_annotations({**ann, "keypoints_visible_depth": [[0, 1]] * 2}, 2, (8, 8)) == ["keypoints_visible_depth has shape (2, 2), expected (2, 3)"]
    assert _check_annotations({**ann, "keypoints_visible_depth": [[0, 2, 1]] * 2}, 2, (8, 8)) == ["keypoints_visible_depth flags are not 0/1"]
    assert _check_annotations({**ann, "keypoints_in_frame": [[0, 1, 1]] * 2}, 2, (8, 8)) == []
    assert _check_annotations({**ann, "keypoints_in_frame": [[0, 1]] * 2}, 2, (8, 8)) == ["keypoints_in_frame has shape (2, 2), expected (2, 3)"]
    assert _check_annotations({**ann, "keypoints_in_frame": [[0, 2, 1]] * 2}, 2, (8, 8)) == ["keypoints_in_frame flags are not 0/1"]

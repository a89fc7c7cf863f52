"""Make one clip from its factors: pose the actor, film it, annotate it (the second half of the kornia pattern)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pybullet_data

from simgen.actor import Actor, ground_offsets, planted_feet_shift
from simgen.annotate import depth_visible, in_frame, mask_bbox, project_keypoints
from simgen.body import BodyShape
from simgen.camera import build_camera_path
from simgen.camera_noise import apply_camera_noise
from simgen.foot_clearance import lift_swing_feet
from simgen.leg_clearance import clear_legs
from simgen.motion.library import ActionLibrary
from simgen.motion.pose import PoseSequence, pose_between
from simgen.motion.skeleton import JOINT_INDEX, KEYPOINT_NAMES
from simgen.native import Client
from simgen.native import pybullet as p
from simgen.occluders import Occluders
from simgen.physics import PhysicsTracker
from simgen.render import render_frame
from simgen.scene import Scene
from simgen.sequence import plan_poses
from simgen.spec import GenerationSpec
from simgen.visibility import VisibleFraction, actor_silhouette


@dataclass
class Clip:
    """An in-memory clip: frames uint8[T,H,W,3], the annotation dict, dense maps (mask, depth)."""

    frames: np.ndarray
    annotations: dict
    mask: np.ndarray
    depth: np.ndarray
    camera_path: object = None  # the CameraPath it was filmed with (for benchmarks and debugging)
    light: dict | None = None


class Simulator:
    """A PyBullet world owned by one worker process, reset for every clip."""

    def __init__(self, library: ActionLibrary):
        self.library = library
        cv2.setNumThreads(1)  # one worker process per core: OpenCV's own threads would oversubscribe
        self.client = Client(p.DIRECT)
        self.client.setAdditionalSearchPath(pybullet_data.getDataPath())

    def close(self) -> None:
        self.client.disconnect()

    def reset(self) -> None:
        self.client.resetSimulation()
        self.client.setGravity(0, -9.81, 0)


def _start_physics(sim: Simulator, actor: Actor, pose: PoseSequence, offset: np.ndarray, keypoints: np.ndarray, spec: GenerationSpec, shape: BodyShape):
    """Kinematic targets for the tracker, and the body placed in the first frame's pose."""
    frames = len(pose)
    scale = shape.size_scale
    root = pose.root_pos * scale + offset
    velocity = np.gradient(root, axis=0) * spec.fps if frames > 1 else np.zeros_like(root)
    actor.set_pose(pose, 0, offset[0])
    sim.client.resetBaseVelocity(actor.body, velocity[0].tolist(), [0.0, 0.0, 0.0])
    p_spec = spec.physics
    tracker = PhysicsTracker(
        sim.client,
        actor.body,
        height_scale=scale,
        fps=spec.fps,
        substeps=p_spec.substeps,
        joint_gain=p_spec.joint_gain,
        assist_limit=p_spec.root_assist_limit,
        solver_iterations=p_spec.solver_iterations,
    )
    return tracker, {"root": root, "root_velocity": velocity, "keypoints": keypoints}


def _pose_pass(actor: Actor, pose: PoseSequence, shape: BodyShape):
    """Pose every frame once (no rendering): the root offsets float[T, 3] (floor, planted
    feet), the actor's extent for framing, the target keypoints (float[T, J, 3]) that
    physics tracking is measured against, and the top of the head float[T] (close-ups
    frame from it)."""
    frames = len(pose)
    lo, hi = np.zeros((frames, 3)), np.zeros((frames, 3))
    keypoints = np.zeros((frames, len(KEYPOINT_NAMES), 3))
    head_top = np.zeros(frames)
    neck = JOINT_INDEX["neck"]  # its link is the head
    for t in range(frames):
        actor.set_pose(pose, t, np.zeros(3))
        lo[t], hi[t] = actor.aabb()
        keypoints[t] = actor.keypoints_world()
        head_top[t] = actor.client.getAABB(actor.body, neck)[1][1]
    offset = np.zeros((frames, 3))
    offset[:, 1] = ground_offsets(pose, lo[:, 1].copy(), shape)
    # Standing feet stay put (the root moves instead): on 100 first attempts each this took
    # walk's rejections from 29% to 28% (skating ones from 22 to 1), punch's from 73% to 63%.
    ankles = keypoints[:, [KEYPOINT_NAMES.index("right_ankle"), KEYPOINT_NAMES.index("left_ankle")]] + offset[:, None]
    offset[:, [0, 2]] = planted_feet_shift(ankles)
    for box in (lo, hi):
        box += offset
    keypoints += offset[:, None]
    return offset, lo, hi, keypoints, head_top + offset[:, 1]


@dataclass
class _World:
    """One clip's world, built from its factors, ready to be moved frame by frame."""

    scene: Scene
    actor: Actor
    occluders: Occluders
    camera: object
    frame_labels: list
    segments: list
    instance_of: dict
    objects: dict
    tracker: PhysicsTracker | None
    target_keypoints: np.ndarray
    subframes: int
    advance: object  # advance(t, j): the world at sub-frame j of frame t

    def step(self, t: int, j: int) -> None:
        self.advance(t, j)
        self.occluders.advance(t)

    def play(self, frames: int):
        """Move through the clip unfilmed: yields t with the world at frame t (all its
        sub-frames stepped, as when it is filmed)."""
        for t in range(frames):
            for j in range(1, self.subframes + 1):
                self.step(t, j)
            yield t

    def measure(self, t: int) -> np.ndarray:
        """The actor's keypoints float[J, 3] in frame t, recorded for plausibility too."""
        world = self.actor.keypoints_world()
        if self.tracker is not None:
            self.tracker.measure(self.actor.feet(), world, self.target_keypoints[t])
        return world


def _build_world(sim: Simulator, spec: GenerationSpec, factors: dict) -> _World:
    height, width = spec.size
    frames = spec.frames
    substeps = spec.physics.substeps
    sim.reset()
    sim.client.setPhysicsEngineParameter(fixedTimeStep=1.0 / (spec.fps * substeps))
    scene = Scene(sim.client, factors["scene"])
    shape = BodyShape(**factors["body"])
    actor = Actor(sim.client, shape, factors["clothing"], textures=scene.textures)
    pose, frame_labels, segments = plan_poses(sim.library, factors["action"], frames, spec.fps, spec.sequence.background_label)
    if spec.actor.leg_clearance_m > 0:
        pose = clear_legs(actor, pose, spec.fps, spec.actor.leg_clearance_m)
    offset, lo, hi, target_keypoints, head_top = _pose_pass(actor, pose, shape)
    if spec.physics.enabled and spec.physics.swing_clearance_m > 0:
        lifted = lift_swing_feet(actor, pose, offset, spec.fps, spec.physics.swing_clearance_m)
        if lifted is not pose:
            pose = lifted
            offset, lo, hi, target_keypoints, head_top = _pose_pass(actor, pose, shape)
    camera = build_camera_path(factors["camera"], lo, hi, width=width, height=height, fps=spec.fps, keep_framed=factors["camera"]["keep_framed"], head_top=head_top)

    def silhouette(t: int) -> np.ndarray:
        actor.set_pose(pose, t, offset[t])
        return actor_silhouette(sim.client, camera, t, actor.body, np.stack([lo[t], hi[t]]))

    occluders = Occluders(sim.client, factors["occlusion"], camera, lo, hi, silhouette=silhouette, library=sim.library, fps=spec.fps)
    mid = frames // 2
    toward_camera = camera.eye[mid] - (lo[mid] + hi[mid]) / 2.0
    toward_camera[1] = 0.0
    toward_camera /= max(np.linalg.norm(toward_camera), 1e-9)
    scene.add_distractors((lo[mid] + hi[mid]) / 2.0 * [1, 0, 1], toward_camera, np.cross([0.0, 1.0, 0.0], toward_camera))
    instance_of = {actor.body: 1, **occluders.mask_ids}
    objects = {str(v): kind for v, kind in zip(occluders.mask_ids.values(), occluders.kinds)}
    for body in scene.distractors:
        instance_of[body] = len(instance_of) + 1
        objects[str(instance_of[body])] = "distractor"
    tracker = None
    if spec.physics.enabled:
        tracker, targets = _start_physics(sim, actor, pose, offset, target_keypoints, spec, shape)
    subframes = factors["camera_noise"]["motion_blur_subframes"]

    def advance(t: int, j: int) -> None:
        """Move the world to sub-frame j of `subframes` on the way from frame t-1 to t."""
        steps = substeps * j // subframes - substeps * (j - 1) // subframes
        if tracker is not None:
            if t > 0 and steps:
                tracker.track(pose, t, targets["root"][t], targets["root_velocity"][t], steps=steps)
            return
        if occluders.dynamic and t > 0:
            for _ in range(steps):  # moving props still fall, roll and fly
                sim.client.stepSimulation()
        w = j / subframes
        if w < 1.0 and t > 0:
            actor.set_pose(pose_between(pose, t, w), 0, offset[t - 1] * (1 - w) + offset[t] * w)
        else:
            actor.set_pose(pose, t, offset[t])

    return _World(scene, actor, occluders, camera, frame_labels, segments, instance_of, objects, tracker, target_keypoints, subframes, advance)


def simulate_plausibility(sim: Simulator, spec: GenerationSpec, factors: dict) -> dict | None:
    """The clip's plausibility metrics, from the same simulation as `make_clip` but with
    nothing rendered: a cheap first look at a redrawn sample (None without physics)."""
    if not spec.physics.enabled:
        return None
    world = _build_world(sim, spec, factors)
    for t in world.play(spec.frames):
        world.measure(t)
    return world.tracker.meter.summary()


def replay_frames(sim: Simulator, spec: GenerationSpec, factors: dict):
    """Move a fresh world through the clip's frames exactly as `make_clip` does, with
    nothing rendered or measured: yields (t, camera, light) with the world at frame t
    (a benchmark renders the very frames the pipeline rendered)."""
    world = _build_world(sim, spec, factors)
    for t in world.play(spec.frames):
        yield t, world.camera, world.scene.light


def make_clip(sim: Simulator, spec: GenerationSpec, factors: dict, seed: int) -> Clip:
    height, width = spec.size
    frames = spec.frames
    world = _build_world(sim, spec, factors)
    scene, actor, occluders, camera, instance_of = world.scene, world.actor, world.occluders, world.camera, world.instance_of
    subframes = world.subframes

    # Film it: simulate (or pose) the world, render, annotate, frame by frame.
    rgb = np.zeros((frames, height, width, 3), np.uint8)
    depth = np.zeros((frames, height, width), np.float32)
    mask = np.zeros((frames, height, width), np.uint8)
    keypoints = np.zeros((frames, len(KEYPOINT_NAMES), 3))
    keypoints_3d = np.zeros((frames, len(KEYPOINT_NAMES), 3))
    keypoints_seen = np.zeros((frames, len(KEYPOINT_NAMES)), np.uint8)
    keypoints_framed = np.zeros((frames, len(KEYPOINT_NAMES)), np.uint8)
    boxes, visible = [], []
    visible_fraction = VisibleFraction(sim.client, camera, actor.body, occluders.bodies + scene.distractors + [scene.ground])
    for t in range(frames):
        exposure = np.zeros((height, width, 3), np.float32) if subframes > 1 else None
        for j in range(1, subframes + 1):  # motion blur: average renders across the frame interval
            world.step(t, j)
            if j < subframes:
                exposure += render_frame(sim.client, camera, t, scene.light, instance_of, scene)[0]
        rgb[t], depth[t], mask[t] = render_frame(sim.client, camera, t, scene.light, instance_of, scene)
        if subframes > 1:
            rgb[t] = np.clip(np.rint((exposure + rgb[t]) / subframes), 0, 255).astype(np.uint8)
        visible.append(visible_fraction(t, mask[t], depth[t]))
        keypoints_3d[t] = world.measure(t)
        keypoints[t] = project_keypoints(camera, t, keypoints_3d[t], mask[t])
        keypoints_seen[t] = depth_visible(camera, t, keypoints_3d[t], mask[t], depth[t])
        keypoints_framed[t] = in_frame(camera, t, keypoints_3d[t])
        boxes.append(mask_bbox(mask[t]))
    rgb = apply_camera_noise(rgb, factors["camera_noise"])
    intrinsics = np.round(camera.all_intrinsics(), 6).tolist()

    annotations = {
        "label": factors["action"]["label"],
        "frame_labels": world.frame_labels,
        "segments": world.segments,
        "fps": spec.fps,
        "size": [height, width],
        "joint_names": list(KEYPOINT_NAMES),
        "keypoints_2d": np.round(keypoints, 3).tolist(),
        "keypoints_3d": np.round(keypoints_3d, 4).tolist(),
        "keypoints_visible_depth": keypoints_seen.tolist(),
        "keypoints_in_frame": keypoints_framed.tolist(),
        "bbox": boxes,
        "visible_fraction": visible,
        "objects": world.objects,
        "camera": {"K": intrinsics[0], "K_per_frame": intrinsics, "extrinsics": np.round(camera.all_extrinsics(), 6).tolist(), "convention": "opencv"},
        "factors": factors,
        "seed": seed,
    }
    if world.tracker is not None:
        annotations["plausibility"] = world.tracker.meter.summary()
    return Clip(frames=rgb, annotations=annotations, mask=mask, depth=depth, camera_path=camera, light=scene.light)

"""Occluders: static ones placed between the camera and the actor, and moving ones that cross
the view (a ball that rolls or is thrown, a box that falls, a second person walking past).

`sample_occlusion` draws the plan from the clip's generator; `Occluders` builds it in the
world once the camera is known (placement is geometric: a static occluder is sized to cover
a sampled share of the actor's projected silhouette). What is actually hidden is measured
from the segmentation, frame by frame, never assumed from the plan.
"""

from __future__ import annotations

import numpy as np

from simgen import rotations as rot
from simgen.actor import Actor
from simgen.body import BodyShape
from simgen.camera import CameraPath
from simgen.motion.library import ActionLibrary
from simgen.motion.skeleton import JOINT_INDEX, MOVABLE, REVOLUTE_LIMITS
from simgen.native import pybullet as p
from simgen.props import create_shape, load_asset
from simgen.scene import hsv_to_rgb
from simgen.spec import GenerationSpec

GRAVITY = 9.81
STATIC_KINDS = ("wall", "pillar", "asset")
MOVING_KINDS = ("roll", "throw", "fall", "walker")


def _colour(rng: np.random.Generator) -> list[float]:
    return [round(c, 4) for c in hsv_to_rgb(float(rng.uniform()), float(rng.uniform(0.1, 0.7)), float(rng.uniform(0.2, 0.9)))]


def sample_occlusion(spec: GenerationSpec, rng: np.random.Generator) -> dict:
    o = spec.occlusion
    if not (o.probability > 0 and rng.uniform() < o.probability):
        return {"occluded": False, "static": [], "moving": []}
    static_kinds = [k for k in o.static_kinds if k != "asset" or o.assets]
    static, moving = [], []
    for _ in range(int(round(float(o.static_count.sample(rng))))):
        kind = static_kinds[int(rng.integers(len(static_kinds)))] if static_kinds else "wall"
        static.append(
            {
                "kind": kind,
                "coverage": 1.0 - float(o.visible_fraction.sample(rng)),
                "depth_fraction": float(rng.uniform(0.35, 0.7)),
                "side": float(rng.choice([-1.0, 1.0])),
                "shape": ["box", "cylinder"][int(rng.integers(2))],
                "asset": o.assets[int(rng.integers(len(o.assets)))] if kind == "asset" else None,
                "rgb": _colour(rng),
            }
        )
    for _ in range(int(round(float(o.moving_count.sample(rng))))):
        kind = o.moving_kinds[int(rng.integers(len(o.moving_kinds)))]
        moving.append(
            {
                "kind": kind,
                "depth_fraction": float(rng.uniform(0.35, 0.7)),
                "side": float(rng.choice([-1.0, 1.0])),
                "cross_time_fraction": float(rng.uniform(0.3, 0.7)),
                "size": float(rng.uniform(0.6, 1.4)),
                "rgb": _colour(rng),
                "body": {"height_m": float(rng.uniform(1.55, 1.9)), "torso_girth": float(rng.uniform(1.3, 1.7)), "limb_girth": float(rng.uniform(1.2, 1.6))},
                "clothing": {part: _colour(rng) for part in ("skin", "shirt", "sleeves", "trousers", "shoes")},
                "phase": float(rng.uniform()),
            }
        )
    return {"occluded": bool(static or moving), "static": static, "moving": moving}


class Occluders:
    """The occluders of one clip, built in the world for a known camera path and actor extent."""

    def __init__(
        self,
        client,
        plan: dict,
        camera: CameraPath,
        actor_lo: np.ndarray,
        actor_hi: np.ndarray,
        *,
        silhouette=None,
        library: ActionLibrary,
        fps: float,
        first_id: int = 2,
    ):
        """
        Args:
            silhouette: callable(frame) -> bool[H, W], the actor's unoccluded mask in that
                frame; static occluders are sized against it so that they hide the sampled
                share of the actor's pixels in the middle frame.
        """
        self.client = client
        self.bodies: list[int] = []
        self.kinds: list[str] = []
        self.walkers: list[tuple[Actor, object, np.ndarray]] = []
        self.dynamic = False
        frames = len(camera)
        self.frames = frames
        ref = frames // 2  # static ones are sized for the middle of the clip
        self._cam = camera
        self._ref = ref
        centre = (actor_lo[ref] + actor_hi[ref]) / 2.0
        ext = camera.extrinsics(ref)
        self._R, self._eye = ext[:3, :3], camera.eye[ref]
        k = camera.intrinsics(ref)
        self._fx, self._cx, self._cy = k[0, 0], k[0, 2], k[1, 2]
        self._z_actor = float((self._R @ (centre - self._eye))[2])
        corners = np.array([[x, y, z] for x in (actor_lo[ref, 0], actor_hi[ref, 0]) for y in (actor_lo[ref, 1], actor_hi[ref, 1]) for z in (actor_lo[ref, 2], actor_hi[ref, 2])])
        uv, _ = camera.project(ref, corners)
        lo_all, hi_all = actor_lo.min(axis=0), actor_hi.max(axis=0)  # the box it moves in, all clip long
        whole = np.array([[x, y, z] for x in (lo_all[0], hi_all[0]) for y in (lo_all[1], hi_all[1]) for z in (lo_all[2], hi_all[2])])
        self._z_actor_nearest = float(camera.project(ref, whole)[1].min())
        self._u0, self._u1 = uv[:, 0].min(), uv[:, 0].max()
        self._v_head, self._v_feet = uv[:, 1].min(), uv[:, 1].max()
        self._actor_height = float(actor_hi[:, 1].max())
        self._silhouette = silhouette(ref) if (silhouette is not None and plan["static"]) else None
        for occ in plan["static"]:
            self._add(self._static(occ), occ["kind"])
        for occ in plan["moving"]:
            self._moving(occ, library, fps)
        self.mask_ids = {body: first_id + i for i, body in enumerate(self.bodies)}

    # -- geometry in the reference camera ------------------------------------------------
    def _world(self, u: float, z: float, y_world: float) -> np.ndarray:
        """World point at image column u, camera depth z, then put at height y_world."""
        x_cam = (u - self._cx) * z / self._fx
        p = self._eye + self._R.T @ np.array([x_cam, 0.0, z])
        p[1] = y_world
        return p

    def _lateral(self) -> np.ndarray:
        right = self._R[0].copy()
        right[1] = 0.0
        return right / max(np.linalg.norm(right), 1e-9)

    def _half_view(self, z: float) -> float:
        return (self._cam.width / 2.0) * z / self._fx

    def _add(self, body: int, kind: str) -> None:
        self.bodies.append(body)
        self.kinds.append(kind)

    # -- static ---------------------------------------------------------------------------
    def _share_cut(self, f: float, axis: int, from_end: bool) -> float:
        """Image coordinate (column if axis=1, row if axis=0) that leaves a share f of the
        actor's pixels on the near side: from the left/top, or from the right/bottom."""
        sil = self._silhouette
        if sil is None or not sil.any():
            lo, hi = (self._u0, self._u1) if axis == 1 else (self._v_head, self._v_feet)
            return hi - f * (hi - lo) if from_end else lo + f * (hi - lo)
        if f >= 0.999:  # all of it: one pixel beyond the silhouette's far edge
            rows_or_cols = np.flatnonzero(sil.any(axis=1 - axis))
            return float(rows_or_cols[0] - 1) if from_end else float(rows_or_cols[-1] + 2)
        counts = sil.sum(axis=1 - axis).astype(np.float64)
        if from_end:
            counts = counts[::-1]
        cum = np.cumsum(counts) / counts.sum()
        idx = int(np.searchsorted(cum, f))
        return float(len(counts) - idx) if from_end else float(idx + 1)

    def _static(self, occ: dict) -> int:
        c = self.client
        z = self._z_actor * occ["depth_fraction"]
        f = float(np.clip(occ["coverage"], 0.0, 1.0))
        width_px = self._u1 - self._u0
        if occ["kind"] == "wall":
            # A wall from the floor up to the row below which a share f of the actor's pixels lie.
            target_v = self._share_cut(f, axis=0, from_end=True)
            lo, hi = 0.0, 6.0
            mid_u = (self._u0 + self._u1) / 2.0
            for _ in range(30):
                h = (lo + hi) / 2.0
                top = self._world(mid_u, z, h)
                v = self._cam.project(self._ref, top[None])[0][0, 1]
                lo, hi = (h, hi) if v > target_v else (lo, h)
            h = max(hi, 0.02)
            half_w = (width_px * 1.6 / 2.0) * z / self._fx + 0.05
            pos = self._world(mid_u, z, h / 2.0)
            body = create_shape(c, "box", [half_w, h / 2.0, 0.04], pos, occ["rgb"])
            yaw = np.arctan2(self._lateral()[2], self._lateral()[0])
            c.resetBasePositionAndOrientation(body, pos.tolist(), rot.yaw(-yaw).tolist())
            return body
        # A pillar covering the columns that hold a share f of the actor's pixels, from one side.
        if occ["side"] < 0:
            left, right = self._u0 - 2.0, self._share_cut(f, axis=1, from_end=False)
        else:
            left, right = self._share_cut(f, axis=1, from_end=True), self._u1 + 2.0
        strip = max(right - left, 1.0)
        u_centre = (left + right) / 2.0
        half_w = (strip / 2.0) * z / self._fx
        height = self._actor_height * 1.6 + 0.5
        pos = self._world(u_centre, z, height / 2.0)
        if occ["kind"] == "asset":
            base = self._world(u_centre, z, 0.0)
            return load_asset(c, occ["asset"], base)
        if occ["shape"] == "cylinder":
            return create_shape(c, "cylinder", [half_w, height], pos, occ["rgb"])
        return create_shape(c, "box", [half_w, height / 2.0, half_w], pos, occ["rgb"])

    # -- moving ---------------------------------------------------------------------------
    def _moving(self, occ: dict, library: ActionLibrary, fps: float) -> None:
        c = self.client
        z = self._z_actor * occ["depth_fraction"]
        lateral = self._lateral()
        centre = self._world((self._u0 + self._u1) / 2.0, z, 0.0)
        t_cross = max(occ["cross_time_fraction"] * self.frames / fps, 0.2)
        direction = -occ["side"] * lateral
        scale = occ["size"]
        if occ["kind"] == "walker":
            shape = BodyShape(**occ["body"])
            walker = Actor(c, shape, occ["clothing"])
            c.setCollisionFilterGroupMask(walker.body, -1, 0, 0)
            for link in range(walker.num_links):
                c.setCollisionFilterGroupMask(walker.body, link, 0, 0)  # a passer-by: seen, never touching
            # Posed before every render, it needs none of pybullet's default joint motors, each
            # a constraint the solver would work on at every step (+70% step time).
            for name in MOVABLE:
                joint = JOINT_INDEX[name]
                if name in REVOLUTE_LIMITS:
                    c.setJointMotorControl2(walker.body, joint, p.VELOCITY_CONTROL, force=0.0)
                else:
                    c.setJointMotorControlMultiDof(walker.body, joint, p.POSITION_CONTROL, targetPosition=[0, 0, 0, 1], force=[0.0, 0.0, 0.0])
            walk = library.get("walk")
            times = np.arange(self.frames) / fps
            pose = walk.sample(times, speed=1.0, phase=occ["phase"], amplitudes={})
            heading = np.arctan2(-direction[2], direction[0])
            q = rot.yaw(heading)
            pose.root_rot = rot.multiply(q, pose.root_rot)
            pose.root_pos = rot.rotate(q, pose.root_pos - pose.root_pos[:1] * [1, 0, 1])
            # Walking speed in world metres (set_pose scales the path with the body).
            path = pose.root_pos[:, [0, 2]] * shape.size_scale
            speed = np.linalg.norm(path[-1] - path[0]) / max(times[-1], 1e-6)
            start = centre - direction * speed * t_cross  # crosses the line of sight at t_cross
            self.walkers.append((walker, pose, np.array([start[0], 0.0, start[2]])))
            self._add(walker.body, "walker")
            return
        self.dynamic = True
        half_view = self._half_view(z)
        if occ["kind"] == "roll":
            r = 0.2 * scale
            z = self._roll_depth(z, r)
            centre = self._world((self._u0 + self._u1) / 2.0, z, 0.0)
            half_view = self._half_view(z)
            start = centre - direction * (half_view + r)
            body = create_shape(c, "sphere", [r], start + [0, r, 0], occ["rgb"], mass=4.0)
            v = direction * (half_view + r) / t_cross
            c.changeDynamics(body, -1, lateralFriction=0.8, rollingFriction=0.0005, restitution=0.1)
            # Spin that rolls without slipping (contact point at rest): w = up x v / r. With
            # the opposite spin, friction braked the ball to 3/7 of its speed and it crossed late.
            c.resetBaseVelocity(body, v.tolist(), (np.cross([0, 1, 0], v) / r).tolist())
        elif occ["kind"] == "throw":
            r = 0.12 * scale
            start = centre - direction * (half_view + r) + [0, 1.3, 0]
            body = create_shape(c, "sphere", [r], start, occ["rgb"], mass=0.5)
            v = direction * (half_view + r) / t_cross + [0, GRAVITY * t_cross / 2.0, 0]
            c.resetBaseVelocity(body, v.tolist(), [0, 0, 0])
        else:  # fall: dropped from above so that it lands around the crossing time
            half = 0.2 * scale
            drop = 0.5 * GRAVITY * t_cross**2 + half
            side = (occ["side"] * 0.3) * (self._u1 - self._u0) * z / self._fx
            start = centre + lateral * side + [0, drop, 0]
            body = create_shape(c, "box", [half, half, half], start, occ["rgb"], mass=3.0)
        self._add(body, occ["kind"])

    def _roll_depth(self, z: float, r: float) -> float:
        """Camera depth of a rolling ball's path: the sampled one, or nearer the actor where
        from there the ball (top 2r above the floor) would pass below the actor's feet in the
        image, which it did whenever the camera stood higher than about 4r."""
        target_v = self._v_feet - 0.25 * (self._v_feet - self._v_head)  # a quarter up the body
        mid_u = (self._u0 + self._u1) / 2.0

        def top_row(depth: float) -> float:
            return float(self._cam.project(self._ref, self._world(mid_u, depth, 2.0 * r)[None])[0][0, 1])

        nearest = max(self._z_actor_nearest - r - 0.1, z)  # in front of the actor, never touching it
        if top_row(z) <= target_v or top_row(nearest) > target_v:
            return z if top_row(z) <= target_v else nearest
        lo, hi = z, nearest
        for _ in range(30):
            mid = (lo + hi) / 2.0
            lo, hi = (lo, mid) if top_row(mid) <= target_v else (mid, hi)
        return hi

    # -- per frame ------------------------------------------------------------------------
    def advance(self, t: int) -> None:
        """Place kinematic passers-by for frame t, just before a render (rigid props move
        with the physics steps)."""
        for walker, pose, offset in self.walkers:
            walker.set_pose(pose, t, offset)


"""Physics-tracked actor: the body is simulated and follows the kinematic target.

Each frame, joint motors (PD, per-joint torque limits) pull the simulated body towards the
target pose while a *bounded* root-assist force and torque keep it near the target root.
The bound (a fraction of body weight) is what keeps it honest: the assist can steady a
balance but cannot hold the body in the air, slide it through the floor or teleport it.
The ground, self-collision and props are real contacts.

Plausibility metrics are accumulated per clip (see `PlausibilityMeter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simgen import rotations as rot
from simgen.motion.pose import PoseSequence
from simgen.motion.skeleton import JOINT_INDEX, MOVABLE, REVOLUTE_LIMITS
from simgen.native import pybullet as p

# Motor strength per joint (N m at the default 1.62 m body), after DeepMimic's humanoid.
MAX_TORQUE = {
    "chest": 200.0, "neck": 50.0,
    "right_hip": 200.0, "right_knee": 150.0, "right_ankle": 90.0, "right_shoulder": 100.0, "right_elbow": 60.0,
    "left_hip": 200.0, "left_knee": 150.0, "left_ankle": 90.0, "left_shoulder": 100.0, "left_elbow": 60.0,
}  # fmt: skip
FEET = ("right_ankle", "left_ankle")
GRAVITY = 9.81


@dataclass
class PlausibilityMeter:
    """Accumulates the per-clip plausibility metrics while the clip is simulated."""

    weight_n: float
    dt_frame: float
    penetration: float = 0.0
    skate: list[float] = field(default_factory=list)
    limit_violations: int = 0
    frames: int = 0
    assist: list[float] = field(default_factory=list)
    tracking: list[float] = field(default_factory=list)
    _last_feet: np.ndarray | None = None

    def frame(self, feet_lowest, feet_xz, feet_contact, joint_angles: dict[str, float], assist_n: float, tracking_m: float):
        self.frames += 1
        self.penetration = max(self.penetration, float(np.max(-feet_lowest)))
        # Skating: horizontal speed of a foot that touches the floor in this frame and the last.
        if self._last_feet is not None:
            grounded = feet_contact & (self._last_feet[:, 0] > 0)
            speed = np.linalg.norm(feet_xz - self._last_feet[:, 1:], axis=1) / self.dt_frame
            self.skate.extend(speed[grounded].tolist())
        self._last_feet = np.concatenate([feet_contact[:, None].astype(float), feet_xz], axis=1)
        violated = any(
            not (lo - 0.05 <= joint_angles[name] <= hi + 0.05) for name, (lo, hi) in REVOLUTE_LIMITS.items()
        )
        self.limit_violations += int(violated)
        self.assist.append(assist_n / self.weight_n)
        self.tracking.append(tracking_m)

    def summary(self) -> dict[str, float]:
        return {
            "max_foot_penetration_m": round(self.penetration, 4),
            "foot_skate_mps": round(float(np.mean(self.skate)) if self.skate else 0.0, 4),
            "joint_limit_violation_rate": round(self.limit_violations / max(self.frames, 1), 4),
            "mean_root_assist": round(float(np.mean(self.assist)) if self.assist else 0.0, 4),
            "tracking_error_m": round(float(np.mean(self.tracking)) if self.tracking else 0.0, 4),
        }


def _axis_angle(q: np.ndarray) -> np.ndarray:
    """Rotation vector of quaternion q (x, y, z, w), shortest way round."""
    q = q if q[3] >= 0 else -q
    s = np.linalg.norm(q[:3])
    if s < 1e-9:
        return np.zeros(3)
    return q[:3] / s * 2.0 * np.arctan2(s, q[3])


class PhysicsTracker:
    """Drives one actor body through a pose sequence with physics, frame by frame."""

    def __init__(self, client, body: int, *, height_scale: float, fps: float, substeps: int, joint_gain: float, assist_limit: float):
        self.client = client
        self.body = body
        self.fps = fps
        self.substeps = substeps
        self.dt = 1.0 / (fps * substeps)
        client.setPhysicsEngineParameter(fixedTimeStep=self.dt, numSolverIterations=30)
        self.mass = sum(client.getDynamicsInfo(body, j)[0] for j in range(-1, client.getNumJoints(body)))
        self.weight = self.mass * GRAVITY
        self.assist_limit = assist_limit * self.weight
        body_height = 1.62 * height_scale
        self.inertia = self.mass * body_height**2 / 12.0
        # The torque of the full assist force applied at hip height: enough to
        # steady a balance, not enough to hold a body that is falling over.
        self.torque_limit = assist_limit * self.weight * body_height * 0.5
        # Torque scales with body size (mass x length); motors disabled first so they do not fight.
        size = self.mass / 45.0 * height_scale
        self.indices = [JOINT_INDEX[n] for n in MOVABLE]
        self.forces = [[MAX_TORQUE[n] * size] * (3 if n not in REVOLUTE_LIMITS else 1) for n in MOVABLE]
        self.kp = [0.25 * joint_gain] * len(MOVABLE)
        self.kd = [1.0] * len(MOVABLE)
        for link in range(-1, client.getNumJoints(body)):
            client.changeDynamics(body, link, lateralFriction=0.9, restitution=0.0)
        self.meter = PlausibilityMeter(weight_n=self.weight, dt_frame=1.0 / fps)
        self._last_assist = 0.0

    def track(self, pose: PoseSequence, t: int, root_target: np.ndarray, root_velocity: np.ndarray, steps: int | None = None) -> None:
        """Advance the simulation by `steps` physics steps (default: one video frame) towards frame t."""
        c = self.client
        targets = [pose.joints[n][t].tolist() for n in MOVABLE]
        c.setJointMotorControlMultiDofArray(
            self.body, self.indices, p.POSITION_CONTROL, targetPositions=targets, positionGains=self.kp, velocityGains=self.kd, forces=self.forces
        )
        target_rot = pose.root_rot[t]
        assist_total = 0.0
        steps = self.substeps if steps is None else steps
        for _ in range(steps):
            pos, orn = c.getBasePositionAndOrientation(self.body)
            vel, ang = c.getBaseVelocity(self.body)
            force = 4.0 * self.mass * 25.0 * (root_target - np.asarray(pos)) + 2.0 * self.mass * 5.0 * (root_velocity - np.asarray(vel))
            # Never push down: gravity does that, and pressing a body into the floor is no help.
            force[1] = max(force[1], 0.0)
            norm = np.linalg.norm(force)
            if norm > self.assist_limit:
                force *= self.assist_limit / norm
            err = _axis_angle(rot.multiply(target_rot, _conj(np.asarray(orn))))
            # Critically damped at ~2 Hz for the body's inertia about the feet.
            torque = self.inertia * (160.0 * err - 25.0 * np.asarray(ang))
            tnorm = np.linalg.norm(torque)
            torque_limit = self.torque_limit
            if tnorm > torque_limit:
                torque *= torque_limit / tnorm
            c.applyExternalForce(self.body, -1, force.tolist(), list(pos), p.WORLD_FRAME)
            c.applyExternalTorque(self.body, -1, torque.tolist(), p.WORLD_FRAME)
            c.stepSimulation()
            assist_total += float(np.linalg.norm(force))
        self._last_assist = assist_total / max(steps, 1)

    def measure(self, feet: tuple, keypoints: np.ndarray, target_keypoints: np.ndarray) -> None:
        angles = {n: self.client.getJointState(self.body, JOINT_INDEX[n])[0] for n in REVOLUTE_LIMITS}
        tracking = float(np.mean(np.linalg.norm(keypoints - target_keypoints, axis=1)))
        self.meter.frame(*feet, angles, self._last_assist, tracking)


def _conj(q: np.ndarray) -> np.ndarray:
    return np.array([-q[0], -q[1], -q[2], q[3]])

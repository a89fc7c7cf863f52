"""Anatomical joint limits for every joint of the humanoid, and how far a pose goes beyond them.

Revolute joints (knees, elbows) are checked by angle against the URDF's limits. Spherical
joints are split into *swing* and *twist* about the bone: every spherical joint's child
segment lies along the y axis at rest (spine and neck up, thighs, upper arms and shins
down), so q = swing * twist with twist about y. The swing is a rotation about an axis in
the x-z plane; its rotation vector's x and z components (degrees) are checked against a
range each, the twist angle against its own range. Shoulders are measured from the arm
held out sideways (`NEUTRAL`), not from hanging down.

Ranges: adult active range of motion (American Academy of Orthopaedic Surgeons, *Joint
Motion: Method of Measuring and Recording*, 1965; the tables in Norkin & White, *Measurement
of Joint Motion*), rounded outward by 5-15 degrees, and widened where the shipped motion
capture (DeepMimic's walk, punch and kick, real people) goes further, as this swing-twist
split measures it: the kicking leg is raised ~100 degrees sideways and twists 70 outwards, its ankle dorsiflexes 51, the
wave's arm rises 10 beyond overhead. Every shipped action's targets lie inside. Axes, for the right side (+z is the actor's right, it
faces +x): rotation about +z swings a downward segment forwards (hip and shoulder flexion,
ankle dorsiflexion) and an upward one backwards (trunk and neck extension); rotation about
+x swings a downward segment of the right side inwards (adduction). The left side mirrors
the x and twist ranges.
"""

from __future__ import annotations

import numpy as np

from simgen import rotations as rot
from simgen.motion.skeleton import REVOLUTE_LIMITS, SPHERICAL

# Right-side (and midline) ranges in degrees: swing about x, swing about z, twist about y.
_RIGHT_SWING_TWIST_DEG = {
    # Trunk on pelvis: flexion 80 (-z), extension 30, lateral bending 35, rotation 45.
    "chest": ((-40.0, 40.0), (-90.0, 40.0), (-50.0, 50.0)),
    # Head on trunk: flexion 50 (-z), extension 60, lateral bending 45, rotation 80.
    "neck": ((-50.0, 50.0), (-60.0, 70.0), (-85.0, 85.0)),
    # Hip: flexion 120 (+z), extension 30, abduction 45 (-x on the right; 110, as in the
    # kick's raised leg), adduction 30, rotation 45 (external -twist on the right: 80, the kick).
    "right_hip": ((-110.0, 35.0), (-40.0, 135.0), (-80.0, 50.0)),
    # Ankle: dorsiflexion 20 (+z; 55, as in the kick), plantarflexion 50, inversion /
    # eversion 35 / 15, twist 30.
    "right_ankle": ((-40.0, 40.0), (-65.0, 55.0), (-35.0, 35.0)),
    # Shoulder, from the arm held out sideways (see NEUTRAL): raised overhead -90 (x), lowered
    # to the side +90 and on across the body in front 45 more; swung forward (horizontal
    # flexion, +z) 130, backward 45. Rotation about the arm is not checked: raised overhead
    # forwards or sideways, the same arm direction differs by up to 180 degrees of it
    # (Codman's paradox), so no one twist range holds for both.
    "right_shoulder": ((-115.0, 140.0), (-60.0, 145.0), (-180.0, 180.0)),
}
# The pose each joint's range is measured from. A shoulder raised overhead is 180 degrees
# from hanging down, where swing and twist are undefined; measured from the arm held out
# sideways the undefined pose is the arm pointing through the chest, which no one reaches.
NEUTRAL = {
    "right_shoulder": rot.from_axis_angle([1.0, 0.0, 0.0], np.radians(-90.0)),
    "left_shoulder": rot.from_axis_angle([1.0, 0.0, 0.0], np.radians(90.0)),
}


def _mirror(ranges):
    (xlo, xhi), z, (tlo, thi) = ranges
    return (-xhi, -xlo), z, (-thi, -tlo)


SWING_TWIST_LIMITS_DEG: dict[str, tuple[tuple[float, float], ...]] = {
    name: _RIGHT_SWING_TWIST_DEG[name] if name in _RIGHT_SWING_TWIST_DEG else _mirror(_RIGHT_SWING_TWIST_DEG[name.replace("left_", "right_")])
    for name in SPHERICAL
}
REVOLUTE_LIMITS_DEG = {name: (np.degrees(lo), np.degrees(hi)) for name, (lo, hi) in REVOLUTE_LIMITS.items()}
_LOWER = np.array([[r[0] for r in SWING_TWIST_LIMITS_DEG[n]] for n in SPHERICAL])  # [J, 3]: x, z, twist
_UPPER = np.array([[r[1] for r in SWING_TWIST_LIMITS_DEG[n]] for n in SPHERICAL])


def swing_twist_deg(q: np.ndarray) -> np.ndarray:
    """float[..., 3]: the swing's rotation-vector x and z components and the twist about y,
    in degrees, of (x, y, z, w) quaternions q[..., 4] (q = swing * twist)."""
    q = np.asarray(q, dtype=np.float64)
    q = np.where(q[..., 3:4] < 0, -q, q)
    x, y, z, w = np.moveaxis(q, -1, 0)
    twist_half = np.arctan2(y, w)
    # swing = q * conj(twist), twist = (0, sin(t/2), 0, cos(t/2)): its y component is zero.
    c, s = np.cos(twist_half), np.sin(twist_half)
    sx, sz, sw = x * c + z * s, z * c - x * s, w * c + y * s
    norm = np.hypot(sx, sz)
    angle = 2.0 * np.arctan2(norm, sw)
    scale = np.where(norm > 1e-12, angle / np.maximum(norm, 1e-12), 2.0)
    return np.degrees(np.stack([sx * scale, sz * scale, 2.0 * twist_half], axis=-1))


def from_neutral(name: str, q: np.ndarray) -> np.ndarray:
    """The joint rotation q measured from the joint's neutral pose n (q = n * d, d in the
    child's frame at neutral)."""
    if name not in NEUTRAL:
        return np.asarray(q, dtype=np.float64)
    n = NEUTRAL[name]
    return rot.multiply(n * [-1.0, -1.0, -1.0, 1.0], q)


def limit_excess_deg(revolute_rad: dict[str, float], spherical_quat: dict[str, np.ndarray]) -> dict[str, float]:
    """Per joint: degrees beyond its range (0 inside); for a spherical joint the largest excess
    of its swing about x, swing about z and twist."""
    out = {}
    for name, angle in revolute_rad.items():
        lo, hi = REVOLUTE_LIMITS_DEG[name]
        deg = np.degrees(angle)
        out[name] = float(max(lo - deg, deg - hi, 0.0))
    names = [n for n in SPHERICAL if n in spherical_quat]
    if names:
        angles = swing_twist_deg(np.stack([from_neutral(n, spherical_quat[n]) for n in names]))
        rows = [SPHERICAL.index(n) for n in names]
        excess = np.maximum(np.maximum(_LOWER[rows] - angles, angles - _UPPER[rows]), 0.0).max(axis=1)
        out.update(zip(names, excess.tolist()))
    return out

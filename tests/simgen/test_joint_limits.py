"""Joint limits for every joint: revolute by angle, spherical by swing and twist."""

import numpy as np
import pytest

from simgen import rotations as rot
from simgen.joint_limits import SWING_TWIST_LIMITS_DEG, limit_excess_deg, swing_twist_deg
from simgen.motion.skeleton import REVOLUTE_LIMITS, SPHERICAL

X, Y, Z = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]


def q(axis, deg):
    return rot.from_axis_angle(axis, np.radians(deg))


def rest():
    return {n: 0.0 for n in REVOLUTE_LIMITS}, {n: rot.IDENTITY.copy() for n in SPHERICAL}


def excess(joint, value):
    revolute, spherical = rest()
    (revolute if joint in revolute else spherical)[joint] = value
    return limit_excess_deg(revolute, spherical)


def test_every_joint_is_checked_and_rest_is_inside():
    out = limit_excess_deg(*rest())
    assert set(out) == set(REVOLUTE_LIMITS) | set(SPHERICAL)
    assert all(v == 0.0 for v in out.values()), out


def test_swing_and_twist_are_recovered():
    st = swing_twist_deg(rot.multiply(q(X, 30.0), q(Y, -40.0)))
    np.testing.assert_allclose(st, [30.0, 0.0, -40.0], atol=1e-9)
    np.testing.assert_allclose(swing_twist_deg(rot.multiply(q(Z, -70.0), q(Y, 25.0))), [0.0, -70.0, 25.0], atol=1e-9)


@pytest.mark.parametrize(
    "joint, value, beyond",
    [
        ("right_knee", np.radians(10.0), 10.0),  # hyperextended 10 degrees
        ("left_elbow", np.radians(-15.0), 15.0),
        ("right_knee", np.radians(-90.0), 0.0),
        ("right_hip", q(Z, 100.0), 0.0),  # hip flexed 100: inside
        ("right_hip", q(Z, 150.0), 15.0),  # flexed 150 against 135
        ("right_hip", q(Z, -55.0), 15.0),  # extended 55 against 40
        ("right_hip", q(Y, -90.0), 10.0),  # twisted 90 outwards against 80
        ("left_hip", q(Y, 90.0), 10.0),  # the mirror image: same excess
        ("left_hip", q(Y, -90.0), 40.0),  # inwards on the left: 90 against 50
        ("chest", rot.multiply(q(Z, -60.0), q(Y, 70.0)), 20.0),  # bent 60 (inside), twisted 70 against 50
        ("neck", q(Y, 120.0), 35.0),
        ("right_ankle", q(Z, -80.0), 15.0),  # pointed 80 against 65
        ("right_shoulder", q(X, -170.0), 0.0),  # raised overhead sideways
        ("right_shoulder", q(X, -180.0), 0.0),  # straight up: no singularity
        ("right_shoulder", q(Z, 170.0), 0.0),  # raised overhead forwards
        ("left_shoulder", q(X, 170.0), 0.0),
        ("right_shoulder", rot.multiply(q(X, -90.0), q(Z, -80.0)), 20.0),  # held out, swung 80 back against 60
        ("left_shoulder", rot.multiply(q(X, 90.0), q(Z, -80.0)), 20.0),
    ],
)
def test_a_pose_beyond_its_range_by_x_degrees_measures_x(joint, value, beyond):
    assert excess(joint, value)[joint] == pytest.approx(beyond, abs=1e-6)


def test_left_ranges_mirror_the_right():
    for name in SPHERICAL:
        if name.startswith("left_"):
            (xlo, xhi), z, (tlo, thi) = SWING_TWIST_LIMITS_DEG[name.replace("left_", "right_")]
            assert SWING_TWIST_LIMITS_DEG[name] == ((-xhi, -xlo), z, (-thi, -tlo))

"""Body variation: a per-clip variant of the DeepMimic humanoid URDF with other proportions.

Limb lengths scale capsule lengths and joint offsets; girth scales capsule and sphere radii
(the stock humanoid is stick-thin next to clothed people); link masses follow the volume.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Default DeepMimic humanoid is about 1.62 m tall at this scale.
BASE_SCALE = 0.25
BASE_HEIGHT_M = 1.62

TORSO = {"root", "chest"}
ARMS = {"right_shoulder", "right_elbow", "left_shoulder", "left_elbow"}
LEGS = {"right_hip", "right_knee", "left_hip", "left_knee"}
HANDS_FEET = {"right_wrist", "left_wrist", "right_ankle", "left_ankle"}


@dataclass(frozen=True)
class BodyShape:
    """Proportions relative to the stock humanoid (1.0 = unchanged)."""

    height_m: float = BASE_HEIGHT_M
    torso_girth: float = 1.0
    limb_girth: float = 1.0
    arm_length: float = 1.0
    leg_length: float = 1.0
    bulk: float = 1.0  # multiplies both girths: a heavier build, or bulky clothes (see torso/limb)

    @property
    def torso(self) -> float:
        return self.torso_girth * self.bulk

    @property
    def limb(self) -> float:
        return self.limb_girth * self.bulk

    @property
    def size_scale(self) -> float:
        """Height relative to the stock body: scales motion-capture root paths and motor torques."""
        return self.height_m / BASE_HEIGHT_M

    @property
    def global_scale(self) -> float:
        return BASE_SCALE * self.size_scale


@lru_cache(maxsize=1)
def _stock_urdf_text() -> str:
    import pybullet_data

    # The shipped file ends with a NUL byte, which XML parsers reject.
    return (Path(pybullet_data.getDataPath()) / "humanoid" / "humanoid.urdf").read_text().rstrip("\x00\r\n ")


def body_urdf(shape: BodyShape) -> str:
    """URDF text of the humanoid with `shape`'s proportions (before global scaling)."""
    text, fields = _urdf_template()
    return text.format(*(field(shape) for field in fields))


@lru_cache(maxsize=1)
def _urdf_template() -> tuple[str, tuple]:
    """The stock URDF with a {slot} for every number that depends on the body shape, and
    per slot a function shape -> its text. Walking and serialising the XML once, not per
    body, takes ~2 ms off every actor (and passer-by) built."""
    stock = _stock_urdf_text()
    if "{" in stock or "}" in stock:  # the slots below are the only braces str.format may see
        raise RuntimeError("the stock humanoid URDF contains braces; body_urdf cannot template it")
    root = ET.fromstring(stock)
    fields: list = []

    def slot(element, attribute: str, value_of) -> None:
        element.attrib[attribute] = "{%d}" % len(fields)
        fields.append(value_of)

    def numbers(element, attribute: str) -> list[float]:
        return [float(v) for v in element.attrib[attribute].split()]

    def scaled_xyz(element, factor_of) -> None:
        if element is not None and "xyz" in element.attrib:
            xyz = numbers(element, "xyz")
            slot(element, "xyz", lambda s, xyz=xyz: " ".join(f"{v * factor_of(s):.6f}" for v in xyz))

    def length_of(name: str):
        if name in ARMS:
            return lambda s: s.arm_length
        if name in LEGS:
            return lambda s: s.leg_length
        return None

    def girth_of(name: str):
        if name in TORSO:
            return lambda s: s.torso
        if name in ARMS | LEGS | HANDS_FEET:
            return lambda s: s.limb
        return lambda s: 1.0

    for link in root.iter("link"):
        name = link.attrib["name"]
        length, girth = length_of(name), girth_of(name)
        for geom in link.iter("geometry"):
            for shape_el in geom:
                if "radius" in shape_el.attrib:
                    r = float(shape_el.attrib["radius"])
                    slot(shape_el, "radius", lambda s, r=r, g=girth: f"{r * g(s):.6f}")
                if "length" in shape_el.attrib and length is not None:
                    n = float(shape_el.attrib["length"])
                    slot(shape_el, "length", lambda s, n=n, k=length: f"{n * k(s):.6f}")
                if shape_el.tag == "box":
                    x, y, z = numbers(shape_el, "size")
                    slot(shape_el, "size", lambda s, x=x, y=y, z=z, g=girth: f"{x:.6f} {y * g(s):.6f} {z * g(s):.6f}")
        if length is not None:
            for origin in link.iter("origin"):
                scaled_xyz(origin, length)
        mass = link.find("inertial/mass")
        if mass is not None and name != "base":
            m = float(mass.attrib["value"])
            slot(mass, "value", lambda s, m=m, g=girth, k=length: f"{m * g(s) * g(s) * (k(s) if k else 1.0):.6f}")
    for joint in root.iter("joint"):
        parent, child = joint.find("parent").attrib["link"], joint.find("child").attrib["link"]
        if parent in TORSO and child in ARMS | LEGS:
            # A bulkier torso has wider hips and shoulders, so thick limbs do not overlap it.
            origin = joint.find("origin")
            x, y, z = numbers(origin, "xyz")
            slot(origin, "xyz", lambda s, x=x, y=y, z=z: f"{x:.6f} {y:.6f} {z * s.torso:.6f}")
        elif length_of(parent) is not None:
            scaled_xyz(joint.find("origin"), length_of(parent))
        if joint.attrib.get("type") == "spherical" and joint.find("axis") is None:
            # Spherical joints ignore the axis; stating it silences a loader warning per joint.
            ET.SubElement(joint, "axis", xyz="1 0 0")
    return ET.tostring(root, encoding="unicode"), tuple(fields)

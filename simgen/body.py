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
    skirt: float = 0.0  # loose clothing below the waist: a cylinder from the hips down this share of the thigh (0: none)

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


#: the stock humanoid's thigh (right_hip link): its length from hip to knee joint, and the hips' half spread
THIGH_LENGTH = 1.68
HIP_HALF_SPREAD = 0.339548
THIGH_RADIUS = 0.22
#: a skirt reaches a little above the hip joints, and is this much wider than the two thighs side by side
SKIRT_TOP = 0.1
SKIRT_EASE = 1.1


def body_urdf(shape: BodyShape) -> str:
    """URDF text of the humanoid with `shape`'s proportions (before global scaling)."""
    text, fields = _urdf_template(shape.skirt > 0)
    return text.format(*(field(shape) for field in fields))


def _add_skirt(root_link, slot) -> None:
    """A cylinder around both thighs, hanging from the pelvis (the root link).

    The URDF has no <visual> elements, so PyBullet draws the collision shapes: the skirt must be one.
    Self-collision skips a link's ancestors and the root is every link's ancestor, so the legs pass
    through it (cloth would give way); it meets only the ground and other bodies, and its mass is not
    counted (it is cloth). Loose coats and skirts widen the silhouette below the waist, which girth alone
    cannot (Weizmann's people wear jackets and loose trousers)."""
    import xml.etree.ElementTree as ET

    collision = ET.SubElement(root_link, "collision")
    origin = ET.SubElement(collision, "origin", rpy="-1.570796 0 0")
    geometry = ET.SubElement(collision, "geometry")
    cylinder = ET.SubElement(geometry, "cylinder")

    def length(s) -> float:
        return SKIRT_TOP + s.skirt * THIGH_LENGTH * s.leg_length

    slot(origin, "xyz", lambda s: f"0.000000 {SKIRT_TOP - length(s) / 2:.6f} 0.000000")
    slot(cylinder, "length", lambda s: f"{length(s):.6f}")
    slot(cylinder, "radius", lambda s: f"{SKIRT_EASE * (HIP_HALF_SPREAD * s.torso + THIGH_RADIUS * s.limb):.6f}")


@lru_cache(maxsize=2)
def _urdf_template(skirt: bool = False) -> tuple[str, tuple]:
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
    if skirt:
        _add_skirt(next(link for link in root.iter("link") if link.attrib["name"] == "root"), slot)
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

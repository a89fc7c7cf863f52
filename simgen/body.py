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


def _scale_xyz(element, factor: float) -> None:
    if element is not None and "xyz" in element.attrib:
        xyz = [float(v) * factor for v in element.attrib["xyz"].split()]
        element.attrib["xyz"] = " ".join(f"{v:.6f}" for v in xyz)


def body_urdf(shape: BodyShape) -> str:
    """URDF text of the humanoid with `shape`'s proportions (before global scaling)."""
    root = ET.fromstring(_stock_urdf_text())
    length_of = {**{n: shape.arm_length for n in ARMS}, **{n: shape.leg_length for n in LEGS}}
    for link in root.iter("link"):
        name = link.attrib["name"]
        length = length_of.get(name, 1.0)
        girth = shape.torso_girth if name in TORSO else (shape.limb_girth if name in ARMS | LEGS | HANDS_FEET else 1.0)
        for geom in link.iter("geometry"):
            for shape_el in geom:
                if "radius" in shape_el.attrib:
                    shape_el.attrib["radius"] = f"{float(shape_el.attrib['radius']) * girth:.6f}"
                if "length" in shape_el.attrib:
                    shape_el.attrib["length"] = f"{float(shape_el.attrib['length']) * length:.6f}"
                if shape_el.tag == "box":
                    x, y, z = (float(v) for v in shape_el.attrib["size"].split())
                    shape_el.attrib["size"] = f"{x:.6f} {y * girth:.6f} {z * girth:.6f}"
        if length != 1.0:
            for origin in link.iter("origin"):
                _scale_xyz(origin, length)
        mass = link.find("inertial/mass")
        if mass is not None and name != "base":
            mass.attrib["value"] = f"{float(mass.attrib['value']) * girth * girth * length:.6f}"
    for joint in root.iter("joint"):
        child = joint.find("child").attrib["link"]
        if joint.find("parent").attrib["link"] in TORSO and child in ARMS | LEGS:
            # A bulkier torso has wider hips and shoulders, so thick limbs do not overlap it.
            origin = joint.find("origin")
            x, y, z = (float(v) for v in origin.attrib["xyz"].split())
            origin.attrib["xyz"] = f"{x:.6f} {y:.6f} {z * shape.torso_girth:.6f}"
        if joint.attrib.get("type") == "spherical" and joint.find("axis") is None:
            # Spherical joints ignore the axis; stating it silences a loader warning per joint.
            ET.SubElement(joint, "axis", xyz="1 0 0")
        parent = joint.find("parent").attrib["link"]
        if parent in length_of:
            _scale_xyz(joint.find("origin"), length_of[parent])
    return ET.tostring(root, encoding="unicode")

"""Body variation: the per-clip URDF scales the stock humanoid's shapes, masses and joints."""

import xml.etree.ElementTree as ET

import pytest

from simgen.body import BodyShape, _stock_urdf_text, body_urdf


def _links(text: str) -> dict[str, ET.Element]:
    return {link.attrib["name"]: link for link in ET.fromstring(text).iter("link")}


def _first_shape(link: ET.Element) -> ET.Element:
    return next(iter(link.find("collision/geometry")))


def test_the_default_shape_is_the_stock_humanoid():
    stock, default = ET.fromstring(_stock_urdf_text()), ET.fromstring(body_urdf(BodyShape()))
    elements = [[e for e in tree.iter() if e.tag != "axis"] for tree in (stock, default)]  # axes are added (silences a warning)
    assert len(elements[0]) == len(elements[1])
    for a, b in zip(*elements):
        assert a.tag == b.tag
        for key, value in a.attrib.items():
            try:
                assert [float(v) for v in b.attrib[key].split()] == pytest.approx([float(v) for v in value.split()], abs=1e-6), (a.tag, key)
            except ValueError:
                assert b.attrib[key] == value


def test_lengths_girths_and_masses_follow_the_shape():
    stock = _links(_stock_urdf_text())
    shape = BodyShape(height_m=1.8, torso_girth=1.4, limb_girth=1.3, arm_length=1.1, leg_length=0.9)
    body = _links(body_urdf(shape))
    knee, stock_knee = _first_shape(body["right_knee"]), _first_shape(stock["right_knee"])
    assert float(knee.attrib["length"]) == pytest.approx(float(stock_knee.attrib["length"]) * 0.9)
    assert float(knee.attrib["radius"]) == pytest.approx(float(stock_knee.attrib["radius"]) * 1.3)
    elbow, stock_elbow = _first_shape(body["left_elbow"]), _first_shape(stock["left_elbow"])
    assert float(elbow.attrib["length"]) == pytest.approx(float(stock_elbow.attrib["length"]) * 1.1)
    assert float(_first_shape(body["chest"]).attrib["radius"]) == pytest.approx(float(_first_shape(stock["chest"]).attrib["radius"]) * 1.4)

    def mass(links, name):
        return float(links[name].find("inertial/mass").attrib["value"])

    assert mass(body, "chest") == pytest.approx(mass(stock, "chest") * 1.4**2)
    assert mass(body, "right_hip") == pytest.approx(mass(stock, "right_hip") * 1.3**2 * 0.9)
    assert mass(body, "neck") == pytest.approx(mass(stock, "neck"))  # the head keeps its size

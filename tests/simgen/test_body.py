"""Body variation: the per-clip URDF scales the stock humanoid's shapes, masses and joints."""

import xml.etree.ElementTree as ET

import pytest

from simgen.body import BodyShape, _stock_urdf_text, body_urdf


def _links(text: str) -> dict[str, ET.Element]:
    return {link.attrib["name"]: link for link in ET.fromstring(text).iter("link")}


def _first_shape(link: ET.Element) -> ET.Element:
    return next(iter(link.find("collision/geometry")))


def _frontal_masks(make_tiny_spec, body_factor: str, values) -> list:
    """The person mask of frame 1 of one wave1 clip at 64x64 (frontal, static camera, kinematic), once per value
    of ``body_factor``; everything else is the same draw."""
    from simgen.clip import Simulator, make_clip
    from simgen.motion.library import ActionLibrary
    from simgen.sampling import sample_factors

    sim = Simulator(ActionLibrary())
    spec = make_tiny_spec(size=[64, 64], frames=3, **{"physics.enabled": False})
    masks = []
    for value in values:
        factors = sample_factors(spec, sim.library, "wave1", 3)
        factors["camera"].update(trajectory="static", azimuth_deg=0.0, shake_deg=0.0)
        factors["body"][body_factor] = value
        masks.append(make_clip(sim, spec, factors, 3).mask[1] == 1)
    sim.close()
    return masks


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


def test_bulk_scales_both_girths_and_is_a_recorded_factor(make_tiny_spec):
    """bulk is one knob for a heavier build: the same body as both girths multiplied, and
    the sampled value is in the clip's factors (per-factor analysis sees it)."""
    from simgen.motion.library import ActionLibrary
    from simgen.sampling import sample_factors

    assert body_urdf(BodyShape(torso_girth=1.4, limb_girth=1.2, bulk=1.5)) == body_urdf(BodyShape(torso_girth=1.4 * 1.5, limb_girth=1.2 * 1.5))
    assert body_urdf(BodyShape(bulk=1.5)) != body_urdf(BodyShape())
    library = ActionLibrary()
    plain = make_tiny_spec()
    assert [sample_factors(plain, library, "wave1", s)["body"]["bulk"] for s in range(3)] == [1.0] * 3
    bulky = make_tiny_spec(**{"actor.bulk": [1.2, 1.8]})
    drawn = [sample_factors(bulky, library, "wave1", s)["body"]["bulk"] for s in range(20)]
    assert 1.2 <= min(drawn) < max(drawn) <= 1.8
    from simgen.stats import flatten_factors

    flat = flatten_factors(sample_factors(bulky, library, "wave1", 0))
    assert 1.2 <= flat["body.bulk"] <= 1.8 and flat["camera.framing"] == "full"  # per-factor statistics see both
    # A default bulk draws no random number: every other factor of an older spec is unchanged.
    a, b = sample_factors(plain, library, "jack", 7), sample_factors(make_tiny_spec(**{"actor.bulk": 1.0}), library, "jack", 7)
    assert a == b


def test_a_bulky_body_covers_more_of_the_frame(make_tiny_spec):
    """At 64x64 the silhouette's area over its height squared grows with bulk (measured:
    default 0.167, torso 2.5/limb 2.2 0.280, crude colour-segmented real wave1 ~0.35)."""
    import numpy as np

    ratios = []
    for mask in _frontal_masks(make_tiny_spec, "bulk", (1.0, 1.5)):
        rows = np.flatnonzero(mask.any(axis=1))
        ratios.append(mask.sum() / (rows[-1] + 1 - rows[0]) ** 2)
    assert ratios[1] > 1.25 * ratios[0], ratios


def test_a_skirt_is_an_opt_in_factor_that_leaves_older_clips_unchanged(make_tiny_spec):
    from simgen.motion.library import ActionLibrary
    from simgen.sampling import sample_factors

    assert body_urdf(BodyShape(skirt=0.0)) == body_urdf(BodyShape())  # no skirt: the stock shapes, nothing added
    root = _links(body_urdf(BodyShape(skirt=0.5, leg_length=1.0)))["root"]
    cylinder = root.findall("collision/geometry/cylinder")
    assert len(cylinder) == 1 and float(cylinder[0].attrib["length"]) == pytest.approx(0.1 + 0.5 * 1.68)
    library = ActionLibrary()
    plain = make_tiny_spec()
    assert "skirt" not in sample_factors(plain, library, "jack", 7)["body"]
    assert sample_factors(plain, library, "jack", 7) == sample_factors(make_tiny_spec(**{"actor.skirt": 0.0}), library, "jack", 7)
    drawn = [sample_factors(make_tiny_spec(**{"actor.skirt": [0.4, 0.9]}), library, "wave1", s)["body"]["skirt"] for s in range(10)]
    assert 0.4 <= min(drawn) < max(drawn) <= 0.9


def test_a_skirt_widens_the_silhouette_below_the_waist(make_tiny_spec):
    """Frontal, static camera at 64x64: the person mask between the hips and the knees covers more pixels
    (the gap between the legs is filled)."""
    import numpy as np

    widths = []
    for mask in _frontal_masks(make_tiny_spec, "skirt", (0.0, 0.8)):
        rows = np.flatnonzero(mask.any(axis=1))
        top, height = rows[0], rows[-1] + 1 - rows[0]
        thighs = mask[top + int(0.5 * height): top + int(0.7 * height)]  # hips to knees, about
        widths.append(int(thighs.sum()))
    assert widths[1] > 1.3 * widths[0], widths

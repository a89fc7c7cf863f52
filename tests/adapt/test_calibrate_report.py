"""`simgen calibrate` end to end on hand-made folders whose gap has a known cause, the report as a
file a user opens, and bad input."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from html.parser import HTMLParser

import pytest

from tests.adapt.calibrate_data import write_real, write_synthetic


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("calib")
    return dict(root=root, synthetic=write_synthetic(root / "syn"), real=write_real(root / "real"))


@pytest.fixture(scope="module")
def report(folders):
    from simgen.pipelines.cli import main

    out = folders["root"] / "report"
    code = main(["calibrate", "--synthetic", str(folders["synthetic"]), "--real", str(folders["real"]),
                 "--out", str(out), "--bootstrap", "50", "--quiet"])
    assert code == 0
    return out


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.references, self.tags = [], [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for name in ("src", "href", "data", "poster", "srcset"):
            if name in attrs and tag != "img":
                self.references.append((tag, name, attrs[name]))


def test_metrics_json_has_the_promised_keys_with_intervals_and_sizes(report):
    metrics = json.loads((report / "metrics.json").read_text())
    for key in ("frechet_distance", "mmd", "proxy_a_distance", "low_level", "per_factor"):
        assert key in metrics
    for key in ("frechet_distance", "mmd", "proxy_a_distance"):
        lo, hi = metrics[key]["ci95"]
        assert lo <= metrics[key]["value"] <= hi, key
    assert metrics["mmd"]["n"] == {"synthetic": 48, "real": 8}
    assert "Gaussian" in metrics["mmd"]["kernel"]
    assert metrics["features"]["kind"] == "fixed" and "random weights" in metrics["features"]["description"]


def test_the_known_cause_is_found(report):
    """Real boxes are wide; synthetic widths are sampled by body.girth: the report must say both."""
    metrics = json.loads((report / "metrics.json").read_text())
    width = metrics["low_level"]["statistics"]["person_width"]
    assert width["difference"]["ci95"][0] > 0.05  # real people clearly wider, as a share of the frame
    # the label-free box measures what was drawn: body 11-13 px plus the 6 px arm, of 32
    assert width["real"]["mean"] == pytest.approx((12 + 6) / 32, abs=0.05)
    top = metrics["per_factor"]["factors"][0]
    assert top["factor"] == "body.girth", [f["factor"] for f in metrics["per_factor"]["factors"]]
    nearest = next(b for b in top["bins"] if b["bin"] == top["best"])
    assert nearest["low"] > 9.0  # the widest bin looks most like the real clips
    irrelevant = next(f for f in metrics["per_factor"]["factors"] if f["factor"] == "scene.irrelevant")
    assert irrelevant["spread"] < top["spread"] / 2
    assert metrics["per_factor"]["sentences"][0].startswith("body.girth: clips with")
    assert set(metrics["per_factor"]["per_class"]) == {"jack", "wave"}
    drivers = metrics["per_factor"]["statistics"]["person_width"]["drivers"]
    assert drivers[0]["factor"] == "body.girth" and drivers[0]["nearest"] == top["best"]


def test_factors_are_found_generically(report):
    names = {f["factor"] for f in json.loads((report / "metrics.json").read_text())["per_factor"]["factors"]}
    # constants (background, sky colour, occluder count) have one bin; seeds identify clips: none is ranked
    assert "body.girth" in names and not any("seed" in n for n in names) and "scene.background" not in names


def test_report_is_one_self_contained_file(report):
    from PIL import Image

    text = (report / "report.html").read_text()
    parser = _Resources()
    parser.feed(text)
    assert len(parser.images) >= 6
    for src in parser.images:
        assert src.startswith("data:image/png;base64,"), src[:60]
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(png)) as img:
            img.verify()
            assert img.format == "PNG"
    assert not parser.references, parser.references
    assert "script" not in parser.tags and "link" not in parser.tags
    assert not re.search(r"url\(|@import|https?://", text)
    assert "body.girth" in text and "person_width" in text


def test_no_shared_class_is_allowed_and_said(folders, simgen_cli, tmp_path):
    real = write_real(tmp_path / "real_other", labels=("run", "skip"))
    code, out, err = simgen_cli.run(["calibrate", "--synthetic", folders["synthetic"], "--real", real,
                                     "--out", tmp_path / "rep", "--bootstrap", "10", "--max-synthetic", "20", "--quiet"])
    assert code == 0, err
    assert "share no class" in out
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["sets"]["synthetic"]["clips"] == 20 and metrics["mmd"]["n"]["synthetic"] == 20
    assert metrics["per_factor"]["per_class"] == {} and metrics["mmd"]["value"] is not None
    assert "share no class" in (tmp_path / "rep" / "report.html").read_text()


class TestBadInput:
    def test_empty_real_folder(self, folders, simgen_cli, tmp_path):
        (tmp_path / "empty").mkdir()
        simgen_cli.one_line_error(["calibrate", "--synthetic", folders["synthetic"], "--real", tmp_path / "empty",
                                   "--out", tmp_path / "rep"], "--real", "no video clips found")
        assert not (tmp_path / "rep").exists()

    def test_undecodable_real_clips(self, folders, simgen_cli, tmp_path):
        real = write_real(tmp_path / "real", clips=4)
        (real / "wave" / "s0_wave.mp4").write_bytes(b"not a video at all" * 10)
        simgen_cli.one_line_error(["calibrate", "--synthetic", folders["synthetic"], "--real", real,
                                   "--out", tmp_path / "rep"], "--real", "1 of 4", "s0_wave.mp4", "cannot be decoded")
        assert not (tmp_path / "rep").exists()

    def test_output_is_a_file(self, folders, simgen_cli, tmp_path):
        (tmp_path / "taken").write_text("x")
        simgen_cli.one_line_error(["calibrate", "--synthetic", folders["synthetic"], "--real", folders["real"],
                                   "--out", tmp_path / "taken"], "--out", "is a file")

    def test_output_folder_not_writable(self, folders, simgen_cli, tmp_path, monkeypatch):
        locked = tmp_path / "locked"
        locked.mkdir()
        real_access = os.access
        # tests run as root, which may write anywhere: pretend the folder is read-only
        monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
        simgen_cli.one_line_error(["calibrate", "--synthetic", folders["synthetic"], "--real", folders["real"],
                                   "--out", locked], "--out", "permission denied")

    def test_synthetic_folder_is_not_a_dataset(self, folders, simgen_cli):
        simgen_cli.one_line_error(["calibrate", "--synthetic", folders["real"], "--real", folders["real"],
                                   "--out", folders["root"] / "rep2"], "--synthetic", "not a simgen dataset")

    def test_model_file_missing(self, folders, simgen_cli, tmp_path):
        simgen_cli.one_line_error(["calibrate", "--synthetic", folders["synthetic"], "--real", folders["real"],
                                   "--out", tmp_path / "rep", "--model", tmp_path / "nope.pt"], "--model", "not found")


DRAWN_TO_THE_END = """Array.from(document.images).map(img => {
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const row = g.getImageData(0, c.height - 1, c.width, 1).data;
  for (let i = 3; i < row.length; i += 4) if (row[i] < 255) return img.alt + ': last row not drawn';
  return 'ok';
})"""


def test_report_in_headless_chromium(report, tmp_path):
    """As a user sees it: every image loads, the console shows no error; the screenshot is kept."""
    from tests.adapt.cdp_pipe import HeadlessChromium, find_chromium

    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium on this machine (scripts/setup.sh installs Debian's `chromium` when it can)")
    with HeadlessChromium(binary, str(tmp_path / "profile")) as browser:
        browser.open((report / "report.html").resolve().as_uri())
        images = browser.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
        # Chromium shows a truncated PNG as far as it goes (complete, with a width): the figures are opaque,
        # so a transparent pixel in the last row means the image was not drawn to the end
        drawn = browser.evaluate(DRAWN_TO_THE_END)
        height = browser.evaluate("document.body.scrollHeight")
        shot = browser.screenshot()
        errors = browser.console_errors()
    assert len(images) >= 6
    assert all(complete and width > 0 for _, complete, width in images), images
    assert drawn == ["ok"] * len(images), drawn
    assert not errors, errors
    assert height > 2000  # the whole report laid out, not an error page
    (report / "screenshot.png").write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000

"""assets/ (installed as simgen.assets): what a user copies and edits is found, loads, and
ships in a real (non-editable) install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from simgen.assets import ACTIONS, BACKGROUNDS, PRESETS, PROPS, ROOT
from simgen.motion.library import ActionLibrary
from simgen.pipelines.cli import main
from simgen.spec import load_spec, preset_names

REPO = Path(__file__).resolve().parents[1]


def test_the_loaders_read_the_assets_folder():
    assert ROOT == REPO / "assets"
    assert preset_names() == sorted(p.stem for p in PRESETS.glob("*.yaml"))
    library = ActionLibrary()
    for path in ACTIONS.glob("*.yaml"):
        assert library.get(path.stem).path == path and library.get(path.stem).kind == "program"
    assert not (REPO / "simgen" / "actions").exists() and not (REPO / "simgen" / "presets").exists()


def test_backgrounds_and_the_crate_prop_work_in_a_spec(tmp_path):
    from simgen.props import check_assets
    from simgen.textures import check_background_dir, list_images

    check_background_dir(str(BACKGROUNDS), needed=True)
    assert len(list_images(str(BACKGROUNDS))) >= 4
    crate = str(PROPS / "crate.urdf")
    check_assets([crate])
    spec = load_spec(preset="demo", overrides={"scene.background": {"choice": ["image"]}, "scene.background_dir": str(BACKGROUNDS),
                                               "occlusion.static_kinds": ["asset"], "occlusion.assets": [crate]})
    assert spec.occlusion.assets == [crate]


def test_the_crate_renders_with_its_wood_texture():
    from simgen.camera import CameraPath
    from simgen.native import Client
    from simgen.native import pybullet as p
    from simgen.render import render_frame

    client = Client(p.DIRECT)
    try:
        body = client.loadURDF(str(PROPS / "crate.urdf"), [0, 0, 0], useFixedBase=True)
        lo, hi = client.getAABB(body)
        assert np.allclose(lo, [-0.4, 0.0, -0.4], atol=0.01) and np.allclose(hi, [0.4, 1.0, 0.4], atol=0.01)  # stands on the floor
        camera = CameraPath(eye=np.array([[2.0, 1.5, 1.5]]), target=np.array([[0.0, 0.5, 0.0]]), fov_deg=np.array([40.0]),
                            roll_deg=np.zeros(1), width=64, height=64)
        light = dict(lightDirection=[0.6, 1, 0.4], lightColor=[1, 1, 1], lightDistance=10, shadow=0, lightAmbientCoeff=0.6,
                     lightDiffuseCoeff=0.5, lightSpecularCoeff=0.05)
        rgb, _, mask = render_frame(client, camera, 0, light, {body: 1})
    finally:
        client.disconnect()
    pixels = rgb[mask == 1].astype(float)
    assert len(pixels) > 500
    r, g, b = pixels.mean(axis=0)
    assert r > g + 15 > b + 30  # brown wood, not an untextured white box
    # every face is drawn (none culled the wrong way round): the mask fills the box's outline
    corners = np.array([[x, y, z] for x in (-0.4, 0.4) for y in (0.0, 1.0) for z in (-0.4, 0.4)])
    import cv2

    outline = cv2.contourArea(cv2.convexHull(camera.project(0, corners)[0].astype(np.float32)))
    assert abs(len(pixels) - outline) < 0.03 * outline, (len(pixels), outline)


def test_assets_copy_gives_editable_files(tmp_path, capsys):
    out = tmp_path / "mine"
    assert main(["assets", "--copy", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["actions", "backgrounds", "presets", "props"]
    assert not list(out.rglob("*.py"))
    (out / "actions" / "wave1.yaml").write_text((out / "actions" / "wave1.yaml").read_text().replace("cycle_seconds: 1.1", "cycle_seconds: 2.0"))
    assert ActionLibrary(out / "actions").get("wave1").cycle_seconds == 2.0
    capsys.readouterr()
    assert main(["assets", "--copy", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_a_non_editable_install_finds_presets_actions_and_props(tmp_path):
    """`pip install .` (a wheel, not the checkout) and run from elsewhere: ~3 s."""
    import shutil

    # Built from a copy: setuptools writes build/ next to the sources.
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "out", "build", "bench_results", "__pycache__", "*.egg-info", ".pytest_cache"))
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    script = (
        "import simgen.assets as a, simgen.spec as s\n"
        "from simgen.motion.library import ActionLibrary\n"
        "print(a.ROOT)\n"
        "print(','.join(s.preset_names()), s.load_spec(preset='weizmann4').classes[0])\n"
        "print(ActionLibrary().get('jack').path)\n"
        "print(sorted(p.name for p in a.PROPS.iterdir()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    root, presets, action, props = run.stdout.splitlines()
    assert root == str(target / "simgen" / "assets")
    names, first_class = presets.split(" ")
    assert {"demo", "weizmann4", "weizmann4_robust"} <= set(names.split(",")) and first_class == "wave1"
    assert action == str(target / "simgen" / "assets" / "actions" / "jack.yaml")
    assert all(name in props for name in ("crate.urdf", "crate.obj", "crate.mtl", "crate.png"))

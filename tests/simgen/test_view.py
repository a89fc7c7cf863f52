"""Looking at actions and clips: `actions --preview`, the joint signs the README states,
the contact sheet's captions beside the frames, `export`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from simgen.captions import text_band, upscale
from simgen.dataset.reader import DatasetReader
from simgen.preview import clip_header, contact_sheet, frame_caption
from simgen.video import decode_mp4


def _gif_frames(path) -> np.ndarray:
    im = Image.open(path)
    frames = []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGB")))
    return np.stack(frames)


def _side_pixels(panel: np.ndarray):
    """Boolean masks of the preview's red (right limbs) and blue (left limbs) pixels."""
    r, g, b = (panel[..., i].astype(int) for i in range(3))
    return (r > 150) & (g < 110) & (b < 110), (b > 150) & (r < 110) & (g < 150)


# ---------------------------------------------------------------- actions --preview


def test_action_preview_writes_one_cycle_front_and_side_and_shows_motion(tmp_path, simgen_cli):
    out = tmp_path / "wave1.gif"
    code, stdout, _ = simgen_cli.run(["actions", "--preview", "wave1", "--out", out, "--size", 96])
    assert code == 0 and "28 frames" in stdout
    frames = _gif_frames(out)
    assert frames.shape[0] == 28  # 1.1 s cycle at 25 fps
    assert frames.shape[2] == 2 * 96
    body = frames[:, -96:]  # below the title band
    motion = np.abs(body[0].astype(int) - body[14].astype(int)).mean()
    assert motion > 1.0, motion
    # Front view: the actor faces the camera, so its right (red) limbs are on the image's left.
    red, blue = _side_pixels(body[0, :, :96])
    assert red.sum() > 30 and blue.sum() > 30
    assert np.nonzero(red)[1].mean() < np.nonzero(blue)[1].mean()
    # Side view from its right: the right limbs hide most of the left ones.
    red, blue = _side_pixels(body[0, :, 96:])
    assert red.sum() > 2 * blue.sum()


def test_action_preview_of_a_user_action_as_mp4(tmp_path, simgen_cli):
    folder = tmp_path / "acts"
    folder.mkdir()
    (folder / "arms_up.yaml").write_text(
        "name: arms_up\ncycle_seconds: 0.4\nkeyframes:\n"
        "  - {t: 0.0, right_shoulder: [-170, 0, 0], left_shoulder: [0, 0, 0]}\n"
        "  - {t: 0.5, right_shoulder: [-170, 0, 0], left_shoulder: [0, 0, 0]}\n"
    )
    out = tmp_path / "up.mp4"
    assert simgen_cli.run(["actions", "--preview", "arms_up", "--actions", folder, "--out", out])[0] == 0
    frames = decode_mp4(out.read_bytes())
    assert len(frames) == 10
    red, blue = _side_pixels(frames[0, -160:, :160])
    # the right arm is raised overhead: red reaches far above the highest blue pixel
    assert np.nonzero(red)[0].min() < np.nonzero(blue)[0].min() - 20


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["actions", "--preview", "wave3", "--out", "x.gif"], "unknown action 'wave3'; did you mean wave"),
        (["actions", "--preview", "wave1"], "--preview needs --out"),
        (["actions", "--preview", "wave1", "--out", "x.avi"], "expected a .gif or .mp4"),
        (["actions", "--preview", "wave1", "--out", "x.gif", "--size", "9"], "--size"),
    ],
)
def test_action_preview_bad_input_one_line_exit_2(tmp_path, monkeypatch, argv, expected, simgen_cli):
    monkeypatch.chdir(tmp_path)
    code, _, err = simgen_cli.run(argv)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- README joint signs

# The README's table, checked: (channel, value) -> (keypoint, direction it moves, in the
# actor's own terms). One keyframe program, posed exactly as in a clip.
SIGNS = [
    ("chest", [60, 0, 0], "head", "right"),
    ("chest", [0, 0, 60], "head", "back"),
    ("neck", [0, 0, -60], "head", "forward"),
    ("right_shoulder", [-90, 0, 0], "right_wrist", "right"),  # raised sideways
    ("left_shoulder", [90, 0, 0], "left_wrist", "left"),  # raised sideways
    ("right_shoulder", [60, 0, 0], "right_wrist", "left"),  # across the body
    ("right_shoulder", [0, 0, 90], "right_wrist", "forward"),
    ("left_shoulder", [0, 0, 90], "left_wrist", "forward"),
    ("right_hip", [-45, 0, 0], "right_ankle", "right"),
    ("left_hip", [45, 0, 0], "left_ankle", "left"),
    ("right_hip", [0, 0, 60], "right_ankle", "forward"),
    ("right_elbow", 90, "right_wrist", "forward"),
    ("left_elbow", 90, "left_wrist", "forward"),
    ("right_knee", -90, "right_ankle", "back"),
    ("root_yaw", 40, "right_wrist", "forward"),  # turns to face its left
    ("root_pitch", 30, "head", "forward"),
]
DIRECTIONS = {"forward": (0, 1), "back": (0, -1), "up": (1, 1), "down": (1, -1), "right": (2, 1), "left": (2, -1)}


@pytest.fixture(scope="module")
def pose_keypoints():
    from simgen.action_preview import PoseStage
    from simgen.motion.program import parse_program
    from simgen.motion.skeleton import KEYPOINT_NAMES

    stage = PoseStage()

    def keypoints(channels: dict) -> dict:
        pose = parse_program({"name": "t", "keyframes": [{"t": 0.0, **channels}]}).sample(np.zeros(1))
        stage.actor.set_pose(pose, 0, np.zeros(3))
        return dict(zip(KEYPOINT_NAMES, stage.actor.keypoints_world()))

    yield keypoints
    stage.close()


@pytest.mark.parametrize("channel, value, keypoint, direction", SIGNS)
def test_readme_joint_signs(pose_keypoints, channel, value, keypoint, direction):
    rest = pose_keypoints({"chest": [0, 0, 0]})[keypoint]
    moved = pose_keypoints({channel: value})[keypoint]
    axis, sign = DIRECTIONS[direction]
    delta = (moved - rest) * 4.0  # the body is built at 0.25 scale: metres of a 1.62 m person
    assert sign * delta[axis] > 0.1, (delta, direction)


def test_arm_out_sideways_bends_the_elbow_forward_unless_turned_up(pose_keypoints):
    """The README's recipe: x alone raises the arm, and the elbow then bends towards the
    front (at a camera facing the actor); adding z=90 turns the bend upwards."""
    for side, x in (("right", -90), ("left", 90)):
        bent = pose_keypoints({f"{side}_shoulder": [x, 0, 0], f"{side}_elbow": 90})
        forearm = bent[f"{side}_wrist"] - bent[f"{side}_elbow"]
        assert forearm[0] > 0.05 and abs(forearm[1]) < 0.02
        up = pose_keypoints({f"{side}_shoulder": [x, 0, 90], f"{side}_elbow": 90})
        forearm = up[f"{side}_wrist"] - up[f"{side}_elbow"]
        assert forearm[1] > 0.05 and abs(forearm[0]) < 0.02


# ---------------------------------------------------------------- preview and export


def test_sheet_shows_frames_untouched_with_captions_beside_them(tiny_dataset, tmp_path):
    sheet_path = contact_sheet(tiny_dataset, tmp_path / "s.png", clips=1, columns=1, overlays=False)
    sheet = np.asarray(Image.open(sheet_path).convert("RGB"))
    ds = DatasetReader(tiny_dataset)
    frames, ann = ds.read(0)
    cell = upscale(frames[0], 128)
    assert cell.shape[0] >= 128 and frames.shape[1] < 128  # 48 px frames were enlarged
    header = text_band(clip_header(ds.keys[0], ann), cell.shape[1], scale=0.45)
    top = header.shape[0]
    # the frame, pixel for pixel: nothing is drawn over it
    assert np.array_equal(sheet[top:top + cell.shape[0], :cell.shape[1]], cell)
    # its caption sits right below it
    caption = text_band(frame_caption(ann, 0), cell.shape[1])
    below = sheet[top + cell.shape[0]:top + cell.shape[0] + caption.shape[0], :cell.shape[1]]
    assert np.array_equal(below, caption)
    # and with overlays, keypoints are drawn on the frame
    with_overlays = np.asarray(Image.open(contact_sheet(tiny_dataset, tmp_path / "o.png", clips=1, columns=1)).convert("RGB"))
    assert not np.array_equal(with_overlays[top:top + cell.shape[0], :cell.shape[1]], cell)


def test_preview_no_overlays_flag(tiny_dataset, tmp_path, simgen_cli):
    plain, drawn = tmp_path / "plain.png", tmp_path / "drawn.png"
    assert simgen_cli.run(["preview", tiny_dataset, "--out", plain, "--clips", 2, "--no-overlays"])[0] == 0
    assert simgen_cli.run(["preview", tiny_dataset, "--out", drawn, "--clips", 2])[0] == 0
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (plain, drawn))
    assert a.shape == b.shape and np.abs(a - b).sum() > 0
    assert np.array_equal(a, np.asarray(Image.open(contact_sheet(tiny_dataset, tmp_path / "c.png", clips=2, overlays=False)).convert("RGB")))


def test_export_writes_the_clip_enlarged_and_with_overlays(tiny_dataset, tmp_path, simgen_cli):
    ds = DatasetReader(tiny_dataset)
    key = ds.keys[1]
    frames, ann = ds.read(key)
    mp4 = tmp_path / "clip.mp4"
    assert simgen_cli.run(["export", tiny_dataset, key, "--out", mp4])[0] == 0
    shown = decode_mp4(mp4.read_bytes())
    expected = np.stack([upscale(f, 128) for f in frames])
    assert shown.shape == expected.shape  # 48 px -> 144 px, every frame
    assert np.abs(shown.astype(int) - expected.astype(int)).mean() < 4.0
    gif = tmp_path / "clip.gif"
    assert simgen_cli.run(["export", tiny_dataset, key, "--out", gif, "--overlays", "--min-side", 0])[0] == 0
    drawn = _gif_frames(gif)
    assert len(drawn) == len(frames) and drawn.shape[2] == frames.shape[2]
    assert drawn.shape[1] > frames.shape[1]  # the caption band above each frame


@pytest.mark.parametrize(
    "key, out, expected",
    [
        ("clip0000001", "c.mp4", "did you mean clip00000001"),
        ("nothing", "c.mp4", "no clip 'nothing'"),
        ("clip00000001", "c.avi", "expected a .gif or .mp4"),
    ],
)
def test_export_bad_input_one_line_exit_2(tiny_dataset, tmp_path, key, out, expected, simgen_cli):
    code, _, err = simgen_cli.run(["export", tiny_dataset, key, "--out", tmp_path / out])
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / out).exists()

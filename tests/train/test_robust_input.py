"""Issue 11's input side: stabilised differences (``sdiff``) cancel a moving camera, are recorded in
the checkpoint and applied by evaluate and predict; the robust augmentation's frame-rate and
occluder transforms do what they say; the weizmann4_mixed preset validates."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch


def _scene(size=64, seed=0):
    """A smooth textured wall (LK needs texture to track)."""
    rng = np.random.default_rng(seed)
    tex = cv2.resize(rng.normal(0, 1, (size // 4, size // 4)), (size, size), interpolation=cv2.INTER_CUBIC)
    return np.repeat(np.clip(128 + 40 * tex, 0, 255).astype(np.uint8)[..., None], 3, -1)


def _clip(pan_px: float, frames=8, size=64):
    """A dark block swinging its top half, filmed by a camera panning ``pan_px`` per frame."""
    scene = _scene(size + 32)
    out = []
    for t in range(frames):
        f = scene.copy()
        f[40:70, 44:52] = 20
        x = 44 + int(round(6 * np.sin(t / 2)))
        f[36:44, x : x + 10] = 20
        m = np.array([[1.0, 0, -16 - pan_px * t], [0, 1.0, -16]])  # the camera's window slides right
        out.append(cv2.warpAffine(f, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return torch.from_numpy(np.stack(out)).permute(3, 0, 1, 2)[None].float() / 255


def _background_energy(x: torch.Tensor) -> float:
    """Mean |input| beside the person (columns 14-26 and 46-60), where every frame saw the wall."""
    inner = x[0, 0, 1:, 6:58]  # (T-1, H, W)
    return float(torch.cat([inner[..., 14:26], inner[..., 46:60]], -1).abs().mean())


def test_sdiff_cancels_the_camera_motion_that_diff_sees():
    from simgen.train.inputs import InputTransform, input_channels, luma_only

    moving = _clip(pan_px=1.5)
    diff, sdiff = InputTransform("diff")(moving), InputTransform("sdiff")(moving)
    assert sdiff.shape == diff.shape == (1, 1, 8, 64, 64) and input_channels("sdiff") == 1 and luma_only("sdiff")
    assert _background_energy(sdiff) < 0.25 * _background_energy(diff)
    # the person's own motion stays
    assert float(sdiff[0, 0, 1:, 16:30, 26:46].abs().mean()) > 3 * _background_energy(sdiff)
    # a still camera: nothing to undo, the two agree
    still = _clip(pan_px=0.0)
    gap = (InputTransform("sdiff")(still) - InputTransform("diff")(still)).abs()
    assert float(gap.mean()) < 0.01 and float(gap.max()) < 0.25  # 8 x 1/255 = 0.03: a grey level


@pytest.fixture(scope="module")
def sdiff_run(tmp_path_factory, synthetic_dir, train_cli):
    out = tmp_path_factory.mktemp("sdiff") / "run"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "1", "--val-fraction", "0",
                         "--input", "sdiff", "--augment", "robust", *train_cli.FAST) == 0
    return out


@pytest.fixture
def stabilise_calls(monkeypatch):
    """Counts the clips :func:`simgen.train.inputs.stabilised_gray` stabilises (it is still run)."""
    import simgen.train.inputs as inputs

    calls = []
    real = inputs.stabilised_gray

    def counting(gray):
        calls.append(gray.shape[0])
        return real(gray)

    monkeypatch.setattr(inputs, "stabilised_gray", counting)
    return calls


def test_the_checkpoint_records_sdiff_and_evaluate_and_predict_apply_it(sdiff_run, synthetic_dir, train_cli,
                                                                         stabilise_calls, tmp_path):
    import json

    import yaml

    from simgen.train.checkpoint import load_model
    from simgen.train.predict import predict_frames

    model, meta = load_model(sdiff_run / "model.pt")
    assert meta["input"] == "sdiff"
    assert yaml.safe_load((sdiff_run / "config.yaml").read_text().split("\n", 1)[1])["augment"] == "robust"
    # evaluate is told nothing: the checkpoint says sdiff
    assert train_cli.run("evaluate", "--checkpoint", sdiff_run / "model.pt", "--data", synthetic_dir,
                         "--out", tmp_path / "m.json", "--no-progress") == 0
    assert sum(stabilise_calls) >= 12  # every one of the 12 clips, window by window
    assert json.loads((tmp_path / "m.json").read_text())["n_clips"] == 12
    stabilise_calls.clear()
    frames = (_clip(1.5, frames=20, size=32)[0].permute(1, 2, 3, 0).numpy() * 255).astype(np.uint8)
    predict_frames(model, meta, frames, 25.0)
    assert stabilise_calls


def test_a_diff_checkpoint_is_not_stabilised(checkpoint, synthetic_dir, train_cli, stabilise_calls, tmp_path):
    assert train_cli.run("evaluate", "--checkpoint", checkpoint, "--data", synthetic_dir,
                         "--out", tmp_path / "m.json", "--no-progress") == 0
    assert stabilise_calls == []


def test_frame_rate_holds_frames_like_a_slower_camera():
    from simgen.train.augment import RandomFrameRate

    g = torch.Generator().manual_seed(0)
    same = RandomFrameRate((1.0, 1.0), p=1.0).sample_map(16, g)
    assert same.tolist() == list(range(16))
    for d, t in [(2.0, 16), (3.0, 30)] * 10:
        idx = RandomFrameRate((d, d), p=1.0).sample_map(t, g)
        assert (idx <= torch.arange(t)).all() and (torch.diff(idx) >= 0).all()  # never a frame from the future
        shots = sorted(set(idx.tolist()))
        # a capture every d frames (before the first one inside the clip, frame 0 is held)
        assert set(np.diff(shots[1:]).tolist()) == {int(d)} and len(shots) in (t // d, t // d + 1, t // d + 2)
        assert max(torch.unique_consecutive(idx, return_counts=True)[1].tolist()) <= d
    with pytest.raises(ValueError, match="divisor"):
        RandomFrameRate((0.5, 2.0))


def test_the_occluder_is_one_opaque_box_moving_at_constant_speed():
    from simgen.train.augment import MovingOccluder

    video = torch.zeros(6, 3, 10, 40, 40)
    occ = MovingOccluder(width=(0.25, 0.25), height=(1.0, 1.0), p=1.0)
    out = occ(video, torch.Generator().manual_seed(3))
    moved = 0
    for clip in (out != 0).any(1):  # (T, H, W) masks of changed pixels
        lefts = []
        for frame in clip:
            cols = torch.nonzero(frame.any(0)).flatten()
            if len(cols) == 0:
                continue  # the box is outside the frame
            assert frame[:, cols].all()  # full height, every covered column
            assert cols.max() - cols.min() + 1 == len(cols) <= 10  # one box, at most a quarter of the width
            if 0 < cols.min() and cols.max() < 39:
                lefts.append(int(cols.min()))
        if len(lefts) >= 3:  # wholly inside: the left edge moves by a constant step (+-1 px of rounding)
            steps = np.diff(lefts)
            assert steps.max() - steps.min() <= 1
            moved += int(abs(steps).sum() > 0)
    assert moved  # some clip's box crossed the view
    assert torch.equal(MovingOccluder(p=0.0)(video), video)


def test_an_occluder_with_travel_stays_near_its_start_and_draws_the_rest_as_before():
    from simgen.train.augment import MovingOccluder

    free = MovingOccluder(p=1.0).generate_parameters(2000, generator=torch.Generator().manual_seed(5))
    slow = MovingOccluder(travel=0.3, p=1.0).generate_parameters(2000, generator=torch.Generator().manual_seed(5))
    for key in ("width", "height", "start", "anchor", "colour", "texture", "seed"):  # travel is drawn after these
        assert torch.equal(torch.as_tensor(free[key]), torch.as_tensor(slow[key])), key
    moved = (slow["end"] - slow["start"]).abs()
    assert float(moved.max()) <= 0.3 + 1e-6 and float(moved.max()) > 0.25  # up to the travel, in both directions
    assert bool(((slow["end"] - slow["start"]) < 0).any()) and bool(((slow["end"] - slow["start"]) > 0).any())
    assert float((free["end"] - free["start"]).abs().max()) > 0.9  # without travel a box may cross the whole frame
    video = torch.zeros(2, 3, 10, 40, 40)
    box = MovingOccluder(width=(0.25, 0.25), height=(1.0, 1.0), travel=0.1, p=1.0)
    out = box(video, torch.Generator().manual_seed(1))
    for clip in (out != 0).any(1).any(1):  # (T, W): covered columns per frame
        lefts = [int(torch.nonzero(c).min()) for c in clip if c.any() and not c[0] and not c[-1]]
        assert not lefts or max(lefts) - min(lefts) <= 0.1 * 40 + 1  # moved at most 10% of the width


def _swinging_block(frames=12, size=64):
    """A dark block sliding 1 px a frame across a mid-grey frame, RGB in ``[0, 1]``: ``(1, 3, T, H, W)``."""
    v = torch.full((1, 3, frames, size, size), 0.6)
    for t in range(frames):
        v[0, :, t, 10:22, 6 + t:14 + t] = 0.1
    return v


def test_the_codec_is_a_real_h264_round_trip_that_skips_small_changes_at_high_crf():
    from simgen.train.augment.camera import VideoCodec

    video = _swinging_block()
    mild = VideoCodec(crf=(18.0, 18.0), p=1.0)(video, torch.Generator().manual_seed(0))
    harsh = VideoCodec(crf=(51.0, 51.0), p=1.0)(video, torch.Generator().manual_seed(0))
    assert mild.shape == harsh.shape == video.shape and mild.dtype == video.dtype
    assert float((mild - video).abs().mean()) < 0.02  # CRF 18: close to the input
    assert float((harsh - video).abs().mean()) > 2 * float((mild - video).abs().mean())

    still = torch.full((1, 3, 8, 64, 64), 0.4)
    still[..., 8:40, 8:30] = 0.8
    coded = VideoCodec(crf=(51.0, 51.0), p=1.0)(still, torch.Generator().manual_seed(0))
    assert float((coded[:, :, 1:] - coded[:, :, :-1]).abs().max()) < 0.01  # predicted frames: a still scene stays still
    again = VideoCodec(crf=(51.0, 51.0), p=1.0)(video, torch.Generator().manual_seed(0))
    assert torch.equal(again, harsh)  # deterministic (one thread, same CRF; x264 is not on frames under 48 px)
    assert torch.equal(VideoCodec(p=0.0)(video), video)
    with pytest.raises(ValueError, match="RGB"):
        VideoCodec(p=1.0)(video[:, :1])


def test_the_robust_preset_builds_with_its_own_ranges():
    from simgen.train.augment.camera import Compression, MovingOccluder, VideoCodec
    from simgen.train.augment.pipeline import create_clip_augmentation
    from simgen.train.augment.temporal import RandomFrameRate
    from simgen.train.config import AUGMENT_PRESETS

    aug = create_clip_augmentation(size=32, luma_only=True, **AUGMENT_PRESETS["robust"])
    kinds = {type(m): m for m in aug.camera}
    assert kinds[Compression].quality == (10.0, 60.0) and MovingOccluder in kinds
    assert kinds[VideoCodec].crf == (28.0, 51.0) and list(kinds)[-1] is VideoCodec  # the encoder comes last
    assert any(isinstance(t, RandomFrameRate) and t.divisor == (1.0, 2.0) for t in aug.temporal.transforms)
    v, _ = aug(torch.rand(4, 3, 8, 32, 32), generator=torch.Generator().manual_seed(0))
    assert v.shape == (4, 3, 8, 32, 32) and 0 <= float(v.min()) and float(v.max()) <= 1


def test_the_occluded_preset_is_robust_with_more_taller_slower_boxes():
    from simgen.train.augment.camera import MovingOccluder
    from simgen.train.augment.pipeline import create_clip_augmentation
    from simgen.train.config import AUGMENT_PRESETS

    robust, occluded = AUGMENT_PRESETS["robust"], AUGMENT_PRESETS["occluded"]
    assert {k: v for k, v in occluded.items() if not k.startswith("occluder")} == {
        k: v for k, v in robust.items() if not k.startswith("occluder")}
    aug = create_clip_augmentation(size=32, luma_only=True, **occluded)
    (box,) = [m for m in aug.camera if isinstance(m, MovingOccluder)]
    assert (box.p, box.height, box.travel) == (0.6, (0.7, 1.0), 0.3)
    (plain,) = [m for m in create_clip_augmentation(size=32, **robust).camera if isinstance(m, MovingOccluder)]
    assert (plain.p, plain.height, plain.travel) == (0.3, (0.4, 1.0), None)


def test_the_light_occluder_preset_is_light_plus_the_robust_box_alone():
    from simgen.train.augment.camera import MovingOccluder
    from simgen.train.augment.pipeline import create_clip_augmentation
    from simgen.train.config import AUGMENT_PRESETS

    aug = create_clip_augmentation(size=32, **AUGMENT_PRESETS["light-occluder"])
    (box,) = aug.camera  # no noise, blur, JPEG or H.264: a box in front of the person and nothing else
    assert isinstance(box, MovingOccluder) and (box.p, box.height, box.travel) == (0.3, (0.4, 1.0), None)
    light = create_clip_augmentation(size=32, **AUGMENT_PRESETS["light"])
    assert len(aug.temporal.transforms) == len(light.temporal.transforms)
    # the box is drawn: on a black clip, some clips of a batch get a box (30% each), the rest stay black
    video = torch.zeros(16, 3, 8, 32, 32)
    boxed = aug.camera[0](video, generator=torch.Generator().manual_seed(0))
    hit = boxed.flatten(1).amax(1) > 0
    assert 0 < int(hit.sum()) < 16


def test_the_mixed_preset_validates_and_mixes_in_every_condition():
    from simgen.spec import load_spec, preset_names

    assert "weizmann4_mixed" in preset_names()
    s = load_spec(preset="weizmann4_mixed")
    assert s.classes == ["wave1", "wave2", "jack", "bend"] and s.size == (64, 64)
    assert 0 < s.occlusion.probability < 0.5 and 0 < s.sequence.probability < 0.5
    assert {"static", "zoom", "pan"} <= set(s.camera.trajectory.choice)
    assert s.camera.trajectory.choice[0] == "static" and s.camera.trajectory.weights[0] > sum(s.camera.trajectory.weights) / 2
    assert max(s.camera_noise.crf.choice) + s.camera_noise.crf.jitter > 40
    assert min(s.camera.actor_height_fraction.choice) - s.camera.actor_height_fraction.jitter < 0.35


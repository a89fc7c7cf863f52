"""Real footage is replayed at the frame rate the model was trained at (train/frame_rate.py)."""

import json

import numpy as np
import pytest
import torch

from simgen.train.data.batch import ClipDataset
from simgen.train.data.cache import FrameCache
from simgen.train.data.synthetic import open_reader
from simgen.train.frame_rate import back_to_source, model_fps, to_model_rate, training_fps


def test_50fps_clip_for_a_25fps_model_keeps_every_other_frame():
    frames = np.arange(40)[:, None, None, None] * np.ones((1, 4, 4, 3), np.uint8)
    out, idx = to_model_rate(frames, 50.0, 25.0)
    assert len(out) == 20 and idx.tolist() == list(range(0, 40, 2))
    assert (out[:, 0, 0, 0] == np.arange(0, 40, 2)).all()
    tensor_out, _ = to_model_rate(torch.from_numpy(frames), 50.0, 25.0)
    assert tensor_out.shape[0] == 20


@pytest.mark.parametrize("dst", [25.0, None])
def test_clip_at_the_model_rate_or_unknown_rate_is_untouched(dst):
    frames = np.zeros((33, 4, 4, 3), np.uint8)
    out, idx = to_model_rate(frames, 25.0, dst)
    assert out is frames and idx.tolist() == list(range(33))


def test_predictions_map_back_to_every_source_frame():
    _, idx = to_model_rate(np.zeros((10, 1, 1, 3)), 50.0, 25.0)   # keeps 0,2,4,6,8
    assert back_to_source(idx, 10).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    _, up = to_model_rate(np.zeros((3, 1, 1, 3)), 12.5, 25.0)      # 0,0,1,1,2,2
    assert back_to_source(up, 3).tolist() == [1, 3, 5]               # the last copy of each frame


def test_model_fps_prefers_the_resampling_option_then_the_recorded_rate():
    assert model_fps(dict(fps=30.0, train_fps=25.0)) == 30.0
    assert model_fps(dict(fps=None, train_fps=25.0)) == 25.0
    assert model_fps(dict(fps=None)) is None  # older checkpoints: unknown


def with_spec(root, **spec):
    meta = json.loads((root / "dataset.json").read_text())
    meta["spec"] = spec
    (root / "dataset.json").write_text(json.dumps(meta))
    return root


def test_training_fps_is_the_option_or_the_synthetic_spec_rate(tmp_path, helpers):
    rng = np.random.default_rng(0)
    root = helpers.write_synthetic(tmp_path / "s", [("left", helpers.moving_square("left", 8, 16, rng), ["left"] * 8)])
    ds = ClipDataset(open_reader(with_spec(root, fps=12.5)), FrameCache(None), num_frames=4)
    assert training_fps(None, ds) == 12.5
    assert training_fps(30, ds) == 30.0
    assert training_fps(None, torch.utils.data.ConcatDataset([ds])) == 12.5


def test_evaluate_resamples_a_50fps_real_clip_for_a_model_trained_at_25(tmp_path, helpers, train_cli):
    """Checkpoint records the synthetic rate; a fully segmented 40-frame clip at 50 fps scores 20 frames."""
    rng = np.random.default_rng(1)
    clips = [(c, helpers.moving_square(c, 16, 32, rng), [c] * 16) for c in helpers.CLASSES * 2]
    synth = with_spec(helpers.write_synthetic(tmp_path / "synth", clips), fps=25.0)
    run_dir = tmp_path / "run"
    assert train_cli.run("train", "--synthetic", synth, "--out", run_dir, "--epochs", "1", "--val-fraction", "0", *train_cli.FAST) == 0
    meta = torch.load(run_dir / "model.pt", weights_only=True)["meta"]
    assert meta["fps"] is None and meta["train_fps"] == 25.0
    real = tmp_path / "real"
    for name, fps in (("fast", 50.0), ("same", 25.0)):
        helpers.write_video_file(real / f"{name}.mp4", helpers.moving_square("left", 40, 32, rng), fps=fps)
    (real / "labels.csv").write_text("path,label\nfast.mp4,left\nsame.mp4,left\n")
    (real / "segments.csv").write_text("path,start,end,label\nfast.mp4,0,40,left\nsame.mp4,0,40,left\n")
    ev = tmp_path / "ev.json"
    assert train_cli.run("evaluate", "--checkpoint", run_dir / "model.pt", "--data", real, "--out", ev, "--task", "segment",
                         "--no-progress", "--json") == 0
    assert json.loads(ev.read_text())["n_frames"] == 20 + 40

"""The per-frame head's background output for transition/idle frames (train/background.py)."""

import json

import numpy as np
import pytest
import torch

from simgen.train.background import background_label
from simgen.train.data.batch import ClipDataset
from simgen.train.data.cache import FrameCache
from simgen.train.data.synthetic import open_reader
from simgen.train.metrics.decode import decode_frame_scores
from simgen.train.metrics.segment import segmentation_metrics
from simgen.train.models import create_action_model


class Spec:
    def __init__(self, spec):
        self.spec = spec


@pytest.mark.parametrize("mode,probability,expected", [
    ("auto", 0.4, "idle"), ("auto", 0.0, None), ("on", 0.0, "idle"), ("off", 0.4, None)])
def test_auto_is_on_exactly_when_the_synthetic_data_chains_actions(mode, probability, expected):
    readers = [Spec(dict(sequence=dict(probability=probability, background_label="idle")))]
    assert background_label(mode, readers) == expected
    assert background_label(mode, readers, frame_head=False) is None


def test_default_label_without_a_spec():
    assert background_label("on", [Spec({})]) == "transition"
    assert background_label("auto", [Spec({})]) is None


def chained(helpers, rng, a="left", b="right", gap=8, n=12):
    """``a`` for n frames, a still gap labelled ``transition``, ``b`` for n frames."""
    frames = np.concatenate([helpers.moving_square(a, n, 32, rng), helpers.moving_square("still", gap, 32, rng),
                             helpers.moving_square(b, n, 32, rng)])
    return (a, frames, [a] * n + ["transition"] * gap + [b] * n)


def test_transition_frames_get_the_background_index_only_when_asked(tmp_path, helpers):
    root = helpers.write_synthetic(tmp_path / "s", [chained(helpers, np.random.default_rng(0))])
    reader = open_reader(root)
    plain = ClipDataset(reader, FrameCache(None), num_frames=4).clip(0)["frame_labels"].tolist()
    bg = ClipDataset(reader, FrameCache(None), num_frames=4, background_label="transition").clip(0)["frame_labels"].tolist()
    assert plain == [0] * 12 + [-1] * 8 + [1] * 12
    assert bg == [0] * 12 + [3] * 8 + [1] * 12  # 3 classes: index 3 is background


def test_model_has_one_more_frame_output():
    m = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", frame_background=True)
    out = m(torch.rand(1, 1, 8, 32, 32))
    assert out["clip"].shape == (1, 3) and out["frame"].shape == (1, 4, 8)


def test_decoding_turns_the_background_output_into_no_action():
    probs = np.array([[.8, .1, .1], [.1, .2, .7], [.1, .8, .1]])  # K = 2 classes + background
    assert decode_frame_scores(probs, 2).tolist() == [0, -1, 1]
    assert decode_frame_scores(probs[:, :2], 2).tolist() == [0, 1, 1]  # a head without background


def test_viterbi_keeps_a_background_run_shorter_than_the_action_minimum():
    truth = [0] * 10 + [2] * 4 + [1] * 10  # a 4-frame transition, min_duration 8
    probs = np.full((24, 3), 0.05)
    probs[np.arange(24), truth] = 0.9
    pred = decode_frame_scores(probs, 2, smoothing="viterbi", min_duration=8)
    assert pred.tolist() == [0] * 10 + [-1] * 4 + [1] * 10


def test_perfect_labelling_scores_f1_50_of_1_only_with_background():
    truth = np.array([0] * 10 + [-1] * 12 + [1] * 10 + [-1] * 12 + [0] * 10)
    # without a background output the best a head can do is give each gap to a neighbour
    stretched = np.array([0] * 16 + [1] * 22 + [0] * 16)
    assert segmentation_metrics([(truth, truth)])["f1@50"] == 1.0
    assert segmentation_metrics([(stretched, truth)])["f1@50"] < 1.0


def test_training_on_chained_clips_records_and_trains_the_background_output(tmp_path, helpers, train_cli):
    rng = np.random.default_rng(2)
    clips = [chained(helpers, rng, a, b) for a, b in [("left", "right"), ("right", "still"), ("still", "left")] * 2]
    root = helpers.write_synthetic(tmp_path / "s", clips)
    meta = json.loads((root / "dataset.json").read_text())
    meta["spec"] = dict(fps=25.0, sequence=dict(probability=1.0, background_label="transition"))
    (root / "dataset.json").write_text(json.dumps(meta))
    for mode, expected in (("auto", "transition"), ("off", None)):
        out = tmp_path / mode
        assert train_cli.run("train", "--synthetic", root, "--out", out, "--epochs", "1", "--val-fraction", "0",
                             "--frame-background", mode, *train_cli.FAST) == 0
        ck = torch.load(out / "model.pt", weights_only=True)
        assert ck["meta"]["frame_background"] == expected
        assert ck["model"]["frame_head.net.3.weight"].shape[0] == 3 + (expected is not None)
    ev = tmp_path / "ev.json"
    assert train_cli.run("evaluate", "--checkpoint", tmp_path / "auto" / "model.pt", "--data", root, "--out", ev,
                         "--task", "segment", "--smoothing", "viterbi", "--no-progress", "--json") == 0
    m = json.loads(ev.read_text())
    assert m["n_frames"] == 6 * 24  # transition frames stay out of the frame accuracy, as before
    # with a model without the background output: it counts as giving background probability 0
    # (train/ensemble_scores.py: pad_background), and the mean is read with the background output
    assert train_cli.run("evaluate", "--checkpoint", tmp_path / "auto" / "model.pt", tmp_path / "off" / "model.pt",
                         "--data", root, "--out", ev, "--task", "segment", "--smoothing", "viterbi",
                         "--no-progress", "--json") == 0
    both = json.loads(ev.read_text())
    assert both["n_frames"] == 6 * 24 and [r["name"] for r in both["ensemble"]["rows"]] == \
        ["member 1", "member 2", "mean", "vote"]
    assert all("f1@25" in r for r in both["ensemble"]["rows"])


def test_background_truth_frames_are_no_action_in_the_segment_metrics(tmp_path, helpers):
    from simgen.train.evaluate import evaluate_dataset

    root = helpers.write_synthetic(tmp_path / "s", [chained(helpers, np.random.default_rng(3))])
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", frame_background=True)
    ds = ClipDataset(open_reader(root, size=32), FrameCache(None), num_frames=8, background_label="transition")
    m = evaluate_dataset(model, ds, input_mode="diff", num_frames=8, stride=1, task="segment")
    assert m["n_frames"] == 24  # the 8 transition frames are not action frames

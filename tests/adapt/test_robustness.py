"""Perturbed and chained evaluation, with hand-made models whose answers are known."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from simgen.adapt.perturb import PERTURBATIONS
from simgen.adapt.robustness import (
    chained_videos,
    evaluate_chained,
    evaluate_perturbed,
    parse_perturbations,
)
from simgen.train.data.batch import ClipDataset
from simgen.train.data.cache import FrameCache
from simgen.train.data.real import RealFolderReader


class MotionDetector(nn.Module):
    """Class 1 ("moving") when the mean absolute frame difference of a window is large, else 0 ("still").

    Per-frame scores follow the same rule frame by frame, so a moving camera or a
    sweeping occluder turns every "still" frame into "moving".
    """

    def forward(self, x):  # x: (B,3,T,H,W), "rgb" input: normalised
        d = (x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=(1, 3, 4))  # (B,T-1)
        d = torch.cat([d[:, :1], d], 1)
        frame = torch.stack([0.15 - d, d - 0.15], 1) * 50  # (B,2,T)
        return {"clip": frame.mean(2), "frame": frame}


def _texture(rng, size=32):
    return np.clip(rng.normal(120, 40, (size, size, 3)), 0, 255).astype(np.uint8)


def _still(rng, n=24):
    return np.repeat(_texture(rng)[None], n, 0)


def _moving(rng, n=24):
    tex = _texture(rng)
    return np.stack([np.roll(tex, 3 * t, axis=1) for t in range(n)])


@pytest.fixture(scope="module")
def motion_folder(tmp_path_factory) -> Path:
    from simgen.video import encode_mp4

    root = tmp_path_factory.mktemp("motion")
    rng = np.random.default_rng(0)
    lines = ["path,label,subject"]
    for i in range(6):
        label = ["still", "moving"][i % 2]
        frames = (_still if label == "still" else _moving)(rng)
        (root / f"c{i}.mp4").write_bytes(encode_mp4(frames, 25.0))
        lines.append(f"c{i}.mp4,{label},s{i // 2}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


def _dataset(root, fps=None):
    reader = RealFolderReader(root, classes=["still", "moving"], size=32)
    ds = ClipDataset(reader, FrameCache(None), num_frames=8, sampler="uniform", stride=1, fps=fps)
    ds.prepare(progress=False)
    return ds


def test_perturbations_reach_the_model_and_drops_are_in_points(motion_folder):
    ds = _dataset(motion_folder)
    r = evaluate_perturbed(MotionDetector(), ds, kinds=list(PERTURBATIONS), input_mode="rgb", num_frames=8, stride=1)
    assert r["clean"]["accuracy"] == 1.0 and r["clean"]["n_clips"] == 6
    assert r["levels"] == {k: [f"{v:g}" for v in PERTURBATIONS[k]] for k in PERTURBATIONS}
    for level in r["levels"]["camera"]:
        # the moving camera makes every still clip look moving: half the clips wrong
        assert r["camera"][level]["accuracy"] == 0.5 and r["camera"][level]["drop"] == 50.0
        assert r["camera"][level]["per_class"]["still"] == 0.0
    # the still clips reach the model as one picture; all are "still", so frozen clips cost a model of differences
    # nothing; a moving camera unfreezes them
    assert r["clean"]["frozen"] == 3 and r["clean"]["difference_ceiling"] == 1.0
    assert all(r["camera"][level]["frozen"] == 0 for level in r["levels"]["camera"])
    for level in r["levels"]["scale"] + r["levels"]["fps"]:  # a static scene stays static, motion stays motion
        kind = "scale" if level in r["levels"]["scale"] else "fps"
        assert r[kind][level]["accuracy"] == 1.0 and r[kind][level]["drop"] == 0.0


def test_perturbed_scores_are_deterministic_and_depend_on_the_seed(motion_folder):
    ds = _dataset(motion_folder)

    class Brightness(nn.Module):  # "moving" iff the clip is bright: the occluder's random colour decides
        def forward(self, x):
            m = x.mean(dim=(1, 3, 4))
            return {"clip": torch.stack([-m.mean(1), m.mean(1)], 1) * 10}

    def run(seed):
        r = evaluate_perturbed(Brightness(), ds, kinds=["occlusion"], input_mode="rgb", num_frames=8, stride=1,
                               seed=seed)
        return [r["occlusion"][k]["accuracy"] for k in r["levels"]["occlusion"]]

    assert run(0) == run(0)
    assert len({tuple(run(s)) for s in range(6)}) > 1


def test_chained_segmentation_raw_and_decoded(motion_folder):
    ds = _dataset(motion_folder)
    videos, fps = chained_videos(ds, seed=0, videos_per_subject=2, gap=(2, 2))
    assert fps == 25.0 and len(videos) == 6  # 3 subjects x 2 orders
    r = evaluate_chained(MotionDetector(), videos, input_mode="rgb", num_frames=8, stride=1, fps=fps, min_duration=4)
    for decoding in ("raw", "median", "viterbi"):
        m = r["clean"][decoding]
        assert m["n_videos"] == 6 and m["n_frames"] == 6 * 48  # the 2 gap frames per video are not scored
        assert m["frame_accuracy"] > 0.9 and m["f1@50"] > 0.9


def test_chained_segmentation_under_perturbation_and_resampling(motion_folder):
    ds = _dataset(motion_folder)
    videos, fps = chained_videos(ds, seed=0)
    r = evaluate_chained(MotionDetector(), videos, input_mode="rgb", num_frames=8, stride=1, fps=fps,
                         min_duration=4, kinds=["camera", "fps"])
    clean = r["clean"]["viterbi"]["n_frames"]
    assert r["fps"]["2"]["raw"]["n_frames"] == len(range(0, 48, 2)) * 3  # labels dropped with the frames
    assert r["fps"]["2"]["raw"]["frame_accuracy"] > 0.9  # ... the same frames' labels
    assert r["camera"]["0.3"]["raw"]["frame_accuracy"] < 0.75 < r["clean"]["raw"]["frame_accuracy"]
    back = evaluate_chained(MotionDetector(), videos, input_mode="rgb", num_frames=8, stride=1, fps=fps,
                            min_duration=4, kinds=["fps"], target_fps=25.0)
    assert back["fps"]["2"]["raw"]["n_frames"] == clean  # resampled back to the model's rate


def test_decodings_differ_as_documented():
    from simgen.adapt.robustness import decode

    p = np.full((12, 2), 0.1)
    p[:, 0] = 0.9
    p[2, :] = [0.2, 0.8]  # a one-frame flicker
    p[7:10, :] = [0.4, 0.6]  # a three-frame run
    out = decode(p, median_size=3, min_duration=4)
    assert out["raw"].tolist() == [0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert out["median"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]  # median of 3: the flicker goes
    assert out["viterbi"].tolist() == [0] * 12  # no run of 4 frames: no switch


def test_parse_perturbations():
    assert parse_perturbations("occlusion, fps,occlusion") == ["occlusion", "fps"]
    assert parse_perturbations("all") == list(PERTURBATIONS)
    with pytest.raises(ValueError, match="unknown perturbation 'blurr'; choices: occlusion, camera"):
        parse_perturbations("occlusion,blurr")


def test_chained_decoding_turns_the_background_output_into_no_action():
    from simgen.adapt.robustness import decode

    probs = np.full((30, 3), 0.05)
    probs[:12, 0] = probs[18:, 1] = 0.9
    probs[12:18, 2] = 0.9  # column 2 = the background output of a 2-class model
    for name, pred in decode(probs, min_duration=4, num_classes=2).items():
        assert pred.tolist() == [0] * 12 + [-1] * 6 + [1] * 12, name
    assert decode(probs, min_duration=4)["raw"][12:18].tolist() == [2] * 6  # no background column: a class


def test_frozen_clips_of_two_classes_cap_a_model_of_differences(tmp_path):
    """Still clips labelled with two classes: a model of frame differences gives them one label, so at most the
    larger class among them is right; the report prints the cap."""
    from simgen.video import encode_mp4
    from simgen.pipelines.robustness_options import robustness_summary

    rng = np.random.default_rng(1)
    lines = ["path,label,subject"]
    for i, label in enumerate(["still", "still", "moving", "moving"]):
        frames = _still(rng) if i != 3 else _moving(rng)  # c2: a "moving" clip that does not move
        (tmp_path / f"c{i}.mp4").write_bytes(encode_mp4(frames, 25.0))
        lines.append(f"c{i}.mp4,{label},s{i}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    r = evaluate_perturbed(MotionDetector(), _dataset(tmp_path), kinds=["fps"], input_mode="rgb", num_frames=8,
                           stride=1)
    assert r["clean"]["frozen"] == 3 and r["clean"]["difference_ceiling"] == 0.75  # 3 of 4: both stills + c3
    assert r["fps"]["2"]["frozen"] == 3 and r["clean"]["accuracy"] <= r["clean"]["difference_ceiling"]
    text = robustness_summary({"perturbed": r})
    assert "fps@2: 3 of 4 test clips frozen" in text and "at most 75.0% there" in text

"""``simgen evaluate --test-perturb`` and ``--task segment`` on a real folder of single-action clips."""

import json

import numpy as np
import pytest
import torch

CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def real_folder(tmp_path_factory):
    """2 people x 3 classes, 20 frames of 32x32 each, labels.csv with subjects, no segments.csv."""
    from simgen.video import encode_mp4

    root = tmp_path_factory.mktemp("real")
    rng = np.random.default_rng(0)
    lines = ["path,label,subject"]
    for s in range(2):
        for k, label in enumerate(CLASSES):
            frames = np.clip(rng.normal(60 * (k + 1), 20, (20, 32, 32, 3)), 0, 255).astype(np.uint8)
            (root / f"s{s}_{label}.mp4").write_bytes(encode_mp4(frames, 25.0))
            lines.append(f"s{s}_{label}.mp4,{label},s{s}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An untrained tiny3d with a per-frame head, saved as a simgen checkpoint."""
    from simgen.train.checkpoint import FORMAT
    from simgen.train.models import create_action_model

    torch.manual_seed(0)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", frame_head=True)
    meta = dict(format=FORMAT, backbone="tiny3d", input="diff", classes=CLASSES, num_frames=8, stride=1, fps=None,
                size=32, frame_head=True, optim={})
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    torch.save(dict(meta=meta, model=model.state_dict()), path)
    return path


def test_test_perturb_scores_each_level_beside_clean(real_folder, checkpoint, tmp_path, simgen_cli):
    out = tmp_path / "m.json"
    code, stdout, _ = simgen_cli.run(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out", out,
                                      "--test-perturb", "occlusion,fps", "--no-progress"])
    assert code == 0
    m = json.loads(out.read_text())
    r = m["perturbed"]
    assert r["clean"]["accuracy"] == m["accuracy"] and r["clean"]["n_clips"] == 6
    assert r["levels"] == {"occlusion": ["0.15", "0.3", "0.45"], "fps": ["2", "3"]}
    for kind, levels in r["levels"].items():
        for lv in levels:
            assert r[kind][lv]["n_clips"] == 6
            assert r[kind][lv]["drop"] == pytest.approx(100 * (m["accuracy"] - r[kind][lv]["accuracy"]), abs=0.01)
    assert "perturbation  level  accuracy  drop (points)" in stdout
    assert [ln.split()[:2] for ln in stdout.splitlines() if ln.startswith(("occlusion", "fps"))] == \
        [["occlusion", "0.15"], ["occlusion", "0.3"], ["occlusion", "0.45"], ["fps", "2"], ["fps", "3"]]
    code, stdout, _ = simgen_cli.run(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out", out,
                                      "--test-perturb", "scale", "--no-progress", "--json"])
    line = json.loads(stdout)
    assert set(line["perturbed_accuracy"]) == {"clean", "scale"} and set(line["perturbed_accuracy"]["scale"]) == {
        "0.25", "0.4", "0.55"}


def test_segment_on_a_real_folder_chains_each_persons_clips(real_folder, checkpoint, tmp_path, simgen_cli):
    out = tmp_path / "m.json"
    code, stdout, err = simgen_cli.run(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out", out,
                                        "--task", "segment", "--subjects", "s1", "--chain-videos", "3",
                                        "--chain-gap", "2", "--smoothing", "viterbi", "--min-duration", "5",
                                        "--test-perturb", "camera", "--no-progress"])
    assert code == 0, err
    m = json.loads(out.read_text())
    seg = m["segment_chained"]
    assert [v["subject"] for v in seg["videos"]] == ["s1"] * 3
    assert all(sorted(v["sources"]) == ["s1_a.mp4", "s1_b.mp4", "s1_c.mp4"] for v in seg["videos"])
    assert seg["clean"]["raw"]["n_videos"] == 3 and seg["clean"]["raw"]["n_frames"] == 3 * 60  # gaps not scored
    assert all(60 <= v["frames"] <= 64 for v in seg["videos"]) and max(v["frames"] for v in seg["videos"]) > 60
    for k in ("frame_accuracy", "f1@10", "f1@25", "f1@50", "edit"):
        assert m[k] == seg["clean"]["viterbi"][k]  # the headline follows --smoothing
    assert set(seg["camera"]) == {"0.1", "0.2", "0.3"} and set(seg["camera"]["0.2"]) == {"raw", "median", "viterbi"}
    assert "segmentation of 3 chained videos (180 labelled frames)" in stdout
    assert m["n_clips"] == 3 and "perturbed" in m  # clip metrics and classification under perturbation too


@pytest.mark.parametrize("smoothing,decoding", [("none", "raw"), ("median", "median"), ("viterbi", "viterbi")])
def test_the_headline_segmentation_figures_follow_smoothing(smoothing, decoding, monkeypatch):
    from types import SimpleNamespace

    import simgen.adapt.robustness as rob
    from simgen.pipelines.robustness_options import robustness_metrics

    fake = {d: dict(frame_accuracy=v, edit=v, **{f"f1@{k}": v for k in (10, 25, 50)})
            for d, v in (("raw", 0.1), ("median", 0.2), ("viterbi", 0.3))}
    monkeypatch.setattr(rob, "chained_videos", lambda *a, **k: ([], 25.0))
    monkeypatch.setattr(rob, "evaluate_chained", lambda *a, **k: {"clean": fake})
    args = SimpleNamespace(test_perturb=None, seed=0, progress=False, chain_videos=1, chain_gap=0, median_size=5,
                           min_duration=8, smoothing=smoothing)
    meta = dict(input="diff", num_frames=8, stride=1, fps=None, classes=["still", "moving"])
    out = robustness_metrics(args, None, meta, None, "cpu", chain=True)
    assert out["f1@25"] == out["edit"] == fake[decoding]["edit"]


def test_unknown_perturbation_is_one_line(real_folder, checkpoint, tmp_path, simgen_cli):
    simgen_cli.one_line_error(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out", tmp_path / "m.json",
                               "--test-perturb", "occlusion,blur"],
                              "--test-perturb", "unknown perturbation 'blur'", "occlusion, camera, scale, fps, compression")
    assert not (tmp_path / "m.json").exists()

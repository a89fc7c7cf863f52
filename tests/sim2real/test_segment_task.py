"""`simgen sim2real --task segment` on tiny data: the JSON it promises, videos joined only from the
test person's clips, classification untouched by the frame head's training, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simgen.adapt.robustness import DECODINGS

METRICS = ("frame_accuracy", "f1@10", "f1@25", "f1@50", "edit")
#: the tiny clips are 20 frames: Viterbi's shortest segment must fit
SEG = ["--task", "segment", "--min-duration", "4", "--chain-videos", "2"]


@pytest.fixture(scope="module")
def seg_run(synthetic, tmp_path_factory, sim2real_helpers):
    """sim-only, finetune, dann, pseudo, best at 1 shot, leave-one-person-out over 3 people, segment task."""
    from simgen.pipelines.cli import main

    root = tmp_path_factory.mktemp("seg")
    real = sim2real_helpers.make_real(root / "real")
    argv = ["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1", "--leave-one-subject-out",
            "--methods", "sim-only,finetune,dann,pseudo,best", "--out", root / "results.json", *SEG, *sim2real_helpers.FAST]
    assert main([str(a) for a in argv]) == 0
    return root, json.loads((root / "results.json").read_text())


def test_segment_results_per_method_decoding_and_metric(seg_run):
    from simgen.adapt.benchmark.segment import unrle
    from simgen.train.metrics.segment import segmentation_metrics

    _, res = seg_run
    assert res["config"]["task"] == "segment" and res["config"]["segment"]["videos_per_subject"] == 2
    for name in ("sim-only", "finetune", "dann", "pseudo", "best"):
        m = res["methods"][name]
        assert m["accuracy_mean"] is not None  # the clip task is still scored
        seg = m["segment"]
        assert (seg["n_videos"], seg["n_frames"]) == (6, 6 * 60)  # 3 people x 2 videos of 3 clips x 20 frames
        for d in DECODINGS:
            for k in METRICS:
                entry = seg[d][k]
                assert set(entry) == {"mean", "std", "per_seed", "per_fold"}
                assert list(entry["per_fold"]) == ["ann", "ben", "cat"] and len(entry["per_seed"]) == 1
                assert 0.0 <= entry["mean"] <= 1.0 and entry["std"] == 0.0
        mine = [r for r in res["runs"] if r["method"] == name]
        # the summary pools the runs' stored videos: recompute it from them
        pairs = [(unrle(v["predicted"]["viterbi"]), unrle(v["truth"])) for r in mine for v in r["segment"]["videos"]]
        pooled = segmentation_metrics(pairs)
        for k in METRICS:
            assert seg["viterbi"][k]["mean"] == pytest.approx(pooled[k], abs=1e-4)
        for r in mine:
            assert seg["raw"]["f1@25"]["per_fold"][r["fold"]] == r["segment"]["metrics"]["raw"]["f1@25"]
    # best is pseudo's very model at K = 1: the same segmentation
    seg_of = {(r["method"], r["fold"]): r["segment"] for r in res["runs"]}
    assert all(seg_of["best", f] == seg_of["pseudo", f] for f in ("ann", "ben", "cat"))


def test_segment_table_is_printed(seg_run, synthetic, tmp_path, simgen_cli, sim2real_helpers):
    root, _ = seg_run
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", root / "real", "--shots", "0",
                                     "--test-subjects", "ben", "--methods", "sim-only", "--out", tmp_path / "r.json",
                                     *SEG, *sim2real_helpers.FAST])
    assert code == 0, err
    assert "segmentation of joined test videos (2 videos, 120 labelled frames per seed)" in out
    assert sum(line.startswith("sim-only") for line in out.splitlines()) == 1 + len(DECODINGS)


def test_videos_join_only_the_test_persons_clips(seg_run):
    _, res = seg_run
    rows = [line.split(",") for line in (seg_run[0] / "real" / "labels.csv").read_text().split()[1:]]
    for run in res["runs"]:
        videos = run["segment"]["videos"]
        assert len(videos) == 2
        for v in videos:
            assert v["subject"] == run["fold"]
            mine = sorted(p for p, _, s in rows if s == run["fold"])
            assert sorted(v["sources"]) == mine  # every clip of the person once, nobody else's
            assert not set(v["sources"]) & set(run["shots"])
            assert len(v["truth"]) == 3  # three actions, no class after itself


def test_check_chained_refuses_a_training_clip():
    from simgen.adapt.benchmark.folds import FoldLeakError, RealRow, make_folds
    from simgen.adapt.chain import ChainedVideo

    rows = [RealRow(path=f"{p}/{k}.mp4", label=k, subject=p) for p in ("ann", "ben") for k in range(2)]
    fold = make_folds(rows, [("ann",)], ["a", "b"], 1, np.random.default_rng(0))[0]
    from simgen.adapt.benchmark.segment import check_chained

    frames = np.zeros((2, 4, 4, 3), np.uint8)
    ok = ChainedVideo(frames, np.zeros(2, np.int64), [(0, 0, 2)], sources=["ann/0.mp4", "ann/1.mp4"], subject="ann")
    check_chained([ok], fold, rows)
    leak = ChainedVideo(frames, np.zeros(2, np.int64), [(0, 0, 2)], sources=["ann/0.mp4", "ben/1.mp4"], subject="ann")
    with pytest.raises(FoldLeakError, match="ben/1.mp4"):
        check_chained([leak], fold, rows)
    stranger = ChainedVideo(frames, np.zeros(2, np.int64), [(0, 0, 2)], sources=["ann/0.mp4", "zed/9.mp4"],
                            subject="ann")
    with pytest.raises(FoldLeakError, match="zed/9.mp4"):  # no clip of the fold at all
        check_chained([stranger], fold, rows)
    other = ChainedVideo(frames, np.zeros(2, np.int64), [(0, 0, 2)], sources=["ben/0.mp4"], subject="ben")
    with pytest.raises(FoldLeakError, match="not a test person"):
        check_chained([other], fold, rows)


def test_training_the_frame_head_leaves_classification_unchanged(synthetic, tmp_path, sim2real_helpers):
    """The frame head learns on detached features from a forked random stream: clip scores are bit-identical."""
    from simgen.adapt.benchmark.methods import Settings
    from simgen.adapt.benchmark.runner import BenchmarkConfig, prepare, run_benchmark

    real = sim2real_helpers.make_real(tmp_path / "real", people=("ann", "ben"))
    out = {}
    for on in (True, False):
        cfg = BenchmarkConfig(synthetic=str(synthetic), real=str(real), shots=1, test_subjects=["ann"],
                              methods=["real-only", "finetune", "dann"], size=32, num_frames=8, stride=1,
                              progress=False, settings=Settings(sim_epochs=2, finetune_steps=4, align_steps=4,
                                                                real_only_steps=4, checkpoints=2, frame_head=on))
        out[on] = run_benchmark(cfg, prepare(cfg))["runs"]
    for a, b in zip(out[True], out[False]):
        assert a["method"] == b["method"]
        assert a["predictions"] == b["predictions"] and a["chosen_step"] == b["chosen_step"]
        assert all("frame" in h for h in a["history"]) and not any("frame" in h for h in b["history"])


def test_head_option_reaches_every_method(synthetic, real, tmp_path, simgen_cli, sim2real_helpers):
    code, out, err = simgen_cli.run(["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1",
                                     "--test-subjects", "cat", "--methods", "finetune", "--head", "mstcn",
                                     "--save-models", tmp_path / "models", "--out", tmp_path / "r.json",
                                     *SEG, *sim2real_helpers.FAST])
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["config"]["head"] == "mstcn" and "segment" in res["methods"]["finetune"]
    from simgen.train.checkpoint import load_model

    model, meta = load_model(tmp_path / "models" / "finetune-seed0" / "model.pt")
    assert meta["head"]["name"] == "mstcn" and model.sequence_head


def test_a_test_person_with_one_class_cannot_be_segmented(synthetic, tmp_path, simgen_cli, sim2real_helpers):
    import shutil

    real = sim2real_helpers.make_real(tmp_path / "real", extra_rows=["dan/still0.mp4,still,dan",
                                                                     "dan/still1.mp4,still,dan"])
    (real / "dan").mkdir()
    for name in ("still0.mp4", "still1.mp4"):
        shutil.copy(real / "ann" / "still0.mp4", real / "dan" / name)
    args = ["sim2real", "--synthetic", synthetic, "--real", real, "--shots", "1", "--out", tmp_path / "r.json",
            "--task", "segment", "--methods", "sim-only", *sim2real_helpers.FAST]
    simgen_cli.one_line_error([*args, "--leave-one-subject-out"], "--task segment: test person 'dan' has 2 labelled "
                              "clip(s) of 1 class(es) (still)", "labels.csv")
    assert not (tmp_path / "r.json").exists()
    # the same folder is fine when dan only trains
    from simgen.adapt.benchmark.runner import BenchmarkConfig, prepare

    prepare(BenchmarkConfig(synthetic=str(synthetic), real=str(real), shots=1, methods=["sim-only"],
                            test_subjects=["ann"], task="segment"))

"""Score ensembles across window settings (train/ensemble_scores.py), fusion (train/metrics/ensemble.py)
and snapshot ensembles (``simgen train --snapshots``)."""

import json

import pytest
import torch
from pydantic import ValidationError

from simgen.train.config import TrainConfig
from simgen.train.ensemble_scores import Member, ScoreEnsemble, check_members
from simgen.train.evaluate import clip_scores, frame_scores
from simgen.train.fit import _lr_lambda, snapshot_epochs
from simgen.train.inputs import InputTransform
from simgen.train.metrics.ensemble import fuse_scores
from simgen.train.models import create_action_model

P = torch.tensor


def test_mean_fusion_is_the_mean_probability():
    fused = fuse_scores([P([0.6, 0.3, 0.1]), P([0.2, 0.2, 0.6])], "mean")
    assert torch.allclose(fused, P([0.4, 0.25, 0.35]))


def test_vote_follows_the_majority_even_against_the_mean():
    members = [P([0.6, 0.4]), P([0.6, 0.4]), P([0.0, 1.0])]  # mean [0.4, 0.6] says class 1
    assert fuse_scores(members, "mean").argmax() == 1
    vote = fuse_scores(members, "vote")
    assert torch.allclose(vote, P([(2 + 0.4) / 4, (1 + 0.6) / 4])) and vote.argmax() == 0
    assert torch.allclose(vote.sum(), P(1.0))


def test_a_tied_vote_goes_to_the_higher_mean_probability():
    vote = fuse_scores([P([0.9, 0.1, 0.0]), P([0.0, 0.45, 0.55])], "vote")  # one vote each for 0 and 2
    assert torch.allclose(vote, P([1 + 0.45, 0 + 0.275, 1 + 0.275]) / 3) and vote.argmax() == 0


def test_frames_are_fused_frame_by_frame():
    a = P([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    b = P([[0.7, 0.3], [0.4, 0.6], [0.1, 0.9]])
    c = P([[0.1, 0.9], [0.3, 0.7], [0.45, 0.55]])
    assert torch.allclose(fuse_scores([a, b, c], "mean"), (a + b + c) / 3)
    assert fuse_scores([a, b, c], "vote").argmax(1).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="fusion"):
        fuse_scores([a], "median")


def test_member_weights_weigh_the_mean_and_the_votes():
    a, b, c = P([0.6, 0.4]), P([0.6, 0.4]), P([0.0, 1.0])
    assert torch.allclose(fuse_scores([a, c], "mean", [1, 3]), P([0.15, 0.85]))
    assert torch.allclose(fuse_scores([a, c], "mean", [2, 2]), fuse_scores([a, c], "mean"))  # scale-free
    vote = fuse_scores([a, b, c], "vote", [1, 1, 4])  # c outweighs the two others' votes
    assert vote.argmax() == 1 and torch.allclose(vote.sum(), P(1.0))
    assert torch.allclose(fuse_scores([a, b, c], "vote", [1, 1, 1]), fuse_scores([a, b, c], "vote"))
    for bad in ([1], [1, -1], [0, 0]):
        with pytest.raises(ValueError, match="member weights"):
            fuse_scores([a, c], "mean", bad)


def _member(num_frames, stride, seed, head="linear"):
    torch.manual_seed(seed)
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", head=head).eval()
    meta = dict(input="diff", num_frames=num_frames, stride=stride, classes=["a", "b", "c"], size=32,
                frame_background=None, fps=None, backbone="tiny3d")
    return Member(model, meta, f"m{seed}")


def _frames(n=40):
    g = torch.Generator().manual_seed(3)
    return torch.randint(0, 255, (n, 32, 32, 3), generator=g, dtype=torch.uint8)


def test_each_member_scores_with_its_own_window_and_the_scores_are_fused():
    members = [_member(8, 1, 0), _member(16, 2, 1, head="mstcn")]
    ens = ScoreEnsemble(members)
    frames = _frames()
    own = [clip_scores(m.model, InputTransform("diff"), frames, num_frames=m.meta["num_frames"],
                       stride=m.meta["stride"], device="cpu") for m in members]
    # the window arguments passed to clip_scores are the first member's; the ensemble ignores them
    fused = clip_scores(ens, InputTransform("diff"), frames, num_frames=8, stride=1, device="cpu")
    assert torch.allclose(fused, (own[0] + own[1]) / 2, atol=1e-6)
    assert not torch.allclose(own[0], own[1], atol=1e-3)
    own_frames = [frame_scores(m.model, InputTransform("diff"), frames, num_frames=m.meta["num_frames"],
                               stride=m.meta["stride"], device="cpu") for m in members]
    fused_frames = frame_scores(ens.view(fusion="vote"), InputTransform("diff"), frames, num_frames=8, stride=1,
                                device="cpu")
    assert fused_frames.shape == (40, 3)
    assert torch.allclose(fused_frames, fuse_scores(own_frames, "vote"), atol=1e-6)
    assert torch.allclose(clip_scores(ens.view(only=1), None, frames, num_frames=8, stride=1, device="cpu"), own[1])


def test_a_weighted_ensemble_fuses_its_members_scores_by_weight_in_every_view():
    members = [_member(8, 1, 0), _member(8, 2, 1)]
    frames = _frames()
    own = [clip_scores(ScoreEnsemble(members, only=i), None, frames, num_frames=8, stride=1, device="cpu")
           for i in range(2)]
    ens = ScoreEnsemble(members, weights=[1.0, 3.0])
    fused = clip_scores(ens, None, frames, num_frames=8, stride=1, device="cpu")
    assert torch.allclose(fused, (own[0] + 3 * own[1]) / 4, atol=1e-6)
    assert ens.view(fusion="vote").weights == [1.0, 3.0]
    with pytest.raises(ValueError, match="expected 2 numbers >= 0"):
        ScoreEnsemble(members, weights=[1.0])


def test_members_score_each_clip_once_whatever_the_views():
    members = [_member(8, 1, 0), _member(8, 2, 1)]
    calls = []
    for m in members:
        m.model.backbone.register_forward_hook(lambda mod, i, o: calls.append(1))
    ens = ScoreEnsemble(members)
    frames = _frames()
    clip_scores(ens, None, frames, num_frames=8, stride=1, device="cpu")
    n = len(calls)
    for view in (ens.view(fusion="vote"), ens.view(only=0), ens.view(only=1)):
        clip_scores(view, None, frames, num_frames=8, stride=1, device="cpu")
    assert len(calls) == n > 0


def test_members_that_do_not_fit_are_named():
    a = dict(classes=["a", "b"], size=64, frame_background=None, fps=None, train_fps=25.0)
    check_members([a, dict(a, num_frames=8)], ["A.pt", "B.pt"], lambda m: m.get("fps") or m.get("train_fps"))
    with pytest.raises(ValueError, match=r"B\.pt: field 'classes'"):
        check_members([a, dict(a, classes=["b", "a"])], ["A.pt", "B.pt"], lambda m: None)
    with pytest.raises(ValueError, match=r"B\.pt: field 'fps'"):
        check_members([a, dict(a, fps=12.5)], ["A.pt", "B.pt"], lambda m: m.get("fps") or m.get("train_fps"))
    # a background output in one member only is fine (see the next test); two different ones are not
    check_members([a, dict(a, frame_background="transition")], ["A.pt", "B.pt"], lambda m: None)
    with pytest.raises(ValueError, match=r"different labels \(\['idle', 'transition'\]\)"):
        check_members([a, dict(a, frame_background="transition"), dict(a, frame_background="idle")],
                      ["A.pt", "B.pt", "C.pt"], lambda m: None)


def test_a_member_without_background_output_gives_it_probability_zero():
    from simgen.train.ensemble_scores import ensemble_meta

    plain = _member(8, 1, 0)
    torch.manual_seed(1)
    with_bg = Member(create_action_model(backbone="tiny3d", num_classes=3, input_mode="diff", frame_background=True).eval(),
                     dict(plain.meta, frame_background="transition"), "bg")
    frames = _frames()
    own = [frame_scores(m.model, InputTransform("diff"), frames, num_frames=8, stride=1, device="cpu")
           for m in (plain, with_bg)]
    assert own[0].shape == (40, 3) and own[1].shape == (40, 4)
    fused = frame_scores(ScoreEnsemble([plain, with_bg]), None, frames, num_frames=8, stride=1, device="cpu")
    assert fused.shape == (40, 4)
    assert torch.allclose(fused[:, 3], own[1][:, 3] / 2, atol=1e-6)
    assert torch.allclose(fused[:, :3], (own[0] + own[1][:, :3]) / 2, atol=1e-6)
    assert ensemble_meta([plain.meta, with_bg.meta])["frame_background"] == "transition"
    assert ensemble_meta([plain.meta, plain.meta])["frame_background"] is None


def test_the_snapshot_schedule_restarts_the_cosine_at_each_cycle():
    assert snapshot_epochs(20, 4) == [5, 10, 15, 20] and snapshot_epochs(20, 1) == []
    f = _lr_lambda(100, 5, cycles=4)  # 25 steps a cycle, warm-up in the first
    assert f(4) == pytest.approx(1.0) and f(25) == pytest.approx(1.0) and f(50) == pytest.approx(1.0)
    assert f(24) < 0.01 and f(49) < 0.01 and f(99) < 0.01
    assert f(37) == pytest.approx(0.5 * (1 + torch.cos(torch.tensor(torch.pi * 12 / 25)).item()))
    one = _lr_lambda(100, 5)
    assert one(50) < 0.6 and one(99) < 0.01  # one cycle: no restart
    with pytest.raises(ValidationError, match="snapshots"):
        TrainConfig(out="x", epochs=10, snapshots=3)


def test_snapshots_are_saved_and_evaluated_as_an_ensemble(tmp_path, synthetic_dir, train_cli):
    out = tmp_path / "snap"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", out, "--epochs", "2", "--snapshots", "2",
                         "--val-fraction", "0", *train_cli.FAST) == 0
    snaps = [out / "snapshot1.pt", out / "snapshot2.pt"]
    metas = [torch.load(p, weights_only=True)["meta"] for p in snaps]
    assert [m["snapshot"] for m in metas] == [dict(index=1, of=2, epoch=1), dict(index=2, of=2, epoch=2)]
    last = torch.load(out / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(last[k], v) for k, v in torch.load(snaps[1], weights_only=True)["model"].items())
    assert json.loads((out / "metrics.json").read_text())["snapshots"] == [str(p) for p in snaps]
    # another window length and frame gap joins the ensemble too
    other = tmp_path / "other"
    assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", other, "--epochs", "1", "--val-fraction", "0",
                         *train_cli.FAST[:2], "--num-frames", "4", "--stride", "2", "--batch-size", "4",
                         "--no-progress") == 0
    ev = tmp_path / "ens.json"
    assert train_cli.run("evaluate", "--checkpoint", *snaps, other / "model.pt", "--data", synthetic_dir, "--out", ev,
                         "--fusion", "vote", "--no-progress") == 0
    m = json.loads(ev.read_text())
    rows = {r["name"]: r for r in m["ensemble"]["rows"]}
    assert list(rows) == ["member 1", "member 2", "member 3", "mean", "vote"] and m["ensemble"]["fusion"] == "vote"
    assert (rows["member 3"]["num_frames"], rows["member 3"]["stride"]) == (4, 2)
    assert rows["member 2"]["snapshot"]["index"] == 2
    assert m["accuracy"] == rows["vote"]["accuracy"] and m["per_class"] == rows["vote"]["per_class"]
    assert all(set(r["per_class"]) == {"left", "right", "still"} for r in rows.values())
    # one input mode: the camera gate (on by default) cannot narrow anything
    assert m["ensemble"]["camera_gate"] == dict(speed=0.008, fused=m["n_clips"], gated=0)
    assert m["ensemble"]["clutter_gate"] == dict(share=None, gated=0)  # off unless --clutter-gate
    assert m["ensemble"]["member_weights"] is None
    # weights: members 2 and 3 weighted 0, the mean is member 1's
    assert train_cli.run("evaluate", "--checkpoint", *snaps, other / "model.pt", "--data", synthetic_dir, "--out", ev,
                         "--member-weights", "1,0,0", "--no-progress") == 0
    w = json.loads(ev.read_text())
    rows = {r["name"]: r for r in w["ensemble"]["rows"]}
    assert w["ensemble"]["member_weights"] == [1.0, 0.0, 0.0]
    assert rows["mean"]["per_class"] == rows["member 1"]["per_class"] and w["accuracy"] == rows["member 1"]["accuracy"]
    assert train_cli.run("evaluate", "--checkpoint", *snaps, "--data", synthetic_dir, "--out", ev,
                         "--member-weights", "1,0,0", "--no-progress") == 2
    # per-clip stability reaches the fused rows (members alone are unweighted)
    assert train_cli.run("evaluate", "--checkpoint", *snaps, other / "model.pt", "--data", synthetic_dir, "--out", ev,
                         "--clip-stability", "--no-progress") == 0
    s = json.loads(ev.read_text())
    assert s["ensemble"]["clip_stability"] is True and w["ensemble"]["clip_stability"] is False
    rows = {r["name"]: r for r in s["ensemble"]["rows"]}
    assert rows["member 1"]["per_class"] == {r["name"]: r for r in w["ensemble"]["rows"]}["member 1"]["per_class"]
    assert train_cli.run("evaluate", "--checkpoint", snaps[0], "--data", synthetic_dir, "--out", ev,
                         "--clip-stability", "--no-progress") == 2


def test_checkpoints_of_other_classes_are_a_one_line_error(tmp_path, synthetic_dir, learnable_dir, train_cli,
                                                           simgen_cli, capsys):
    runs = []
    for name, data in (("a", synthetic_dir), ("b", learnable_dir)):
        assert train_cli.run("train", "--synthetic", data, "--out", tmp_path / name, "--epochs", "1",
                             "--val-fraction", "0", *train_cli.FAST) == 0
        runs.append(tmp_path / name / "model.pt")
    capsys.readouterr()  # the training summaries
    simgen_cli.one_line_error(["evaluate", "--checkpoint", *runs, "--data", synthetic_dir, "--out", tmp_path / "e.json"],
                              str(runs[1]), "field 'classes'")


def test_a_sub_ensemble_reuses_the_members_scores_and_fuses_only_its_own():
    members = [_member(8, 1, 0), _member(8, 2, 1), _member(16, 2, 2)]
    ens = ScoreEnsemble(members)
    frames = _frames()
    each = [clip_scores(ens.view(only=i), None, frames, num_frames=8, stride=1, device="cpu") for i in range(3)]
    calls = []
    for m in members:
        m.model.backbone.register_forward_hook(lambda mod, i, o: calls.append(1))
    pair = clip_scores(ens.view(active=[0, 2]), None, frames, num_frames=8, stride=1, device="cpu")
    assert torch.allclose(pair, (each[0] + each[2]) / 2) and not calls
    with pytest.raises(ValueError, match="members"):
        ens.view(active=[3])


def test_the_ensemble_bench_scores_groups_like_evaluate_does(tmp_path, synthetic_dir, real_dir, train_cli):
    from simgen.pipelines.bench_ensembles import main

    ckpts = []
    for name, frames in (("a", "8"), ("b", "4")):
        assert train_cli.run("train", "--synthetic", synthetic_dir, "--out", tmp_path / name, "--epochs", "1",
                             "--val-fraction", "0", *train_cli.FAST[:2], "--num-frames", frames, "--stride", "1",
                             "--batch-size", "4", "--no-progress") == 0
        ckpts.append(tmp_path / name / "model.pt")
    out = tmp_path / "bench.json"
    assert main(["--member", f"a={ckpts[0]}", "--member", f"b={ckpts[1]}", "--group", "ab=a,b",
                 "--synthetic", str(synthetic_dir), "--real", str(real_dir), "--min-duration", "4",
                 "--out", str(out)]) == 0
    bench = json.loads(out.read_text())
    ev = tmp_path / "ev.json"
    assert train_cli.run("evaluate", "--checkpoint", *ckpts, "--data", real_dir, "--task", "segment",
                         "--smoothing", "viterbi", "--min-duration", "4", "--out", ev, "--no-progress") == 0
    direct = {r["name"]: r for r in json.loads(ev.read_text())["ensemble"]["rows"]}
    for fusion in ("mean", "vote"):
        assert bench["real"]["ab"][fusion]["per_class"] == direct[fusion]["per_class"]
        assert bench["real"]["ab"][fusion]["segment_chained"] == direct[fusion]["segment_chained"]
    assert bench["real"]["members"]["b"]["num_frames"] == 4 and set(bench["synthetic"]["members"]) == {"a", "b"}
    # per-class frame accuracy of every class that has frames
    per = bench["real"]["ab"]["mean"]["per_class_frames"]["raw"]
    assert set(per) == {"left", "right", "still"} and all(0 <= v <= 1 for v in per.values())


def test_the_ensemble_bench_scores_synthetic_segmentation_raw_and_decoded(tmp_path, segment_dir, train_cli):
    from simgen.pipelines.bench_ensembles import main

    assert train_cli.run("train", "--synthetic", segment_dir, "--out", tmp_path / "a", "--epochs", "1",
                         "--val-fraction", "0", *train_cli.FAST) == 0
    ckpt = tmp_path / "a" / "model.pt"
    out = tmp_path / "bench.json"
    assert main(["--member", f"a={ckpt}", "--member", f"b={ckpt}", "--group", "ab=a,b", "--synthetic",
                 str(segment_dir), "--synthetic-task", "segment", "--out", str(out)]) == 0
    seg = json.loads(out.read_text())["synthetic"]
    ev = tmp_path / "ev.json"
    assert train_cli.run("evaluate", "--checkpoint", ckpt, "--data", segment_dir, "--task", "segment", "--out", ev,
                         "--no-progress") == 0
    direct = json.loads(ev.read_text())
    assert seg["members"]["a"]["segment"]["raw"]["f1@25"] == direct["f1@25"]
    assert seg["ab"]["mean"]["segment"]["raw"] == seg["members"]["a"]["segment"]["raw"]  # a model with itself
    assert set(seg["ab"]["vote"]["segment"]) == {"raw", "viterbi"}

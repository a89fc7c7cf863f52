"""Continual-learning pieces (simgen.adapt.continual): growing heads, what trains, class-balanced replay."""

import numpy as np
import pytest
import torch

from simgen.adapt.continual import (ClassBalancedBatches, backbone_stages, distillation_loss, grow_heads, imprint,
                                    set_trainable)
from simgen.train.models import create_action_model


def tiny_model(classes=3, background=True):
    torch.manual_seed(0)
    return create_action_model(backbone="tiny3d", num_classes=classes, input_mode="diff", frame_head=True,
                               frame_background=background).eval()


def test_grown_heads_keep_every_old_output():
    model = tiny_model()
    x = torch.rand(2, 1, 8, 32, 32)
    with torch.no_grad():
        before = model(x)
    grow_heads(model, 3, 2, frame_background=True)
    with torch.no_grad():
        after = model(x)
    assert after["clip"].shape == (2, 5) and after["frame"].shape == (2, 6, 8)
    torch.testing.assert_close(after["clip"][:, :3], before["clip"])
    torch.testing.assert_close(after["frame"][:, :3], before["frame"][:, :3])
    torch.testing.assert_close(after["frame"][:, 5], before["frame"][:, 3])  # background stays last
    # a grown checkpoint loads into a freshly built 5-class model
    fresh = create_action_model(backbone="tiny3d", num_classes=5, input_mode="diff", frame_background=True)
    fresh.load_state_dict(model.state_dict())


def test_imprinted_row_points_at_the_new_class_features():
    model = tiny_model(background=False)
    grow_heads(model, 3, 1, frame_background=False)
    feats = torch.rand(5, model.out_features) + torch.linspace(0, 3, model.out_features)
    imprint(model.clip_head.fc, 3, [feats])
    w = model.clip_head.fc.weight.data
    assert torch.nn.functional.cosine_similarity(w[3], feats.mean(0), dim=0) > 0.999
    assert w[3].norm() == pytest.approx(float(w[:3].norm(dim=1).mean()), rel=1e-5)


def test_last_stage_and_heads_train_the_rest_frozen_with_norm_statistics():
    model = tiny_model()
    model.train()
    params = set_trainable(model, "last")
    stages = backbone_stages(model)
    assert all(not p.requires_grad for s in stages[:-1] for p in s.parameters())
    assert all(p.requires_grad for p in stages[-1].parameters())
    assert all(p.requires_grad for p in model.clip_head.parameters())
    assert {id(p) for p in params} == {id(p) for p in model.parameters() if p.requires_grad}
    bn = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bn and all(not m.training for m in bn)
    assert len(set_trainable(model, "head")) == len(list(model.clip_head.parameters())) + len(
        list(model.frame_head.parameters()))
    with pytest.raises(ValueError, match="unknown trainable"):
        set_trainable(model, "middle")


def test_batches_balance_classes_and_mix_real_clips():
    # class 0: 40 synthetic replay clips; class 1: 30 synthetic; class 2 (new): 45 synthetic + 5 real
    labels = [0] * 40 + [1] * 30 + [2] * 50
    real = [False] * 115 + [True] * 5
    sampler = ClassBalancedBatches(labels, real, batch_size=6, num_batches=50, seed=0, real_share=0.5)
    drawn = [i for b in sampler for i in b]
    counts = np.bincount(np.asarray(labels)[drawn], minlength=3)
    assert counts.tolist() == [100, 100, 100]
    real_draws = sum(real[i] for i in drawn)
    assert 35 <= real_draws <= 65  # half of class 2's 100 draws
    assert len({i for i in drawn if real[i]}) == 5  # each real clip is used, not one over and over
    assert [b for b in sampler] == [b for b in ClassBalancedBatches(labels, real, batch_size=6, num_batches=50,
                                                                     seed=0, real_share=0.5)]
    sampler.set_epoch(1)
    assert list(sampler) != list(ClassBalancedBatches(labels, real, batch_size=6, num_batches=50, seed=0))


def test_distillation_is_zero_for_the_same_outputs_and_ignores_new_classes():
    old = torch.randn(4, 3)
    new = torch.cat([old, torch.randn(4, 2)], 1)
    assert float(distillation_loss(new, old)) == pytest.approx(0.0, abs=1e-6)
    assert float(distillation_loss(torch.cat([old.flip(1), new[:, 3:]], 1), old)) > 0.01


def test_the_demo_folds_are_real_folders_a_reader_accepts(tmp_path):
    """continual_demo's per-fold folders link the clips in: a label file may only name clips inside its folder."""
    from simgen.pipelines.continual_demo import new_class_folder, old_real_folder
    from simgen.train.data.real import RealFolderReader

    real = tmp_path / "real"
    rows = ["path,label,subject"]
    for person in ("p0", "p1", "p2"):
        for label in ("wave", "bend", "jack"):
            (real / label).mkdir(parents=True, exist_ok=True)
            (real / label / f"{person}_{label}.mp4").write_bytes(person.encode() + label.encode())
            rows.append(f"{label}/{person}_{label}.mp4,{label},{person}")
    (real / "labels.csv").write_text("\n".join(rows) + "\n")
    new = RealFolderReader(new_class_folder(real, "bend", "p1", tmp_path / "new"))
    old = RealFolderReader(old_real_folder(real, ["wave", "jack"], "p1", tmp_path / "old"))
    assert sorted((r["label"], r["subject"]) for r in new.rows) == [("bend", "p0"), ("bend", "p2")]
    assert sorted((r["label"], r["subject"]) for r in old.rows) == [("jack", "p0"), ("jack", "p2"), ("wave", "p0"), ("wave", "p2")]
    assert (tmp_path / "new" / "bend" / "p2_bend.mp4").read_bytes() == b"p2bend"  # the very clip, through the link

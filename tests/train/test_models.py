import pytest
import torch

from simgen.train.inputs import input_channels
from simgen.train.models import BACKBONES, create_action_model
from simgen.train.models.torchvision_video import import_torchvision


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_by_name(name):
    torch.manual_seed(0)
    model = create_action_model(backbone=name, num_classes=4, input_mode="gray")
    x = torch.rand(2, 1, 8, 32, 32)  # batch 2: S3D pools 32 px to 1x1, where BatchNorm needs > 1 value
    out = model(x)
    d = model.out_features
    assert out["clip"].shape == (2, 4) and out["frame"].shape == (2, 4, 8)
    assert out["features"].shape == (2, d)
    torch.testing.assert_close(model.eval().features(x), model.eval()(x)["features"])


@pytest.mark.parametrize("mode", ["rgb", "diff", "rgb+diff"])
def test_tiny3d_input_modes_and_gradients(mode):
    model = create_action_model(backbone="tiny3d", num_classes=3, input_mode=mode, frame_head=False)
    x = torch.rand(2, input_channels(mode), 16, 64, 64)
    out = model(x)
    assert "frame" not in out
    out["clip"].sum().backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    if mode == "rgb+diff":
        from simgen.train.models import create_tiny3d

        assert model.out_features == 2 * create_tiny3d().out_features  # two streams, concatenated


def test_weights_file_loads_with_weights_only(tmp_path):
    tv = import_torchvision()
    torch.manual_seed(1)
    ref = tv.models.video.mc3_18(num_classes=400)
    torch.save(ref.state_dict(), tmp_path / "w.pt")
    model = create_action_model(backbone="mc3_18", num_classes=4, weights=tmp_path / "w.pt")
    torch.testing.assert_close(model.backbone.trunk[1][0].conv1[0].weight, ref.layer1[0].conv1[0].weight)
    gray = create_action_model(backbone="mc3_18", num_classes=4, input_mode="gray", weights=tmp_path / "w.pt")
    torch.testing.assert_close(gray.backbone.trunk[0][0].weight, ref.stem[0].weight.mean(1, keepdim=True) * 3)


def test_bad_weights_and_names(tmp_path):
    torch.save({"nonsense.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="does not fit"):
        create_action_model(backbone="r3d_18", num_classes=2, weights=tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="unknown model"):
        create_action_model(backbone="resnet9000", num_classes=2)


def test_tsm_shift_mixes_neighbouring_frames():
    from simgen.train.models.tsm import temporal_shift

    x = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 16, 1, 1).contiguous()  # B*T=4, frame value = t
    y = temporal_shift(x, num_frames=4, fold_div=8).view(4, 16)
    assert y[1, 0] == 2 and y[1, 2] == 0 and y[1, 5] == 1  # from t+1, t-1, unshifted

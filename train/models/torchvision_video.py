"""torchvision video backbones (``r3d_18``, ``mc3_18``, ``r2plus1d_18``, ``s3d``) as temporal feature extractors."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn


def import_torchvision():
    """Import torchvision, tolerating a build whose C++ ops do not match this torch.

    The PyPI torchvision wheel is built for CUDA torch; next to a CPU-only torch its
    ``_C`` extension fails to load and ``torchvision._meta_registrations`` then raises
    on ``register_fake("torchvision::nms")``. Video models do not use those ops, so
    declaring the two op schemas (no kernels: calling ``nms`` still fails clearly) lets
    the pure-Python models import.
    """
    try:
        import torchvision

        return torchvision
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    lib = torch.library.Library("torchvision", "FRAGMENT")
    for op in ("nms", "qnms"):
        try:
            lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        except RuntimeError:
            pass  # already declared
    import_torchvision._lib = lib  # keep the fragment alive for the process
    import torchvision

    return torchvision


def load_weights_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict from a user file with ``weights_only=True`` (no arbitrary code).

    Accepts a bare state dict or one nested under ``state_dict`` / ``model``.

    Raises:
        WeightsFileError: missing, unreadable, or not a mapping of names to tensors.
    """
    from simgen.train.errors import WeightsFileError

    path = Path(path)
    if not path.is_file():
        raise WeightsFileError(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # garbage bytes, truncated zip, pickled objects refused by weights_only
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise WeightsFileError(f"{path}: not a readable torch weights file ({type(exc).__name__}: {first})") from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise WeightsFileError(f"{path}: expected a state dict (parameter name -> tensor), got {type(state).__name__}")
    return state


def load_matching(net: nn.Module, state: dict[str, torch.Tensor], *, path, name: str,
                  ignore: tuple[str, ...] = ("fc.", "classifier.")) -> None:
    """Load ``state`` into ``net`` (classifier keys ``ignore``-d); any missing, extra or mis-shaped key is an error."""
    from simgen.train.errors import WeightsFileError

    state = {k: v for k, v in state.items() if not k.startswith(ignore)}
    own = net.state_dict()
    missing = [k for k in own if k not in state and not k.startswith(ignore)]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(v.shape)} != {tuple(own[k].shape)}" for k, v in state.items()
              if k in own and v.shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = [f"{label} {items[:3]}" for label, items in
                 (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)) if items]
        raise WeightsFileError(f"{path}: does not fit {name}: " + "; ".join(parts))
    net.load_state_dict(state, strict=False)


def _replace_first_conv(model: nn.Module, in_channels: int) -> None:
    """Swap the first 3-channel Conv3d for one with ``in_channels``, inflating RGB weights.

    Gray/difference inputs get the mean RGB filter repeated, so pretrained stems keep
    their response to luminance edges.
    """
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Conv3d) and child.in_channels == 3:
                new = nn.Conv3d(in_channels, child.out_channels, child.kernel_size, child.stride,
                                child.padding, child.dilation, child.groups, child.bias is not None)
                with torch.no_grad():
                    new.weight.copy_(child.weight.mean(1, keepdim=True).expand_as(new.weight) * 3 / in_channels)
                    if child.bias is not None:
                        new.bias.copy_(child.bias)
                setattr(parent, name, new)
                return
    raise ValueError("model has no 3-channel Conv3d to adapt")


class TorchvisionVideoBackbone(nn.Module):
    """Runs a torchvision video net up to its last conv stage, then pools H and W.

    The stock heads pool with fixed kernels sized for 112/224 px inputs; pooling
    adaptively lets the same net run on 64 px clips.

    Shape:
        ``(B, C, T, H, W) -> (B, D, T')``; ``D = 512`` (ResNets) or ``1024`` (S3D).
    """

    def __init__(self, trunk: nn.Module, out_features: int):
        super().__init__()
        self.trunk = trunk
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x).mean(dim=(-2, -1))


def create_torchvision_backbone(*, name: str, in_channels: int = 3, weights: str | Path | None = None) -> TorchvisionVideoBackbone:
    """Build ``r3d_18`` | ``mc3_18`` | ``r2plus1d_18`` | ``s3d`` with random init or user weights.

    Args:
        name: torchvision model name.
        in_channels: input channels; the stem is adapted after weights are loaded.
        weights: optional path of a torchvision state dict (e.g. Kinetics weights
            saved with ``torch.save(model.state_dict())``); classifier keys are ignored.

    Raises:
        ValueError: unknown name, or a weights file that does not fit the net.
    """
    video = import_torchvision().models.video
    builders = {"r3d_18": video.r3d_18, "mc3_18": video.mc3_18, "r2plus1d_18": video.r2plus1d_18, "s3d": video.s3d}
    if name not in builders:
        raise ValueError(f"unknown torchvision video model {name!r}; expected one of {sorted(builders)}")
    net = builders[name](weights=None)
    if weights is not None:
        load_matching(net, load_weights_file(weights), path=weights, name=name)
    if in_channels != 3:
        _replace_first_conv(net, in_channels)
    if name == "s3d":
        return TorchvisionVideoBackbone(net.features, 1024)
    trunk = nn.Sequential(net.stem, net.layer1, net.layer2, net.layer3, net.layer4)
    return TorchvisionVideoBackbone(trunk, 512)

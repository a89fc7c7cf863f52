"""Spatial and colour augmentation held constant over a clip's frames (kornia)."""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import nn


def create_spatial_augment(
    *,
    size: int,
    zoom: tuple[float, float] = (1.0, 1.3),
    translate: float = 0.08,
    rotation_degrees: float = 8.0,
    horizontal_flip: float = 0.5,
    brightness: float = 0.3,
    contrast: float = 0.3,
    saturation: float = 0.3,
    hue: float = 0.03,
    grayscale: float = 0.1,
    color_p: float = 0.8,
    luma_only: bool = False,
) -> "SpatialAugment":
    """Build the per-clip spatial/colour pipeline (see :class:`SpatialAugment`).

    Parameters are drawn once per clip and applied to all its frames: a crop that
    moved or a colour that flickered from frame to frame would be a motion cue real
    videos never have. Zoom, shift and roll are one affine warp (one resampling, not
    three).

    Args:
        size: output side (square).
        zoom: scale range (``> 1`` zooms in, like a random crop of ``1/zoom^2`` of the area).
        translate: maximum shift as a fraction of the side.
        rotation_degrees: maximum in-plane camera roll.
        horizontal_flip: flip probability.
        brightness, contrast, saturation, hue: ``ColorJitter`` strengths.
        grayscale: probability of dropping colour.
        color_p: probability of colour jitter per clip.
        luma_only: only brightness/contrast (for gray/difference inputs, where hue and
            saturation have no effect but are the costliest colour ops).

    Shape:
        - Input: ``(B, C, T, H, W)`` float in ``[0, 1]``.
        - Output: ``(B, C, T, size, size)``.

    Example:
        >>> aug = create_spatial_augment(size=32)
        >>> aug(torch.rand(2, 3, 4, 40, 40)).shape
        torch.Size([2, 3, 4, 32, 32])
    """
    geometry: list[nn.Module] = [
        K.RandomAffine(degrees=rotation_degrees, translate=(translate, translate), scale=zoom,
                       padding_mode="reflection", p=1.0),
    ]
    if horizontal_flip > 0:
        geometry.append(K.RandomHorizontalFlip(p=horizontal_flip))
    colour: list[nn.Module] = []
    if color_p > 0:
        if luma_only:
            colour += [K.RandomBrightness((1 - brightness, 1 + brightness), p=color_p),
                       K.RandomContrast((1 - contrast, 1 + contrast), p=color_p)]
        else:
            colour.append(K.ColorJitter(brightness, contrast, saturation, hue, p=color_p))
            if grayscale > 0:
                colour.append(K.RandomGrayscale(p=grayscale))
    return SpatialAugment(geometry=K.AugmentationSequential(*geometry),
                          luma=K.AugmentationSequential(*colour) if colour and luma_only else None,
                          colour=K.VideoSequential(*colour, data_format="BCTHW", same_on_frame=True)
                          if colour and not luma_only else None,
                          size=size)


class SpatialAugment(nn.Module):
    """Per-clip geometry and colour, identical on every frame of a clip.

    Geometry (and brightness/contrast, which act per channel) run on the clip with
    its frames stacked as channels, ``(B, C*T, H, W)``: one parameter draw and one
    warp per clip, so every frame gets the same transform by construction and the
    warp grid is computed once per clip instead of once per frame. Colour ops that
    need RGB triplets (saturation, hue, grayscale) run in a ``VideoSequential`` with
    ``same_on_frame=True``. Clips not already ``size`` square are resized first.

    Shape:
        ``(B, C, T, H, W) -> (B, C, T, size, size)``.
    """

    def __init__(self, *, geometry: K.AugmentationSequential, luma: K.AugmentationSequential | None,
                 colour: K.VideoSequential | None, size: int):
        super().__init__()
        self.geometry, self.luma, self.colour, self.size = geometry, luma, colour, size

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = video.shape
        if (h, w) != (self.size, self.size):
            video = torch.nn.functional.interpolate(video, size=(t, self.size, self.size), mode="trilinear",
                                                    align_corners=False)
        stacked = video.reshape(b, c * t, self.size, self.size)
        stacked = self.geometry(stacked)
        if self.luma is not None:
            stacked = self.luma(stacked)
        video = stacked.reshape(b, c, t, self.size, self.size)
        if self.colour is not None:
            video = self.colour(video)
        return video


class FrameJitter(nn.Module):
    """Small independent per-frame shift/scale, on top of the per-clip transform.

    Models hand-held camera shake: a fraction of a pixel to a few pixels per frame,
    too small to change the action's motion pattern.

    Args:
        translate: maximum shift as a fraction of the side.
        scale: maximum relative zoom change.
        p: probability a clip gets jitter at all.

    Shape:
        ``(B, C, T, H, W) -> (B, C, T, H, W)``.
    """

    def __init__(self, *, translate: float = 0.02, scale: float = 0.02, p: float = 0.5):
        super().__init__()
        self.p = p
        self.affine = K.RandomAffine(degrees=0.0, translate=(translate, translate),
                                     scale=(1 - scale, 1 + scale), p=1.0, padding_mode="border")

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = video.shape
        on = torch.rand(b, device=video.device) < self.p
        if not bool(on.any()):
            return video
        frames = video[on].permute(0, 2, 1, 3, 4).reshape(-1, c, h, w)
        jittered = self.affine(frames).reshape(-1, t, c, h, w).permute(0, 2, 1, 3, 4)
        out = video.clone()
        out[on] = jittered
        return out

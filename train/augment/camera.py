"""Camera-realism augmentation: sensor noise, motion blur, lossy compression (JPEG, H.264), occluders.

Rendered frames are noiseless, razor sharp and free of codec artefacts; real ones are
not (DESIGN.md, feasibility finding 4). Each transform draws its strength once per
clip (a camera does not change its sensor between frames) from an explicit
``torch.Generator``.
"""

from __future__ import annotations

import abc

import kornia
import numpy as np
import torch
from torch import nn


def _frames(video: torch.Tensor) -> torch.Tensor:
    b, c, t, h, w = video.shape
    return video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


def _unframes(frames: torch.Tensor, b: int, t: int) -> torch.Tensor:
    _, c, h, w = frames.shape
    return frames.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)


def _between(bounds: tuple[float, float], u: torch.Tensor) -> torch.Tensor:
    """``u`` in [0, 1) mapped linearly onto ``(low, high)``: one parameter per clip."""
    return bounds[0] + (bounds[1] - bounds[0]) * u


class CameraTransform(nn.Module, abc.ABC):
    """Base: per-clip ``apply`` mask plus transform-specific parameters."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def generate_parameters(self, batch: int, generator: torch.Generator | None = None) -> dict:
        return dict(apply=torch.rand(batch, generator=generator) < self.p)

    @abc.abstractmethod
    def apply_transform(self, video: torch.Tensor, params: dict) -> torch.Tensor:
        """Implemented by every transform."""

    def forward(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        params = self.generate_parameters(video.shape[0], generator)
        on = params["apply"]
        if not bool(on.any()):
            return video
        # transform only the selected clips: with p=0.3 that is 70% less work
        sub = {k: (v[on] if isinstance(v, torch.Tensor) and v.shape[:1] == on.shape else v) for k, v in params.items()}
        out = video.clone()
        out[on.to(video.device)] = self.apply_transform(video[on.to(video.device)], sub)
        return out


class SensorNoise(CameraTransform):
    """Additive Gaussian read noise plus signal-dependent shot noise.

    ``x' = clip(x + sigma_read * n1 + sqrt(x) * sigma_shot * n2)``; the sigmas are per
    clip, the noise itself fresh every frame, as a real sensor's is.

    Args:
        read_sigma: ``(min, max)`` read-noise std (in [0,1] intensity units).
        shot_sigma: ``(min, max)`` shot-noise scale.

    Shape:
        ``(B, C, T, H, W) -> (B, C, T, H, W)``.
    """

    def __init__(self, *, read_sigma=(0.0, 0.03), shot_sigma=(0.0, 0.03), p: float = 0.5):
        super().__init__(p)
        self.read_sigma, self.shot_sigma = read_sigma, shot_sigma

    def generate_parameters(self, batch, generator=None):
        params = super().generate_parameters(batch, generator)
        u = torch.rand(2, batch, generator=generator)
        params["read"] = _between(self.read_sigma, u[0])
        params["shot"] = _between(self.shot_sigma, u[1])
        # noise field seed: drawn from the generator so a seeded batch reproduces
        params["seed"] = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        return params

    def apply_transform(self, video, params):
        g = torch.Generator(device=video.device).manual_seed(params["seed"])
        shape = (video.shape[0], 1, *video.shape[2:])  # luminance-like noise shared by channels
        n = torch.randn(shape, generator=g, device=video.device, dtype=video.dtype)
        read = params["read"].to(video).view(-1, 1, 1, 1, 1)
        shot = params["shot"].to(video).view(-1, 1, 1, 1, 1)
        # read + shot noise are independent Gaussians: one draw with the summed variance
        # has the same distribution and costs half
        sigma = (read**2 + shot**2 * video.mean(1, keepdim=True).clamp(min=0)).sqrt()
        return (video + sigma * n).clamp(0, 1)


class MotionBlur(CameraTransform):
    """Linear motion blur with a per-clip kernel (angle, direction), via ``kornia.filters.motion_blur``.

    Args:
        kernel_size: odd kernel length in pixels.
        angle: ``(min, max)`` blur angle in degrees.
        direction: ``(min, max)`` in ``[-1, 1]``: how one-sided the smear is.

    Shape:
        ``(B, C, T, H, W) -> (B, C, T, H, W)``.
    """

    def __init__(self, *, kernel_size: int = 5, angle=(0.0, 180.0), direction=(-1.0, 1.0), p: float = 0.3):
        super().__init__(p)
        self.kernel_size, self.angle, self.direction = kernel_size, angle, direction

    def generate_parameters(self, batch, generator=None):
        params = super().generate_parameters(batch, generator)
        u = torch.rand(2, batch, generator=generator)
        params["angle"] = _between(self.angle, u[0])
        params["direction"] = _between(self.direction, u[1])
        return params

    def apply_transform(self, video, params):
        b, c, t, h, w = video.shape
        # one kernel per clip applied to its frames stacked as channels: same blur on every
        # frame by construction, and B kernels to build instead of B*T
        kernel = kornia.filters.get_motion_kernel2d(self.kernel_size, params["angle"].to(video),
                                                    params["direction"].to(video))
        blurred = kornia.filters.filter2d(video.reshape(b, c * t, h, w), kernel, border_type="reflect")
        return blurred.reshape(b, c, t, h, w)


class Compression(CameraTransform):
    """Block-DCT compression artefacts with a per-clip quality (differentiable JPEG).

    JPEG stands in for H.264 intra coding: same 8x8 DCT blocking and ringing, and
    it runs on the device inside the batch. Frame sides must be multiples of 16.

    Args:
        quality: ``(min, max)`` JPEG quality in ``[1, 100]``.

    Shape:
        ``(B, 3, T, H, W) -> (B, 3, T, H, W)``.
    """

    def __init__(self, *, quality=(30.0, 90.0), p: float = 0.3):
        super().__init__(p)
        self.quality = quality

    def generate_parameters(self, batch, generator=None):
        params = super().generate_parameters(batch, generator)
        params["quality"] = _between(self.quality, torch.rand(batch, generator=generator))
        return params

    def apply_transform(self, video, params):
        b, c, t, _, _ = video.shape
        if c != 3:
            raise ValueError(f"Compression expects RGB clips (C=3), got C={c}")
        quality = params["quality"].to(video).repeat_interleave(t)
        out = kornia.enhance.jpeg_codec_differentiable(_frames(video).clamp(0, 1), quality)
        return _unframes(out, b, t)


class VideoCodec(CameraTransform):
    """An H.264 round trip (libx264 in memory, decoded back) at a per-clip constant rate factor (CRF).

    JPEG (:class:`Compression`) codes each frame on its own; H.264 also predicts frames from earlier
    ones, and at a high CRF it skips the blocks that changed little, so a moving arm's frame differences
    shrink and stutter: on 10 ``weizmann4`` test clips the share of pixels changing by over 20 grey
    levels at a 2-frame gap falls from 0.010 (as rendered) to 0.005 at CRF 40 and 0.0014 at CRF 48.
    Only a real encoder reproduces that. It runs on the CPU, clip by clip (tens of ms a 16-frame 64x64
    window), so keep ``p`` small. Deterministic for frames of 48 px and more (on 32-px frames x264 here
    gave 4 different outputs in 60 runs of the same clip).

    Args:
        crf: ``(min, max)`` libx264 CRF (0-51; 23 is x264's default).

    Shape:
        ``(B, 3, T, H, W) -> (B, 3, T, H, W)``.
    """

    def __init__(self, *, crf=(28.0, 51.0), p: float = 0.25):
        super().__init__(p)
        self.crf = crf

    def generate_parameters(self, batch, generator=None):
        params = super().generate_parameters(batch, generator)
        params["crf"] = _between(self.crf, torch.rand(batch, generator=generator))
        return params

    def apply_transform(self, video, params):
        from simgen.adapt.perturb import h264_roundtrip  # PyAV + numpy only

        if video.shape[1] != 3:
            raise ValueError(f"VideoCodec expects RGB clips (C=3), got C={video.shape[1]}")
        frames = (video.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 4, 1).cpu().numpy()
        # a window has no frame rate of its own here; x264's CRF mode reads it only for rate-control detail
        out = np.stack([h264_roundtrip(f, 25.0, float(crf)) for f, crf in zip(frames, params["crf"])])
        return torch.from_numpy(out).to(device=video.device, dtype=video.dtype).permute(0, 4, 1, 2, 3) / 255.0


class MovingOccluder(CameraTransform):
    """An opaque box between the camera and the person, still or crossing the view.

    Real footage has passers-by, poles and furniture in front of the person; a moving one
    also adds strong motion of its own to a frame difference. Per clip: a box of width
    ``width`` and height ``height`` (fractions of the frame), standing on the bottom edge,
    hanging from the top or spanning the middle, of one random colour (plus per-pixel
    texture noise), whose left edge moves at constant speed from a start to an end position
    drawn independently in ``[-width, 1]`` (it may enter, leave, cross or stay put). With
    ``travel``, the end lies at most that far from the start instead (left or right, uniform
    distance): a pole or a slow passer-by that stays beside the person for a whole window.

    Args:
        width, height: ``(min, max)`` fractions of the frame side.
        travel: the most the box moves over a window, as a fraction of the frame width, or ``None``.

    Shape:
        ``(B, C, T, H, W) -> (B, C, T, H, W)``.
    """

    def __init__(self, *, width=(0.08, 0.5), height=(0.4, 1.0), travel: float | None = None, p: float = 0.3):
        super().__init__(p)
        self.width, self.height, self.travel = width, height, travel

    def generate_parameters(self, batch, generator=None):
        params = super().generate_parameters(batch, generator)
        u = torch.rand(8, batch, generator=generator)
        w = _between(self.width, u[0])
        params.update(width=w, height=_between(self.height, u[1]),
                      start=-w + (1 + w) * u[2], end=-w + (1 + w) * u[3], anchor=(u[4] * 3).floor(),
                      colour=u[5:8].t(), texture=0.15 * torch.rand(batch, generator=generator))
        params["seed"] = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        if self.travel is not None:  # drawn last: without travel the draws are what they always were
            v = torch.rand(2, batch, generator=generator)
            params["end"] = params["start"] + torch.where(v[0] < 0.5, -1.0, 1.0) * self.travel * v[1]
        return params

    def apply_transform(self, video, params):
        b, c, t, h, w = video.shape
        dev = video.device
        ramp = torch.linspace(0, 1, t, device=dev).view(1, t)
        left = params["start"].to(dev).view(b, 1) + (params["end"] - params["start"]).to(dev).view(b, 1) * ramp
        xs = (torch.arange(w, device=dev) + 0.5) / w  # pixel centres
        cols = (xs.view(1, 1, w) >= left[..., None]) & (xs.view(1, 1, w) < (left + params["width"].to(dev).view(b, 1))[..., None])
        ys = (torch.arange(h, device=dev) + 0.5) / h
        hh = params["height"].to(dev).view(b, 1)
        anchor = params["anchor"].to(dev).view(b, 1)
        top = torch.where(anchor == 0, 1 - hh, torch.where(anchor == 1, torch.zeros_like(hh), (1 - hh) / 2))
        rows = (ys.view(1, h) >= top) & (ys.view(1, h) < top + hh)  # (B, H)
        mask = cols[:, :, None, :] & rows[:, None, :, None]  # (B, T, H, W)
        g = torch.Generator(device=dev).manual_seed(params["seed"])
        tex = torch.randn((b, 1, 1, h, w), generator=g, device=dev, dtype=video.dtype)  # the same in every frame
        fill = (params["colour"].to(video).view(b, c, 1, 1, 1) + params["texture"].to(video).view(b, 1, 1, 1, 1) * tex)
        return torch.where(mask[:, None], fill.clamp(0, 1).expand_as(video), video)

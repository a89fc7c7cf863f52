"""Input representations: RGB, grayscale, temporal difference (plain, stabilised, person-centred), RGB + difference
(plain, or both streams stabilised and person-centred)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from simgen.train.person_crop import crop_windows, motion_boxes, pooled_box

INPUT_MODES = ("rgb", "gray", "diff", "sdiff", "pdiff", "psdiff", "rgb+diff", "psrgb+diff")
#: modes whose models are two streams: channels 0-2 RGB, channel 3 a difference
TWO_STREAM_INPUTS = ("rgb+diff", "psrgb+diff")
#: modes that zoom each window onto its moving region (:mod:`simgen.train.person_crop`)
CROPPED_INPUTS = ("pdiff", "psdiff", "psrgb+diff")
#: modes made of frame differences alone: a clip whose frames are all one picture gives them zeros whatever it
#: shows, so a model reading them labels every such clip alike (:func:`is_frozen`)
DIFFERENCE_INPUTS = ("diff", "sdiff", "pdiff", "psdiff")
#: camera speed (:func:`simgen.adapt.stabilise.camera_speed`) up to which a clip counts as filmed by a still
#: camera, so that its crop may span the whole clip: the camera gate's default,
#: :data:`simgen.pipelines.ensemble_options.CAMERA_GATE` (equal, tested; a copy so that the CLI need not import
#: torch to build its parser), whose comment gives the measurements
STILL_CAMERA = 0.008
_MEAN, _STD = 0.45, 0.225  # Kinetics statistics, so torchvision weights see familiar ranges
#: px between the points ``sdiff`` tracks: on 10 weizmann4_dev clips under the benchmark's moving crop
#: (strength 0.1 / 0.3) the stabilised clips' mean frame difference was 3.07 / 4.23 grey levels with
#: every 6th px against 3.05 / 4.19 with every 3rd (unstabilised 5.39 / 11.23), at a quarter of the cost
_SDIFF_GRID = 6


def is_frozen(frames) -> bool:
    """Whether every frame of a clip (``uint8[T,H,W,3]``, array or tensor) is the same picture, as H.264 at CRF 48
    returns 4 of the 20 ``weizmann4_dev`` clips: one still, every later frame skipped. A model of
    :data:`DIFFERENCE_INPUTS` sees zeros in such a clip, whatever it shows, and gives every frozen clip the same
    scores (to float rounding of the mean over its windows)."""
    frames = np.asarray(frames)
    return bool(len(frames) < 2 or (frames == frames[:1]).all())


def input_channels(mode: str) -> int:
    """Channels a model receives for ``mode``."""
    check_mode(mode)
    return 4 if mode in TWO_STREAM_INPUTS else 3 if mode == "rgb" else 1


def luma_only(mode: str) -> bool:
    """Whether ``mode`` sees grey levels only (colour augmentation beyond brightness/contrast is wasted)."""
    return check_mode(mode) in ("gray", "diff", "sdiff", "pdiff", "psdiff")


def check_mode(mode: str) -> str:
    if mode not in INPUT_MODES:
        raise ValueError(f"unknown input mode {mode!r}; expected one of {list(INPUT_MODES)}")
    return mode


def to_gray(video: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma: ``(B,3,T,H,W) -> (B,1,T,H,W)``."""
    w = torch.tensor([0.299, 0.587, 0.114], device=video.device, dtype=video.dtype).view(1, 3, 1, 1, 1)
    return (video * w).sum(1, keepdim=True)


def temporal_difference(gray: torch.Tensor) -> torch.Tensor:
    """Frame gradient ``d[t] = g[t] - g[t-1]``, ``d[0] = d[1]``, keeping ``T`` for per-frame heads."""
    d = gray[:, :, 1:] - gray[:, :, :-1]
    if d.shape[2] == 0:
        return torch.zeros_like(gray)
    return torch.cat([d[:, :, :1], d], dim=2)


def stabilised_gray(gray: torch.Tensor) -> torch.Tensor:
    """Each clip of ``gray (B,1,T,H,W)`` in ``[0,1]`` warped to cancel the camera's global motion.

    The motion (a similarity per frame, LK flow + RANSAC, :func:`simgen.adapt.stabilise.stabilise`)
    is estimated on the clip's 8-bit grey levels and applied to the float ones, on the CPU.
    """
    return stabilised(gray, gray)


def stabilised(video: torch.Tensor, gray: torch.Tensor) -> torch.Tensor:
    """``video (B,C,T,H,W)`` warped by the camera motion estimated on its grey levels ``gray (B,1,T,H,W)``.

    One motion for all channels, so an RGB clip and its luma stay aligned pixel for pixel (a bilinear warp
    is linear: the luma of the warped clip is the warped luma).
    """
    from simgen.adapt.stabilise import stabilise  # numpy/OpenCV only; no model code

    g = gray.detach().float().cpu().numpy()[:, 0]
    levels = np.clip(np.rint(g * 255.0), 0, 255).astype(np.uint8)
    values = video.detach().float().cpu().permute(0, 2, 3, 4, 1).numpy()  # (B,T,H,W,C): OpenCV's layout
    values = np.ascontiguousarray(values[..., 0] if values.shape[-1] == 1 else values)
    out = np.stack([stabilise(levels[b], values=values[b], grid_step=_SDIFF_GRID) for b in range(len(g))])
    out = torch.from_numpy(out if out.ndim == 5 else out[..., None]).permute(0, 4, 1, 2, 3)
    return out.to(device=video.device, dtype=video.dtype).contiguous()


def crop_spans_clip(frames: torch.Tensor, mode: str, key: tuple | None = None) -> bool:
    """Whether one crop box serves every window of a clip: ``mode`` crops, the clip has 2 frames or more and its
    camera moves no faster than :data:`STILL_CAMERA` (a box found in one frame's coordinates would not fit
    another's). ``frames``: ``uint8[N,H,W,3]``; ``key``: their :func:`~simgen.train.memo.content_key`, if known
    (the speed is measured once per content)."""
    if check_mode(mode) not in CROPPED_INPUTS or len(frames) < 2:
        return False
    from simgen.train.memo import camera_speed

    return camera_speed(frames.cpu().numpy(), key) <= STILL_CAMERA


def clip_crop_box(frames: torch.Tensor, mode: str, windows: np.ndarray) -> torch.Tensor | None:
    """One crop box for every window of a clip filmed by a still camera: where the clip's windows move.

    A window's own box (:func:`~simgen.train.person_crop.motion_boxes`) follows what moves in it. When an
    occluder hides one of a person's two waving arms for most of a window, the box closes on the other arm,
    and the crop looks like a one-arm wave (on ``weizmann4_dev`` under the benchmark's 0.45 bar the boxes of
    wave2 clips moved from the middle, x 0.48, to the waving side, x 0.67, where wave1's sit). Over the whole
    clip the bar has swept on and each arm was seen moving in some window, so one box pooled from all the
    windows' motion (:func:`~simgen.train.person_crop.pooled_box`) holds the person. Scoring does not call
    this (it would stabilise every window twice): ``InputTransform(mode)(windows, pool_box=True)`` crops with
    the same box; this gives the box alone.

    Args:
        frames: ``uint8[N,H,W,3]``, the clip.
        mode: the model's input mode.
        windows: ``int[W,T]``, the frame indices of the windows the model will see (stabilised one by one
            for ``ps*`` modes, as :class:`InputTransform` does).

    Returns:
        ``(3,)`` box as :func:`~simgen.train.person_crop.motion_boxes` gives, or ``None`` (each window keeps
        its own box) when :func:`crop_spans_clip` says no.
    """
    if not crop_spans_clip(frames, mode):
        return None
    video = frames[torch.as_tensor(windows)].permute(0, 4, 1, 2, 3).float() / 255.0
    return pooled_box(InputTransform(mode).crop_reference(video)[1])


class InputTransform(nn.Module):
    """Turn augmented RGB clips into the model's input representation.

    Motion-centred inputs (difference) discard appearance that differs between
    rendered and real frames (DESIGN.md, finding 3). A difference also sees the camera's
    own motion everywhere; ``sdiff`` (stabilised difference) first warps each clip to cancel
    the global motion (:func:`stabilised_gray`: camera pan, zoom, shake), then differences:
    motion-compensated differences as in Wang & Schmid, "Action Recognition with Improved
    Trajectories", ICCV 2013. It costs OpenCV work on the CPU for every clip, at training and
    at test time alike, and the checkpoint records it as its input mode, so evaluation and
    prediction apply it without being told. ``pdiff`` (person-centred difference) zooms each
    window onto its moving region before differencing (:mod:`simgen.train.person_crop`), so a
    smaller or off-centre person looks as the training clips' do; ``psdiff`` stabilises, then
    crops. ``psrgb+diff`` keeps appearance beside motion: the RGB clip is stabilised and cropped
    exactly as ``psdiff``'s grey levels are (one warp, one box per window), so its channel 3 is
    ``psdiff`` and channels 0-2 show the same region in colour. A difference sees an occluder
    only at its moving edges; the RGB stream also sees what it hides.

    Args:
        mode: ``rgb`` | ``gray`` | ``diff`` | ``sdiff`` | ``pdiff`` | ``psdiff`` | ``rgb+diff`` | ``psrgb+diff``
            (the last two: channels 0-2 RGB, 3 difference; the two-stream models split them again).
        diff_scale: multiplier bringing frame differences to roughly unit variance.

    Shape:
        ``(B, 3, T, H, W)`` in ``[0,1]`` -> ``(B, input_channels(mode), T, H, W)``.

    Example:
        >>> InputTransform("rgb+diff")(torch.rand(2, 3, 8, 16, 16)).shape
        torch.Size([2, 4, 8, 16, 16])
    """

    def __init__(self, mode: str = "rgb", *, diff_scale: float = 8.0):
        super().__init__()
        self.mode = check_mode(mode)
        self.diff_scale = diff_scale

    def crop_reference(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A cropped mode's clips before the crop: ``(video, gray)``, both stabilised for ``ps*`` modes (one
        motion estimate per window); the crop boxes are found on ``gray``."""
        gray = to_gray(video)
        if self.mode == "psrgb+diff":
            video = stabilised(video, gray)
            return video, to_gray(video)
        if self.mode == "psdiff":
            gray = stabilised_gray(gray)
        return video, gray

    def forward(self, video: torch.Tensor, boxes: torch.Tensor | None = None, *,
                pool_box: bool = False) -> torch.Tensor:
        """``boxes (B, 3)``: the person-centred modes' crop per window (default: each window's own,
        :func:`~simgen.train.person_crop.motion_boxes`). ``pool_box``: ``video`` holds every window of one
        clip, and all are cropped with one box pooled from their motion
        (:func:`~simgen.train.person_crop.pooled_box`, what :func:`clip_crop_box` gives)."""
        if video.shape[1] != 3:
            raise ValueError(f"InputTransform expects RGB clips (B,3,T,H,W), got {tuple(video.shape)}")
        if pool_box and (boxes is not None or self.mode not in CROPPED_INPUTS):
            raise ValueError(f"pool_box needs a cropped input mode {list(CROPPED_INPUTS)} and no boxes; "
                             f"got {self.mode!r}{' with boxes' if boxes is not None else ''}")
        if self.mode == "rgb":
            return (video - _MEAN) / _STD
        if self.mode in CROPPED_INPUTS:
            video, gray = self.crop_reference(video)
            if pool_box:
                boxes = pooled_box(gray).expand(len(gray), 3)
            elif boxes is None:
                boxes = motion_boxes(gray)
            if self.mode == "psrgb+diff":
                video = crop_windows(video, boxes)
                diff = temporal_difference(to_gray(video)) * self.diff_scale
                return torch.cat([(video - _MEAN) / _STD, diff], dim=1)
            return temporal_difference(crop_windows(gray, boxes)) * self.diff_scale
        gray = to_gray(video)
        if self.mode == "gray":
            return (gray - _MEAN) / _STD
        if self.mode == "sdiff":
            gray = stabilised_gray(gray)
        diff = temporal_difference(gray) * self.diff_scale
        if self.mode == "rgb+diff":
            return torch.cat([(video - _MEAN) / _STD, diff], dim=1)
        return diff

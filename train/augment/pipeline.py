"""The training-time clip augmentation: temporal -> spatial/colour -> frame jitter -> camera."""

from __future__ import annotations

import contextlib
import hashlib

import torch
from torch import nn

from simgen.train.augment.camera import Compression, MotionBlur, MovingOccluder, SensorNoise, VideoCodec
from simgen.train.augment.spatial import FrameJitter, create_spatial_augment
from simgen.train.augment.temporal import (
    RandomFrameDrop,
    RandomFrameRate,
    RandomReverse,
    RandomSpeed,
    RandomTemporalCrop,
    TemporalCompose,
    TemporalIndexTransform,
)


@contextlib.contextmanager
def _seeded_global_rng(generator: torch.Generator | None, device: torch.device):
    """kornia samples from the global torch RNG; fork it and seed it from ``generator``.

    This makes a batch a pure function of the generator's state without touching
    the caller's global RNG stream.
    """
    if generator is None:
        yield
        return
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class ClipAugmentation(nn.Module):
    """Clip-consistent augmentation run on the training device.

    Args:
        temporal: temporal transforms (index maps; they also re-time ``frame_labels``).
        spatial: per-clip spatial/colour ``VideoSequential`` (``same_on_frame=True``).
        frame_jitter: optional small per-frame shake.
        camera: camera-realism transforms.

    Shape:
        - video: ``(B, C, T, H, W)`` float in ``[0, 1]``.
        - frame_labels (optional): ``(B, T)`` long.
        - Output: ``(video', frame_labels')``.
    """

    def __init__(self, *, temporal: list[TemporalIndexTransform] | None = None, spatial: nn.Module | None = None,
                 frame_jitter: nn.Module | None = None, camera: list[nn.Module] | None = None):
        super().__init__()
        self.temporal = TemporalCompose(*(temporal or []))
        self.spatial = spatial
        self.frame_jitter = frame_jitter
        self.camera = nn.ModuleList(camera or [])

    def forward(self, video: torch.Tensor, frame_labels: torch.Tensor | None = None, *,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, _, t, _, _ = video.shape
        if len(self.temporal.transforms):
            idx = self.temporal.generate_parameters(b, t, generator)
            video = TemporalIndexTransform.apply_transform(video, idx)
            if frame_labels is not None:
                frame_labels = torch.gather(frame_labels, 1, idx.to(frame_labels.device))
        with _seeded_global_rng(generator, video.device):
            if self.spatial is not None:
                video = self.spatial(video)
            if self.frame_jitter is not None:
                video = self.frame_jitter(video)
        for cam in self.camera:
            video = cam(video, generator)
        return video.clamp(0, 1), frame_labels


def create_clip_augmentation(
    *,
    size: int,
    spatial: bool = True,
    frame_jitter: float = 0.0,
    speed: tuple[float, float] | None = (0.8, 1.25),
    frame_drop: float = 0.0,
    reverse: float = 0.0,
    temporal_crop: float | None = None,
    noise: float = 0.3,
    blur: float = 0.2,
    compression: float = 0.0,
    jpeg_quality: tuple[float, float] = (30.0, 90.0),
    codec: float = 0.0,
    codec_crf: tuple[float, float] = (28.0, 51.0),
    frame_rate: tuple[float, float] | None = None,
    occluder: float = 0.0,
    occluder_height: tuple[float, float] = (0.4, 1.0),
    occluder_travel: float | None = None,
    luma_only: bool = False,
) -> ClipAugmentation:
    """Build a :class:`ClipAugmentation` from plain settings (0 / ``None`` disables a part).

    Args:
        size: output side.
        spatial: per-clip crop/flip/rotation/colour.
        frame_jitter: per-frame shake probability (0 = none).
        speed: playback-rate range, or ``None``.
        frame_drop: per-frame drop rate (0 = none).
        reverse: probability of reversing a clip.
        temporal_crop: minimum crop fraction, or ``None``.
        noise, blur, compression, occluder: per-clip probabilities of each camera effect
            (occluder: a :class:`MovingOccluder` box, drawn first so the camera effects apply to it).
        occluder_height: the box's height range, as a fraction of the frame's.
        occluder_travel: the most the box moves over a window (fraction of the width), or ``None``
            (independent start and end).
        jpeg_quality: the compression's JPEG quality range.
        codec: per-clip probability of an H.264 round trip (:class:`VideoCodec`, on the CPU), applied
            after every other camera effect, as a camera's encoder is.
        codec_crf: its CRF range.
        frame_rate: the rate-divisor range of :class:`RandomFrameRate` (half the clips), or ``None``.
        luma_only: colour jitter limited to brightness/contrast (gray and difference inputs).

    Example:
        >>> aug = create_clip_augmentation(size=32)
        >>> v, _ = aug(torch.rand(2, 3, 8, 32, 32), generator=torch.Generator().manual_seed(0))
        >>> v.shape
        torch.Size([2, 3, 8, 32, 32])
    """
    temporal: list[TemporalIndexTransform] = []
    if speed is not None:
        temporal.append(RandomSpeed(speed, p=0.5))
    if temporal_crop is not None:
        temporal.append(RandomTemporalCrop(temporal_crop, p=0.5))
    if frame_drop > 0:
        temporal.append(RandomFrameDrop(frame_drop, p=0.5))
    if frame_rate is not None:
        temporal.append(RandomFrameRate(frame_rate, p=0.5))
    if reverse > 0:
        temporal.append(RandomReverse(p=reverse))
    camera: list[nn.Module] = []
    if occluder > 0:
        camera.append(MovingOccluder(height=occluder_height, travel=occluder_travel, p=occluder))
    if blur > 0:
        camera.append(MotionBlur(p=blur))
    if compression > 0:
        camera.append(Compression(quality=jpeg_quality, p=compression))
    if noise > 0:
        camera.append(SensorNoise(p=noise))
    if codec > 0:
        camera.append(VideoCodec(crf=codec_crf, p=codec))
    return ClipAugmentation(
        temporal=temporal,
        spatial=create_spatial_augment(size=size, luma_only=luma_only) if spatial else None,
        frame_jitter=FrameJitter(p=frame_jitter) if frame_jitter > 0 else None,
        camera=camera,
    )


def batch_generator(seed: int, epoch: int, keys: list[str]) -> torch.Generator:
    """The augmentation generator of one batch: a function of (run seed, epoch, clip keys).

    Deriving it from the batch's content rather than from a running stream makes an
    augmented batch the same whichever process augments it (main or DataLoader worker)
    and after a resume.
    """
    digest = hashlib.sha1(f"{seed}|{epoch}|{'|'.join(keys)}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


class AugmentingCollate:
    """``collate_fn`` that also augments, for CPU training with DataLoader workers.

    On a GPU the augmentation runs on the device inside the step; on the CPU the
    device *is* the host, so running it in worker processes overlaps it with the
    model step instead of adding to it.

    Args:
        augment: the run's :class:`ClipAugmentation`.
        seed: run seed (see :func:`batch_generator`).
    """

    def __init__(self, augment: ClipAugmentation, seed: int):
        self.augment, self.seed = augment, seed

    def __call__(self, samples: list[dict]) -> dict:
        from simgen.train.data.batch import collate_clips, to_float_video

        batch = collate_clips(samples)
        gen = batch_generator(self.seed, samples[0].get("epoch", 0), batch["key"])
        with torch.no_grad():
            video, frame_labels = self.augment(to_float_video(batch["video"]), batch["frame_labels"], generator=gen)
        batch.update(video=video, frame_labels=frame_labels)
        return batch

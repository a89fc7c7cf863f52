import pytest
import torch

from simgen.train.augment import (
    Compression,
    FrameJitter,
    MotionBlur,
    RandomFrameDrop,
    RandomReverse,
    RandomSpeed,
    RandomTemporalCrop,
    SensorNoise,
    TemporalCompose,
    create_clip_augmentation,
    create_spatial_augment,
)


def static_clips(b=2, t=6, size=32):
    """Clips whose frames are all identical: any difference between output frames was added per frame."""
    torch.manual_seed(0)
    img = torch.rand(1, 3, 1, size, size).expand(b, 3, t, size, size).contiguous()
    return img


class TestSpatialConsistency:
    @pytest.mark.parametrize("luma_only", [False, True])
    def test_same_parameters_on_every_frame_of_a_clip(self, luma_only):
        aug = create_spatial_augment(size=24, color_p=1.0, luma_only=luma_only)
        out = aug(static_clips(size=40))
        assert out.shape == (2, 3, 6, 24, 24)
        for b in range(2):
            for t in range(1, 6):
                torch.testing.assert_close(out[b, :, t], out[b, :, 0])

    def test_rgb_colour_parameters_repeat_per_frame_and_differ_per_clip(self):
        aug = create_spatial_augment(size=24, color_p=1.0)
        aug(static_clips(b=3, t=4))
        jitter = next(p for p in aug.colour._params if p.name.startswith("ColorJitter"))
        hue = jitter.data["hue_factor"].view(3, 4)
        assert torch.equal(hue[:, :1].expand_as(hue), hue)  # same colour for all frames of a clip
        assert len(set(hue[:, 0].tolist())) == 3  # three clips, three draws

    @pytest.mark.parametrize("luma_only", [False, True])
    def test_one_warp_per_clip(self, luma_only):
        aug = create_spatial_augment(size=24, luma_only=luma_only)
        aug(static_clips(b=3, t=4))
        warp = next(p for p in aug.geometry._params if p.name.startswith("RandomAffine"))
        assert warp.data["angle"].shape == (3,)  # drawn per clip, applied to the clip's stacked frames
        assert len(set(warp.data["angle"].tolist())) == 3

    @pytest.mark.parametrize("luma_only", [False, True])
    def test_two_clips_get_different_parameters(self, luma_only):
        aug = create_spatial_augment(size=24, color_p=1.0, luma_only=luma_only)
        out = aug(static_clips(b=2))
        assert not torch.allclose(out[0], out[1])

    def test_frame_jitter_varies_frames_but_little(self):
        torch.manual_seed(1)
        clip = static_clips(b=1, t=5)
        out = FrameJitter(translate=0.05, scale=0.0, p=1.0)(clip)
        diffs = [(out[0, :, t] - out[0, :, 0]).abs().mean().item() for t in range(1, 5)]
        assert max(diffs) > 0  # frames now differ
        assert max(diffs) < 0.5 * (clip[0, :, 0] - clip[0, :, 0].mean()).abs().mean().item() * 4


class TestTemporal:
    def indexed_clip(self, b=3, t=10):
        return torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).expand(b, 3, t, 4, 4).contiguous()

    def test_reverse(self):
        out = RandomReverse(p=1.0)(self.indexed_clip())
        assert out[0, 0, :, 0, 0].tolist() == list(range(9, -1, -1))

    def test_speed_keeps_length_and_order(self):
        tr = RandomSpeed((1.5, 1.5), p=1.0)
        out = tr(self.indexed_clip())[0, 0, :, 0, 0]
        assert len(out) == 10 and (out.diff() >= 0).all() and out[0] == 0 and out[-1] == 9

    def test_frame_drop_holds_previous_frame(self):
        g = torch.Generator().manual_seed(0)
        idx = RandomFrameDrop(0.5, p=1.0).generate_parameters(4, 20, g)
        assert (idx[:, 0] == 0).all() and (idx.diff(dim=1) >= 0).all()
        assert (idx.diff(dim=1) == 0).any()  # some frames were held

    def test_temporal_crop_is_contiguous_subrange(self):
        g = torch.Generator().manual_seed(0)
        idx = RandomTemporalCrop(0.5, p=1.0).generate_parameters(5, 12, g)
        for row in idx:
            assert (row.diff() >= 0).all() and (row.diff() <= 1).all()

    def test_compose_retimes_frame_labels(self):
        aug = create_clip_augmentation(size=4, spatial=False, speed=None, reverse=1.0, noise=0, blur=0)
        labels = torch.arange(10).expand(2, 10)
        video, fl = aug(self.indexed_clip(b=2) / 10, labels, generator=torch.Generator().manual_seed(0))
        assert fl[0].tolist() == list(range(9, -1, -1))
        torch.testing.assert_close(video[:, 0, :, 0, 0] * 10, fl.float())

    def test_identity_when_p_zero(self):
        clip = self.indexed_clip()
        assert torch.equal(TemporalCompose(RandomSpeed(p=0.0), RandomReverse(p=0.0))(clip), clip)


class TestCamera:
    def test_noise_strength_per_clip_noise_per_frame(self):
        clip = torch.full((2, 3, 4, 16, 16), 0.5)
        noise = SensorNoise(read_sigma=(0.05, 0.05), shot_sigma=(0.0, 0.0), p=1.0)
        out = noise(clip, torch.Generator().manual_seed(0))
        resid = out - clip
        assert resid.std().item() == pytest.approx(0.05, rel=0.15)
        assert not torch.allclose(resid[0, :, 0], resid[0, :, 1])

    def test_blur_same_kernel_on_all_frames(self):
        clip = static_clips(b=2, t=3, size=16)
        out = MotionBlur(kernel_size=5, p=1.0)(clip, torch.Generator().manual_seed(0))
        torch.testing.assert_close(out[:, :, 1], out[:, :, 0])
        assert not torch.allclose(out, clip)

    def test_compression_changes_image_and_needs_rgb(self):
        clip = static_clips(b=1, t=2, size=16)
        out = Compression(quality=(10, 10), p=1.0)(clip, torch.Generator().manual_seed(0))
        assert out.shape == clip.shape and not torch.allclose(out, clip)
        with pytest.raises(ValueError, match="RGB"):
            Compression(p=1.0)(torch.rand(1, 1, 2, 16, 16), torch.Generator().manual_seed(0))


class TestClipAugmentation:
    def test_seeded_generator_reproduces_a_batch(self):
        aug = create_clip_augmentation(size=24, frame_jitter=0.5, compression=0.5, frame_drop=0.2)
        clip = torch.rand(3, 3, 8, 32, 32)
        a, _ = aug(clip, generator=torch.Generator().manual_seed(7))
        torch.manual_seed(123)  # the global RNG must not matter
        b, _ = aug(clip, generator=torch.Generator().manual_seed(7))
        c, _ = aug(clip, generator=torch.Generator().manual_seed(8))
        torch.testing.assert_close(a, b)
        assert not torch.allclose(a, c)

    def test_does_not_consume_global_rng(self):
        aug = create_clip_augmentation(size=16, frame_jitter=1.0)
        clip = torch.rand(2, 3, 4, 16, 16)
        torch.manual_seed(0)
        expected = torch.rand(3)
        torch.manual_seed(0)
        aug(clip, generator=torch.Generator().manual_seed(1))
        assert torch.equal(torch.rand(3), expected)

    def test_gradient_flows_through_spatial_and_camera(self):
        aug = create_clip_augmentation(size=16, speed=None, blur=1.0, noise=1.0)
        clip = torch.rand(2, 3, 4, 16, 16, requires_grad=True)
        out, _ = aug(clip, generator=torch.Generator().manual_seed(0))
        out.sum().backward()
        assert clip.grad is not None and clip.grad.abs().sum() > 0


def test_camera_transform_leaves_unselected_clips_untouched():
    clip = torch.rand(8, 3, 2, 16, 16)
    noise = SensorNoise(read_sigma=(0.1, 0.1), p=0.5)
    gen = torch.Generator().manual_seed(0)
    chosen = noise.generate_parameters(8, torch.Generator().manual_seed(0))["apply"]
    out = noise(clip, gen)
    for i in range(8):
        assert torch.equal(out[i], clip[i]) != bool(chosen[i])


def test_worker_augmentation_equals_device_augmentation():
    from simgen.train.augment.pipeline import AugmentingCollate, batch_generator
    from simgen.train.data.batch import collate_clips, to_float_video

    aug = create_clip_augmentation(size=16, frame_jitter=0.5, frame_drop=0.2, compression=0.5)
    samples = [dict(video=torch.randint(0, 255, (6, 16, 16, 3), dtype=torch.uint8), label=i % 2, domain=0,
                    frame_labels=torch.arange(6), key=f"k{i}", epoch=3) for i in range(3)]
    in_worker = AugmentingCollate(aug, seed=5)(samples)
    batch = collate_clips(samples)
    on_device, fl = aug(to_float_video(batch["video"]), batch["frame_labels"], generator=batch_generator(5, 3, batch["key"]))
    torch.testing.assert_close(in_worker["video"], on_device)
    assert torch.equal(in_worker["frame_labels"], fl)

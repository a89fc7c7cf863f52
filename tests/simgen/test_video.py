import numpy as np

from simgen.video import decode_mp4, encode_mp4, rgb_to_yuv420p


def _frames():
    rng = np.random.default_rng(3)
    t = np.arange(12)[:, None, None]
    yy, xx = np.mgrid[:48, :48]
    base = ((xx + 3 * t) % 48 < 20) * 180 + ((yy + 2 * t) % 48 < 10) * 60
    frames = np.stack([base, np.roll(base, 7, axis=2), 255 - base], axis=-1).astype(np.float64)
    frames += rng.normal(0, 8, frames.shape)
    return np.clip(frames, 0, 255).astype(np.uint8)


def test_round_trip_is_close():
    frames = _frames()
    decoded = decode_mp4(encode_mp4(frames, 25.0, crf=12))
    assert decoded.shape == frames.shape

    def luma(x):  # 4:2:0 halves chroma resolution by design; brightness must survive intact
        return x.astype(np.float64) @ np.array([0.299, 0.587, 0.114])

    assert np.abs(luma(decoded) - luma(frames)).mean() < 4


ENCODE_30_TIMES = """
import sys, numpy as np
sys.path.insert(0, {tests!r})
import simgen.video as video
from test_video import _frames
frames, outputs = _frames(), set()
for k in range(30):  # leave different garbage on the heap before each encode
    junk = [bytearray(np.random.default_rng(k).integers(0, 255, n, dtype=np.uint8).tobytes()) for n in (7000 * k + 5, 70000)]
    outputs.add(video.encode_mp4(frames, 25.0))
    del junk
print(len(outputs))
"""


def _distinct_encodings() -> int:
    import subprocess
    import sys
    from pathlib import Path

    code = ENCODE_30_TIMES.format(tests=str(Path(__file__).parent))
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_encoding_is_a_pure_function_of_the_frames():
    """encode_mp4 pins the heap (M_PERTURB) in the process that encodes: 30 encodes of the same frames, one
    output. x264 reads heap memory it never wrote; without the pin the same frames gave 5 distinct outputs of
    30 when this was written. That control was dropped on 2026-12-02: on a fresh CI clone 30 unpinned encodes
    were identical (the garbage depends on the allocator's state), so it failed without any code change.
    On such a machine this test passes without the pin too (checked by disabling it, 2026-12-02): it guards
    the pin only where the allocator leaves differing garbage."""
    assert _distinct_encodings() == 1


ROUND_TRIP_30_TIMES = """
import sys
import numpy as np
import simgen.video as video
from simgen.adapt.perturb import h264_roundtrip
clip = np.load(sys.argv[1])["frames"]
outputs = set()
for k in range(30):  # leave different garbage on the heap before each round trip
    junk = [bytearray(np.random.default_rng(k).integers(0, 255, n, dtype=np.uint8).tobytes()) for n in (7000 * k + 5, 70000)]
    outputs.add(h264_roundtrip(clip, 25.0, 36).tobytes())
    del junk
print(len(outputs), video._fill_depth, video._heap_pinned)
"""


def test_an_h264_round_trip_is_a_pure_function_of_the_frames():
    """The codec augmentation and the compressed test copies round-trip through x264, which reads heap memory
    it never wrote: the same seed's ``robust`` training gave different models in two runs. ``filled_heap``
    sets M_PERTURB around each encode only (a trainer's other mallocs keep their speed) and unsets it after.
    The clip (8 frames, 32x32, from a ``robust`` training batch) gave 2-6 distinct outputs in 30 round trips here
    with ``filled_heap`` removed from ``h264_roundtrip`` (2026-12-03), and this test then failed; where the
    allocator leaves the same garbage every time it passes either way."""
    import subprocess
    import sys
    from pathlib import Path

    clip = str(Path(__file__).parent / "data" / "x264_reads_unwritten_memory.npz")

    out = subprocess.run([sys.executable, "-c", ROUND_TRIP_30_TIMES, clip], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "0", "None"]  # one output; nothing left set, the process not pinned


def test_reading_or_importing_does_not_pin_the_heap():
    """M_PERTURB slows every malloc: only a process that encodes may set it, not a reader or trainer."""
    import subprocess
    import sys

    code = "import simgen.video as v, simgen.dataset.reader, simgen.train.data; print(v._heap_pinned)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "None"


def test_yuv_conversion_of_grey_and_primaries():
    img = np.zeros((2, 2, 3), np.uint8)
    assert rgb_to_yuv420p(img)[:2].max() == 16  # black is Y=16 in limited range
    img[:] = 255
    assert rgb_to_yuv420p(img)[:2].min() == 235  # white is Y=235
    assert np.all(rgb_to_yuv420p(img)[2:] == 128)  # grey has neutral chroma


def test_x264_params_reach_the_encoder():
    frames = _frames()
    every_frame_a_keyframe = encode_mp4(frames, 25.0, crf=18, params="keyint=1")
    assert len(every_frame_a_keyframe) > 1.5 * len(encode_mp4(frames, 25.0, crf=18))
    assert decode_mp4(every_frame_a_keyframe).shape == frames.shape


def test_jpeg_keeps_the_brightness_of_a_red_blue_pattern():
    """JPEG stores luma at full resolution and colour at half: a fine red/blue pattern must keep
    its brightness (BT.601 luma of RGB). Handing OpenCV RGB as if it were BGR swaps red's and
    blue's luma weights, and the pattern's brightness then blurs away (mean error 35 vs 7)."""
    from simgen.camera_noise import apply_camera_noise

    rng = np.random.default_rng(0)
    red = (rng.random((2, 48, 48)) > 0.5) * 255
    frames = np.stack([red, np.zeros_like(red), 255 - red], axis=-1).astype(np.uint8)
    out = apply_camera_noise(frames, {"sensor_noise_std": 0.0, "jpeg_quality": 95})
    luma = np.array([0.299, 0.587, 0.114])
    assert np.abs(out @ luma - frames @ luma).mean() < 12
    # Red stays red (a conversion one way only would swap the channels).
    halves = np.zeros((1, 16, 32, 3), np.uint8)
    halves[:, :, :16, 0] = halves[:, :, 16:, 2] = 255
    out = apply_camera_noise(halves, {"sensor_noise_std": 0.0, "jpeg_quality": 95}).astype(int)
    away_from_the_edge = np.r_[2:12, 20:30]
    assert np.abs(out[:, :, away_from_the_edge] - halves[:, :, away_from_the_edge]).max() < 16


def test_strict_decoding_reports_errors_that_concealment_hides():
    """Flip 4 bytes at each of many places in the H.264 data: players conceal most of the damage,
    a strict decode (err_detect=explode) raises wherever the decoder notices it."""
    data = encode_mp4(_frames(), 25.0)
    start = data.find(b"mdat") + 16
    positions = range(start, len(data) - 4, 89)
    raised = {False: 0, True: 0}
    for pos in positions:
        damaged = bytearray(data)
        damaged[pos : pos + 4] = bytes(b ^ 0xA5 for b in damaged[pos : pos + 4])
        for strict in raised:
            try:
                decode_mp4(bytes(damaged), strict=strict)
            except Exception:
                raised[strict] += 1
    assert raised[True] >= raised[False] + 0.15 * len(positions), (raised, len(positions))


def test_one_reused_colour_converter_gives_the_pixels_of_one_per_frame():
    import io

    import av

    from simgen.video import rgb_arrays

    data = encode_mp4(_frames(), 25.0, crf=30)

    def decoded(convert):
        with av.open(io.BytesIO(data)) as container:
            return np.stack(list(convert(container.decode(video=0))))

    per_frame = decoded(lambda frames: (f.to_ndarray(format="rgb24") for f in frames))
    shared = decoded(rgb_arrays)
    assert shared.shape == (12, 48, 48, 3) and np.array_equal(shared, per_frame)
    assert np.array_equal(decode_mp4(data), per_frame)

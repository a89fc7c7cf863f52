import numpy as np
import pytest

from simgen.train.data import RealFolderReader, SyntheticReader, open_reader
from simgen.train.data.batch import ClipDataset, collate_clips
from simgen.train.data.cache import FrameCache
from simgen.train.errors import TrainDataError, VideoDecodeError


class TestRealFolderReader:
    def test_weizmann_loads_as_it_is(self, weizmann_dir):
        reader = RealFolderReader(weizmann_dir)
        assert len(reader) == 20
        assert sorted(reader.classes) == ["bend", "jack", "wave1", "wave2"]
        frames, ann = reader.read(0)
        assert frames.dtype == np.uint8 and frames.shape[1:] == (64, 64, 3)
        assert 51 <= len(frames) <= 146
        assert ann["label"] in reader.classes and ann["subject"].startswith("s")
        assert ann["fps"] == pytest.approx(25.0)

    def test_labels_csv_resizes_any_frame_size(self, real_dir):
        reader = RealFolderReader(real_dir, size=32)
        frames, ann = reader.read("clips/c1.mp4")
        assert frames.shape == (30, 32, 32, 3)
        assert ann["label"] == "right" and ann["fps"] == pytest.approx(30.0)

    def test_class_subfolders_and_avi(self, tmp_path, helpers):
        rng = np.random.default_rng(0)
        for label in ("a", "b"):
            helpers.write_video_file(tmp_path / label / "x.mp4", helpers.moving_square("left", 10, 32, rng))
        import av

        # an AVI written with a different codec (MPEG-4 part 2) also decodes
        with av.open(str(tmp_path / "b" / "y.avi"), "w") as c:
            s = c.add_stream("mpeg4", rate=15)
            s.width = s.height = 32
            s.pix_fmt = "yuv420p"
            for f in helpers.moving_square("right", 8, 32, rng):
                for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
        reader = RealFolderReader(tmp_path)
        assert reader.classes == ["a", "b"] and len(reader) == 3
        frames, ann = reader.read("b/y.avi")
        assert frames.shape == (8, 32, 32, 3) and ann["label"] == "b"

    def test_missing_label_column_names_the_file(self, tmp_path):
        (tmp_path / "labels.csv").write_text("path,subject\na.mp4,s0\n")
        with pytest.raises(TrainDataError, match=r"labels\.csv.*'label'"):
            RealFolderReader(tmp_path)

    def test_label_outside_class_list_names_file_and_line(self, real_dir):
        with pytest.raises(TrainDataError, match=r"labels\.csv:3.*'right'.*not in the class list"):
            RealFolderReader(real_dir, classes=["left", "still"])

    def test_segments_csv_gives_frame_labels(self, real_dir):
        (real_dir / "segments.csv").write_text("path,start,end,label\nclips/c0.mp4,0,10,left\nclips/c0.mp4,10,30,still\n")
        reader = RealFolderReader(real_dir)
        _, ann = reader.read("clips/c0.mp4")
        assert ann["frame_labels"] == ["left"] * 10 + ["still"] * 20
        _, ann = reader.read("clips/c1.mp4")
        assert "frame_labels" not in ann

    def test_bad_segments_csv(self, real_dir):
        (real_dir / "segments.csv").write_text("path,start,end,label\nclips/c0.mp4,5,5,left\n")
        with pytest.raises(TrainDataError, match=r"segments\.csv:2.*start < end"):
            RealFolderReader(real_dir)

    @pytest.mark.parametrize("content,reason", [(b"", "empty"), (b"not a video at all" * 50, "cannot decode")])
    def test_empty_or_corrupt_video_names_file(self, real_dir, content, reason):
        (real_dir / "clips" / "c0.mp4").write_bytes(content)
        reader = RealFolderReader(real_dir)
        with pytest.raises(VideoDecodeError, match=rf"c0\.mp4.*{reason}"):
            reader.read(0)

    def test_truncated_video_is_an_error(self, real_dir):
        path = real_dir / "clips" / "c0.mp4"
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
        with pytest.raises(VideoDecodeError, match=r"c0\.mp4"):
            RealFolderReader(real_dir).read(0)


class TestSyntheticReader:
    def test_reads_clips_and_annotations(self, synthetic_dir, helpers):
        reader = open_reader(synthetic_dir)
        assert isinstance(reader, SyntheticReader)
        assert reader.classes == helpers.CLASSES and len(reader) == 12
        frames, ann = reader.read(1)
        assert frames.shape == (24, 32, 32, 3)
        assert ann["label"] == reader.rows[1]["label"] and len(ann["frame_labels"]) == 24

    def test_label_not_in_given_classes(self, synthetic_dir):
        with pytest.raises(TrainDataError, match=r"manifest\.jsonl.*not in the class list"):
            SyntheticReader(synthetic_dir, classes=["left", "right"])


class TestClipDataset:
    def test_samples_and_collate(self, synthetic_dir):
        ds = ClipDataset(open_reader(synthetic_dir), FrameCache(None), num_frames=8, stride=2, seed=0)
        ds.prepare(progress=False)
        batch = collate_clips([ds[0], ds[1]])
        assert batch["video"].shape == (2, 8, 32, 32, 3) and batch["video"].dtype.is_floating_point is False
        assert batch["label"].tolist() == [0, 1] and batch["domain"].tolist() == [0, 0]
        assert batch["frame_labels"].shape == (2, 8) and (batch["frame_labels"][0] == 0).all()
        assert batch["key"] == ["clip00000000", "clip00000001"]

    def test_real_clips_are_domain_1_and_fps_resampled(self, real_dir):
        ds = ClipDataset(RealFolderReader(real_dir, size=32), FrameCache(None), num_frames=4, fps=15.0,
                         sampler="uniform")
        ds.prepare(progress=False)
        clip = ds.clip(0)
        assert clip["frames"].shape[0] == 15  # 30 frames at 30 fps -> 15 at 15 fps
        assert ds[0]["domain"] == 1

    def test_epoch_changes_random_windows_reproducibly(self, synthetic_dir):
        ds = ClipDataset(open_reader(synthetic_dir), FrameCache(None), num_frames=4, stride=1, seed=3)
        starts = []
        for epoch in range(6):
            ds.set_epoch(epoch)
            starts.append(ds[0]["video"][0].float().sum().item())
        ds.set_epoch(2)
        assert ds[0]["video"][0].float().sum().item() == starts[2]
        assert len(set(starts)) > 1

    def test_corrupt_clip_skipped_and_listed_or_strict_raises(self, real_dir):
        (real_dir / "clips" / "c2.mp4").write_bytes(b"garbage" * 10)
        ds = ClipDataset(RealFolderReader(real_dir), FrameCache(None), num_frames=4)
        skipped = ds.prepare(progress=False)
        assert len(ds) == 5 and skipped[0][0] == "clips/c2.mp4" and "c2.mp4" in skipped[0][1]
        for j in range(len(ds)):
            ds[j]  # nothing left that can fail mid-epoch
        strict = ClipDataset(RealFolderReader(real_dir), FrameCache(None), num_frames=4, strict=True)
        with pytest.raises(VideoDecodeError, match="c2.mp4"):
            strict.prepare(progress=False)

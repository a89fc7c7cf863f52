"""Reader for real footage: a folder with ``labels.csv`` or one subfolder per class."""

from __future__ import annotations

import csv
import posixpath
from pathlib import Path

import numpy as np

from simgen.train.data.video_io import decode_video
from simgen.train.errors import TrainDataError
from simgen.untrusted import relative_inside

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        # utf-8-sig: spreadsheet programs start a UTF-8 CSV with a byte-order mark
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise TrainDataError(
                    f"{path}: missing column(s) {missing}; expected columns {list(required)}, found {header}"
                )
            rows = []
            for row in reader:
                if None in row or None in row.values():  # more or fewer fields than the header
                    given = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or ())
                    raise TrainDataError(f"{path}:{reader.line_num}: {given} field(s) where the header has "
                                         f"{len(header)} (a truncated or mis-quoted line?)")
                rows.append({k.strip(): v.strip() for k, v in row.items()})
            return rows
    except UnicodeDecodeError as exc:
        raise TrainDataError(f"{path}: not a UTF-8 CSV file ({exc})") from exc
    except csv.Error as exc:  # a field over the csv module's limit (128 KiB), a NUL byte, ...
        raise TrainDataError(f"{path}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise TrainDataError(f"{path}: cannot read ({exc.strerror or exc})") from None


class RealFolderReader:
    """Real clips from a folder.

    Layouts:
        * ``ROOT/labels.csv`` with columns ``path,label`` and optional ``subject``
          (``path`` relative to ``ROOT``); ``label`` may be empty for unlabelled clips.
        * otherwise ``ROOT/<class>/<clip>.<ext>``: one subfolder per class.
        * optional ``ROOT/segments.csv`` with ``path,start,end,label`` (frames, end
          exclusive) gives per-frame labels.

    Args:
        root: the folder.
        classes: class list to map labels to indices. Defaults to the sorted labels
            found. A label outside a given list raises :class:`TrainDataError`
            naming the file and line.
        size: square side frames are resized to (``None`` keeps them as decoded).
        subjects: keep only the clips of these people (``labels.csv``'s ``subject``
            column); ``exclude_subjects``: drop these. Splitting by person keeps the
            people a model is tested on out of its training.

    Example:
        >>> reader = RealFolderReader("../shared/data/weizmann4_dev")  # doctest: +SKIP
        >>> frames, ann = reader.read(0)  # frames: uint8[T,64,64,3]
    """

    domain = 1

    def __init__(self, root: str | Path, *, classes: list[str] | None = None, size: int | None = None,
                 subjects: list[str] | None = None, exclude_subjects: list[str] | None = None):
        self.root = Path(root)
        self.size = size
        if not self.root.is_dir():
            raise TrainDataError(f"{self.root}: real data folder not found")
        labels_csv = self.root / "labels.csv"
        if labels_csv.is_file():
            self.rows = self._rows_from_csv(labels_csv)
        else:
            self.rows = self._rows_from_subfolders()
        if not self.rows:
            raise TrainDataError(self._no_clips_message())
        found = sorted({r["label"] for r in self.rows if r["label"]})
        self.classes = list(classes) if classes is not None else found
        for r in self.rows:
            if r["label"] and r["label"] not in self.classes:
                raise TrainDataError(
                    f"{r['source']}: label {r['label']!r} of {r['path']} is not in the class list {self.classes}"
                )
        self.segments = self._read_segments(self.root / "segments.csv")
        # after the class list and segments: a selection of people must not change either
        if subjects is not None or exclude_subjects is not None:
            self.rows = self._select_subjects(subjects, exclude_subjects)
        self._index = {r["key"]: i for i, r in enumerate(self.rows)}

    def _rows_from_csv(self, path: Path) -> list[dict]:
        rows, first_line = [], {}
        for line, row in enumerate(_read_csv(path, ("path", "label")), start=2):
            if not row.get("path"):
                raise TrainDataError(f"{path}:{line}: empty 'path'")
            if (why := relative_inside(row["path"])) is not None:
                # clips are read from ROOT only: a label file must not point a reader elsewhere
                raise TrainDataError(f"{path}:{line}: field 'path' {row['path']!r} {why}")
            # A clip listed twice would count twice in training and scoring, or carry two
            # labels: an error naming both lines, since only the user knows which to keep.
            same = posixpath.normpath(row["path"].replace("\\", "/"))
            if same in first_line:
                raise TrainDataError(f"{path}:{line}: clip {row['path']!r} is already listed on line "
                                     f"{first_line[same]}; list each clip once")
            first_line[same] = line
            rows.append(
                dict(key=row["path"], path=row["path"], label=row["label"], subject=row.get("subject", ""),
                     source=f"{path}:{line}")
            )
        return rows

    def _no_clips_message(self) -> str:
        loose = sorted(f.name for f in self.root.iterdir() if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
        if loose:
            return (f"{self.root}: {len(loose)} video file(s) ({', '.join(loose[:2])}{', ...' if len(loose) > 2 else ''}) "
                    "but no labels.csv; add ROOT/labels.csv with columns path,label[,subject] "
                    "(label may be empty for unlabelled clips) or move the clips into one sub-folder per class")
        return (f"{self.root}: no video clips found: expected ROOT/labels.csv (columns path,label[,subject]) or one "
                f"sub-folder per class holding videos ({', '.join(sorted(VIDEO_SUFFIXES))})")

    def _select_subjects(self, subjects: list[str] | None, exclude: list[str] | None) -> list[dict]:
        import difflib

        known = sorted({r["subject"] for r in self.rows if r["subject"]})
        if not known:
            raise TrainDataError(f"{self.root}: no clip has a subject, so none can be selected by person; "
                                 "list them in labels.csv with columns path,label,subject")
        for name in (subjects or []) + (exclude or []):
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise TrainDataError(f"{self.root / 'labels.csv'}: no clip of subject '{name}'{hint} "
                                     f"(subjects: {', '.join(known)})")
        rows = [r for r in self.rows if (subjects is None or r["subject"] in subjects)
                and r["subject"] not in (exclude or [])]
        if not rows:
            raise TrainDataError(f"{self.root}: the subject selection leaves no clip")
        return rows

    def _rows_from_subfolders(self) -> list[dict]:
        rows = []
        for sub in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for f in sorted(sub.iterdir()):
                if f.suffix.lower() in VIDEO_SUFFIXES:
                    rel = f.relative_to(self.root).as_posix()
                    rows.append(dict(key=rel, path=rel, label=sub.name, subject="", source=str(f)))
        return rows

    def _read_segments(self, path: Path) -> dict[str, list[tuple[int, int, str]]]:
        if not path.is_file():
            return {}
        out: dict[str, list[tuple[int, int, str]]] = {}
        known = {r["path"] for r in self.rows}
        for line, row in enumerate(_read_csv(path, ("path", "start", "end", "label")), start=2):
            where = f"{path}:{line}"
            try:
                start, end = int(row["start"]), int(row["end"])
            except ValueError as exc:
                raise TrainDataError(f"{where}: 'start'/'end' must be integer frame numbers, got {row['start']!r}, {row['end']!r}") from exc
            if not 0 <= start < end:
                raise TrainDataError(f"{where}: expected 0 <= start < end (end exclusive), got start={start} end={end}")
            if row["label"] not in self.classes:
                raise TrainDataError(f"{where}: label {row['label']!r} is not in the class list {self.classes}")
            if row["path"] not in known:
                raise TrainDataError(f"{where}: path {row['path']!r} is not listed in labels.csv")
            out.setdefault(row["path"], []).append((start, end, row["label"]))
        return out

    def __len__(self) -> int:
        return len(self.rows)

    def key(self, index: int) -> str:
        return self.rows[index]["key"]

    def label_index(self, index: int) -> int:
        """Class index of clip ``index``, ``-1`` when unlabelled."""
        label = self.rows[index]["label"]
        return self.classes.index(label) if label else -1

    def read(self, index_or_key: int | str) -> tuple[np.ndarray, dict]:
        """Decode one clip.

        Returns:
            ``(frames uint8[T,H,W,3], annotations)``; annotations hold ``label``
            (str or ``None``), ``fps``, ``subject``, ``path`` and, when
            ``segments.csv`` covers the clip, ``segments`` and ``frame_labels``
            (one str per frame, ``None`` where no segment covers the frame).
        """
        i = self._index[index_or_key] if isinstance(index_or_key, str) else int(index_or_key)
        row = self.rows[i]
        frames, fps = decode_video(self.root / row["path"], size=self.size)
        ann: dict = dict(label=row["label"] or None, fps=fps, subject=row["subject"], path=row["path"])
        if row["path"] in self.segments:
            segs = sorted(self.segments[row["path"]])
            frame_labels: list[str | None] = [None] * len(frames)
            for start, end, label in segs:
                for t in range(start, min(end, len(frames))):
                    frame_labels[t] = label
            ann["segments"] = [list(s) for s in segs]
            ann["frame_labels"] = frame_labels
        return frames, ann

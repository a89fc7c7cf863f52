"""The action library: built-in motion programs, the DeepMimic motion-capture clips, and user actions.

A user adds actions by putting files in a folder passed with `--actions DIR`:
`NAME.yaml` is a motion program (see `simgen.motion.program`), `NAME.txt` or `NAME.json`
a DeepMimic-format motion-capture clip. User actions override built-ins of the same name.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from simgen.assets import ACTIONS
from simgen.errors import SimgenError
from simgen.motion.mocap import MocapClip, load_mocap
from simgen.motion.pose import PoseSequence
from simgen.motion.program import MotionProgram, load_program

BUILTIN_PROGRAMS = ACTIONS  # assets/actions, installed as simgen.assets


def mocap_folder() -> Path:
    import pybullet_data

    return Path(pybullet_data.getDataPath()) / "data" / "motions"


@dataclass
class Action:
    """One named action, backed by a motion program or a motion-capture file (loaded lazily)."""

    name: str
    kind: str  # "program" | "mocap"
    path: Path

    @cached_property
    def source(self) -> MotionProgram | MocapClip:
        return load_program(self.path) if self.kind == "program" else load_mocap(self.path)

    @property
    def cycle_seconds(self) -> float:
        src = self.source
        return src.cycle_seconds if isinstance(src, MotionProgram) else max(src.duration, 1e-3)

    @property
    def amplitude_ranges(self) -> dict[str, tuple[float, float]]:
        src = self.source
        return {k: r for k, (r, _) in src.amplitudes.items()} if isinstance(src, MotionProgram) else {}

    def sample(self, times_s: np.ndarray, *, speed: float, phase: float, amplitudes: dict[str, float], window_s: float | None = None) -> PoseSequence:
        """Poses at clip times `times_s`, played `speed` times faster.

        A looping action starts `phase` into a cycle. An action that plays once (a kick)
        is placed by `phase` so that the `window_s` seconds it is shown for lie inside it,
        or contain all of it when the window is the longer: a window never shows only the
        held last frame.
        """
        src = self.source
        rate = speed / self.cycle_seconds  # cycles per second
        if src.loop or window_s is None:
            start = phase
        else:
            start = phase * (1.0 - rate * window_s)  # in [0, 1 - shown] or [1 - shown, 0]
        cycles = start + rate * np.asarray(times_s, dtype=np.float64)
        if isinstance(src, MotionProgram):
            return src.sample(cycles, amplitudes)
        return src.sample(cycles * src.duration)


class ActionLibrary:
    def __init__(self, user_dir: str | Path | None = None):
        self.user_dir = Path(user_dir) if user_dir else None
        self.actions: dict[str, Action] = {}
        for path in sorted(mocap_folder().glob("humanoid3d_*.txt")):
            name = path.stem.removeprefix("humanoid3d_")
            self.actions[name] = Action(name, "mocap", path)
        for path in sorted(BUILTIN_PROGRAMS.glob("*.yaml")):
            self.actions[path.stem] = Action(path.stem, "program", path)
        if self.user_dir is not None:
            self._add_user_dir(self.user_dir)

    def fingerprint(self) -> str:
        """Hash of every action's file contents: a resumed job must perform the same actions."""
        h = hashlib.sha256()
        for name in sorted(self.actions):
            h.update(name.encode())
            h.update(self.actions[name].path.read_bytes())
        return h.hexdigest()[:16]

    def _add_user_dir(self, folder: Path) -> None:
        if not folder.is_dir():
            raise SimgenError("not a folder of action files", file=str(folder), field="--actions")
        files = sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml", ".txt", ".json"})
        if not files:
            raise SimgenError("holds no action files (*.yaml programs or *.txt/*.json motion capture)", file=str(folder), field="--actions")
        for path in files:
            kind = "program" if path.suffix in {".yaml", ".yml"} else "mocap"
            action = Action(path.stem, kind, path)
            action.source  # parse now: a broken user file fails before any clip is made
            self.actions[path.stem] = action

    @property
    def names(self) -> list[str]:
        return sorted(self.actions)

    def get(self, name: str, field: str = "classes") -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise self.unknown(name, field) from None

    def unknown(self, name: str, field: str = "classes", note: str = "") -> SimgenError:
        """The error for an action name the library lacks: the closest name, or all of them."""
        close = difflib.get_close_matches(name, self.names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(self.names)}"
        return SimgenError(f"unknown action '{name}'{note}; {hint} (`simgen actions` lists them)", field=field)

"""What a user copies and edits: the shipped action programs (`actions/*.yaml`), the
generation presets (`presets/*.yaml`), background images (`backgrounds/`, for
`scene.background_dir`) and URDF props with their textures (`props/`, for
`occlusion.assets`).

Installed, this folder is the package `simgen.assets`; `ROOT` is where it lies, and
`simgen assets --copy DIR` copies it out for editing.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
ACTIONS = ROOT / "actions"
PRESETS = ROOT / "presets"
BACKGROUNDS = ROOT / "backgrounds"
PROPS = ROOT / "props"

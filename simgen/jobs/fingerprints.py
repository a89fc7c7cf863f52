"""Fingerprints of a job's inputs, stored in dataset.json so a resume or extension can check them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from simgen.spec import GenerationSpec
from simgen.textures import list_images


def spec_fingerprint(spec: GenerationSpec) -> str:
    """Hash of the spec without its clip count (clip i does not depend on how many follow it)."""
    data = spec.model_dump(mode="json")
    data.pop("clips")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# Files a URDF names (meshes, textures), read relative to the URDF's folder as pybullet does.
_URDF_FILENAME = re.compile(r"""filename\s*=\s*["']([^"']+)["']""")


def _asset_files(urdf: Path) -> list[Path]:
    files = [urdf]
    for name in _URDF_FILENAME.findall(urdf.read_text(errors="replace")):
        path = urdf.parent / name.removeprefix("package://")
        if path.is_file():
            files.append(path)
    return files


def assets_fingerprint(spec: GenerationSpec) -> str:
    """Hash of the bytes of the files a spec points to: background images and occluder URDFs
    (with the meshes they name). Editing one changes the clips but not the spec's text."""
    h = hashlib.sha256()
    folder = spec.scene.background_dir
    images = list_images(folder) if folder and Path(folder).is_dir() else []
    for n, urdf in enumerate(spec.occlusion.assets):
        for path in _asset_files(Path(urdf)) if Path(urdf).is_file() else []:
            h.update(f"asset {n}: {path.name}\n".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    for path in map(Path, images):
        h.update(f"background: {path.name}\n".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]

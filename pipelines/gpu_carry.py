"""Pack the data a GPU check carries to a machine without pybullet into one xz archive.

The device tool moves at most 64 MiB (repository, wheels and data together), and the two
recipes' synthetic folders of ``pipelines/gpu_check.sh`` hold 30 MB. Their dense members
(``KEY.npz``: masks and depth) are most of that, and training, evaluation and the sim2real
benchmark never read them, so the packed copy leaves them out; the shards keep every other
member byte for byte, so the frames and annotations (and the digests that guard them) are
those of the source. The two 200-clip folders plus ``weizmann4_dev`` pack into about 4.4 MB.

    python -m simgen.pipelines.gpu_carry --dataset runs/acc/train --dataset runs/w4mixed/train \\
        --real ../shared/data/weizmann4_dev --out .gpu/data.txz

Unpacked in the repository root (``tar xJf .gpu/data.txz``), each dataset is back at its path
relative to the current folder and the real folder sits at the root under its own name.
``simgen validate`` reports the missing dense members of such a copy; that is expected.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from simgen.errors import SimgenError

DENSE_SUFFIX = ".npz"


def copy_without_dense(src: Path, dst: Path) -> int:
    """Copy the dataset folder ``src`` to ``dst`` without its dense members; returns how many were left out."""
    if not (src / "dataset.json").is_file():
        raise SimgenError("not a simgen dataset (no dataset.json)", file=str(src))
    shards = sorted((src / "shards").glob("*.tar"))
    if not shards:
        raise SimgenError("no shards/*.tar in the dataset", file=str(src))
    (dst / "shards").mkdir(parents=True)
    for name in ("dataset.json", "manifest.jsonl"):
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
    dropped = 0
    for shard in shards:
        try:
            with tarfile.open(shard) as tin, tarfile.open(dst / "shards" / shard.name, "w", format=tin.format) as tout:
                for member in tin.getmembers():
                    if member.name.endswith(DENSE_SUFFIX):
                        dropped += 1
                        continue
                    tout.addfile(member, tin.extractfile(member) if member.isfile() else None)
        except (OSError, tarfile.TarError) as exc:
            raise SimgenError(f"cannot read the shard: {exc}; run `simgen validate`", file=str(shard)) from None
    return dropped


def relative_to_here(path: Path) -> Path:
    """``path`` relative to the current folder: it is unpacked at that path on the other machine."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        raise SimgenError("give a dataset inside the current folder: it is unpacked at the same relative path",
                          file=str(path)) from None


def pack(datasets: list[Path], real: Path | None, out: Path) -> dict:
    """Write ``out`` (tar.xz); returns what went in: clips' dense members left out and the archive's bytes."""
    if real is not None and not (real / "labels.csv").is_file():
        raise SimgenError("no labels.csv in the real folder", file=str(real))
    dropped = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for ds in datasets:
            rel = relative_to_here(ds)
            dropped[str(rel)] = copy_without_dense(ds, Path(tmp) / rel)
            names.append(rel)
        partial = out.with_name(out.name + ".partial")  # a stopped run leaves no archive that looks whole
        with tarfile.open(partial, "w:xz", preset=9) as tar:
            for rel in names:
                tar.add(Path(tmp) / rel, arcname=str(rel))
            if real is not None:
                tar.add(real, arcname=real.resolve().name)
        partial.replace(out)
    return dict(out=str(out), bytes=out.stat().st_size, dense_members_left_out=dropped,
                real=str(real) if real is not None else None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simgen.pipelines.gpu_carry", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, action="append", required=True,
                   help="a synthetic dataset folder inside the current folder (repeat)")
    p.add_argument("--real", type=Path, help="a real folder with labels.csv, packed under its own name")
    p.add_argument("--out", type=Path, default=Path(".gpu/data.txz"))
    args = p.parse_args(argv)
    try:
        info = pack(args.dataset, args.real, args.out)
    except SimgenError as exc:
        print(f"gpu_carry: {exc}", file=sys.stderr)
        return 2
    left_out = ", ".join(f"{k}: {v}" for k, v in info["dense_members_left_out"].items())
    print(f"wrote {info['out']} ({info['bytes'] / 2**20:.1f} MiB; dense members left out: {left_out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""100 randomly corrupted inputs (seeded numpy mutator: hypothesis is not a dependency) fed to
`simgen validate`, `simgen generate`, training's data reading and `simgen evaluate`.

Each must end in a clear error (exit 2, one line naming the file), a fault list (validate),
a listed skip, or be shown harmless (the data it reads are unchanged). A traceback, a hang,
an unclear message or damage read as good data fails the test. The counts are printed
(`pytest -s`) and quoted in the README.
"""

from __future__ import annotations

import collections
import json
import shutil
import signal
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.faults

SEED = 2026
HANG_SECONDS = 60
# how many corrupted inputs each reader gets (100 in all)
PLAN = {"validate": 36, "generate_spec": 16, "generate_action": 10, "train_read": 16, "evaluate_real": 22}
OK_OUTCOMES = {"error", "faults", "skip", "unaffected", "shorter"}


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


# -- the mutator ------------------------------------------------------------------------

def mutate_bytes(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """Flip bits, truncate, overwrite a run with junk, or insert junk (NUL, non-UTF-8 bytes)."""
    op = str(rng.choice(["flip", "truncate", "junk", "insert"]))
    buf = bytearray(data)
    if op == "flip":
        for pos in rng.integers(0, len(buf), size=int(rng.integers(1, 9))):
            buf[pos] ^= 1 << int(rng.integers(0, 8))
    elif op == "truncate":
        del buf[int(rng.integers(0, len(buf))):]
    elif op == "junk":
        start = int(rng.integers(0, len(buf)))
        run = rng.integers(0, 256, size=int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
        buf[start:start + len(run)] = run
    else:
        pos = int(rng.integers(0, len(buf) + 1))
        buf[pos:pos] = bytes(rng.choice([b"\x00", b"\xff\xfe", b"\xc3(", b"\xe9", b"\x1b[2J"]))
    return bytes(buf), op


def mutate_text(text: str, rng: np.random.Generator, *, csv: bool = False) -> tuple[bytes, str]:
    """Byte-level damage, or text-level: deep nesting, a NaN, a 200 KiB field, a stray quote."""
    op = str(rng.choice(["bytes", "bytes", "deep", "nan", "long", "quote"]))
    if op == "bytes":
        return mutate_bytes(text.encode(), rng)
    lines = text.splitlines()
    i = int(rng.integers(1 if csv else 0, len(lines)))
    if op == "deep":
        lines[i] = (lines[i].split(",")[0] + "," + "[" * 5000) if csv else ("x: " + "[" * 5000 + "]" * 5000)
    elif op == "nan":
        lines[i] = lines[i].replace("0", ".nan", 1).replace("1", "NaN", 1)
    elif op == "long":
        lines[i] = lines[i] + ("," if csv else " # ") + "y" * (200 * 1024)
    else:
        lines[i] = lines[i][: len(lines[i]) // 2] + '"' + lines[i][len(lines[i]) // 2:]
    return ("\n".join(lines) + "\n").encode(), op


# -- outcomes -----------------------------------------------------------------------------

def cli_outcome(simgen_cli, argv, names: list[str]) -> tuple[str, str]:
    """Run the CLI in-process; classify what it did. `names`: one must appear in an error line."""
    code, out, err = simgen_cli.run(argv)
    if "Traceback" in err:
        return "traceback", err[-300:]
    errors = [line for line in err.splitlines() if ": error:" in line]
    if code == 2:
        if len(errors) == 1 and any(n in errors[0] for n in names):
            return "error", errors[0]
        return "unclear", err[-300:]
    if code == 1 and argv[0] == "validate" and "INVALID" in err:
        return "faults", err.splitlines()[0]
    if code == 0 and "skipped" in err:
        return "skip", [line for line in err.splitlines() if "skipped" in line][0]
    if code == 0:
        return "ran", ""
    return "unclear", f"exit {code}: {err[-300:]}"


def _members(root: Path) -> dict:
    from simgen.dataset.format import read_shard_members

    return {p.name: read_shard_members(p) for p in sorted((root / "shards").glob("*.tar"))}


# -- the targets --------------------------------------------------------------------------

def fuzz_validate(case, rng, simgen_cli, generated, work):
    root = work / "ds"
    shutil.copytree(generated, root)
    target = [root / "shards" / "shard-000000.tar", root / "shards" / "shard-000001.tar", root / "manifest.jsonl",
              root / "dataset.json"][int(rng.choice(4, p=[0.35, 0.35, 0.15, 0.15]))]
    data, op = mutate_bytes(target.read_bytes(), rng)
    target.write_bytes(data)
    kind, detail = cli_outcome(simgen_cli, ["validate", root, "--quiet"], [target.name, str(root)])
    if kind == "ran":  # validate said OK: only harmless if every clip's bytes and row are as they were
        same = _members(root) == _members(generated) and (
            (root / "manifest.jsonl").read_bytes() == (generated / "manifest.jsonl").read_bytes())
        if target.name == "dataset.json":  # its counts and spec are checked; the rest is a summary
            same = same and json.loads(data)["spec"] == json.loads((generated / "dataset.json").read_text())["spec"]
        kind = "unaffected" if same else "wrong"
    return kind, f"{target.name} {op}: {detail}"


def _spec_text(tiny_spec) -> str:
    return yaml.safe_dump(tiny_spec.model_dump(mode="json"), sort_keys=False)


def fuzz_generate_spec(case, rng, simgen_cli, tiny_spec, work):
    spec = work / "spec.yaml"
    data, op = mutate_text(_spec_text(tiny_spec), rng)
    spec.write_bytes(data)
    kind, detail = cli_outcome(simgen_cli, ["generate", "--config", spec, "--out", work / "out", "--workers", "1",
                                            "--quiet"], [str(spec)])
    if kind == "ran":  # a damaged spec that is still a valid spec makes a valid dataset
        code, _, err = simgen_cli.run(["validate", work / "out", "--quiet", "--no-decode"])
        kind = "unaffected" if code == 0 else "wrong"
        detail = err[-200:]
    return kind, f"spec {op}: {detail}"


def _action_base(kind: str) -> str:
    if kind == "yaml":
        return Path(__file__).resolve().parents[2].joinpath("assets/actions/wave1.yaml").read_text()
    import pybullet_data

    mocap = json.loads(Path(pybullet_data.getDataPath(), "data/motions/humanoid3d_walk.txt").read_text())
    return json.dumps({"Loop": "wrap", "Frames": mocap["Frames"][:4]}, indent=0)


def fuzz_generate_action(case, rng, simgen_cli, tiny_spec, work):
    suffix = str(rng.choice(["yaml", "json"]))
    actions = work / "actions"
    actions.mkdir()
    path = actions / f"fuzzact.{suffix}"
    data, op = mutate_text(_action_base(suffix), rng)
    path.write_bytes(data)
    spec = work / "spec.yaml"
    spec.write_text(_spec_text(tiny_spec.model_copy(update=dict(classes=["fuzzact"]))))
    kind, detail = cli_outcome(simgen_cli, ["generate", "--config", spec, "--actions", actions, "--out", work / "out",
                                            "--workers", "1", "--quiet"], [path.name])
    if kind == "ran":
        code, _, err = simgen_cli.run(["validate", work / "out", "--quiet", "--no-decode"])
        kind = "unaffected" if code == 0 else "wrong"
        detail = err[-200:]
    return kind, f"{path.name} {op}: {detail}"


def _read_for_training(root: Path):
    from simgen.train.config import TrainConfig
    from simgen.train.fit import build_datasets

    cfg = TrainConfig(synthetic=str(root), out="unused", size=32, num_frames=4, progress=False)
    train, _, _, skipped = build_datasets(cfg)
    return [train.load(i) for i in train.indices], skipped


def fuzz_train_read(case, rng, simgen_cli, generated, work, clean):
    from simgen.train.errors import TrainDataError

    root = work / "ds"
    shutil.copytree(generated, root)
    shard = root / "shards" / str(rng.choice(["shard-000000.tar", "shard-000001.tar"]))
    with tarfile.open(shard) as tar:  # damage one member's bytes (the tar itself stays readable)
        member = [m for m in tar.getmembers()][int(rng.integers(0, 3))]
    data = bytearray(shard.read_bytes())
    part, op = mutate_bytes(bytes(data[member.offset_data:member.offset_data + member.size]), rng)
    part = part[:member.size].ljust(member.size, b"\0")  # same length: the tar's layout is unchanged
    data[member.offset_data:member.offset_data + member.size] = part
    shard.write_bytes(bytes(data))
    where = f"{member.name} {op}"
    try:
        clips, skipped = _read_for_training(root)
    except TrainDataError as exc:
        return ("error" if shard.name in str(exc) else "unclear"), f"{where}: {exc}"
    if skipped:
        path, reason = skipped[0]
        return ("skip" if member.name.partition(".")[0] in reason else "unclear"), f"{where}: {reason}"
    same = len(clips) == len(clean) and all(
        np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(clips, clean))
    return ("unaffected" if same else "wrong"), f"{where}: read without a skip"


def fuzz_evaluate_real(case, rng, simgen_cli, checkpoint, helpers, work):
    from simgen.train.data.real import RealFolderReader

    root = helpers.write_real_folder(work / "real")
    before = [(r["path"], r["label"]) for r in RealFolderReader(root).rows]
    target = root / "labels.csv" if rng.random() < 0.5 else root / "clips" / f"c{int(rng.integers(0, 4))}.mp4"
    if target.suffix == ".csv":
        data, op = mutate_text(target.read_text(), rng, csv=True)
    else:
        from simgen.train.data.video_io import decode_video

        original = decode_video(target)[0]
        data, op = mutate_bytes(target.read_bytes(), rng)
    target.write_bytes(data)
    kind, detail = cli_outcome(simgen_cli, ["evaluate", "--checkpoint", checkpoint, "--data", root, "--out",
                                            work / "m.json", "--no-progress"], [target.name])
    if kind == "ran":
        if target.suffix == ".csv":  # still a valid label file: the same clips and labels?
            after = [(r["path"], r["label"]) for r in RealFolderReader(root).rows]
            kind = "unaffected" if after == before else "wrong"
            if kind == "wrong" and data.endswith(b"\n") and after == before[:len(after)]:
                kind = "shorter"  # cut at a line end: a shorter label file, which no reader can tell from a truncated one
        else:  # a real video carries no digest: damage H.264 conceals cannot be told from content
            from simgen.train.data.video_io import decode_video

            kind = "unaffected" if np.array_equal(decode_video(target)[0], original) else "decoded_damaged"
    return kind, f"{target.relative_to(root)} {op}: {detail}"


def test_fuzz_100_corrupted_inputs(simgen_cli, generated, tiny_spec, checkpoint, helpers, tmp_path, capsys):
    rng = np.random.default_rng(SEED)
    _, clean_skipped = _read_for_training(generated)
    clean, _ = _read_for_training(generated)
    assert not clean_skipped and len(clean) == 2
    counts: dict[str, collections.Counter] = {t: collections.Counter() for t in PLAN}
    bad = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        case = 0
        for target, n in PLAN.items():
            for _ in range(n):
                work = tmp_path / f"case{case:03d}"
                work.mkdir()
                signal.alarm(HANG_SECONDS)
                try:
                    if target == "validate":
                        kind, detail = fuzz_validate(case, rng, simgen_cli, generated, work)
                    elif target == "generate_spec":
                        kind, detail = fuzz_generate_spec(case, rng, simgen_cli, tiny_spec, work)
                    elif target == "generate_action":
                        kind, detail = fuzz_generate_action(case, rng, simgen_cli, tiny_spec, work)
                    elif target == "train_read":
                        kind, detail = fuzz_train_read(case, rng, simgen_cli, generated, work, clean)
                    else:
                        kind, detail = fuzz_evaluate_real(case, rng, simgen_cli, checkpoint, helpers, work)
                except Hang:
                    kind, detail = "hang", ""
                except Exception as exc:  # noqa: BLE001 - the fuzz's job is to catch what escaped
                    kind, detail = "traceback", f"{type(exc).__name__}: {exc}"[:300]
                finally:
                    signal.alarm(0)
                counts[target][kind] += 1
                if kind not in OK_OUTCOMES | {"decoded_damaged"}:
                    bad.append(f"case {case} {target}: {kind}: {detail}")
                shutil.rmtree(work, ignore_errors=True)
                case += 1
    finally:
        signal.signal(signal.SIGALRM, previous)
    total = collections.Counter()
    for c in counts.values():
        total.update(c)
    with capsys.disabled():
        print(f"\nfuzz outcomes over {sum(PLAN.values())} corrupted inputs (seed {SEED}): {dict(total)}")
        for target, c in counts.items():
            print(f"  {target:16s} {dict(c)}")
    assert not bad, "\n".join(bad)
    assert sum(total.values()) == 100
    # the fuzz must mostly hit something: errors, fault lists and skips, not only harmless bytes
    assert total["error"] + total["faults"] + total["skip"] >= 60, total


def test_reader_refuses_a_damaged_video_member(generated, tmp_path):
    """H.264 decodes most damage without an error: the reader checks the recorded digest."""
    from simgen.train.data.synthetic import SyntheticReader
    from simgen.train.errors import VideoDecodeError

    root = tmp_path / "ds"
    shutil.copytree(generated, root)
    shard = root / "shards" / "shard-000000.tar"
    with tarfile.open(shard) as tar:
        mp4 = tar.getmember("clip00000000.mp4")
    data = bytearray(shard.read_bytes())
    data[mp4.offset_data + mp4.size - 20] ^= 0x10  # late in the stream: inside frame data
    shard.write_bytes(bytes(data))
    with pytest.raises(VideoDecodeError, match="clip00000000.mp4 is damaged"):
        SyntheticReader(root).read("clip00000000")

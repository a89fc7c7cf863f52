"""Bad input files end in one line naming the file (and field), exit 2; a full disk in one
line, exit 1, keeping what was written; a genuine bug still shows its traceback."""

import errno
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

CLI = "import sys; from simgen.pipelines.cli import main; sys.exit(main(sys.argv[1:]))"
DEEP = 5000


def _deep_yaml() -> str:
    return "classes: [wave1]\nclips: 1\nactor: " + "[" * DEEP + "]" * DEEP + "\n"


@pytest.mark.parametrize("content, needle", [
    (b"classes: [wave1]\nclips: 1\nname: caf\xe9\n", "not UTF-8"),  # latin-1, not UTF-8
    (_deep_yaml().encode(), "nested too deeply"),
])
def test_spec_file_errors(simgen_cli, tmp_path, content, needle):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(content)
    simgen_cli.one_line_error(["generate", "--config", spec, "--out", tmp_path / "out"], spec, needle)


def test_spec_with_bom_is_read(simgen_cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes("\ufeffclasses: [wave1]\nclips: 1\n".encode())
    code, out, err = simgen_cli.run(["generate", "--config", spec, "--out", tmp_path / "out", "--frames", "4",
                                     "--size", "32", "--set", "physics.enabled=false", "--workers", "1", "--quiet"])
    assert code == 0, err


@pytest.mark.parametrize("name, content, needle", [
    ("wave9.yaml", b"name: wave9\nkeyframes: [{t: 0.0, right_elbow: 10}]\ndescription: \xff\n", "not UTF-8"),
    ("wave9.yaml", ("keyframes: " + "[" * DEEP + "]" * DEEP + "\n").encode(), "nested too deeply"),
    ("wave9.json", ('{"Frames": ' + "[" * DEEP + "]" * DEEP + "}").encode(), "nested too deeply"),
    ("wave9.json", b'{"Frames": [], "Loop": "\xff"}', "not UTF-8"),
])
def test_action_file_errors(simgen_cli, tmp_path, name, content, needle):
    actions = tmp_path / "actions"
    actions.mkdir()
    (actions / name).write_bytes(content)
    simgen_cli.one_line_error(["generate", "--preset", "demo", "--actions", actions, "--out", tmp_path / "out"],
                              name, needle)


def test_labels_csv_field_over_the_csv_limit(simgen_cli, real_folder, checkpoint, tmp_path):
    labels = real_folder / "labels.csv"
    labels.write_text(labels.read_text() + "clips/c0.mp4," + "x" * (200 * 1024) + ",s9\n")
    simgen_cli.one_line_error(["evaluate", "--checkpoint", checkpoint, "--data", real_folder, "--out",
                               tmp_path / "m.json", "--no-progress"], labels, "malformed CSV")


def _checkpoints(tmp_path, good: Path) -> dict[str, Path]:
    import torch

    ck = torch.load(good, weights_only=True)
    made = {}
    made["garbage"] = tmp_path / "garbage.pt"
    made["garbage"].write_bytes(bytes(range(256)) * 8)
    made["truncated"] = tmp_path / "truncated.pt"
    made["truncated"].write_bytes(good.read_bytes()[:3000])
    made["no_classes"] = tmp_path / "no_classes.pt"
    torch.save(dict(meta={k: v for k, v in ck["meta"].items() if k != "classes"}, model=ck["model"]), made["no_classes"])
    made["bad_backbone"] = tmp_path / "bad_backbone.pt"
    torch.save(dict(meta={**ck["meta"], "backbone": "resnet9000"}, model=ck["model"]), made["bad_backbone"])
    made["partial_weights"] = tmp_path / "partial.pt"
    torch.save(dict(meta=ck["meta"], model=dict(list(ck["model"].items())[:2])), made["partial_weights"])
    made["head_not_a_mapping"] = tmp_path / "head_list.pt"
    torch.save(dict(meta={**ck["meta"], "head": ["gru"]}, model=ck["model"]), made["head_not_a_mapping"])
    made["unknown_head"] = tmp_path / "unknown_head.pt"
    torch.save(dict(meta={**ck["meta"], "head": {"name": "lstm9000"}}, model=ck["model"]), made["unknown_head"])
    made["pickled_object"] = tmp_path / "pickled.pt"
    torch.save(dict(meta=ck["meta"], model=ck["model"], extra=Path("x")), made["pickled_object"])  # refused by weights_only
    return made


@pytest.mark.parametrize("kind", ["garbage", "truncated", "no_classes", "bad_backbone", "partial_weights",
                                  "head_not_a_mapping", "unknown_head", "pickled_object"])
def test_bad_checkpoint_is_one_line(simgen_cli, real_folder, checkpoint, tmp_path, kind):
    bad = _checkpoints(tmp_path, checkpoint)[kind]
    simgen_cli.one_line_error(["evaluate", "--checkpoint", bad, "--data", real_folder, "--out", tmp_path / "m.json",
                               "--no-progress"], bad)


@pytest.mark.parametrize("kind", ["garbage", "truncated", "pickled_object"])
def test_bad_weights_file_is_one_line(simgen_cli, generated, checkpoint, tmp_path, kind):
    bad = _checkpoints(tmp_path, checkpoint)[kind]
    simgen_cli.one_line_error(["train", "--synthetic", generated, "--weights", bad, "--model", "r3d_18",
                               "--out", tmp_path / "run", "--no-progress"], "--weights", bad)


def _limited(argv, limit_bytes, cwd=None):
    """Run the CLI in a child whose files may not grow past `limit_bytes` (`ulimit -f`: EFBIG)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-c", CLI, *map(str, argv)], capture_output=True, text=True,
                          preexec_fn=limit, timeout=240, cwd=cwd)


def test_generate_on_a_full_disk_keeps_finished_shards_then_resumes(generated, tiny_spec, tmp_path):
    from simgen.jobs.runner import generate_dataset

    out = tmp_path / "ds"
    generate_dataset(tiny_spec.model_copy(update=dict(clips=1)), out, workers=1, progress=False)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(json.dumps(tiny_spec.model_dump(mode="json")))
    # shards are 20 KiB, dataset.json and the manifest under 8: the second shard cannot be written
    full = _limited(["generate", "--config", spec_file, "--out", out, "--workers", "1", "--quiet"], 16 * 1024)
    lines = full.stderr.strip().splitlines()
    assert full.returncode == 1 and len(lines) == 1 and "Traceback" not in full.stderr, full.stderr
    assert "disk full" in lines[0] and "shard-000001.tar" in lines[0] and "keeps 1 of 2 clips" in lines[0], lines[0]
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["shard-000000.tar"]  # no temporary shard left
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["shard"] for r in rows] == ["shard-000000.tar"]
    generate_dataset(tiny_spec, out, workers=1, progress=False)  # space freed: resume
    for name in ("manifest.jsonl", "shards/shard-000000.tar", "shards/shard-000001.tar"):
        assert (out / name).read_bytes() == (generated / name).read_bytes(), name


def test_train_on_a_full_disk_is_one_line_and_keeps_whole_checkpoints(generated, tmp_path):
    import torch

    run = tmp_path / "run"
    # here best.pt (the model) is 1.8 MB, last.pt (with the optimizer state) 5.4 MB: the limit lets only best.pt through
    full = _limited(["train", "--synthetic", generated, "--out", run, "--epochs", "1", "--size", "32",
                     "--num-frames", "4", "--batch-size", "2", "--no-progress"], 3 * 1024 * 1024)
    errors = [line for line in full.stderr.splitlines() if "error" in line]
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    assert len(errors) == 1 and "disk full" in errors[0] and f"{run}/last.pt" in errors[0], errors
    assert not list(run.glob("*.tmp*")) and not (run / "last.pt").exists()
    assert torch.load(run / "best.pt", weights_only=True)["meta"]["classes"]  # written before the disk filled: whole


@pytest.mark.parametrize("error", [OSError(errno.EIO, "Input/output error"), KeyError("bug"), RuntimeError("bug")])
def test_a_genuine_bug_keeps_its_traceback(simgen_cli, generated, monkeypatch, error):
    import simgen.dataset.validate as validate

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(validate, "validate_dataset", broken)
    with pytest.raises(type(error)):
        simgen_cli.run(["validate", generated])


APPEND = """
import json, resource, sys
from pathlib import Path
from simgen.jobs.runner import _append_rows
path = Path(sys.argv[1])
limit = path.stat().st_size + 100
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    _append_rows(path, [{"key": "clip%08d" % i, "shard": "shard-000009.tar", "pad": "x" * 80} for i in range(3)])
except OSError as exc:
    print(exc.errno)
"""


def test_manifest_append_on_a_full_disk_leaves_no_torn_row(generated, tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes((generated / "manifest.jsonl").read_bytes())
    done = subprocess.run([sys.executable, "-c", APPEND, str(manifest)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == str(errno.EFBIG), done.stderr
    assert manifest.read_bytes() == (generated / "manifest.jsonl").read_bytes()


def test_deeply_nested_set_value_is_one_line(simgen_cli, tmp_path):
    simgen_cli.one_line_error(["generate", "--preset", "demo", "--set", "actor.speed=" + "[" * DEEP + "]" * DEEP,
                               "--out", tmp_path / "out"], "--set", "not valid YAML")


@pytest.mark.parametrize("content", [b'{"spec": "\xff"}', b"[1, 2]", b"[" * DEEP])
def test_out_folder_with_a_corrupt_dataset_json_is_one_line(simgen_cli, tmp_path, content):
    out = tmp_path / "out"
    out.mkdir()
    (out / "dataset.json").write_bytes(content)
    simgen_cli.one_line_error(["generate", "--preset", "demo", "--out", out], "dataset.json is corrupt")

"""The command line: help, the main job end to end, and one clear line + exit 2 on bad input."""

import json

import pytest

from simgen.pipelines.cli import build_parser, main

TINY = ["--clips", "3", "--frames", "4", "--size", "32", "--quiet", "--workers", "1", "--json"]


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_subcommand_explains_itself(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"generate", "validate", "preview", "actions", "presets"} <= set(sub.choices)
    for name in sub.choices:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: simgen" in capsys.readouterr().out


def test_generate_validate_preview(tmp_path, capsys):
    out = tmp_path / "ds"
    code, stdout, _ = _run(capsys, ["generate", "--preset", "weizmann4", "--out", str(out)] + TINY)
    assert code == 0 and json.loads(stdout)["clips"] == 3
    assert _run(capsys, ["validate", str(out), "--quiet"])[0] == 0
    sheet = tmp_path / "sheet.png"
    assert _run(capsys, ["preview", str(out), "--out", str(sheet)])[0] == 0
    import cv2

    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[0] > 100 and img.std() > 5


def test_validate_fails_on_a_damaged_dataset(tmp_path, capsys):
    out = tmp_path / "ds"
    _run(capsys, ["generate", "--preset", "demo", "--out", str(out)] + TINY)
    (out / "manifest.jsonl").write_text((out / "manifest.jsonl").read_text().replace('"label": "wave1"', '"label": "jack"'))
    code, _, err = _run(capsys, ["validate", str(out), "--quiet"])
    assert code == 1 and "label differs between the manifest" in err


@pytest.mark.parametrize(
    "spec_text, expected",
    [
        ("classes: [wave1\n", "malformed YAML"),
        ("classes: [wave1]\nclips: 2\nwhat: 1\n", "field 'what': unknown field"),
        ("classes: [wave1, moonwalk]\nclips: 2\n", "unknown action 'moonwalk'"),
        ("classes: [wave1]\nclips: 2\nfps: -3\n", "field 'fps'"),
    ],
)
def test_bad_config_one_line_exit_2_nothing_written(tmp_path, capsys, spec_text, expected):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    code, _, err = _run(capsys, ["generate", "--config", str(spec), "--out", str(out), "--quiet"])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    if "moonwalk" not in expected:
        assert str(spec) in lines[0]
    assert not out.exists()


def test_unknown_preset_and_bad_override(tmp_path, capsys):
    code, _, err = _run(capsys, ["generate", "--preset", "nope", "--out", str(tmp_path / "o")])
    assert code == 2 and "unknown preset 'nope'" in err
    code, _, err = _run(capsys, ["generate", "--preset", "demo", "--out", str(tmp_path / "o"), "--set", "camera.fov_deg=[1, 500]"])
    assert code == 2 and "camera.fov_deg" in err and "must lie in" in err
    assert not (tmp_path / "o").exists()


def test_malformed_action_file(tmp_path, capsys):
    actions = tmp_path / "actions"
    actions.mkdir()
    (actions / "wave_twice.yaml").write_text("name: wave_twice\nkeyframes:\n  - {t: 0.4, chest: [0,0,0]}\n  - {t: 0.1, chest: [0,0,1]}\n")
    code, _, err = _run(capsys, ["generate", "--preset", "demo", "--actions", str(actions), "--out", str(tmp_path / "o")] + TINY)
    assert code == 2 and "wave_twice.yaml" in err and "keyframes[1].t" in err


def test_unwritable_or_foreign_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = _run(capsys, ["generate", "--preset", "demo", "--out", str(blocker / "sub")] + TINY)
    assert code == 2 and "cannot write here" in err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, _, err = _run(capsys, ["generate", "--preset", "demo", "--out", str(foreign)] + TINY)
    assert code == 2 and "not empty" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_user_action_used_end_to_end(tmp_path, capsys):
    actions = tmp_path / "actions"
    actions.mkdir()
    (actions / "salute.yaml").write_text(
        "name: salute\ncycle_seconds: 1.5\nkeyframes:\n"
        "  - {t: 0.0, right_shoulder: [-80, 0, 40], right_elbow: 20}\n"
        "  - {t: 0.5, right_shoulder: [-90, 0, 70], right_elbow: 130}\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text("classes: [salute, wave1]\nclips: 2\nframes: 4\nsize: 32\n")
    out = tmp_path / "ds"
    code, _, _ = _run(capsys, ["generate", "--config", str(spec), "--actions", str(actions), "--out", str(out), "--quiet", "--workers", "1"])
    assert code == 0
    rows = [json.loads(l) for l in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == ["salute", "wave1"]
    code, stdout, _ = _run(capsys, ["actions", "--actions", str(actions)])
    assert "salute" in stdout and "walk" in stdout

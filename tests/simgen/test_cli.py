"""The command line: help, the main job end to end, and one clear line + exit 2 on bad input."""

import json

import pytest

from simgen.pipelines.cli import build_parser, main

TINY = ["--clips", "3", "--frames", "4", "--size", "32", "--quiet", "--workers", "1", "--json"]


def test_every_subcommand_explains_itself(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"generate", "validate", "preview", "actions", "presets"} <= set(sub.choices)
    for name in sub.choices:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: simgen" in capsys.readouterr().out


def test_generate_validate_preview(tmp_path, simgen_cli):
    out = tmp_path / "ds"
    code, stdout, _ = simgen_cli.run(["generate", "--preset", "weizmann4", "--out", str(out)] + TINY)
    assert code == 0 and json.loads(stdout)["clips"] == 3
    assert simgen_cli.run(["validate", str(out), "--quiet"])[0] == 0
    sheet = tmp_path / "sheet.png"
    assert simgen_cli.run(["preview", str(out), "--out", str(sheet)])[0] == 0
    import cv2

    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[0] > 100 and img.std() > 5


def test_validate_fails_on_a_damaged_dataset(tmp_path, simgen_cli):
    out = tmp_path / "ds"
    simgen_cli.run(["generate", "--preset", "demo", "--out", str(out)] + TINY)
    (out / "manifest.jsonl").write_text((out / "manifest.jsonl").read_text().replace('"label": "wave1"', '"label": "jack"'))
    code, _, err = simgen_cli.run(["validate", str(out), "--quiet"])
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
def test_bad_config_one_line_exit_2_nothing_written(tmp_path, spec_text, expected, simgen_cli):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    code, _, err = simgen_cli.run(["generate", "--config", str(spec), "--out", str(out), "--quiet"])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    if "moonwalk" not in expected:
        assert str(spec) in lines[0]
    assert not out.exists()


def test_unknown_preset_and_bad_override(tmp_path, simgen_cli):
    code, _, err = simgen_cli.run(["generate", "--preset", "nope", "--out", str(tmp_path / "o")])
    assert code == 2 and "unknown preset 'nope'" in err
    code, _, err = simgen_cli.run(["generate", "--preset", "demo", "--out", str(tmp_path / "o"), "--set", "camera.fov_deg=[1, 500]"])
    assert code == 2 and "camera.fov_deg" in err and "must lie in" in err
    assert not (tmp_path / "o").exists()


def test_malformed_action_file(tmp_path, simgen_cli):
    actions = tmp_path / "actions"
    actions.mkdir()
    (actions / "wave_twice.yaml").write_text("name: wave_twice\nkeyframes:\n  - {t: 0.4, chest: [0,0,0]}\n  - {t: 0.1, chest: [0,0,1]}\n")
    code, _, err = simgen_cli.run(["generate", "--preset", "demo", "--actions", str(actions), "--out", str(tmp_path / "o")] + TINY)
    assert code == 2 and "wave_twice.yaml" in err and "keyframes[1].t" in err


def test_unwritable_or_foreign_output_folder(tmp_path, simgen_cli):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = simgen_cli.run(["generate", "--preset", "demo", "--out", str(blocker / "sub")] + TINY)
    assert code == 2 and "cannot write here" in err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, _, err = simgen_cli.run(["generate", "--preset", "demo", "--out", str(foreign)] + TINY)
    assert code == 2 and "not empty" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_user_action_used_end_to_end(tmp_path, simgen_cli):
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
    code, _, _ = simgen_cli.run(["generate", "--config", str(spec), "--actions", str(actions), "--out", str(out), "--quiet", "--workers", "1"])
    assert code == 0
    rows = [json.loads(l) for l in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == ["salute", "wave1"]
    code, stdout, _ = simgen_cli.run(["actions", "--actions", str(actions)])
    assert "salute" in stdout and "walk" in stdout


@pytest.mark.parametrize("preset", ["demo", "weizmann4"])
def test_presets_show_prints_a_spec_generate_takes(tmp_path, preset, simgen_cli):
    from simgen.spec import load_spec, preset_names

    assert preset in preset_names()
    code, yaml_text, _ = simgen_cli.run(["presets", "--show", preset])
    assert code == 0
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml_text)  # as `simgen presets --show NAME > spec.yaml`
    assert load_spec(path=spec_file) == load_spec(preset=preset)
    out = tmp_path / "ds"
    code, _, err = simgen_cli.run(["generate", "--config", str(spec_file), "--out", str(out)] + TINY)
    assert code == 0, err
    assert json.loads((out / "dataset.json").read_text())["spec"]["name"] == preset


def test_version(simgen_cli):
    import simgen

    code, out, _ = simgen_cli.run(["--version"])
    assert code == 0 and out.strip() == f"simgen {simgen.__version__}"


def test_generate_ends_with_a_per_class_table(tmp_path, simgen_cli):
    out = tmp_path / "ds"
    code, stdout, _ = simgen_cli.run(["generate", "--preset", "weizmann4", "--out", str(out), "--clips", "5", "--frames", "4",
                                     "--size", "32", "--quiet", "--workers", "1"])
    assert code == 0
    lines = stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["class", "clips"]
    rows = {line.split()[0]: int(line.split()[1]) for line in lines[1:5]}
    assert rows == {"wave1": 2, "wave2": 1, "jack": 1, "bend": 1}
    assert lines[-1].startswith(f"5 clips in {out}")


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["generat", "--preset", "demo"], ["unknown command 'generat'", "did you mean 'generate'"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--clip", "3"], ["--clip", "did you mean '--clips'"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--work", "3"], ["--work", "did you mean '--workers'"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--workers", "0"], ["--workers", "at least 1"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--workers", "-2"], ["--workers", "at least 1"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--size", "33"], ["--size 33", "even"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--clips", "0"], ["--clips 0", "greater than or equal to 1"]),
        (["generate", "--preset", "dmeo", "--out", "{tmp}/o"], ["unknown preset 'dmeo'", "did you mean 'demo'"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--set", "classes=[jakc]"],
         ["--set classes=[jakc]", "unknown action 'jakc'", "did you mean 'jack'"]),
        (["generate", "--preset", "demo", "--out", "{tmp}/o", "--actions", "{tmp}/none"], ["--actions", "not found"]),
        (["preview", "{tmp}/none", "--out", "{tmp}/s.png"], ["{tmp}/none", "not found"]),
        (["validate", "{tmp}/none"], ["{tmp}/none", "not found"]),
        (["stats", "{tmp}/none"], ["{tmp}/none"]),
        (["presets", "--show", "weizman4"], ["unknown preset 'weizman4'", "did you mean 'weizmann4'"]),
    ],
)
def test_bad_commands_and_options_one_line_exit_2(tmp_path, argv, needles, simgen_cli):
    argv = [a.format(tmp=tmp_path) for a in argv]
    simgen_cli.one_line_error(argv, *(n.format(tmp=tmp_path) for n in needles))
    assert not (tmp_path / "o").exists()


def test_unknown_action_in_a_spec_file_names_the_file_and_the_closest_action(tmp_path, simgen_cli):
    spec = tmp_path / "spec.yaml"
    spec.write_text("classes: [wave1, jakc]\nclips: 2\n")
    simgen_cli.one_line_error(["generate", "--config", str(spec), "--out", str(tmp_path / "o")],
                              str(spec), "field 'classes'", "unknown action 'jakc'", "did you mean 'jack'")
    spec.write_text("classes: [wave1]\nclips: 2\nsequence: {pool: [wave1, sqat]}\n")
    simgen_cli.one_line_error(["generate", "--config", str(spec), "--out", str(tmp_path / "o")],
                              str(spec), "field 'sequence.pool'", "did you mean 'squat'")


def test_an_odd_size_blames_the_option_not_the_preset(tmp_path, simgen_cli):
    line = simgen_cli.one_line_error(["generate", "--preset", "weizmann4", "--out", str(tmp_path / "o"), "--size", "33"], "--size 33")
    assert "preset" not in line


@pytest.mark.parametrize("command", ["preview", "stats"])
def test_output_under_a_file_or_on_a_folder_one_line_exit_2(tiny_dataset, tmp_path, command, simgen_cli):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    simgen_cli.one_line_error([command, str(tiny_dataset), "--out", str(blocker / "x.png")], "--out", "'" + str(blocker) + "' is a file")
    simgen_cli.one_line_error([command, str(tiny_dataset), "--out", str(tmp_path)], "--out", "is a folder")
    assert blocker.read_text() == "x"


def test_preview_refuses_an_image_type_it_cannot_write_before_drawing(tiny_dataset, tmp_path, monkeypatch, simgen_cli):
    import simgen.preview

    monkeypatch.setattr(simgen.preview, "contact_sheet", lambda *a, **k: pytest.fail("drew the sheet first"))
    simgen_cli.one_line_error(["preview", str(tiny_dataset), "--out", str(tmp_path / "sheet.gif")], "--out", ".png")


def _options_of_every_command():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():
        for action in subparser._actions:
            if action.option_strings and action.dest != "help":
                yield name, subparser, action


def test_every_option_has_help_and_its_default(simgen_cli):
    import argparse

    for name, subparser, action in _options_of_every_command():
        assert action.help, f"simgen {name} {action.option_strings[0]} has no help"
        text = subparser.formatter_class(prog="x")._get_help_string(action)
        if action.default not in (None, argparse.SUPPRESS) and not action.required:
            assert "default" in text, f"simgen {name} {action.option_strings[0]}: no default in '{text}'"
    for name in ("generate", "train", "evaluate", "preview", "validate", "stats", "actions", "presets"):
        _, out, _ = simgen_cli.run([name, "--help"])
        assert "(default: True)" not in out and "(default: False)" not in out, name
    _, out, _ = simgen_cli.run(["train", "--help"])
    flat = " ".join(out.split())
    assert "--no-channels-last keep the default (channels-first) memory format for 3D convs (default: channels last on)" in flat
    assert "--epochs EPOCHS passes over the training clips (default: 80)" in flat
    assert "--resume continue RUN from RUN/last.pt (default: off)" in flat


def test_no_command_takes_abbreviated_options():
    for name, subparser, _ in _options_of_every_command():
        assert subparser.allow_abbrev is False, name


def test_spec_errors_about_files_it_names_name_the_spec(tmp_path, simgen_cli):
    spec = tmp_path / "spec.yaml"
    spec.write_text("classes: [wave1]\nclips: 2\nocclusion: {assets: [nope.urdf]}\n")
    simgen_cli.one_line_error(["generate", "--config", str(spec), "--out", str(tmp_path / "o")],
                              str(spec), "field 'occlusion.assets'", "nope.urdf", "not found")
    spec.write_text("classes: [wave1]\nclips: 2\nscene: {background: {choice: [image]}, background_dir: nodir}\n")
    simgen_cli.one_line_error(["generate", "--config", str(spec), "--out", str(tmp_path / "o")],
                              str(spec), "field 'scene.background_dir'", "nodir")
    assert not (tmp_path / "o").exists()


def test_ray_logs_stay_off_the_progress_bar(tmp_path, capfd):
    pytest.importorskip("ray")
    code = main(["generate", "--preset", "demo", "--out", str(tmp_path / "ray"), "--clips", "2", "--frames", "4",
                 "--size", "32", "--workers", "1", "--backend", "ray"])
    err = capfd.readouterr().err
    assert code == 0 and "generate demo" in err  # the bar is there
    assert "Ray instance" not in err and " INFO " not in err and "WARNING" not in err, err[-500:]

"""NaN and inf never get into a dataset: refused in specs and action files, reported by validate."""

import json
import math

import pytest
import yaml

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("field, value", [
    ("actor.speed", ".nan"),
    ("camera.azimuth_deg", "{choice: [0, .inf]}"),
    ("actor.mirror_probability", ".nan"),
    ("physics.max_foot_penetration_m", ".inf"),  # no upper bound: only finiteness stops inf
])
def test_spec_refuses_non_finite_numbers(simgen_cli, tmp_path, field, value):
    section, name = field.split(".")
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"classes: [wave1]\nclips: 1\n{section}: {{{name}: {value}}}\n")
    line = simgen_cli.one_line_error(["generate", "--config", spec, "--out", tmp_path / "out", "--workers", "1"],
                                     spec, field)
    assert "finite" in line
    assert not (tmp_path / "out").exists()


def _program(right_shoulder, root_height=0.0):
    return {"name": "nanwave", "cycle_seconds": 1.0, "keyframes": [
        {"t": 0.0, "right_shoulder": [-150, 0, 0], "root_height": 0.0},
        {"t": 0.5, "right_shoulder": right_shoulder, "root_height": root_height},
    ]}


@pytest.mark.parametrize("program, field", [
    (_program([-170, float("nan"), 0]), "keyframes[1].right_shoulder"),
    (_program([-170, 0, 0], root_height=float("inf")), "keyframes[1].root_height"),
])
def test_action_file_refuses_non_finite_keyframes(simgen_cli, tmp_path, program, field):
    actions = tmp_path / "actions"
    actions.mkdir()
    (actions / "nanwave.yaml").write_text(yaml.safe_dump(program))
    line = simgen_cli.one_line_error(["generate", "--preset", "demo", "--set", "classes=[nanwave]",
                                      "--set", "physics.enabled=false", "--clips", "1", "--frames", "4",
                                      "--size", "32", "--actions", actions, "--out", tmp_path / "out",
                                      "--workers", "1", "--quiet"], "nanwave.yaml", field)
    assert "finite" in line


def _poison(field):
    def change(ann):
        node, _, name = field.rpartition(".")
        holder = ann[node] if node else ann
        holder[name] = _nan_like(holder[name])
        return ann
    return change


def _nan_like(value):
    """The same nested list with its first number replaced by NaN."""
    if isinstance(value, list):
        return [_nan_like(value[0]), *value[1:]]
    return math.nan


@pytest.mark.parametrize("field", ["keypoints_2d", "keypoints_3d", "bbox", "camera.K", "camera.K_per_frame",
                                   "camera.extrinsics"])
def test_validate_reports_non_finite_annotations(simgen_cli, dataset_copy, helpers, field):
    helpers.rewrite_clip(dataset_copy, "clip00000001", annotations=_poison(field))
    code, out, err = simgen_cli.run(["validate", dataset_copy, "--quiet"])
    assert code == 1 and "OK" not in out and "Traceback" not in err, (code, out, err)
    faults = [line for line in err.splitlines() if "non-finite" in line]
    assert len(faults) == 1 and "clip00000001" in faults[0] and f"'{field}'" in faults[0], err


def test_validate_passes_the_clean_dataset(simgen_cli, generated):
    code, out, err = simgen_cli.run(["validate", generated, "--quiet"])
    assert code == 0 and out.startswith("OK"), err


@pytest.mark.parametrize("field", ["keypoints_2d", "bbox"])
def test_validate_reports_a_null_required_array(simgen_cli, dataset_copy, helpers, field):
    helpers.rewrite_clip(dataset_copy, "clip00000000", annotations=lambda ann: {**ann, field: None})
    code, out, err = simgen_cli.run(["validate", dataset_copy, "--quiet"])
    assert code == 1 and "Traceback" not in err and f"'{field}' is not an array of numbers" in err, err


@pytest.mark.parametrize("edit,field", [(lambda s: s["scene"].update(sky_vaLue=s["scene"].pop("sky_value")), "scene.sky_vaLue"),
                                        (lambda s: s.update(frames=-4), "frames")])
def test_validate_reports_a_damaged_spec_in_dataset_json(simgen_cli, dataset_copy, edit, field):
    """A bit flip in a key of the stored spec (found by the fuzz) read as OK; a resume re-runs that spec."""
    meta = json.loads((dataset_copy / "dataset.json").read_text())
    edit(meta["spec"])
    (dataset_copy / "dataset.json").write_text(json.dumps(meta))
    code, out, err = simgen_cli.run(["validate", dataset_copy, "--quiet"])
    assert code == 1 and "Traceback" not in err and f"spec field '{field}'" in err, (code, out, err)

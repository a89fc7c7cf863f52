import numpy as np
import pytest

from simgen.errors import SimgenError
from simgen.factors import Factor
from simgen.spec import GenerationSpec, load_spec, preset_names


def test_presets_load_and_cover_required_classes():
    assert {"demo", "weizmann4"} <= set(preset_names())
    w = load_spec(preset="weizmann4")
    assert w.classes == ["wave1", "wave2", "jack", "bend"]
    assert w.size == (64, 64)


def test_overrides_apply_to_any_field():
    spec = load_spec(preset="demo", overrides={"clips": 5, "seed": 3, "frames": 9, "size": 64, "camera.fov_deg": [30, 40]})
    assert (spec.clips, spec.seed, spec.frames, spec.size) == (5, 3, 9, (64, 64))
    assert spec.camera.fov_deg.bounds() == (30.0, 40.0)


def test_spec_round_trips_through_its_json_form():
    spec = load_spec(preset="weizmann4")
    again = GenerationSpec.model_validate(spec.model_dump(mode="json"))
    assert again == spec and again.fingerprint() == spec.fingerprint()


@pytest.mark.parametrize(
    "yaml_text, field, message",
    [
        ("classes: [wave1]\nclips: 2\nbogus: 1\n", "bogus", "unknown field"),
        ("classes: [wave1]\nclips: 0\n", "clips", "greater than or equal"),
        ("classes: [wave1]\nclips: 2\ncamera: {fov_deg: [10, 400]}\n", "camera.fov_deg", "must lie in"),
        ("classes: [wave1]\nclips: 2\nsize: 63\n", "size", "even"),
        ("classes: [wave1]\nclips: 2\ncamera: {trajectory: {choice: [spin]}}\n", "camera.trajectory", "chosen from"),
        ("classes: [wave1]\nclips: 2\ncamera: {actor_height_fraction: [1.5, 3.5]}\n", "camera.actor_height_fraction", "must lie in [0.05, 3.0]"),
        ("classes: [wave1]\nclips: 2\ncamera: {framing: side}\n", "camera.framing", "chosen from full, upper"),
        ("classes: [wave1]\nclips: 2\nactor: {speed: [2, 1]}\n", "actor.speed", "greater than max"),
        ("classes: [wave1]\nclips: 2\nactor: {speed: [.nan, .nan]}\n", "actor.speed", "two finite numbers"),
        ("classes: [wave1]\nclips: 2\nactor: {phase: {choice: [0.5], jitter: -0.2}}\n", "actor.phase", "'jitter' must be a non-negative"),
        ("classes: [wave1, jack]\nclips: 2\ncamera: {trajectory: {choice: [static, pan], weights: 3}}\n", "camera.trajectory", "'weights' must be"),
        ("classes: [wave1, jack]\nclips: 2\nsequence: {background_label: jack}\n", "sequence.background_label", "also an action"),
        ("classes: [wave1]\nclips: 2\noutput: {x264_params: 'me dia'}\n", "output.x264_params", "key=value pairs"),
        ("classes: [wave1]\nclips: 2\noutput: {x264_params: 'me=dia:threads=4'}\n", "output.x264_params", "threads are fixed"),
    ],
)
def test_bad_spec_names_file_and_field(tmp_path, yaml_text, field, message):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml_text)
    with pytest.raises(SimgenError) as err:
        load_spec(path=path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert message in str(err.value)


def test_malformed_yaml_and_unknown_preset(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("classes: [wave1\nclips: 3\n")
    with pytest.raises(SimgenError, match="malformed YAML") as err:
        load_spec(path=path)
    assert str(path) in str(err.value)
    with pytest.raises(SimgenError, match="unknown preset 'nope'"):
        load_spec(preset="nope")


def test_factor_forms_sample_within_their_support():
    rng = np.random.default_rng(0)
    assert Factor.model_validate(2.5).sample(rng) == 2.5
    uniform = [Factor.model_validate([1, 2]).sample(rng) for _ in range(200)]
    assert 1 <= min(uniform) and max(uniform) <= 2 and np.std(uniform) > 0.2
    choice = Factor.model_validate({"choice": [0, 90], "weights": [1, 0], "jitter": 5})
    values = [choice.sample(rng) for _ in range(100)]
    assert all(-5 <= v <= 5 for v in values)
    a = [Factor.model_validate([0, 1]).sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]


def test_unknown_preset_suggests_the_closest():
    with pytest.raises(SimgenError, match="did you mean 'weizmann4'") as err:
        load_spec(preset="weizman4")
    assert err.value.field == "--preset"
    with pytest.raises(SimgenError) as err:
        load_spec(preset="zzz")
    assert "did you mean" not in str(err.value) and "available: demo" in str(err.value)


def test_close_up_fields_validate_and_old_specs_keep_full_framing(tmp_path):
    """actor_height_fraction above 1 with framing: upper is a valid spec; a spec written
    before framing existed loads with framing full and samples nothing new for it."""
    path = tmp_path / "spec.yaml"
    path.write_text("classes: [wave1]\nclips: 2\ncamera: {actor_height_fraction: [1.4, 2.5], framing: {choice: [full, upper]}}\n")
    spec = load_spec(path=path)
    assert spec.camera.actor_height_fraction.bounds() == (1.4, 2.5)
    old = load_spec(preset="demo")
    assert old.camera.framing.sample(None) == "full"  # a single choice draws no random number

"""The generation spec: what to generate, validated, with a range or choice for every random factor.

Load one with `load_spec(preset=...)` or `load_spec(path=...)`; override any field with
dotted `overrides` ({"camera.fov_deg": [30, 50], "clips": 100}).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simgen.assets import PRESETS  # assets/presets, installed as simgen.assets
from simgen.camera import FRAMINGS, TRAJECTORIES
from simgen.errors import SimgenError
from simgen.factors import Factor
from simgen.textures import GROUND_TEXTURES
from simgen.untrusted import parse_yaml, read_text



def _within(lo: float, hi: float):
    def check(f: Factor) -> Factor:
        f.check_within(lo, hi, "factor")
        return f

    check.bounds = (lo, hi)  # read by calibration tuning, which must propose ranges the spec accepts
    return AfterValidator(check)


def _choice_of(allowed):
    def check(f: Factor) -> Factor:
        if f.choice is None or any(v not in allowed for v in f.choice):
            raise ValueError(f"must be chosen from {', '.join(allowed)}")
        return f

    return AfterValidator(check)


class StrictModel(BaseModel):
    # NaN passes every `ge`/`le` bound (each comparison is false); inf passes a missing one
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ActorSpec(StrictModel):
    """Who performs and how: playback, amplitude, mirroring, body and clothing."""

    speed: Annotated[Factor, _within(0.1, 5.0)] = Factor.model_validate([0.8, 1.25])
    amplitude: Annotated[Factor, _within(0.0, 2.0)] = Factor.model_validate([0.85, 1.15])
    phase: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.0, 1.0])
    mirror_probability: float = Field(0.5, ge=0.0, le=1.0)
    facing_deg: Annotated[Factor, _within(-180.0, 180.0)] = Factor.model_validate([-10.0, 10.0])
    height_m: Annotated[Factor, _within(1.0, 2.3)] = Factor.model_validate([1.55, 1.95])
    torso_girth: Annotated[Factor, _within(0.5, 2.5)] = Factor.model_validate([1.3, 1.7])
    limb_girth: Annotated[Factor, _within(0.5, 2.5)] = Factor.model_validate([1.2, 1.6])
    bulk: Annotated[Factor, _within(0.5, 2.0)] = Field(
        Factor.model_validate(1.0), description="multiplies torso_girth and limb_girth together: heavier builds and bulky clothes (1.5: the look of weizmann's jackets at 64x64)"
    )
    skirt: Annotated[Factor, _within(0.0, 1.0)] = Field(
        Factor.model_validate(0.0), description="loose clothing below the waist (skirt, coat hem): a cylinder around both thighs reaching this share of the way to the knee (0: none)"
    )
    arm_length: Annotated[Factor, _within(0.7, 1.3)] = Factor.model_validate([0.92, 1.08])
    leg_length: Annotated[Factor, _within(0.7, 1.3)] = Factor.model_validate([0.92, 1.08])
    clothing_saturation: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.05, 0.8])
    clothing_value: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.1, 0.9])
    skin_value: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.3, 0.95])
    mirror_labels: dict[str, str] = Field(
        default_factory=dict, description="label pairs swapped when a clip is mirrored, e.g. {wave_left: wave_right}"
    )
    leg_clearance_m: float = Field(
        0.015, ge=0.0, le=0.1, description="gap kept between the two legs: a hip is turned outward where the target would cross them (0: off)"
    )
    # The captured punch lunges and stops its pelvis within ~0.1 s (1.0 g of horizontal
    # deceleration at speed 1, 1.45 g at 1.2): played faster than 1.1x, the PD-tracked body
    # runs past the stop and leans on the root assist. 20 of 22 such draws were rejected (of
    # 50 punches), still 21 and 18 of 22 with foot friction 2.0 or every motor twice as strong.
    max_speed: dict[str, Annotated[float, Field(gt=0.0, le=5.0)]] = Field(
        default_factory=lambda: {"punch": 1.1},
        description="per action, the fastest it is played: its draws from `speed` are squeezed into [min, this] (e.g. {punch: 1.1})",
    )


class CameraSpec(StrictModel):
    """Where the camera is and how it moves. Azimuth 0 faces the actor; 90 is its right side."""

    fov_deg: Annotated[Factor, _within(5.0, 120.0)] = Factor.model_validate([35.0, 60.0])
    azimuth_deg: Annotated[Factor, _within(-180.0, 180.0)] = Factor.model_validate([-60.0, 60.0])
    elevation_deg: Annotated[Factor, _within(-45.0, 80.0)] = Factor.model_validate([-5.0, 20.0])
    actor_height_fraction: Annotated[Factor, _within(0.05, 3.0)] = Field(
        Factor.model_validate([0.5, 0.8]), description="body height / image height; above 1 the body is taller than the frame (close-ups, with framing: upper)"
    )
    framing: Annotated[Factor, _choice_of(FRAMINGS)] = Field(
        Factor.model_validate("full"), description="full: aim at the body's middle; upper: the head near the top edge, the rest as far down as fits (head to waist at fraction 2)"
    )
    vertical_offset: Annotated[Factor, _within(-0.5, 0.5)] = Factor.model_validate([-0.05, 0.05])
    trajectory: Annotated[Factor, _choice_of(TRAJECTORIES)] = Factor.model_validate({"choice": list(TRAJECTORIES)})
    trajectory_amount: Annotated[Factor, _within(0.0, 2.0)] = Factor.model_validate([0.3, 1.0])
    shake_deg: Annotated[Factor, _within(0.0, 10.0)] = Factor.model_validate(0.0)
    keep_framed: bool = Field(True, description="back off until the framed part of the body (all of it, or from the head down for framing: upper) stays in view")


class SceneSpec(StrictModel):
    """Ground, background, light and distractor objects."""

    ground_texture: Annotated[Factor, _choice_of(GROUND_TEXTURES)] = Factor.model_validate(
        {"choice": ["plain", "checker", "stripes", "noise", "grid"], "weights": [4, 2, 1, 2, 1]}
    )
    ground_value: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.25, 0.85])
    ground_saturation: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.0, 0.5])
    background: Annotated[Factor, _choice_of(("flat", "gradient", "noise", "image"))] = Factor.model_validate(
        {"choice": ["flat", "gradient", "noise"]}
    )
    background_dir: str | None = Field(None, description="folder of images for background 'image'")
    background_mode: Literal["sky", "behind"] = Field(
        "sky", description="where the background shows: where nothing was hit (sky), or also over the ground (behind)"
    )
    sky_value: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.4, 1.0])
    sky_saturation: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.0, 0.4])
    light_azimuth_deg: Annotated[Factor, _within(-360.0, 360.0)] = Factor.model_validate([0.0, 360.0])
    light_elevation_deg: Annotated[Factor, _within(5.0, 90.0)] = Factor.model_validate([30.0, 80.0])
    light_tint: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.0, 0.2])
    ambient: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.45, 0.8])
    diffuse: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.3, 0.7])
    specular: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.0, 0.2])
    shadow_probability: float = Field(0.5, ge=0.0, le=1.0)
    distractor_count: Annotated[Factor, _within(0, 8)] = Factor.model_validate(0)

    @model_validator(mode="after")
    def _images_need_a_folder(self):
        if self.background.choice and "image" in self.background.choice and not self.background_dir:
            raise ValueError("background 'image' needs scene.background_dir (a folder of images)")
        return self


class CameraNoiseSpec(StrictModel):
    """What a real camera adds: sensor noise, motion blur (from sub-frame renders), compression."""

    sensor_noise_std: Annotated[Factor, _within(0.0, 50.0)] = Factor.model_validate(0.0)
    motion_blur_probability: float = Field(0.0, ge=0.0, le=1.0)
    motion_blur_subframes: Annotated[Factor, _within(2, 16)] = Factor.model_validate({"choice": [3]})
    jpeg_probability: float = Field(0.0, ge=0.0, le=1.0)
    jpeg_quality: Annotated[Factor, _within(5, 100)] = Factor.model_validate([30.0, 90.0])
    crf: Annotated[Factor, _within(0, 51)] = Factor.model_validate(18)


def _kinds(allowed):
    def check(v: list[str]) -> list[str]:
        bad = [k for k in v if k not in allowed]
        if bad or not v:
            raise ValueError(f"must be a non-empty list from {', '.join(allowed)}; got {bad or v}")
        return v

    return AfterValidator(check)


class OcclusionSpec(StrictModel):
    """Occluders between the camera and the actor: static ones and ones that cross the view."""

    probability: float = Field(0.0, ge=0.0, le=1.0, description="occlusion rate: share of clips with occluders")
    static_count: Annotated[Factor, _within(0, 4)] = Factor.model_validate({"choice": [1]})
    moving_count: Annotated[Factor, _within(0, 4)] = Factor.model_validate({"choice": [0, 1]})
    static_kinds: Annotated[list[str], _kinds(("wall", "pillar", "asset"))] = ["wall", "pillar"]
    moving_kinds: Annotated[list[str], _kinds(("roll", "throw", "fall", "walker"))] = ["roll", "throw", "fall", "walker"]
    visible_fraction: Annotated[Factor, _within(0.0, 1.0)] = Factor.model_validate([0.35, 0.85])
    assets: list[str] = Field(default_factory=list, description="URDF files used by the 'asset' static kind")


class SequenceSpec(StrictModel):
    """Chains of actions in one clip, with blended transitions and idle standing between them."""

    probability: float = Field(0.0, ge=0.0, le=1.0, description="share of clips that chain several actions")
    actions: Annotated[Factor, _within(1, 6)] = Factor.model_validate({"choice": [2, 3]})
    transition_seconds: Annotated[Factor, _within(0.04, 5.0)] = Factor.model_validate([0.25, 0.6])
    idle_probability: float = Field(0.3, ge=0.0, le=1.0, description="chance of idle standing between two actions")
    idle_seconds: Annotated[Factor, _within(0.0, 10.0)] = Factor.model_validate([0.3, 0.8])
    background_label: str = Field("transition", min_length=1, description="label of transition and idle frames")
    pool: list[str] | None = Field(None, description="actions chained with the clip's class (default: the classes)")


class PhysicsSpec(StrictModel):
    """Simulate the actor (PD joint tracking, bounded root assist, contacts) and reject implausible clips."""

    enabled: bool = True
    # 3 x 30 gave the same plausibility as 4 x 20 on 45 demo samples (penetration 13.6 vs
    # 13.0 mm, skate and rejections equal) in 7% less physics time; 3 x 20 let feet sink 20 mm.
    substeps: int = Field(3, ge=1, le=50, description="physics steps per video frame")
    solver_iterations: int = Field(30, ge=1, le=200, description="constraint-solver iterations per physics step")
    # 6, not 3, once standing feet were planted: walk rejected 28% -> 16%, punch 63% -> 57%
    # (100 first attempts each); 10 makes the joints chatter (torque at its bound 57% of steps).
    joint_gain: float = Field(6.0, gt=0.0, le=10.0, description="scales the joint motors' position gain")
    # At most 0.8: an unsupported body still falls at 0.2 g or more (a metre in the first
    # second), and the torque bound (this x W x h/2) holds at most a 53 degree lean. Up to
    # 1.0 the assist could float a body; beyond that the legs carry nothing it must.
    root_assist_limit: float = Field(
        0.8, ge=0.0, le=0.8, description="max root-assist force, as a fraction of body weight (torque: this x weight x height/2)"
    )
    swing_clearance_m: float = Field(
        0.1, ge=0.0, le=0.2, description="a moving foot's lowest point is lifted at least this far above the floor in the target (0: off)"
    )
    max_attempts: int = Field(30, ge=1, le=100, description="samples tried per clip before the job fails")
    max_foot_penetration_m: float = Field(0.06, gt=0.0)
    max_foot_skate_mps: float = Field(0.6, gt=0.0)
    max_joint_limit_violation_rate: float = Field(0.1, ge=0.0, le=1.0, description="share of frames with a joint over 3 degrees beyond its range")
    max_joint_limit_excess_deg: float = Field(20.0, gt=0.0, description="most degrees any joint may go beyond its range (simgen.joint_limits)")
    max_mean_root_assist: float = Field(0.6, gt=0.0)
    max_root_torque_mean_lean_deg: float = Field(
        40.0, gt=0.0, le=90.0, description="mean root-assist torque, as the lean from upright whose gravity torque it equals"
    )
    max_tracking_error_m: float = Field(0.15, gt=0.0)

    def failures(self, plausibility: dict[str, float]) -> list[str]:
        """Names of the thresholds a clip's plausibility metrics exceed."""
        checks = {
            "max_foot_penetration_m": self.max_foot_penetration_m,
            "foot_skate_mps": self.max_foot_skate_mps,
            "joint_limit_violation_rate": self.max_joint_limit_violation_rate,
            "max_joint_limit_excess_deg": self.max_joint_limit_excess_deg,
            "mean_root_assist": self.max_mean_root_assist,
            "root_torque_mean_lean_deg": self.max_root_torque_mean_lean_deg,
            "tracking_error_m": self.max_tracking_error_m,
        }
        return [f"{k} {plausibility[k]:.3g} > {limit:g}" for k, limit in checks.items() if plausibility.get(k, 0.0) > limit]


class OutputSpec(StrictModel):
    """How clips are encoded and packed (the H.264 quality itself is camera_noise.crf, per clip)."""

    x264_preset: str = "veryfast"
    # On 112x112 demo clips these took a quarter off encoding time (0.40 -> 0.30 ms a frame)
    # at 1.6% fewer bytes and 0.26 dB lower PSNR than the preset alone.
    x264_params: str = Field("rc-lookahead=5:partitions=none", description="extra x264 options, key=value pairs joined by ':' ('' for none)")
    shard_size: int = Field(16, ge=1, le=10000, description="clips per WebDataset shard")

    @field_validator("x264_preset")
    @classmethod
    def _preset(cls, v: str) -> str:
        allowed = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
        if v not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return v

    @field_validator("x264_params")
    @classmethod
    def _params(cls, v: str) -> str:
        pair = r"[a-z0-9][a-z0-9-]*=[A-Za-z0-9.,+-]+"
        if v and not re.fullmatch(rf"{pair}(:{pair})*", v):
            raise ValueError("must be key=value pairs joined by ':', e.g. rc-lookahead=5:partitions=none")
        if any(key in ("threads", "lookahead-threads", "sliced-threads") for key in re.findall(r"([a-z0-9-]+)=", v)):
            raise ValueError("threads are fixed to 1 (more would make the output vary from run to run)")
        return v


class GenerationSpec(StrictModel):
    """Everything that defines a dataset. A clip is a pure function of (spec, seed, clip index)."""

    name: str = "custom"
    classes: list[str] = Field(min_length=1)
    clips: int = Field(ge=1, le=10_000_000)
    frames: int = Field(32, ge=2, le=4000)
    fps: float = Field(25.0, gt=0, le=240)
    size: tuple[int, int] = Field((112, 112), description="(height, width) in pixels")
    seed: int = Field(0, ge=0, le=2**63 - 1)
    actor: ActorSpec = ActorSpec()
    camera: CameraSpec = CameraSpec()
    scene: SceneSpec = SceneSpec()
    camera_noise: CameraNoiseSpec = CameraNoiseSpec()
    sequence: SequenceSpec = SequenceSpec()
    occlusion: OcclusionSpec = OcclusionSpec()
    physics: PhysicsSpec = PhysicsSpec()
    output: OutputSpec = OutputSpec()

    @field_validator("classes")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("class names must be unique")
        return v

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v):
        if isinstance(v, int) and not isinstance(v, bool):
            v = (v, v)
        if isinstance(v, str) and "x" in v:
            w, h = v.lower().split("x")
            v = (int(h), int(w))
        return v

    @field_validator("size")
    @classmethod
    def _even(cls, v: tuple[int, int]) -> tuple[int, int]:
        for n in v:
            if not 16 <= n <= 2048 or n % 2:
                raise ValueError(f"height and width must be even numbers in [16, 2048] (H.264 needs even sizes), got {v}")
        return v

    def fingerprint(self) -> str:
        """Hash of everything that changes the output (to refuse resuming with another spec)."""
        data = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def preset_names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in PRESETS.iterdir() if p.name.endswith(".yaml"))


def _set_dotted(data: dict, dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise SimgenError(f"cannot set '{dotted}': '{part}' is not a section", file=source, field=dotted)
        node = child
    node[parts[-1]] = value


def load_spec(*, preset: str | None = None, path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> GenerationSpec:
    """Read a preset or a YAML file, apply dotted overrides, validate."""
    if (preset is None) == (path is None):
        raise SimgenError("give exactly one of --preset or --config")
    if preset is not None:
        if preset not in preset_names():
            close = difflib.get_close_matches(preset, preset_names(), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise SimgenError(f"unknown preset '{preset}'; {hint}available: {', '.join(preset_names())}", field="--preset")
        source = f"preset '{preset}'"
        text = PRESETS.joinpath(f"{preset}.yaml").read_text()
    else:
        source = str(path)
        text = read_text(path)
    data = parse_yaml(text, file=source)
    if not isinstance(data, dict):
        raise SimgenError("expected a mapping of spec fields at the top level", file=source)
    data = copy.deepcopy(data)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, source)
    return validate_spec(data, source)


def validate_spec(data: dict, source: str = "<spec>") -> GenerationSpec:
    try:
        spec = GenerationSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"] if not str(x).startswith("function-")) or "<top>"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        raise SimgenError(msg, file=source, field=loc) from None
    background = spec.sequence.background_label
    if background in set(spec.classes) | set(spec.sequence.pool or []):
        # Its frames would merge with that action's and be counted as it.
        raise SimgenError(f"'{background}' is also an action of the spec; pick another label", file=source, field="sequence.background_label")
    return spec

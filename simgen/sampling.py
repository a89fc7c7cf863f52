"""Sample every random factor of one clip from its seed (the first half of the kornia pattern).

The factor dictionary is JSON-serialisable and stored with the clip: rendering is a pure
function of it, which is what makes replay, per-factor gap analysis and calibration possible.
"""

from __future__ import annotations

import numpy as np

from simgen.motion.library import ActionLibrary
from simgen.props import SHAPES
from simgen.scene import hsv_to_rgb
from simgen.textures import CLOTHING_TEXTURES, list_images
from simgen.occluders import sample_occlusion
from simgen.sequence import sample_action_factors
from simgen.spec import GenerationSpec


def clip_seed(spec_seed: int, clip_index: int, attempt: int = 0) -> int:
    """The seed of clip `clip_index`: independent streams per clip, whoever renders it.

    A clip rejected as physically implausible is resampled with attempt 1, 2, ...: a seed
    derived from the same numbers, so the retry is as reproducible as the first try.
    """
    entropy = [spec_seed, clip_index] if attempt == 0 else [spec_seed, clip_index, attempt]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> 1)


def clip_label(spec: GenerationSpec, clip_index: int) -> str:
    """Classes are assigned round-robin so every class gets the same number of clips (+-1)."""
    return spec.classes[clip_index % len(spec.classes)]


def _colour(rng: np.random.Generator, saturation, value) -> list[float]:
    return [round(c, 4) for c in hsv_to_rgb(float(rng.uniform(0, 1)), float(saturation.sample(rng)), float(value.sample(rng)))]


def sample_factors(spec: GenerationSpec, library: ActionLibrary, label: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    a, c = spec.actor, spec.camera
    action_factors = sample_action_factors(spec, library, label, rng)
    body = {
        "height_m": a.height_m.sample(rng),
        "torso_girth": a.torso_girth.sample(rng),
        "limb_girth": a.limb_girth.sample(rng),
        "arm_length": a.arm_length.sample(rng),
        "leg_length": a.leg_length.sample(rng),
        "bulk": a.bulk.sample(rng),  # draws nothing for the default (a constant): older clips unchanged
    }
    skirt = a.skirt.sample(rng)  # likewise; and recorded only when worn, so older clips' factors are unchanged
    if skirt:
        body["skirt"] = float(skirt)
    skin_hue = float(rng.uniform(0.02, 0.1))
    clothing = {
        "skin": [round(x, 4) for x in hsv_to_rgb(skin_hue, float(rng.uniform(0.3, 0.6)), float(a.skin_value.sample(rng)))],
        "shirt": _colour(rng, a.clothing_saturation, a.clothing_value),
        "trousers": _colour(rng, a.clothing_saturation, a.clothing_value),
        "shoes": _colour(rng, a.clothing_saturation, a.clothing_value),
    }
    clothing["sleeves"] = clothing["shirt"] if rng.uniform() < 0.6 else clothing["skin"]
    clothing["textures"] = {part: CLOTHING_TEXTURES[int(rng.integers(len(CLOTHING_TEXTURES)))] for part in ("shirt", "trousers")}
    camera = {
        "fov_deg": c.fov_deg.sample(rng),
        "azimuth_deg": c.azimuth_deg.sample(rng),
        "elevation_deg": c.elevation_deg.sample(rng),
        "actor_height_fraction": c.actor_height_fraction.sample(rng),
        "vertical_offset": c.vertical_offset.sample(rng),
        "trajectory": c.trajectory.sample(rng),
        "trajectory_amount": c.trajectory_amount.sample(rng),
        "trajectory_sign": float(rng.choice([-1.0, 1.0])),
        "shake_deg": c.shake_deg.sample(rng),
        "shake_seed": int(rng.integers(0, 2**31 - 1)),
        "keep_framed": c.keep_framed,
        "framing": c.framing.sample(rng),  # draws nothing for the default (one choice): older clips unchanged
    }
    scene = sample_scene(spec, rng)
    noise = sample_camera_noise(spec, rng)
    occlusion = sample_occlusion(spec, rng)
    return {
        "action": action_factors,
        "body": body,
        "clothing": clothing,
        "camera": camera,
        "scene": scene,
        "occlusion": occlusion,
        "camera_noise": noise,
    }


def sample_scene(spec: GenerationSpec, rng: np.random.Generator) -> dict:
    s = spec.scene
    tint = s.light_tint.sample(rng)
    warm = float(rng.uniform(-1.0, 1.0))  # warm (orange) to cool (blue) light
    scene = {
        "ground_texture": s.ground_texture.sample(rng),
        "ground_rgb": _colour(rng, s.ground_saturation, s.ground_value),
        "background": s.background.sample(rng),
        "background_mode": s.background_mode,
        "sky_rgb": _colour(rng, s.sky_saturation, s.sky_value),
        "sky_rgb_2": _colour(rng, s.sky_saturation, s.sky_value),
        "background_seed": int(rng.integers(0, 2**31 - 1)),
        "light_azimuth_deg": s.light_azimuth_deg.sample(rng),
        "light_elevation_deg": s.light_elevation_deg.sample(rng),
        "light_rgb": [round(1.0 - tint * max(-warm, 0.0), 4), round(1.0 - tint * abs(warm) * 0.5, 4), round(1.0 - tint * max(warm, 0.0), 4)],
        "ambient": s.ambient.sample(rng),
        "diffuse": s.diffuse.sample(rng),
        "specular": s.specular.sample(rng),
        "shadows": bool(rng.uniform() < s.shadow_probability),
    }
    if scene["background"] == "image":
        images = list_images(s.background_dir)
        scene["background_image"] = images[int(rng.integers(len(images)))]
        scene["background_crop"] = [round(float(rng.uniform()), 4), round(float(rng.uniform()), 4), round(float(rng.uniform(0.5, 1.0)), 4)]
        scene["background_flip"] = bool(rng.uniform() < 0.5)
    scene["distractors"] = [
        {
            "shape": SHAPES[int(rng.integers(len(SHAPES)))],
            "size": float(rng.uniform(0.15, 0.5)),
            "behind_m": float(rng.uniform(1.0, 4.0)),
            "lateral_m": float(rng.uniform(-2.5, 2.5)),
            "rgb": _colour(rng, s.ground_saturation, s.ground_value),
            "texture": CLOTHING_TEXTURES[int(rng.integers(len(CLOTHING_TEXTURES)))],
        }
        for _ in range(int(round(float(s.distractor_count.sample(rng)))))
    ]
    return scene


def sample_camera_noise(spec: GenerationSpec, rng: np.random.Generator) -> dict:
    n = spec.camera_noise
    blur = bool(rng.uniform() < n.motion_blur_probability)
    jpeg = bool(rng.uniform() < n.jpeg_probability)
    return {
        "sensor_noise_std": n.sensor_noise_std.sample(rng),
        "motion_blur_subframes": int(round(float(n.motion_blur_subframes.sample(rng)))) if blur else 1,
        "jpeg_quality": int(round(float(n.jpeg_quality.sample(rng)))) if jpeg else None,
        "crf": int(round(float(n.crf.sample(rng)))),
        "noise_seed": int(rng.integers(0, 2**31 - 1)),
    }

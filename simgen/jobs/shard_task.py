"""The unit of work: generate and write one shard. Runs in any worker process, same output."""

from __future__ import annotations

from pathlib import Path

from simgen.clip import Simulator, make_clip, simulate_plausibility
from simgen.dataset.format import clip_key, shard_name
from simgen.dataset.writer import clip_members, manifest_row, write_shard
from simgen.motion.library import ActionLibrary
from simgen.sampling import clip_label, clip_seed, sample_factors
from simgen.errors import SimgenError
from simgen.spec import GenerationSpec

# One simulator per worker process and actions folder: loading pybullet once, not per shard.
_SIMULATORS: dict[str | None, Simulator] = {}


def shard_clip_indices(spec: GenerationSpec, shard_index: int) -> range:
    size = spec.output.shard_size
    return range(shard_index * size, min((shard_index + 1) * size, spec.clips))


def shard_count(spec: GenerationSpec) -> int:
    return -(-spec.clips // spec.output.shard_size)


def _simulator(actions_dir: str | None) -> Simulator:
    if actions_dir not in _SIMULATORS:
        _SIMULATORS[actions_dir] = Simulator(ActionLibrary(actions_dir))
    return _SIMULATORS[actions_dir]


def make_plausible_clip(sim: Simulator, spec: GenerationSpec, index: int):
    """Make clip `index`, resampling (derived seeds) while physics finds it implausible.

    The clip's annotations record `attempts`. Raises SimgenError when every attempt fails: the action or
    the thresholds need a look, and silently keeping a bad clip would hide that.
    """
    label = clip_label(spec, index)
    failures: list[str] = []
    for attempt in range(spec.physics.max_attempts if spec.physics.enabled else 1):
        seed = clip_seed(spec.seed, index, attempt)
        factors = sample_factors(spec, sim.library, label, seed)
        if attempt > 0:
            # This clip has been rejected before: check a redraw with physics alone (nothing
            # rendered) and film only one that passes.
            failures = spec.physics.failures(simulate_plausibility(sim, spec, factors))
            if failures:
                continue
        clip = make_clip(sim, spec, factors, seed)
        plausibility = clip.annotations.get("plausibility")
        failures = spec.physics.failures(plausibility) if plausibility else []
        if not failures:
            clip.annotations["attempts"] = attempt + 1
            return clip
    raise SimgenError(
        f"clip {index} ('{label}'): all {spec.physics.max_attempts} attempts were physically implausible "
        f"(last: {'; '.join(failures)}); relax the physics thresholds, raise physics.max_attempts, "
        "or set physics.enabled=false for kinematic posing",
        field="physics",
    )


def generate_shard(spec_data: dict, out_dir: str, shard_index: int, actions_dir: str | None = None, on_clip=None) -> list[dict]:
    """Generate every clip of shard `shard_index`, write the shard, return its manifest rows.

    `on_clip`: called with 1 after each clip - a callable, or a queue (from another process).
    """
    spec = GenerationSpec.model_validate(spec_data)
    sim = _simulator(actions_dir)
    name = shard_name(shard_index)
    clips, rows = [], []
    for index in shard_clip_indices(spec, shard_index):
        clip = make_plausible_clip(sim, spec, index)
        members = clip_members(clip, spec)
        key = clip_key(index)
        clips.append((key, members))
        rows.append(manifest_row(key, name, clip.annotations, members))
        if hasattr(on_clip, "put"):  # a queue read by the parent process
            on_clip.put(1)
        elif on_clip is not None:
            on_clip(1)
    write_shard(Path(out_dir) / "shards" / name, clips)
    return rows

"""The clutter of a benchmark's test clips, rebuilt from the real folder, for the ensemble's clutter gate.

:func:`clutter_measurer` gives :func:`simgen.adapt.benchmark.ensemble.ensemble_members` each test clip's clutter
(:func:`simgen.train.clutter.clip_clutter`) under the clean condition and every perturbed one, measured on the
copies the benchmark scored (:func:`~simgen.adapt.benchmark.clip_stability.rebuilt_test_clips`) with the windows
of the person-cropped member's saved model. Labels are not read.
"""

from __future__ import annotations

from typing import Callable

from simgen.train.inputs import CROPPED_INPUTS

#: what ``config.clutter_gate_rule`` says of a clutter-gated ensemble
CLUTTER_GATE_RULE = ("clutter gate: a clip whose clutter (median over the person-cropped member's windows of the "
                     "share of moving pixel-steps outside the person box) exceeds the gate takes the person-cropped "
                     "members' fusion alone")


def clutter_measurer(members: list[tuple[str, list[dict]]], model_roots: list[str],
                     real: str | None = None) -> Callable[[int, str, list[dict]], dict[str, list[float]]]:
    """``(seed, fold, member runs) -> {condition: [clutter per test clip]}``, read with the windows (frames, gap,
    frame rate) of the first person-cropped member's saved model (``model_roots[i]``: member ``i``'s
    ``--save-models`` folder). Raises ``ValueError`` when no member reads a person-cropped input."""
    from simgen.adapt.benchmark.clip_stability import rebuilt_test_clips
    from simgen.adapt.benchmark.ensemble import saved_model
    from simgen.train.checkpoint import load_checkpoint
    from simgen.train.clutter import clip_clutter
    from simgen.train.frame_rate import model_fps

    if len(model_roots) != len(members):
        raise ValueError(f"--member-models: {len(model_roots)} folder(s) for {len(members)} members (one per --member, "
                         "in the same order)")
    configs = [results[0]["config"] for _, results in members]
    cropped = [i for i, c in enumerate(configs) if c.get("input") in CROPPED_INPUTS]
    if not cropped:
        raise ValueError("cannot apply the clutter gate: no member reads a person-cropped input "
                         f"({', '.join(CROPPED_INPUTS)})")
    reader = cropped[0]
    real = real or configs[reader]["real"]

    def measure(seed: int, fold: str, runs: list[dict]) -> dict[str, list[float]]:
        path = saved_model(model_roots[reader], members[reader][0], seed, fold)
        if not path.is_file():
            raise ValueError(f"no saved model for seed {seed} fold {fold}: {path} (--member-models takes the "
                             "folders the members' benchmarks were given as --save-models)")
        meta = load_checkpoint(path)["meta"]
        clips = rebuilt_test_clips(configs[reader], runs[reader], real, meta.get("size"))
        return {condition: [clip_clutter(c.frames, c.fps, num_frames=meta["num_frames"], stride=meta["stride"],
                                         model_fps=model_fps(meta)) for c in copies]
                for condition, copies in clips.items()}
    return measure

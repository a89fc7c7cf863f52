"""Whether a run's per-frame head gets a background output, and which label it stands for.

Chained synthetic clips label the frames between actions (transitions, idle standing)
with the spec's ``sequence.background_label`` (``transition``). Without a background
output those frames are dropped from the per-frame loss and the head must give every
frame an action, so a predicted segment always stretches across the gap to the next
one and F1@50 stays capped even for a perfect action labelling (README, "Background").

``auto`` (the default) turns the output on exactly when the synthetic dataset chains
actions: only then are there background frames to learn it from. On a dataset of single
actions it would be a class that no frame is ever labelled with.
"""

from __future__ import annotations

DEFAULT_LABEL = "transition"  # simgen.spec.SequenceSpec.background_label's default


def background_label(mode: str, readers, *, frame_head: bool = True) -> str | None:
    """The label of background frames the run trains on, or ``None`` for no background output.

    Args:
        mode: ``auto`` | ``on`` | ``off`` (``TrainConfig.frame_background``).
        readers: the run's training readers; synthetic ones carry their generation ``spec``.
        frame_head: without a per-frame head there is nothing to add the output to.
    """
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"frame_background: expected auto, on or off, got {mode!r}")
    if mode == "off" or not frame_head:
        return None
    specs = [r.spec for r in readers if getattr(r, "spec", None)]
    sequence = [s.get("sequence") or {} for s in specs]
    label = next((q.get("background_label") for q in sequence if q.get("background_label")), DEFAULT_LABEL)
    if mode == "on":
        return label
    return label if any(float(q.get("probability") or 0) > 0 for q in sequence) else None

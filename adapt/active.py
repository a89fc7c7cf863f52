"""Active labelling: which unlabelled real clips a person should label first.

A clip is worth a label when the model is unsure of it (uncertainty sampling; Settles,
"Active Learning Literature Survey", 2009) and when it is unlike the clips already picked,
so that K labels cover K different situations instead of K copies of the hardest one
(core-set / k-center greedy selection; Sener & Savarese, ICLR 2018). The two are joined as
in weighted k-center selection: each step picks the clip of highest

    score = uncertainty x distance to the nearest clip already picked

(distances between L2-normalised clip features, divided by the largest pairwise distance,
so both factors lie in [0, 1]); the first pick, with nothing picked yet, is the most
uncertain clip. A near-copy of a picked clip has distance ~0 and waits until every distinct
clip is taken.
"""

from __future__ import annotations

import numpy as np
import torch

UNCERTAINTIES = ("entropy", "margin")


def uncertainty(probs: np.ndarray, kind: str = "entropy") -> np.ndarray:
    """Per-clip uncertainty in ``[0, 1]`` from class probabilities ``(N, K)``.

    ``entropy``: Shannon entropy divided by ``log K`` (1 = uniform). ``margin``: one minus the
    gap between the two most probable classes (1 = a tie).
    """
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    if kind == "entropy":
        return -(p * np.log(p)).sum(1) / np.log(p.shape[1]) if p.shape[1] > 1 else np.zeros(len(p))
    if kind == "margin":
        top = np.sort(p, axis=1)[:, ::-1]
        return 1.0 - (top[:, 0] - (top[:, 1] if p.shape[1] > 1 else 0.0))
    raise ValueError(f"unknown uncertainty {kind!r}; expected one of {', '.join(UNCERTAINTIES)}")


def pick_for_labelling(probs: np.ndarray, features: np.ndarray, budget: int, *, kind: str = "entropy") -> list[dict]:
    """Up to ``budget`` distinct clips in the order to label them (see the module docstring).

    Args:
        probs: ``(N, K)`` class probabilities per clip.
        features: ``(N, D)`` clip features (e.g. ``model.features`` averaged over windows).
        budget: clips to pick; at most ``N`` are returned.

    Returns:
        ``[dict(index, score, uncertainty, distance)]``, best first; ``distance`` is ``None`` for
        the first pick.
    """
    probs, features = np.asarray(probs, dtype=np.float64), np.asarray(features, dtype=np.float64)
    if len(probs) != len(features):
        raise ValueError(f"{len(probs)} probability rows for {len(features)} feature rows")
    u = uncertainty(probs, kind)
    f = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    dist = np.linalg.norm(f[:, None, :] - f[None, :, :], axis=-1)
    dist = dist / dist.max() if dist.max() > 0 else dist
    nearest = np.full(len(u), np.inf)  # distance of each clip to its nearest pick
    chosen = np.zeros(len(u), dtype=bool)
    picks = []
    for _ in range(min(budget, len(u))):
        d = np.where(np.isinf(nearest), 1.0, nearest)
        score = np.where(chosen, -np.inf, u * d)
        i = int(np.argmax(score))  # ties: the earlier clip
        picks.append(dict(index=i, score=float(score[i]), uncertainty=float(u[i]),
                          distance=None if np.isinf(nearest[i]) else float(nearest[i])))
        chosen[i] = True
        nearest = np.minimum(nearest, dist[i])
    return picks


@torch.no_grad()
def clip_probs_and_features(model, meta: dict, frames: torch.Tensor, *, device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and pooled features of one clip (model frames ``uint8[N,S,S,3]`` at the model's
    rate), each the mean over the non-overlapping windows that ``simgen evaluate`` scores."""
    from simgen.train.data.batch import to_float_video
    from simgen.train.data.samplers import dense_windows
    from simgen.train.inputs import InputTransform

    input_tf = InputTransform(meta["input"])
    wins = torch.from_numpy(dense_windows(len(frames), meta["num_frames"], meta["stride"]))
    out = model(input_tf(to_float_video(frames[wins].to(device))))
    probs = torch.softmax(out["clip"].float(), 1).mean(0)
    return probs.cpu().numpy(), out["features"].float().mean(0).cpu().numpy()


def why(pick: dict, probs: np.ndarray, classes: list[str], kind: str) -> str:
    """A short reason a person can read: how unsure the model is, between which classes, and how new the clip is."""
    order = np.argsort(-probs)
    a, b = order[0], order[1] if len(order) > 1 else order[0]
    text = f"{kind} {pick['uncertainty']:.2f} ({classes[a]} {probs[a]:.2f} vs {classes[b]} {probs[b]:.2f})"
    if pick["distance"] is None:
        return f"most uncertain: {text}"
    return f"{text}; distance to nearest pick {pick['distance']:.2f}"

"""What the fit loop does differently under ``torchrun``: sharded validation, summed stats, per-rank RNG.

Every function here is a no-op pass-through in a single process, so the loop calls them
unconditionally.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
import torch.distributed as dist

from simgen.train.metrics.clip import clip_metrics

log = logging.getLogger(__name__)


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def sum_across_ranks(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (e.g. loss sums and clip counts of an epoch)."""
    if not _active():
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def sync_buffers_from_rank0(model: torch.nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DDP broadcasts buffers at the start of each forward, so after the last step of an
    epoch each rank holds statistics updated by its own last batch; validating then would
    score slightly different models on each shard. Rank 0's model is the one saved.
    """
    if not _active():
        return
    for buf in model.buffers():
        dist.broadcast(buf.data, src=0)


def validate_sharded(evaluate, model, dataset, *, device: torch.device, **kwargs) -> dict:
    """Every rank evaluates its share of ``dataset``; the confusion counts are summed.

    ``evaluate(model, dataset, device=..., **kwargs)`` is :func:`evaluate_dataset`. Ranks
    take clips ``rank, rank + world, ...``; the summed confusion matrix is expanded back to
    (truth, prediction) pairs, so the metrics are exactly those of one process on the
    whole set. Returns the same dict on every rank.
    """
    if not _active():
        return evaluate(model, dataset, device=device, **kwargs)
    rank, world = dist.get_rank(), dist.get_world_size()
    shard = copy.copy(dataset)  # shares the reader and the frame cache
    shard.indices = dataset.indices[rank::world]
    part = evaluate(model, shard, device=device, **kwargs) if len(shard) else {}
    k = len(dataset.classes)
    counts = torch.tensor(part.get("confusion_counts", np.zeros((k, k), np.int64)), dtype=torch.int64,
                          device=device)
    dist.all_reduce(counts)
    cm = counts.cpu().numpy()
    truth, pred = np.nonzero(cm)
    reps = cm[truth, pred]
    merged = clip_metrics(np.repeat(truth, reps), np.repeat(pred, reps), dataset.classes)
    merged["skipped"] = [dict(path=p, reason=r) for p, r in dataset.skipped]
    return merged


def rng_state(device: torch.device) -> dict:
    """This process's global RNG state: the CPU generator, and the CUDA one of its device."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def gather_rng_states(device: torch.device) -> list[dict]:
    """Every rank's :func:`rng_state`, in rank order (on every rank; rank 0 saves them)."""
    mine = rng_state(device)
    if not _active():
        return [mine]
    states: list = [None] * dist.get_world_size()
    dist.all_gather_object(states, {k: v.cpu() for k, v in mine.items()})
    return states


def restore_rng_state(checkpoint: dict, rank: int, world: int, device: torch.device) -> None:
    """Put back this rank's RNG state from a checkpoint (dropout draws from the global RNGs).

    Checkpoints written by a different number of processes cannot continue each rank's
    stream; the ranks keep their fresh seeds then, with a warning.
    """
    states = checkpoint.get("rng")
    if states is None:  # written before per-rank states: rank 0's CPU state only
        states = [{"cpu": checkpoint["torch_rng"]}]
    if len(states) != world:
        log.warning("checkpoint RNG states are from %d process(es), this run has %d: random streams restart",
                    len(states), world)
        return
    state = states[rank]
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)

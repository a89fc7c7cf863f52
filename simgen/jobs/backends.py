"""Where shard tasks run: in this process, a local process pool, or Ray.

Each backend yields a shard's manifest rows as the shard finishes, and calls
`on_clip(n)` as clips finish (per clip locally, per shard on Ray) for the progress bar.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.managers import SyncManager

from simgen.errors import SimgenError, WorkerLostError, is_disk_full
from simgen.jobs.shard_task import generate_shard


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit when the job's process dies (killed with SIGKILL, it cannot stop its
    workers, which would go on writing shards next to a rerun)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


#: what a dead progress manager raises: in this process (its pipe) or in a worker (re-raised by ``result()``)
_LOST_LINK = (EOFError, ConnectionError)


def _manager_lost(shard: int) -> WorkerLostError:
    return WorkerLostError(f"shard {shard}: a worker process died (the job's progress process; killed or out of memory)")


def _drain(ticks, on_clip: Callable[[int], None]) -> None:
    while True:
        try:
            on_clip(ticks.get_nowait())
        except queue.Empty:
            return


def run_local(
    spec_data: dict, out_dir: str, shards: list[int], actions_dir: str | None, workers: int, on_clip: Callable[[int], None]
) -> Iterator[list[dict]]:
    if workers <= 1:
        for shard in shards:
            yield generate_shard(spec_data, out_dir, shard, actions_dir, on_clip=on_clip)
        return
    # spawn, not fork: each worker opens its own pybullet world from a clean interpreter.
    ctx = multiprocessing.get_context("spawn")
    manager = SyncManager(ctx=ctx)
    manager.start(_exit_with_parent, (os.getpid(),))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(),))
    with manager, pool:
        ticks = manager.Queue()
        shard_of = {pool.submit(generate_shard, spec_data, out_dir, s, actions_dir, ticks): s for s in shards}
        pending = set(shard_of)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                try:
                    _drain(ticks, on_clip)
                except _LOST_LINK:  # the progress manager (also a child process) was killed
                    raise _manager_lost(min(shard_of[f] for f in done | pending)) from None
                for future in sorted(done, key=shard_of.get):  # a broken pool fails every queued shard: name the first
                    try:
                        rows = future.result()
                    except BrokenProcessPool:  # a worker was killed (OOM killer, kill -9): no traceback
                        raise WorkerLostError(f"shard {shard_of[future]}: a worker process died (killed or out of memory)") from None
                    except _LOST_LINK:  # the worker lost the progress manager
                        raise _manager_lost(shard_of[future]) from None
                    yield rows
        except BaseException:
            for future in pending:
                future.cancel()
            raise


LOOPBACK = "127.0.0.1"
_CLUSTER_MODE_VAR = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def local_ray_init_args(workers: int) -> dict:
    """`ray.init` arguments for a Ray instance started here: this machine only, no dashboard."""
    return dict(num_cpus=max(workers, 1), include_dashboard=False, _node_ip_address=LOOPBACK)


@contextlib.contextmanager
def _loopback_only():
    """While starting a local Ray instance, keep its node address at 127.0.0.1.

    On Linux Ray replaces a loopback node address with the machine's routable one
    (`ray._private.services.resolve_ip_for_localhost`), and its GCS, raylet and workers then
    listen on every interface. With Ray's "cluster" mode off (its default on macOS and
    Windows) the address stays 127.0.0.1 and every server listens there only. The switch
    is a module constant read at call time, and an environment variable for the processes
    Ray starts; both are restored afterwards.
    """
    from ray._private import ray_constants

    saved_constant, saved_env = ray_constants.ENABLE_RAY_CLUSTER, os.environ.get(_CLUSTER_MODE_VAR)
    ray_constants.ENABLE_RAY_CLUSTER = False
    os.environ[_CLUSTER_MODE_VAR] = "0"
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_constant
        if saved_env is None:
            os.environ.pop(_CLUSTER_MODE_VAR, None)
        else:
            os.environ[_CLUSTER_MODE_VAR] = saved_env


#: how often Ray re-runs a shard whose worker died; a shard is pure, so a retry makes the same bytes
RAY_RETRIES = 2


def run_ray(
    spec_data: dict,
    out_dir: str,
    shards: list[int],
    actions_dir: str | None,
    workers: int,
    address: str | None,
    on_clip: Callable[[int], None],
) -> Iterator[list[dict]]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        # Ray's own INFO/WARNING lines ("Started a local Ray instance", token notices) would
        # break the progress bar; its errors still show.
        quiet = dict(log_to_driver=False, logging_level=logging.ERROR)
        if address:  # a cluster the user runs: its own network settings apply
            ray.init(address=address, **quiet)
        else:  # nothing listens beyond this machine unless --ray-address says otherwise
            with _loopback_only():
                ray.init(**local_ray_init_args(workers), **quiet)
    try:
        task = ray.remote(num_cpus=1, max_retries=RAY_RETRIES)(generate_shard)
        submitted = [(task.remote(spec_data, out_dir, s, actions_dir), s) for s in shards]
        pending = [ref for ref, _ in submitted]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    rows = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # one clear line, as with the local pool
                    if isinstance(exc.cause, SimgenError) or is_disk_full(exc.cause):
                        raise exc.cause from None
                    raise
                except ray.exceptions.RayError as exc:  # the worker died on every try (killed, out of memory, node lost)
                    tries = "its only try" if RAY_RETRIES == 0 else f"all {RAY_RETRIES + 1} tries"
                    raise WorkerLostError(
                        f"shard {next(s for r, s in submitted if r == ref)}: its Ray worker died on {tries} "
                        f"({type(exc).__name__})"
                    ) from None
                on_clip(len(rows))
                yield rows
    finally:
        if started_here:
            ray.shutdown()

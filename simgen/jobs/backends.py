"""Where shard tasks run: in this process, a local process pool, or Ray. Each yields rows as shards finish."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from simgen.jobs.shard_task import generate_shard


def run_local(spec_data: dict, out_dir: str, shards: list[int], actions_dir: str | None, workers: int) -> Iterator[list[dict]]:
    if workers <= 1:
        for shard in shards:
            yield generate_shard(spec_data, out_dir, shard, actions_dir)
        return
    # spawn, not fork: each worker opens its own pybullet world from a clean interpreter.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending = {pool.submit(generate_shard, spec_data, out_dir, s, actions_dir) for s in shards}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def run_ray(
    spec_data: dict, out_dir: str, shards: list[int], actions_dir: str | None, workers: int, address: str | None
) -> Iterator[list[dict]]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, max_retries=2)(generate_shard)
        pending = [task.remote(spec_data, out_dir, s, actions_dir) for s in shards]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()

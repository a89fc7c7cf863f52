"""Fault injection on generation jobs: a `simgen generate` SIGKILLed at 10 random moments and resumed
each time ends byte-identical to an uninterrupted run; a Ray worker killed in the middle of a task
has its task retried, with no clip missing or duplicated; a worker that dies for good (a local pool
worker killed, a Ray task whose every try dies) is one line naming the shard and what was kept.
Each test prints its counts (``-s``)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.faults

CLI = [sys.executable, "-m", "simgen.pipelines.cli"]
JOB = ["--preset", "demo", "--clips", "60", "--frames", "6", "--size", "48", "--set", "output.shard_size=2",
       "--seed", "7", "--quiet"]
KILLS = 10


def _digest(root: Path) -> dict[str, str]:
    files = sorted((root / "shards").glob("*.tar")) + [root / "manifest.jsonl"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def _keys(root: Path) -> list[str]:
    return [json.loads(line)["key"] for line in (root / "manifest.jsonl").read_text().splitlines()]


def _shards(root: Path) -> int:
    return len(list((root / "shards").glob("*.tar"))) if (root / "shards").exists() else 0


def test_ten_random_sigkills_then_resume_give_the_uninterrupted_dataset(tmp_path):
    clean = tmp_path / "clean"
    t0 = time.time()
    subprocess.run(CLI + ["generate", *JOB, "--out", str(clean), "--workers", "1"], check=True)
    whole = time.time() - t0
    t0 = time.time()
    subprocess.run(CLI + ["generate", *JOB, "--out", str(clean), "--workers", "1"], check=True)  # finds it complete
    startup = time.time() - t0
    per_shard = max(whole - startup, 0.1) / _shards(clean)
    killed = tmp_path / "killed"
    rng = np.random.default_rng(2026)
    counts = dict(killed=0, finished_before_the_kill=0, shards_after_each_kill=[])
    for _ in range(KILLS):
        # a random moment: during start-up (imports, spec check, pool start), or once 1-3 more shards
        # are written, plus a random part of a shard's time
        before, more = _shards(killed), int(rng.integers(0, 4))
        proc = subprocess.Popen(CLI + ["generate", *JOB, "--out", str(killed), "--workers", "2"],
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if more == 0:
            time.sleep(rng.uniform(0.0, startup))
        else:
            deadline = time.time() + 60
            while _shards(killed) < before + more and proc.poll() is None and time.time() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, per_shard))
        if proc.poll() is not None:
            counts["finished_before_the_kill"] += 1
        else:
            os.killpg(proc.pid, signal.SIGKILL)  # the job and its pool workers, as an OOM killer or `kill -9` would
            proc.wait()
            counts["killed"] += 1
        if (killed / "manifest.jsonl").exists():
            keys = _keys(killed)
            assert len(keys) == len(set(keys)), "a clip is listed twice after a kill"
        counts["shards_after_each_kill"].append(_shards(killed))
    temp_left = [p.name for p in killed.rglob("*") if ".tmp" in p.name] if killed.exists() else []
    subprocess.run(CLI + ["generate", *JOB, "--out", str(killed), "--workers", "1"], check=True)
    print(f"\ngenerate under SIGKILL: {counts}; temp files left by the kills {len(temp_left)}; a whole run "
          f"{whole:.1f} s, start-up {startup:.1f} s, {per_shard:.2f} s a shard")
    assert counts["killed"] >= KILLS - 2, counts  # the moments fall inside a run
    progress = counts["shards_after_each_kill"]
    assert 0 < progress[-1] < _shards(clean) and len(set(progress)) >= 4, progress  # killed all along the job
    assert _digest(killed) == _digest(clean)
    assert sorted(_keys(killed)) == sorted(_keys(clean))
    assert not [p for p in killed.rglob("*") if ".tmp" in p.name]
    assert json.loads((killed / "dataset.json").read_text())["complete"] is True
    check = subprocess.run(CLI + ["validate", str(killed), "--quiet"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _shard_task_pids() -> list[int]:
    """Processes whose title says they are running a Ray task of ``generate_shard`` right now."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if title.startswith(b"ray::generate_shard"):
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray workers through /proc (Linux)")
def test_a_killed_ray_worker_has_its_task_retried(tmp_path):
    pytest.importorskip("ray")
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    overrides = {"clips": 12, "frames": 6, "size": [48, 48], "output.shard_size": 2, "seed": 3}
    local = tmp_path / "local"
    generate_dataset(load_spec(preset="demo", overrides=overrides), local, workers=1, progress=False)
    victims: list[int] = []

    def kill_one_running_task() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not victims:
            for pid in _shard_task_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                    victims.append(pid)
                    break
                except ProcessLookupError:
                    continue
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_running_task, daemon=True)
    killer.start()
    out = tmp_path / "ray"
    summary = generate_dataset(load_spec(preset="demo", overrides=overrides), out, workers=2, backend="ray", progress=False)
    killer.join(timeout=1)
    print(f"\nray: killed worker pids {victims}; summary {summary}")
    assert victims, "no Ray worker was caught running a shard; the job is too short for the test"
    keys = _keys(out)
    assert len(keys) == len(set(keys)) == 12
    assert _digest(out) == _digest(local)


def _busiest_child() -> int | None:
    """This process's child with the most CPU time: usually a pool worker making shards, sometimes the
    pool's progress manager (also a child, serving every clip's tick; it was once in CI). Either death is
    the same one line (``test_a_killed_progress_manager_is_one_line_too``)."""
    me, busiest, most = os.getpid(), None, -1
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, cpu_ticks = int(fields[1]), int(fields[11]) + int(fields[12])  # utime + stime
        if ppid == me and cpu_ticks > most:
            busiest, most = int(entry.name), cpu_ticks
    return busiest


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds pool workers through /proc (Linux)")
# Python 3.11's pool, once broken, may set an exception on a future the runner has already cancelled, in the
# pool's own thread (InvalidStateError: CANCELLED): noise from the standard library after the error under test
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_killed_pool_worker_is_one_line_naming_the_shard_and_keeps_finished_shards(tmp_path):
    from simgen.errors import WorkerLostError
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    overrides = {"clips": 40, "frames": 6, "size": [48, 48], "output.shard_size": 2, "seed": 5}
    out = tmp_path / "job"
    victims: list[int] = []

    def kill_a_worker_after_some_shards() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not victims:
            pid = _busiest_child() if _shards(out) >= 2 else None
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                victims.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_after_some_shards, daemon=True)
    killer.start()
    with pytest.raises(WorkerLostError) as caught:
        generate_dataset(load_spec(preset="demo", overrides=overrides), out, workers=2, progress=False)
    killer.join(timeout=1)
    message = str(caught.value)
    print(f"\nlocal pool: killed {victims}; error: {message}")
    assert victims and caught.value.exit_status == 1
    assert message.startswith("shard ") and "a worker process died" in message and "re-run the same command" in message
    assert "\n" not in message
    kept = _keys(out)
    assert len(kept) >= 4 and len(kept) == len(set(kept))  # the finished shards' rows survive


@pytest.mark.parametrize("where", ["here", "in a worker"])
def test_a_killed_progress_manager_is_one_line_too(tmp_path, monkeypatch, where):
    """The pool's progress manager is a child process as well (the kill above once hit it in CI): its broken pipe,
    seen here or re-raised from a worker, is the same one line, and finished shards are kept."""
    from simgen.errors import WorkerLostError
    from simgen.jobs import backends
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    if where == "here":
        real_drain = backends._drain

        def drain(ticks, on_clip):
            if _shards(tmp_path / "job") >= 2:
                raise BrokenPipeError(32, "Broken pipe")
            real_drain(ticks, on_clip)
        monkeypatch.setattr(backends, "_drain", drain)
    else:  # the task runs in a worker, so it is a picklable object, not a closure
        monkeypatch.setattr(backends, "generate_shard", _FailLate(backends.generate_shard))
    overrides = {"clips": 12, "frames": 4, "size": [32, 32], "output.shard_size": 2, "seed": 5}
    with pytest.raises(WorkerLostError) as caught:
        generate_dataset(load_spec(preset="demo", overrides=overrides), tmp_path / "job", workers=2, progress=False)
    message = str(caught.value)
    assert message.startswith("shard ") and "the job's progress process" in message and "\n" not in message
    assert caught.value.exit_status == 1 and len(_keys(tmp_path / "job")) >= 2
    assert len(_keys(tmp_path / "job")) == 2 * _shards(tmp_path / "job")  # every shard on disk is listed


@pytest.mark.parametrize("stop", ["worker lost", "ctrl-c"])
def test_shards_written_before_a_stop_are_in_the_manifest_and_the_message(tmp_path, monkeypatch, stop):
    """CI once killed the progress manager just after a second shard was renamed into place but before its
    result reached the job: the folder held two shards and the manifest and message counted one."""
    from simgen.errors import WorkerLostError
    from simgen.jobs import runner
    from simgen.jobs.shard_task import generate_shard
    from simgen.spec import load_spec

    error = WorkerLostError("shard 2: a worker process died (killed or out of memory)") if stop == "worker lost" \
        else KeyboardInterrupt()

    def two_written_one_reported(spec_data, out_dir, shards, actions_dir, workers, on_clip):
        written = [generate_shard(spec_data, out_dir, s, actions_dir) for s in shards[:2]]
        yield written[0]  # the second shard is on disk; its result is lost with the worker
        raise error

    monkeypatch.setattr(runner, "run_local", two_written_one_reported)
    overrides = {"clips": 12, "frames": 4, "size": [32, 32], "output.shard_size": 2, "seed": 5}
    with pytest.raises(type(error)) as caught:
        runner.generate_dataset(load_spec(preset="demo", overrides=overrides), tmp_path / "job", workers=2,
                                progress=False)
    message = str(caught.value)
    assert _shards(tmp_path / "job") == 2 and sorted(_keys(tmp_path / "job")) == [f"clip{i:08d}" for i in range(4)]
    assert "keeps 4 of 12 clips in 2 finished shards (4 made now)" in message, message


class _FailLate:
    """A picklable shard task that raises what a worker sees when the progress manager is gone, from shard 2 on."""

    def __init__(self, task):
        self.task = task

    def __call__(self, spec_data, out_dir, index, actions_dir, ticks=None):
        if index >= 2:
            raise EOFError("the progress manager is gone")
        return self.task(spec_data, out_dir, index, actions_dir, ticks)


def test_a_ray_worker_that_dies_on_every_try_is_one_line_naming_the_shard(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    from simgen.errors import WorkerLostError
    from simgen.jobs import backends
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    def die(*_args, **_kwargs):  # pickled by value into the Ray worker
        os._exit(1)

    monkeypatch.setattr(backends, "generate_shard", die)
    monkeypatch.setattr(backends, "RAY_RETRIES", 0)
    overrides = {"clips": 2, "frames": 4, "size": [32, 32], "output.shard_size": 2, "seed": 1}
    with pytest.raises(WorkerLostError) as caught:
        generate_dataset(load_spec(preset="demo", overrides=overrides), tmp_path / "ray", workers=1, backend="ray",
                         progress=False)
    message = str(caught.value)
    print(f"\nray: {message}")
    assert message.startswith("shard 0: its Ray worker died on its only try (")
    assert "nothing was kept" in message and "\n" not in message

"""A generate run leaves nothing in the shared temporary folder, and a Ray instance it starts
listens on this machine only."""

import os
import socket
import struct
import sys
import tempfile
import types
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults


def test_generate_leaves_nothing_in_the_temp_folder(tiny_spec, tmp_path, monkeypatch):
    from simgen.jobs.runner import generate_dataset

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches its answer
    assert tempfile.gettempdir() == str(temp)
    generate_dataset(tiny_spec, tmp_path / "ds", workers=1, progress=False)
    assert sorted(p.name for p in (tmp_path / "ds" / "shards").iterdir()) == ["shard-000000.tar", "shard-000001.tar"]
    assert list(temp.iterdir()) == []


class FakeRay(types.ModuleType):
    """Records ray.init's arguments; runs tasks in this process."""

    def __init__(self):
        super().__init__("ray")
        self.inits = []
        self.exceptions = types.SimpleNamespace(RayTaskError=type("RayTaskError", (Exception,), {}))

    def is_initialized(self):
        return False

    def init(self, **kwargs):
        from ray._private import ray_constants, services

        node = kwargs.get("_node_ip_address")
        # what ray.init does to the node address (ray._private.worker.init)
        resolved = services.resolve_ip_for_localhost(node) if node else None
        self.inits.append(dict(kwargs, resolved=resolved, env=os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"),
                               cluster_mode=ray_constants.ENABLE_RAY_CLUSTER))

    def remote(self, **_):
        return lambda fn: types.SimpleNamespace(remote=lambda *a: fn(*a))

    def wait(self, pending, num_returns):
        return pending[:num_returns], pending[num_returns:]

    def get(self, ref):
        return ref

    def shutdown(self):
        pass


@pytest.mark.parametrize("address", [None, "10.1.2.3:6379"])
def test_ray_init_arguments(monkeypatch, address):
    pytest.importorskip("ray")
    from ray._private import ray_constants

    from simgen.jobs import backends

    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setattr(backends, "generate_shard", lambda *a: [{"shard": "s"}])
    cluster_mode = ray_constants.ENABLE_RAY_CLUSTER
    assert list(backends.run_ray({}, "out", [0], None, 2, address, lambda n: None)) == [[{"shard": "s"}]]
    (init,) = fake.inits
    if address is None:
        assert init["_node_ip_address"] == "127.0.0.1" and init["resolved"] == "127.0.0.1"
        assert init["include_dashboard"] is False and init["num_cpus"] == 2
        assert init["env"] == "0" and init["cluster_mode"] is False
    else:  # the user's cluster: its own network settings
        assert init["address"] == address and "_node_ip_address" not in init
    assert ray_constants.ENABLE_RAY_CLUSTER == cluster_mode  # put back after init
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ


def _listening_sockets() -> dict[int, str]:
    """socket inode -> local address, for every TCP socket listening on this machine."""
    found = {}
    for table, family in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            ip = fields[1].split(":")[0]
            if family == 4:
                addr = socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(ip, 16)))
            else:
                words = struct.pack("<4I", *(int(ip[i:i + 8], 16) for i in range(0, 32, 8)))
                addr = socket.inet_ntop(socket.AF_INET6, words)
            found[int(fields[9])] = addr
    return found


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass  # a process that ended meanwhile
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def _socket_inodes(pids) -> set[int]:
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
        except OSError:
            pass
    return inodes


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_a_local_ray_instance_listens_on_loopback_only():
    """Starts Ray for real (about 3 s here) and lists what its processes listen on."""
    ray = pytest.importorskip("ray")
    from simgen.jobs.backends import _loopback_only, local_ray_init_args

    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    with _loopback_only():
        ray.init(**local_ray_init_args(1), log_to_driver=False, logging_level="ERROR")
    try:
        ray.get(ray.remote(lambda: 1).remote())  # a worker process is up too
        listening = _listening_sockets()
        ours = [listening[i] for i in _socket_inodes(_descendants(os.getpid())) if i in listening]
    finally:
        ray.shutdown()
    assert len(ours) >= 3, f"found {len(ours)} Ray server sockets (GCS, raylet, worker...): the check is broken"
    assert set(ours) <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, ours

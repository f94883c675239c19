"""The v2 backend against a fake cgroup2 tree: files, conversions, zero
values, controller enabling, freezer, stats."""
import os
import signal

import pytest

from pyoci.runtime.errors import InvalidSpec, PyociError, SyscallError
from pyoci.runtime.linux import cgroups
from pyoci.runtime.linux.cgroups import resources

from . import fake


@pytest.fixture
def tree(tmp_path):
    host, fs = fake.v2_tree(tmp_path)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    mgr.create()
    fs.writes.clear()
    return mgr, fs, tmp_path / "docker/ID"


def test_create_enables_all_controllers_on_the_way(tmp_path):
    host, fs = fake.v2_tree(tmp_path)
    mgr = cgroups.open_manager("/a/b/ID", "ID", layout=host, fs=fs)
    mgr.create()
    everything = "cpuset cpu io memory hugetlb pids rdma\n"
    for d in ("", "a", "a/b"):
        assert fs.content(tmp_path / d, "cgroup.subtree_control") == everything
    assert fs.content(tmp_path / "a/b/ID", "cgroup.subtree_control") == "\n"
    assert fs.content(tmp_path / "a/b/ID", "cgroup.controllers") == everything
    assert mgr.created == [str(tmp_path / p) for p in ("a", "a/b", "a/b/ID")]


@pytest.mark.parametrize("shares, weight", [
    # runc's table (utils_test.go), plus points of the same formula
    (0, 0), (1, 1), (2, 1), (3, 2), (1024, 100), (262143, 10000),
    (262144, 10000), (262145, 10000), (512, 59), (2048, 174)])
def test_shares_to_weight_like_runc(shares, weight):
    assert resources.shares_to_weight(shares) == weight


@pytest.mark.parametrize("blkio, io", [(0, 0), (10, 1), (500, 4950),
                                       (1000, 10000), (100, 910)])
def test_blkio_weight_to_io_weight_like_runc(blkio, io):
    assert resources.blkio_weight_to_io_weight(blkio) == io


def test_cpu(tree):
    mgr, fs, d = tree
    mgr.apply({"cpu": {"shares": 1024, "quota": 50000, "period": 200000,
                       "burst": 10000, "idle": 0, "cpus": "0-1", "mems": "0",
                       "realtimeRuntime": 1000, "realtimePeriod": 100000}})
    assert fs.content(d, "cpu.weight") == "100"
    assert fs.content(d, "cpu.max") == "50000 200000"
    assert fs.content(d, "cpu.max.burst") == "10000"
    assert fs.content(d, "cpu.idle") == "0"
    assert fs.content(d, "cpuset.cpus") == "0-1"
    assert fs.content(d, "cpuset.mems") == "0"
    assert not any("rt_" in n for _, n, _ in fs.written())  # no v2 files


def test_cpu_max_defaults(tree):
    mgr, fs, d = tree
    mgr.update({"cpu": {"quota": 25000}})
    assert fs.content(d, "cpu.max") == "25000 100000"
    mgr.update({"cpu": {"period": 50000}})
    assert fs.content(d, "cpu.max") == "max 50000"
    mgr.update({"cpu": {"quota": -1, "period": 100000}})
    assert fs.content(d, "cpu.max") == "max 100000"


def test_memory(tree):
    mgr, fs, d = tree
    mgr.apply({"memory": {"limit": 33554432, "swap": 67108864,
                          "reservation": 16777216, "swappiness": 30,
                          "disableOOMKiller": True}})
    assert fs.content(d, "memory.max") == "33554432"
    assert fs.content(d, "memory.swap.max") == "33554432"     # swap only
    assert fs.content(d, "memory.low") == "16777216"


@pytest.mark.parametrize("limit, swap, expected", [
    (-1, 0, "max"), (33554432, 33554432, "0"), (33554432, -1, "max"),
    (-1, 100, "100")])
def test_swap_conversion(tree, limit, swap, expected):
    mgr, fs, d = tree
    mgr.update({"memory": {"limit": limit, "swap": swap}})
    assert fs.content(d, "memory.swap.max") == expected


def test_swap_errors():
    with pytest.raises(InvalidSpec, match="without memory limit"):
        resources.swap_to_v2(100, 0)
    with pytest.raises(InvalidSpec, match=">= memory"):
        resources.swap_to_v2(100, 200)


def test_check_before_update(tree):
    mgr, fs, d = tree      # memory.current is 8192
    with pytest.raises(PyociError, match="rejecting memory limit 8000 <= usage"):
        mgr.update({"memory": {"limit": 8000, "checkBeforeUpdate": True}})
    with pytest.raises(PyociError, match="memory\\+swap limit 8192"):
        mgr.update({"memory": {"limit": 1 << 20, "swap": 8192,
                               "checkBeforeUpdate": True}})
    mgr.update({"memory": {"limit": 1 << 20, "checkBeforeUpdate": True}})
    assert fs.content(d, "memory.max") == str(1 << 20)


def test_pids_and_zero_values(tree):
    mgr, fs, d = tree
    mgr.update({"pids": {"limit": 0}, "cpu": {"shares": 0, "quota": 0},
                "memory": {"limit": 0}, "blockIO": {"weight": 0}})
    assert fs.writes == []
    mgr.update({"pids": {"limit": 100}})
    assert fs.content(d, "pids.max") == "100"


def test_io_without_bfq(tree):
    mgr, fs, d = tree
    mgr.update({"blockIO": {
        "weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 50}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2000}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 40}]}})
    assert fs.content(d, "io.weight") == "4950"        # converted
    assert fs.content(d, "io.max") == ("8:0 rbps=1000\n8:0 wbps=2000\n"
                                       "8:0 riops=30\n8:0 wiops=40\n")


def test_io_with_bfq(tmp_path):
    host, fs = fake.v2_tree(tmp_path, bfq=True)
    mgr = cgroups.open_manager("/ID", "ID", layout=host, fs=fs)
    mgr.create()
    fs.writes.clear()
    mgr.update({"blockIO": {"weight": 500, "weightDevice": [
        {"major": 8, "minor": 0, "weight": 50}]}})
    assert [(n, v) for _, n, v in fs.written()] == [
        ("io.bfq.weight", "500"), ("io.bfq.weight", "8:0 50\n")]


def test_hugetlb_rdma_unified(tree):
    mgr, fs, d = tree
    mgr.update({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
                "rdma": {"mlx4_0": {"hcaHandles": 2, "hcaObjects": 2000}},
                "unified": {"memory.high": "50000000", "pids.max": "7",
                            "io.max": "8:16 rbps=1\n8:32 wbps=2"}})
    assert fs.content(d, "hugetlb.2MB.max") == "4194304"
    assert fs.content(d, "hugetlb.2MB.rsvd.max") == "4194304"
    assert fs.content(d, "rdma.max") == "mlx4_0 hca_handle=2 hca_object=2000\n"
    assert fs.content(d, "pids.max") == "7"
    assert fs.content(d, "io.max") == "8:16 rbps=1\n8:32 wbps=2\n"
    assert fs.content(d, "memory.high") == "50000000"

def test_unified_errors(tree):
    mgr, fs, d = tree
    for key in ("../x", "a/b", "", ".."):
        with pytest.raises(InvalidSpec, match="no slashes"):
            mgr.update({"unified": {key: "1"}})
    with pytest.raises(SyscallError, match="controller 'misc' not available"):
        mgr.update({"unified": {"misc.max": "1"}})
    with pytest.raises(InvalidSpec, match="CONTROLLER.PARAMETER"):
        mgr.update({"unified": {"nodot": "1"}})


def test_missing_controller_is_named(tmp_path):
    host, fs = fake.v2_tree(tmp_path, controllers=("hugetlb",))
    mgr = cgroups.open_manager("/ID", "ID", layout=host, fs=fs)
    mgr.create()
    with pytest.raises(SyscallError, match="memory controller is not available"
                       ".*cgroup.controllers: hugetlb"):
        mgr.update({"memory": {"limit": 1 << 20}})


def test_network_is_ignored_on_v2(tree):
    mgr, fs, _ = tree
    mgr.update({"network": {"classID": 5, "priorities": [
        {"name": "eth0", "priority": 1}]}})
    assert fs.writes == []


def test_devices_become_an_ebpf_program(tree):
    mgr, fs, d = tree
    mgr.apply({"devices": [{"allow": False, "access": "rwm"}]})
    assert set(fs.attached) == {str(d)}
    program = fs.attached[str(d)]
    assert len(program) % 8 == 0 and len(program) // 8 == 64   # runc's 64
    fs.attached.clear()
    mgr.update({"pids": {"limit": 3}})           # no "devices": untouched
    assert fs.attached == {}


def test_freezer_waits_for_frozen(tree):
    mgr, fs, d = tree
    assert not mgr.is_frozen()
    mgr.freeze()
    assert mgr.is_frozen()
    assert fs.content(d, "cgroup.freeze") == "1\n"
    mgr.thaw()
    assert not mgr.is_frozen()


def test_freezer_timeout(tree, monkeypatch):
    mgr, fs, d = tree
    from pyoci.runtime.linux.cgroups import v2
    real = v2._wait_frozen
    monkeypatch.setattr(v2, "_wait_frozen",
                        lambda fs, path: real(fs, path, timeout=0.05))
    monkeypatch.setattr(fs, "_effect", lambda *a: None)   # never freezes
    with pytest.raises(PyociError, match="timeout"):
        mgr.freeze()


def test_kill_all_uses_cgroup_kill_for_sigkill_only(tree, monkeypatch):
    mgr, fs, d = tree
    mgr.add_process(99)
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    mgr.kill_all(signal.SIGKILL)
    assert fs.written("cgroup.kill") == [("ID", "cgroup.kill", "1")] and not sent
    mgr.kill_all(signal.SIGHUP)
    assert sent == [(99, signal.SIGHUP)]
    assert [v for _, n, v in fs.written() if n == "cgroup.freeze"] == ["1", "0"]


def test_oom_and_stats(tree):
    mgr, fs, d = tree
    assert not mgr.oom_killed()
    fs._put(d, {"memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
                "memory.pressure": "some avg10=1.50 avg60=0.00 avg300=0.00 "
                                   "total=12\nfull avg10=0.00 avg60=0.00 "
                                   "avg300=0.00 total=0\n"})
    assert mgr.oom_killed() and mgr.oom_kill_count() == 1
    data = mgr.stats()
    assert data["cpu"]["usage"] == {"total": 1500000, "kernel": 500000,
                                    "user": 1000000}
    assert data["cpu"]["throttling"] == {"periods": 3, "throttledPeriods": 1,
                                         "throttledTime": 20000}
    assert data["memory"]["usage"] == {"limit": (1 << 64) - 1, "usage": 8192,
                                       "max": 16384, "failcnt": 0}
    assert data["memory"]["swap"] == {"limit": (1 << 64) - 1, "usage": 8192,
                                      "failcnt": 0}
    assert data["memory"]["cache"] == 4096
    assert data["memory"]["psi"] == {"some": {"avg10": 1.5, "avg60": 0.0,
                                              "avg300": 0.0, "total": 12}}
    assert data["pids"] == {"current": 1}
    assert data["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 254, "op": "Read", "value": 4096}, {"major": 254, "op": "Write"}]
    assert data["cpuset"]["cpus"] == [0, 1, 2, 3]


def test_destroy(tree, tmp_path):
    mgr, fs, d = tree
    fs.mkdir(str(d / "nested"))
    again = cgroups.load_manager(mgr.to_record(), fs=fs)
    again.freeze()
    again.destroy()
    assert not (tmp_path / "docker").exists()
    again.destroy()

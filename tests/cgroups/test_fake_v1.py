"""The v1 backend (and hybrid) against a fake v1 tree: files written,
order, conversions, zero values."""
import os
import signal

import pytest

from pyoci.runtime.errors import InvalidSpec, PyociError, SyscallError
from pyoci.runtime.linux import cgroups
from pyoci.runtime.linux.cgroups import devices

from . import fake


@pytest.fixture
def tree(tmp_path):
    host, fs = fake.v1_tree(tmp_path)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    mgr.create()
    fs.writes.clear()
    return mgr, fs, tmp_path


def test_create_makes_every_hierarchy_and_copies_cpuset(tmp_path):
    host, fs = fake.v1_tree(tmp_path)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    mgr.create()
    for d in ("cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
              "pids", "hugetlb", "systemd"):
        assert os.path.isdir(tmp_path / d / "docker/ID")
    # a new cpuset cgroup gets its parent's cpus and mems, at every level
    for level in ("docker", "docker/ID"):
        assert fs.content(tmp_path / "cpuset" / level, "cpuset.cpus") == "0-3"
        assert fs.content(tmp_path / "cpuset" / level, "cpuset.mems") == "0"
    assert len(mgr.created) == 18
    assert not os.path.exists(tmp_path / "unified")
    assert mgr.mode == "v1"


def test_zero_values_write_nothing(tree):
    mgr, fs, _ = tree
    mgr.update({"memory": {"limit": 0, "reservation": 0, "swap": 0},
                "cpu": {"shares": 0, "quota": 0, "period": 0,
                        "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "",
                        "mems": ""},
                "pids": {"limit": 0},
                "blockIO": {"weight": 0, "leafWeight": 0,
                            "weightDevice": [{"major": 8, "minor": 0,
                                              "weight": 0, "leafWeight": 0}]},
                "network": {"classID": 0}})
    assert fs.writes == []


def test_memory(tree):
    mgr, fs, tmp = tree
    mgr.apply({"memory": {"limit": 33554432, "reservation": 16777216,
                          "swap": 67108864, "swappiness": 10,
                          "disableOOMKiller": True, "kernel": 1 << 20,
                          "kernelTCP": 1 << 20}})
    d = tmp / "memory/docker/ID"
    assert fs.content(d, "memory.limit_in_bytes") == "33554432"
    assert fs.content(d, "memory.memsw.limit_in_bytes") == "67108864"
    assert fs.content(d, "memory.soft_limit_in_bytes") == "16777216"
    assert fs.content(d, "memory.swappiness") == "10"
    assert fs.content(d, "memory.oom_control") == "1"
    # below the current (unlimited) limit: memory first, so memory <= memsw
    names = [n for _, n, _ in fs.written() if n.startswith("memory.")]
    assert names[:2] == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
    assert not any("kmem" in n for n in names)        # ignored, as runc
    assert mgr.warnings == ["kernel memory settings are ignored"]


def test_memory_raising_writes_swap_first(tree):
    mgr, fs, tmp = tree
    d = tmp / "memory/docker/ID"
    fs._put(d, {"memory.limit_in_bytes": "33554432\n"})
    mgr.update({"memory": {"limit": 67108864, "swap": 134217728}})
    names = [n for _, n, _ in fs.written()]
    assert names == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]


def test_unlimited_memory_also_unlimits_swap(tree):
    mgr, fs, tmp = tree
    mgr.update({"memory": {"limit": -1}})
    assert fs.content(tmp / "memory/docker/ID", "memory.memsw.limit_in_bytes") \
        == "-1"


def test_swappiness_minus_one_is_unset_and_over_100_refused(tree):
    mgr, fs, _ = tree
    mgr.update({"memory": {"swappiness": -1}})
    mgr.update({"memory": {"swappiness": 18446744073709551615}})
    assert fs.writes == []
    with pytest.raises(InvalidSpec, match="0-100"):
        mgr.update({"memory": {"swappiness": 101}})


def test_check_before_update(tree):
    mgr, fs, tmp = tree
    fs._put(tmp / "memory/docker/ID", {"memory.usage_in_bytes": "50000000\n"})
    with pytest.raises(PyociError, match="rejecting memory limit 40000000"):
        mgr.update({"memory": {"limit": 40000000, "checkBeforeUpdate": True}})
    assert fs.writes == []
    mgr.update({"memory": {"limit": 40000000}})      # without the check: ok
    assert fs.content(tmp / "memory/docker/ID", "memory.limit_in_bytes") == \
        "40000000"


def test_cpu(tree):
    mgr, fs, tmp = tree
    mgr.apply({"cpu": {"shares": 512, "quota": 20000, "period": 50000,
                       "burst": 1000, "idle": 1, "realtimeRuntime": 950,
                       "realtimePeriod": 1000, "cpus": "1-2", "mems": "0"}})
    d = tmp / "cpu,cpuacct/docker/ID"
    assert fs.content(d, "cpu.shares") == "512\n"
    assert fs.content(d, "cpu.cfs_quota_us") == "20000"
    assert fs.content(d, "cpu.cfs_period_us") == "50000"
    assert fs.content(d, "cpu.cfs_burst_us") == "1000"
    assert fs.content(d, "cpu.idle") == "1"
    assert fs.content(d, "cpu.rt_period_us") == "1000"
    assert fs.content(d, "cpu.rt_runtime_us") == "950"
    assert fs.content(tmp / "cpuset/docker/ID", "cpuset.cpus") == "1-2"
    assert fs.content(tmp / "cpuset/docker/ID", "cpuset.mems") == "0"
    # cpuset before devices before memory before cpu: runc's order
    order = [n.split(".")[0] for _, n, _ in fs.written()]
    assert order.index("cpuset") < order.index("devices") < order.index("cpu")


def test_cpu_shares_read_back(tree):
    mgr, fs, _ = tree
    with pytest.raises(PyociError, match="maximum allowed cpu-shares is 262144"):
        mgr.update({"cpu": {"shares": 300000}})
    with pytest.raises(PyociError, match="minimum allowed cpu-shares is 2"):
        mgr.update({"cpu": {"shares": 1}})


def test_missing_rt_files_are_a_clear_error(tree):
    mgr, fs, tmp = tree
    os.unlink(tmp / "cpu,cpuacct/docker/ID/cpu.rt_runtime_us")
    with pytest.raises(SyscallError, match="cpu.rt_runtime_us") as e:
        mgr.update({"cpu": {"realtimeRuntime": 1000}})
    assert e.value.errno == 2


def test_pids(tree):
    mgr, fs, tmp = tree
    d = tmp / "pids/docker/ID"
    mgr.update({"pids": {"limit": 10}})
    assert fs.content(d, "pids.max") == "10"
    mgr.update({"pids": {"limit": -1}})
    assert fs.content(d, "pids.max") == "max"


def test_blkio(tree):
    mgr, fs, tmp = tree
    mgr.update({"blockIO": {
        "weight": 300,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 500}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2097152}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 200}]}})
    d = tmp / "blkio/docker/ID"
    # no blkio.weight (no CFQ): the BFQ files, as runc picks them
    assert fs.content(d, "blkio.bfq.weight") == "300"
    assert fs.content(d, "blkio.bfq.weight_device") == "8:0 500\n"
    assert fs.content(d, "blkio.throttle.read_bps_device") == "8:0 1048576\n"
    assert fs.content(d, "blkio.throttle.write_bps_device") == "8:0 2097152\n"
    assert fs.content(d, "blkio.throttle.read_iops_device") == "8:16 100\n"
    assert fs.content(d, "blkio.throttle.write_iops_device") == "8:16 200\n"
    with pytest.raises(SyscallError, match="blkio.leaf_weight"):
        mgr.update({"blockIO": {"leafWeight": 100}})


def test_blkio_cfq_files_when_present(tree):
    mgr, fs, tmp = tree
    d = tmp / "blkio/docker/ID"
    fs._put(d, {"blkio.weight": "500\n", "blkio.weight_device": "",
                "blkio.leaf_weight": "500\n", "blkio.leaf_weight_device": ""})
    mgr.update({"blockIO": {"weight": 300, "leafWeight": 200, "weightDevice": [
        {"major": 8, "minor": 0, "weight": 100, "leafWeight": 50}]}})
    assert fs.content(d, "blkio.weight") == "300"
    assert fs.content(d, "blkio.leaf_weight") == "200"
    assert fs.content(d, "blkio.weight_device") == "8:0 100"
    assert fs.content(d, "blkio.leaf_weight_device") == "8:0 50"


def test_hugetlb_with_and_without_rsvd(tree):
    mgr, fs, tmp = tree
    d = tmp / "hugetlb/docker/ID"
    mgr.update({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})
    assert fs.content(d, "hugetlb.2MB.limit_in_bytes") == "4194304"
    fs._put(d, {"hugetlb.2MB.rsvd.limit_in_bytes": "0\n"})
    mgr.update({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]})
    assert fs.content(d, "hugetlb.2MB.rsvd.limit_in_bytes") == "2097152"


@pytest.mark.parametrize("size", ["../../x", "2MB/x", "2 MB", "", None])
def test_bad_page_sizes_are_refused(tree, size):
    mgr, fs, _ = tree
    with pytest.raises(InvalidSpec, match="pageSize"):
        mgr.update({"hugepageLimits": [{"pageSize": size, "limit": 1}]})


def test_network_and_rdma_need_their_controllers(tree):
    mgr, fs, _ = tree
    with pytest.raises(PyociError, match="net_cls cgroup controller is not mounted"):
        mgr.update({"network": {"classID": 0x100001}})
    with pytest.raises(PyociError, match="net_prio"):
        mgr.update({"network": {"priorities": [{"name": "eth0", "priority": 5}]}})
    with pytest.raises(PyociError, match="rdma"):
        mgr.update({"rdma": {"mlx5_1": {"hcaHandles": 3}}})
    assert fs.writes == []


def test_network_and_rdma_where_mounted(tmp_path):
    host, fs = fake.v1_tree(tmp_path, fake.ALL_V1 + ("net_cls,net_prio", "rdma"))
    mgr = cgroups.open_manager("/c", "c", layout=host, fs=fs)
    mgr.create()
    mgr.update({"network": {"classID": 1048577, "priorities": [
        {"name": "eth0", "priority": 5}, {"name": "lo", "priority": 2}]},
        "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}})
    d = tmp_path / "net_cls,net_prio/c"
    assert fs.content(d, "net_cls.classid") == "1048577"
    assert fs.content(d, "net_prio.ifpriomap") == "eth0 5\nlo 2\n"
    assert fs.content(tmp_path / "rdma/c", "rdma.max") == \
        "mlx5_1 hca_handle=3 hca_object=10000\n"


def test_unified_is_refused_on_v1(tree):
    mgr, fs, _ = tree
    with pytest.raises(InvalidSpec, match="cannot use unified on cgroup v1"):
        mgr.update({"unified": {"memory.high": "100"}})


def test_docker_devices_in_listed_order(tree):
    """Docker's rules: deny all, then allow some; runc's default allow-list
    is appended. From an allow-all cgroup: "a" to devices.deny first, then
    the allow rules in the order listed (config.json's, then the defaults),
    which is how devices.list shows them."""
    mgr, fs, tmp = tree
    mgr.apply({"devices": [{"allow": False, "access": "rwm"},
                           {"allow": True, "type": "c", "major": 4,
                            "minor": 64, "access": "rw"}]})
    writes = [(n, v) for _, n, v in fs.written()
              if n in ("devices.allow", "devices.deny")]
    assert writes[0] == ("devices.deny", "a *:* rwm")
    assert writes[1:] == [
        ("devices.allow", "c 4:64 rw"),
        ("devices.allow", "c *:* m"), ("devices.allow", "b *:* m"),
        ("devices.allow", "c 1:3 rwm"), ("devices.allow", "c 1:8 rwm"),
        ("devices.allow", "c 1:7 rwm"), ("devices.allow", "c 5:0 rwm"),
        ("devices.allow", "c 1:5 rwm"), ("devices.allow", "c 1:9 rwm"),
        ("devices.allow", "c 136:* rwm"), ("devices.allow", "c 5:2 rwm"),
        ("devices.allow", "c 10:200 rwm")]
    listed = fs.content(tmp / "devices/docker/ID", "devices.list")
    assert "c 4:64 rw" in listed and "a *:* rwm" not in listed


def test_device_update_is_a_minimal_transition(tree):
    mgr, fs, _ = tree
    base = [{"allow": False, "access": "rwm"}]
    mgr.apply({"devices": base + [{"allow": True, "type": "c", "major": 4,
                                   "minor": 64, "access": "rwm"}]})
    fs.writes.clear()
    mgr.update({"devices": base + [{"allow": True, "type": "c", "major": 4,
                                    "minor": 64, "access": "r"},
                                   {"allow": True, "type": "b", "major": 8,
                                    "minor": 0, "access": "r"}]})
    assert [(n, v) for _, n, v in fs.written()] == [
        ("devices.deny", "c 4:64 wm"), ("devices.allow", "b 8:0 r")]
    fs.writes.clear()
    mgr.update({"memory": {"limit": 1 << 30}})      # no "devices": untouched
    assert not [w for w in fs.written() if w[1].startswith("devices")]


def test_linux_devices_drop_the_matching_default(tree):
    mgr, fs, _ = tree
    mgr.apply({"devices": [{"allow": False, "access": "rwm"}]},
              linux_devices=[{"path": "/dev/null", "type": "c", "major": 1,
                              "minor": 3}])
    assert ("devices.allow", "c 1:3 rwm") not in [
        (n, v) for _, n, v in fs.written()]


def test_device_rules_are_checked():
    with pytest.raises(InvalidSpec, match="type"):
        devices.rules_from_spec([{"allow": True, "type": "x", "access": "r"}])
    with pytest.raises(InvalidSpec, match="access"):
        devices.rules_from_spec([{"allow": True, "type": "c", "access": "rx"}])
    with pytest.raises(InvalidSpec, match="access"):
        devices.rules_from_spec([{"allow": False}])
    # punching a hole in a wildcard is refused, as in runc's emulator
    with pytest.raises(PyociError, match="punch hole"):
        devices.build([("c", -1, -1, "rwm", True), ("c", 1, 3, "r", False)])


def test_freezer(tree):
    mgr, fs, tmp = tree
    assert not mgr.is_frozen()
    mgr.freeze()
    assert mgr.is_frozen()
    assert fs.content(tmp / "freezer/docker/ID", "freezer.state") == "FROZEN\n"
    mgr.thaw()
    assert not mgr.is_frozen()


def test_frozen_by_a_parent_only_is_not_paused(tree):
    mgr, fs, tmp = tree
    fs._put(tmp / "freezer/docker/ID", {"freezer.state": "FROZEN\n",
                                        "freezer.self_freezing": "0\n"})
    assert not mgr.is_frozen()


def test_add_process_pids_and_oom(tree):
    mgr, fs, tmp = tree
    mgr.add_process(4242)
    for d in ("cpu,cpuacct", "cpuset", "memory", "devices", "pids", "systemd"):
        assert fs.content(tmp / d / "docker/ID", "cgroup.procs") == "4242\n"
    fs.mkdir(str(tmp / "devices/docker/ID/sub"))
    fs._put(tmp / "devices/docker/ID/sub", {"cgroup.procs": "4343\n4344\n"})
    assert mgr.pids() == [4242, 4343, 4344]
    assert not mgr.oom_killed()
    fs._put(tmp / "memory/docker/ID", {"memory.oom_control":
                                       "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"})
    assert mgr.oom_killed()


def test_stats_shape(tree):
    mgr, fs, _ = tree
    mgr.apply({"pids": {"limit": 5}})
    data = mgr.stats()
    assert set(data) == {"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb",
                         "intel_rdt", "network_interfaces"}
    assert data["cpu"]["usage"] == {
        "total": 123456, "percpu": [100000, 23456], "percpu_kernel": [30000, 3456],
        "percpu_user": [70000, 20000], "kernel": 50000000, "user": 100000000}
    assert data["cpu"]["throttling"] == {"periods": 7, "throttledPeriods": 2,
                                         "throttledTime": 900}
    assert data["pids"] == {"current": 1, "limit": 5}
    assert data["memory"]["usage"] == {"limit": 9223372036854771712,
                                       "usage": 4096, "max": 8192, "failcnt": 0}
    assert data["memory"]["cache"] == 4096
    assert data["memory"]["raw"] == {"cache": 4096, "rss": 0}
    assert data["cpuset"]["cpus"] == [0, 1, 2, 3]
    assert data["cpuset"]["sched_relax_domain_level"] == -1
    assert data["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 254, "op": "Read", "value": 4096}, {"major": 254, "op": "Write"}]
    assert "2MB" in data["hugetlb"] or not os.path.isdir(
        "/sys/kernel/mm/hugepages/hugepages-2048kB")


def test_kill_all_freezes_signals_thaws(tree, monkeypatch):
    mgr, fs, tmp = tree
    mgr.add_process(4242)
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    mgr.kill_all(signal.SIGTERM)
    assert sent == [(4242, signal.SIGTERM)]
    states = [v for _, n, v in fs.written() if n == "freezer.state"]
    assert states[0] == "FROZEN" and states[-1] == "THAWED"


def test_destroy_removes_only_what_it_made(tmp_path):
    host, fs = fake.v1_tree(tmp_path)
    os.makedirs(tmp_path / "memory/shared")        # someone else's parent
    mgr = cgroups.open_manager("/shared/ID", "ID", layout=host, fs=fs)
    mgr.create()
    fs.mkdir(str(tmp_path / "memory/shared/ID/child"))   # a sub-cgroup
    mgr.freeze()
    again = cgroups.load_manager(mgr.to_record(), fs=fs)
    again.destroy()
    for d in ("cpu,cpuacct", "cpuset", "devices", "freezer", "pids", "systemd"):
        assert not os.path.exists(tmp_path / d / "shared")
    assert os.path.isdir(tmp_path / "memory/shared")
    assert not os.path.exists(tmp_path / "memory/shared/ID")
    again.destroy()      # already gone: fine


def test_destroy_without_created_list_removes_leaves_like_runc(tmp_path):
    host, fs = fake.v1_tree(tmp_path)
    mgr = cgroups.open_manager("/p/ID", "ID", layout=host, fs=fs)
    record = mgr.to_record()          # taken before create()
    assert record["created"] is None
    mgr.create()
    cgroups.load_manager(record, fs=fs).destroy()
    assert not os.path.exists(tmp_path / "memory/p/ID")
    assert os.path.isdir(tmp_path / "memory/p")


def test_hybrid_creates_joins_and_removes_the_unified_dir(tmp_path):
    host, fs = fake.v1_tree(tmp_path, unified=True)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    assert mgr.mode == "hybrid"
    mgr.create()
    unified = tmp_path / "unified/docker/ID"
    assert unified.is_dir()
    mgr.add_process(77)
    assert fs.content(unified, "cgroup.procs") == "77\n"
    assert mgr.paths()[""] == str(unified)
    for d in mgr.leaf_dirs():
        fs._put(d, {"cgroup.procs": ""})       # the process exited
    mgr.destroy()
    assert not (tmp_path / "unified/docker").exists()


def test_hybrid_puts_controllers_v1_lacks_in_the_unified_dir(tmp_path):
    hierarchies = tuple(h for h in fake.ALL_V1 if h != "hugetlb")
    host, fs = fake.v1_tree(tmp_path, hierarchies, unified=True)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    mgr.create()
    mgr.apply({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
               "unified": {"hugetlb.2MB.rsvd.max": "4194304"}})
    unified = tmp_path / "unified/docker/ID"
    assert fs.content(tmp_path / "unified", "cgroup.subtree_control") == "hugetlb\n"
    assert fs.content(unified, "hugetlb.2MB.max") == "2097152"
    assert fs.content(unified, "hugetlb.2MB.rsvd.max") == "4194304"
    with pytest.raises(InvalidSpec, match="not in the unified hierarchy"):
        mgr.update({"unified": {"memory.high": "1"}})
    assert mgr.stats()["hugetlb"].get("2MB", {}).get("failcnt", 0) == 0


def test_kill_all_uses_cgroup_kill_on_hybrid(tmp_path, monkeypatch):
    host, fs = fake.v1_tree(tmp_path, unified=True)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    mgr.create()
    monkeypatch.setattr(os, "kill", lambda *a: pytest.fail("used kill(2)"))
    mgr.kill_all(signal.SIGKILL)
    assert fs.written("cgroup.kill") == [("ID", "cgroup.kill", "1")]


def test_relative_default_path_on_a_fake_tree(tmp_path):
    host, fs = fake.v1_tree(tmp_path)
    own = {c: "/" for c in host.v1}
    own["memory"] = "/session/3"
    mgr = cgroups.open_manager(None, "ctr", layout=host, fs=fs, own=own)
    assert mgr.paths()["memory"] == str(tmp_path / "memory/session/3/ctr")
    assert mgr.paths()["pids"] == str(tmp_path / "pids/ctr")

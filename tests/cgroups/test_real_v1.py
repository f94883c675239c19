"""Root tests on this host's real v1 (hybrid) hierarchies: the files, and
what the limits do to real processes. Every test leaves no cgroup
directory and no process behind (asserted)."""
import errno
import json
import os
import signal
import time

import pytest

from pyoci.runtime.errors import PyociError
from pyoci.runtime.linux import cgroups

from . import real

pytestmark = pytest.mark.root


def _is_hybrid():
    try:
        return cgroups.detect().mode == "hybrid"
    except PyociError:
        return False


if os.geteuid() == 0 and not _is_hybrid():
    pytestmark = [pytest.mark.root,
                  pytest.mark.skip(reason="needs a v1/hybrid host like the test VM")]


@pytest.fixture(autouse=True, scope="module")
def nothing_left_behind():
    yield
    assert real.all_leftovers() == []
    assert real.stray_children() == []
    with open("/proc/self/mountinfo") as f:
        assert "pyoci-cgtest" not in f.read()


@pytest.fixture
def cg():
    """A fresh cgroup /<unique>/ctr on the real hierarchies; on teardown
    its processes are killed, it is destroyed, and nothing may be left."""
    top = real.unique()
    before = real.unified_subtree()
    mgr = cgroups.open_manager("/%s/ctr" % top, "ctr")
    mgr.create()
    children = []
    mgr.children = children
    yield mgr
    try:
        for child in children:
            try:
                child.kill()
            except Exception:       # noqa: BLE001 - keep tearing down
                pass
    finally:
        try:
            mgr.destroy()
        finally:
            real.restore_unified_subtree(before)
    assert real.leftovers(top) == []
    for child in children:
        assert child.proc.poll() is not None


def spawn(mgr, code):
    child = real.Child(code)
    mgr.children.append(child)
    mgr.add_process(child.pid)
    return child


def read(path, name):
    with open(os.path.join(path, name)) as f:
        return f.read()


def test_create_joins_every_hierarchy_and_the_unified_dir(cg):
    assert cg.mode == "hybrid"
    child = spawn(cg, "")
    with open("/proc/%d/cgroup" % child.pid) as f:
        lines = f.read().splitlines()
    top = cg.paths()["memory"].split("/")[-2]
    for line in lines:
        assert line.endswith("/%s/ctr" % top), line
    assert len(lines) == 10          # 9 v1 hierarchies + the unified one
    assert cg.pids() == [child.pid]
    child.release()
    assert child.wait()[0] == 0
    assert cg.pids() == []


def test_limits_land_in_the_real_files(cg):
    cg.apply({
        "memory": {"limit": 64 << 20, "swap": 64 << 20, "reservation": 32 << 20,
                   "swappiness": 0},
        "pids": {"limit": 50},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0",
                "mems": "0", "burst": 1000},
        "blockIO": {"weight": 200, "throttleReadBpsDevice": [
            {"major": 254, "minor": 0, "rate": 1048576}],
            "throttleWriteIOPSDevice": [{"major": 254, "minor": 0, "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}],
        "devices": [{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "b", "major": 7, "minor": 0,
                     "access": "r"}]})
    p = cg.paths()
    assert read(p["memory"], "memory.limit_in_bytes") == "%d\n" % (64 << 20)
    assert read(p["memory"], "memory.memsw.limit_in_bytes") == "%d\n" % (64 << 20)
    assert read(p["memory"], "memory.soft_limit_in_bytes") == "%d\n" % (32 << 20)
    assert read(p["memory"], "memory.swappiness") == "0\n"
    assert read(p["pids"], "pids.max") == "50\n"
    assert read(p["cpu"], "cpu.shares") == "512\n"
    assert read(p["cpu"], "cpu.cfs_quota_us") == "50000\n"
    assert read(p["cpu"], "cpu.cfs_burst_us") == "1000\n"
    assert read(p["cpuset"], "cpuset.cpus") == "0\n"
    assert read(p["blkio"], "blkio.bfq.weight") == "default 200\n" or \
        read(p["blkio"], "blkio.bfq.weight").strip() == "200"
    assert read(p["blkio"], "blkio.throttle.read_bps_device") == "254:0 1048576\n"
    assert read(p["blkio"], "blkio.throttle.write_iops_device") == "254:0 100\n"
    # hugetlb is no v1 controller here: it went to the unified directory
    assert read(p[""], "hugetlb.2MB.max") == "%d\n" % (4 << 20)
    listed = read(p["devices"], "devices.list").splitlines()
    assert "b 7:0 r" in listed and "c 1:3 rwm" in listed
    assert "a *:* rwm" not in listed
    # an update touches only what it names
    cg.update({"pids": {"limit": 20}, "memory": {"limit": 0}})
    assert read(p["pids"], "pids.max") == "20\n"
    assert read(p["memory"], "memory.limit_in_bytes") == "%d\n" % (64 << 20)
    assert "b 7:0 r" in read(p["devices"], "devices.list").splitlines()


def test_pids_limit_stops_forks(cg):
    cg.apply({"pids": {"limit": 4}})
    child = spawn(cg, """
import os, time
n = 0
try:
    for _ in range(20):
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
except OSError as e:
    print(n, e.errno)
""")
    child.release()
    # the forked sleepers hold the pipe; read the line, then kill them all
    line = child.proc.stdout.readline().decode().split()
    assert line == ["3", str(errno.EAGAIN)]    # 1 + 3 forks = pids.max 4
    assert cg.stats()["pids"]["limit"] == 4
    cg.kill_all(signal.SIGKILL)


def test_memory_limit_oom_kills(cg):
    cg.apply({"memory": {"limit": 32 << 20, "swap": 32 << 20}})
    assert not cg.oom_killed()
    child = spawn(cg, "b = bytearray(96 << 20)\nprint('survived')")
    child.release()
    rc, out, _ = child.wait()
    assert rc == -signal.SIGKILL and "survived" not in out
    assert cg.oom_killed()
    usage = cg.stats()["memory"]["usage"]
    assert usage["max"] == usage["limit"] == 32 << 20    # it hit the limit


def test_check_before_update_refuses_a_limit_below_usage(cg):
    child = spawn(cg, "b = bytearray(16 << 20)\nprint('ok', flush=True)\n"
                      "import time; time.sleep(30)")
    child.release()
    assert child.proc.stdout.readline() == b"ok\n"
    with pytest.raises(PyociError, match="rejecting memory limit"):
        cg.update({"memory": {"limit": 8 << 20, "checkBeforeUpdate": True}})
    cg.update({"memory": {"limit": 256 << 20, "checkBeforeUpdate": True}})


def test_freeze_thaw(cg):
    child = spawn(cg, "import time\nwhile True: time.sleep(0.01)")
    child.release()
    time.sleep(0.1)
    cg.freeze()
    assert cg.is_frozen()
    assert read(cg.paths()["freezer"], "freezer.state") == "FROZEN\n"
    assert real.state(child.pid) == "D"      # v1 frozen tasks show D
    # a reloaded manager (a later `state` command) sees it too
    assert cgroups.load_manager(cg.to_record()).is_frozen()
    cg.thaw()
    assert not cg.is_frozen()
    assert real.state(child.pid) in ("S", "R")


def test_kill_all(cg):
    kids = [spawn(cg, "import time\ntime.sleep(60)") for _ in range(3)]
    for kid in kids:
        kid.release()
    cg.kill_all(signal.SIGTERM)
    for kid in kids:
        assert kid.wait()[0] == -signal.SIGTERM
    again = [spawn(cg, "import time\ntime.sleep(60)") for _ in range(2)]
    cg.kill_all(signal.SIGKILL)           # cgroup.kill in the unified dir
    for kid in again:
        assert kid.wait()[0] == -signal.SIGKILL
    assert cg.pids() == []
    assert not cg.is_frozen()


def test_destroy_a_frozen_cgroup_with_killed_tasks():
    top = real.unique()
    mgr = cgroups.open_manager("/%s/ctr" % top, "ctr")
    mgr.create()
    kids = [real.Child("import time\ntime.sleep(60)") for _ in range(3)]
    try:
        for kid in kids:
            mgr.add_process(kid.pid)
            kid.release()
        record = json.loads(json.dumps(mgr.to_record()))
        mgr.freeze()
        for kid in kids:
            os.kill(kid.pid, signal.SIGKILL)      # frozen: they cannot die yet
        cgroups.load_manager(record).destroy()    # thaws, waits, removes
        for kid in kids:
            assert kid.wait()[0] == -signal.SIGKILL
    finally:
        for kid in kids:
            kid.kill()
        mgr.destroy()
    assert real.leftovers(top) == []


def test_devices_deny_opening(cg):
    cg.apply({"devices": [{"allow": False, "access": "rwm"}]})
    child = spawn(cg, """
import os
for path in ("/dev/null", "/dev/zero", "/dev/loop0", "/dev/vda"):
    try:
        os.close(os.open(path, os.O_RDONLY)); print(path, "ok")
    except OSError as e:
        print(path, e.errno)
""")
    child.release()
    rc, out, err = child.wait()
    assert rc == 0, err
    assert out.split("\n")[:4] == ["/dev/null ok", "/dev/zero ok",
                                   "/dev/loop0 %d" % errno.EPERM,
                                   "/dev/vda %d" % errno.EPERM]


def test_realtime_where_the_host_has_the_files():
    top = real.unique("rt")          # directly below the root: rt budget there
    mgr = cgroups.open_manager("/" + top, "ctr")
    mgr.create()
    try:
        mgr.apply({"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}})
        assert read(mgr.paths()["cpu"], "cpu.rt_runtime_us") == "10000\n"
        assert read(mgr.paths()["cpu"], "cpu.rt_period_us") == "1000000\n"
        mgr.apply({"cpu": {"realtimeRuntime": 0, "realtimePeriod": 0}})
        assert read(mgr.paths()["cpu"], "cpu.rt_runtime_us") == "10000\n"
    finally:
        mgr.destroy()
    assert real.leftovers(top) == []


def test_stats_of_a_busy_container(cg):
    cg.apply({"pids": {"limit": 100}, "memory": {"limit": 128 << 20},
              "hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 20}]})
    child = spawn(cg, "b = bytearray(8 << 20)\nsum(range(3000000))\n"
                      "print('ok', flush=True)\nimport time; time.sleep(30)")
    child.release()
    assert child.proc.stdout.readline() == b"ok\n"
    data = json.loads(json.dumps(cg.stats()))
    assert data["pids"] == {"current": 1, "limit": 100}
    assert data["memory"]["usage"]["usage"] >= 8 << 20
    assert data["memory"]["usage"]["limit"] == 128 << 20
    assert data["cpu"]["usage"]["total"] > 0
    assert len(data["cpu"]["usage"]["percpu"]) == os.cpu_count()
    assert data["cpuset"]["cpus"] == list(range(os.cpu_count()))
    assert data["hugetlb"]["2MB"] == {"failcnt": 0}    # from the unified dir


def test_errors_are_clear(cg):
    with pytest.raises(PyociError, match="net_cls cgroup controller is not mounted"):
        cg.apply({"network": {"classID": 1}})
    with pytest.raises(PyociError, match="not in the unified hierarchy"):
        cg.apply({"unified": {"memory.high": "1"}})

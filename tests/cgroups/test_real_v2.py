"""Root tests on a real cgroup2 hierarchy: this host's unified mount
(/sys/fs/cgroup/unified, which holds only hugetlb), driven by the v2
backend; the eBPF device filter on it; and v2 detection on a cgroup2 root
mounted in a private mount namespace. Controllers bound to v1 cannot be
enabled on v2 here, so v2 memory/cpu/io/pids are covered by the fake tree."""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pyoci.runtime.errors import PyociError, SyscallError
from pyoci.runtime.linux import cgroups
from pyoci.runtime.linux.cgroups import ebpf, layout

from . import real

pytestmark = pytest.mark.root

if os.geteuid() == 0 and not os.path.exists(
        os.path.join(real.UNIFIED, "cgroup.controllers")):
    pytestmark = [pytest.mark.root,
                  pytest.mark.skip(reason="needs a cgroup2 mount at "
                                          "/sys/fs/cgroup/unified")]


def unified_layout():
    return layout.Layout("v2", real.UNIFIED, unified=real.UNIFIED)


@pytest.fixture(autouse=True, scope="module")
def nothing_left_behind():
    yield
    assert real.all_leftovers() == []
    assert real.stray_children() == []
    with open("/proc/self/mountinfo") as f:
        assert "pyoci-cgtest" not in f.read()


@pytest.fixture
def cg():
    top = real.unique("v2")
    before = real.unified_subtree()
    mgr = cgroups.open_manager("/%s/ctr" % top, "ctr", layout=unified_layout())
    assert mgr.mode == "v2"
    mgr.create()
    mgr.children = []
    yield mgr
    try:
        for child in mgr.children:
            try:
                child.kill()
            except Exception:    # noqa: BLE001 - keep tearing down
                pass
    finally:
        try:
            mgr.destroy()
        finally:
            real.restore_unified_subtree(before)
    assert not os.path.exists(os.path.join(real.UNIFIED, top))
    for child in mgr.children:
        assert child.proc.poll() is not None


def spawn(mgr, code):
    child = real.Child(code)
    mgr.children.append(child)
    mgr.add_process(child.pid)
    return child


def read(path, name):
    with open(os.path.join(path, name)) as f:
        return f.read()


def test_create_enables_hugetlb_and_joins(cg):
    path = cg.paths()[""]
    parent = os.path.dirname(path)
    assert "hugetlb" in read(parent, "cgroup.subtree_control").split()
    assert read(path, "cgroup.controllers").split() == ["hugetlb"]
    child = spawn(cg, "")
    assert read(path, "cgroup.procs").split() == [str(child.pid)]
    with open("/proc/%d/cgroup" % child.pid) as f:
        assert "0::/%s\n" % os.path.relpath(path, real.UNIFIED) in f.read()
    child.release()
    assert child.wait()[0] == 0


def test_hugetlb_files(cg):
    cg.apply({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20},
                                 {"pageSize": "1GB", "limit": 1 << 30}]})
    path = cg.paths()[""]
    assert read(path, "hugetlb.2MB.max") == "%d\n" % (4 << 20)
    assert read(path, "hugetlb.1GB.max") == "%d\n" % (1 << 30)
    if os.path.exists(os.path.join(path, "hugetlb.2MB.rsvd.max")):
        assert read(path, "hugetlb.2MB.rsvd.max") == "%d\n" % (4 << 20)
    cg.update({"unified": {"hugetlb.2MB.max": "2097152"}})
    assert read(path, "hugetlb.2MB.max") == "2097152\n"
    data = json.loads(json.dumps(cg.stats()))
    assert data["hugetlb"]["2MB"] == {"failcnt": 0}


def test_bound_controllers_fail_clearly(cg):
    with pytest.raises(SyscallError, match="memory controller is not available"):
        cg.apply({"memory": {"limit": 1 << 30}})
    with pytest.raises(SyscallError, match="controller 'pids' not available"):
        cg.update({"unified": {"pids.max": "5"}})


def test_cgroup_freeze_and_kill(cg):
    kids = [spawn(cg, "import time\nwhile True: time.sleep(0.01)")
            for _ in range(2)]
    for kid in kids:
        kid.release()
    time.sleep(0.1)
    cg.freeze()
    assert cg.is_frozen()
    assert "frozen 1" in read(cg.paths()[""], "cgroup.events")
    cg.thaw()
    assert not cg.is_frozen()
    cg.freeze()
    cg.kill_all(signal.SIGKILL)       # cgroup.kill kills frozen tasks too
    for kid in kids:
        assert kid.wait()[0] == -signal.SIGKILL
    assert cg.pids() == []


def test_kill_all_with_sigterm_thaws(cg):
    kid = spawn(cg, "import time\ntime.sleep(60)")
    kid.release()
    cg.kill_all(signal.SIGTERM)
    assert kid.wait()[0] == -signal.SIGTERM
    assert not cg.is_frozen()


PROBE = """
import os
for path in ("/dev/null", "/dev/kmsg", "/dev/full", "/dev/loop0"):
    try:
        os.close(os.open(path, os.O_RDONLY)); print(path, "ok")
    except OSError as e:
        print(path, e.errno)
try:
    os.mknod("/tmp/pyoci-cgtest-node-%d" % os.getpid(), 0o600 | 0o20000,
             os.makedev(1, 7))
    os.unlink("/tmp/pyoci-cgtest-node-%d" % os.getpid()); print("mknod ok")
except OSError as e:
    print("mknod", e.errno)
"""


def probe(cg):
    child = spawn(cg, PROBE)
    child.release()
    rc, out, err = child.wait()
    assert rc == 0, err
    return out.split("\n")[:5]


def test_ebpf_device_filter_denies_opening(cg):
    """Docker-like rules: deny all, allow /dev/kmsg for reading; runc's
    default allow-list comes on top (null, full, mknod of any char device),
    minus /dev/full, which linux.devices lists itself."""
    path = cg.paths()[""]
    cg.apply({"devices": [{"allow": False, "access": "rwm"},
                          {"allow": True, "type": "c", "major": 1, "minor": 11,
                           "access": "r"}]},
             linux_devices=[{"path": "/dev/full", "type": "c", "major": 1,
                             "minor": 7}])
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert len(ebpf.attached(fd)) == 1
    finally:
        os.close(fd)
    assert probe(cg) == ["/dev/null ok", "/dev/kmsg ok",
                         "/dev/full %d" % errno.EPERM,   # default dropped
                         "/dev/loop0 %d" % errno.EPERM, "mknod ok"]
    # an update replaces the program: still exactly one attached
    cg.update({"devices": [{"allow": False, "access": "rwm"},
                           {"allow": True, "type": "b", "major": 7, "minor": 0,
                            "access": "r"}]})
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert len(ebpf.attached(fd)) == 1
    finally:
        os.close(fd)
    assert probe(cg) == ["/dev/null ok", "/dev/kmsg %d" % errno.EPERM,
                         "/dev/full ok", "/dev/loop0 ok", "mknod ok"]
    # a process outside the cgroup is not affected
    os.close(os.open("/dev/kmsg", os.O_RDONLY))


def test_ebpf_allow_all_but_one(cg):
    """Allow-all (privileged) with one exception. (runc's defaults come
    after the rules, so a deny of a default device would be re-allowed.)"""
    cg.apply({"devices": [{"allow": True, "access": "rwm"},
                          {"allow": False, "type": "c", "major": 1, "minor": 11,
                           "access": "rwm"}]})
    assert probe(cg) == ["/dev/null ok", "/dev/kmsg %d" % errno.EPERM,
                         "/dev/full ok", "/dev/loop0 ok", "mknod ok"]


NS_SCRIPT = r"""
import json, os, sys
from pyoci.runtime import _native as n
from pyoci.runtime.linux import cgroups
root = sys.argv[1]
n.mount(None, "/", None, n.MS_REC | n.MS_PRIVATE)
n.mount("cgroup2", root, "cgroup2", 0)
host = cgroups.detect(root)
mgr = cgroups.open_manager("/pyoci-cgtest-ns-%d/ctr" % os.getpid(), "ctr",
                           root=root)
mgr.create()
mgr.add_process(os.getpid())
with open("/proc/self/cgroup") as f:
    mine = [l for l in f.read().splitlines() if l.startswith("0::")]
with open("/proc/self/mountinfo") as f:
    mounted = root in f.read()
record = mgr.to_record()
print(json.dumps({"mode": host.mode, "unified": host.unified, "mine": mine,
                  "record": record, "mounted": mounted}))
"""


def test_v2_detected_on_a_cgroup2_root_in_a_private_mount_namespace(tmp_path):
    """The same cgroup2 hierarchy mounted at a fresh root in a private mount
    namespace is detected as a pure v2 host and driven by the v2 backend.
    The mount dies with the namespace; the cgroup is destroyed from here
    (the same hierarchy) through the record."""
    root = tmp_path / "cgroup2"
    root.mkdir()
    before = real.unified_subtree()
    try:
        _run_in_namespace(root)
    finally:
        real.restore_unified_subtree(before)


def _run_in_namespace(root):
    out = subprocess.run(["unshare", "-m", sys.executable, "-c", NS_SCRIPT,
                          str(root)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["mode"] == "v2" and seen["unified"] == str(root)
    assert seen["mounted"]
    top = seen["record"]["unified"].split("/")[-2]
    assert seen["mine"] == ["0::/%s/ctr" % top]
    with open("/proc/self/mountinfo") as f:
        assert str(root) not in f.read()            # nothing leaked
    # the namespace's mount is gone; here the same hierarchy is the
    # unified mount: translate the record and destroy
    record = seen["record"]
    for key in ("unified", "unified_mount"):
        record[key] = record[key].replace(str(root), real.UNIFIED, 1)
    record["created"] = [p.replace(str(root), real.UNIFIED, 1)
                         for p in record["created"]]
    assert os.path.isdir(record["unified"])
    cgroups.load_manager(record).destroy()
    assert not os.path.exists(os.path.join(real.UNIFIED, top))

"""Host detection, cgroupsPath resolution, systemd naming, traversal."""
import pytest

from pyoci.runtime.errors import InvalidSpec, PyociError
from pyoci.runtime.linux import cgroups
from pyoci.runtime.linux.cgroups import layout

from . import fake

# this VM's /proc/self/mountinfo, trimmed to the cgroup lines
HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_COMOUNT = """\
25 24 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
29 25 0:26 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /sys/fs/cgroup/perf\\040event rw - cgroup cgroup rw,perf_event
"""
OWN = {"cpu": "/user/1", "cpuacct": "/user/1", "memory": "/process_api/x",
       "devices": "/", "pids": "/docker/abc/inner", "cpuset": "/",
       "freezer": "/", "blkio": "/", "name=systemd": "/", "": "/session/5"}


def test_detects_this_hosts_hybrid_layout():
    host = layout.detect(mountinfo=HYBRID)
    assert host.mode == "hybrid"
    assert host.unified == "/sys/fs/cgroup/unified"
    assert set(host.v1) == {"cpu", "cpuacct", "cpuset", "memory", "devices",
                            "freezer", "blkio", "pids", "name=systemd"}
    assert host.v1["name=systemd"] == "/sys/fs/cgroup/systemd"


def test_detects_v2_and_v1():
    assert layout.detect(mountinfo=V2).mode == "v2"
    host = layout.detect(mountinfo=V1_COMOUNT)
    assert host.mode == "v1" and host.unified is None
    assert host.v1["cpu"] == host.v1["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct"
    assert host.v1["net_prio"] == "/sys/fs/cgroup/net_cls,net_prio"
    assert host.v1["perf_event"] == "/sys/fs/cgroup/perf event"   # \040
    assert host.v1_roots["pids"] == "/docker/abc"


def test_only_mounts_under_the_root_count(tmp_path):
    text = HYBRID.replace("/sys/fs/cgroup/memory", "/elsewhere/memory")
    assert "memory" not in layout.detect(mountinfo=text).v1
    with pytest.raises(PyociError, match="no cgroup filesystem"):
        layout.detect(str(tmp_path), mountinfo=HYBRID)


def test_this_host_is_detected_as_hybrid():
    with open("/proc/self/mountinfo") as f:
        text = f.read()
    if "/sys/fs/cgroup/unified" not in text:
        pytest.skip("not the hybrid test VM")
    assert layout.detect().mode == "hybrid"


def test_absolute_path_below_every_hierarchy():
    host = layout.detect(mountinfo=HYBRID)
    paths, unified = host.resolve(layout.inner_path("/docker/ID", "ID"))
    assert paths["memory"] == "/sys/fs/cgroup/memory/docker/ID"
    assert paths["name=systemd"] == "/sys/fs/cgroup/systemd/docker/ID"
    assert unified == "/sys/fs/cgroup/unified/docker/ID"


def test_relative_path_is_below_the_callers_own_cgroup():
    host = layout.detect(mountinfo=V1_COMOUNT)
    paths, _ = host.resolve(layout.inner_path("a/b", "ID"), OWN)
    assert paths["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/user/1/a/b"
    assert paths["memory"] == "/sys/fs/cgroup/memory/process_api/x/a/b"
    assert paths["devices"] == "/sys/fs/cgroup/devices/a/b"
    # the pids mount shows /docker/abc at its top (nested container)
    assert paths["pids"] == "/sys/fs/cgroup/pids/inner/a/b"


def test_empty_path_is_the_id_relative_like_runc():
    assert layout.inner_path("", "ID") == "ID"
    assert layout.inner_path(None, "ID") == "ID"
    host = layout.detect(mountinfo=HYBRID)
    paths, unified = host.resolve("ID", OWN)
    assert paths["memory"] == "/sys/fs/cgroup/memory/process_api/x/ID"
    # hybrid: the unified dir is always below the unified mount (runc)
    assert unified == "/sys/fs/cgroup/unified/ID"


def test_v2_relative_path_is_below_the_parent_of_the_own_cgroup():
    host = layout.detect(mountinfo=V2)
    _, unified = host.resolve("ID", OWN)
    assert unified == "/sys/fs/cgroup/session/ID"


@pytest.mark.parametrize("path", [
    "../../etc", "/docker/../../../etc", "a/../../b", "..", "/..", "/", "//",
    "./", "a\0b"])
def test_traversal_and_root_are_refused(path):
    with pytest.raises(InvalidSpec, match="cgroupsPath"):
        layout.inner_path(path, "ID")


@pytest.mark.parametrize("container_id", ["", "..", ".", "a/b", "a\0"])
def test_bad_ids_are_refused(container_id):
    with pytest.raises(InvalidSpec):
        layout.inner_path("", container_id)


def test_paths_are_cleaned():
    assert layout.inner_path("//docker///./ID/", "x") == "/docker/ID"
    assert layout.inner_path("a/./b", "x") == "a/b"


@pytest.mark.parametrize("path, expected", [
    ("system.slice:docker:ID", "/system.slice/docker-ID.scope"),
    ("machine-a-b.slice:libpod:ID", "/machine.slice/machine-a.slice/"
                                    "machine-a-b.slice/libpod-ID.scope"),
    (":docker:ID", "/system.slice/docker-ID.scope"),
    ("-.slice:x:ID", "/x-ID.scope"),
    ("user.slice:p:sub.slice", "/user.slice/sub.slice"),
    ("", "/system.slice/runc-ID.scope"),
])
def test_systemd_naming_on_cgroupfs(path, expected):
    assert layout.inner_path(path, "ID", systemd=True) == expected


@pytest.mark.parametrize("path", [
    "/docker/ID", "a:b", "a:b:c:d", "notaslice:docker:ID", "a--b.slice:x:ID",
    "-a.slice:x:ID", "system.slice:docker:../../etc", "system.slice:a/b:ID",
    "system.slice:docker:", "../x.slice:d:ID", "system.slice:..:ID"])
def test_bad_systemd_paths_are_refused(path):
    with pytest.raises(InvalidSpec):
        layout.inner_path(path, "ID", systemd=True)


def test_systemd_form_without_systemd_is_a_plain_relative_path():
    assert layout.inner_path("system.slice:docker:ID", "ID") == \
        "system.slice:docker:ID"


def test_open_manager_on_a_fake_tree_and_record_round_trip(tmp_path):
    host, fs = fake.v1_tree(tmp_path, unified=True)
    mgr = cgroups.open_manager("/docker/ID", "ID", layout=host, fs=fs)
    assert mgr.mode == "hybrid"
    mgr.create()
    record = mgr.to_record()
    import json
    again = cgroups.load_manager(json.loads(json.dumps(record)), fs=fs)
    assert again.paths() == mgr.paths()
    assert again.to_record() == record
    assert record["paths"]["memory"] == str(tmp_path / "memory/docker/ID")
    assert record["unified"] == str(tmp_path / "unified/docker/ID")
    assert str(tmp_path / "memory/docker") in record["created"]


def test_open_manager_with_mountinfo_text(tmp_path):
    root = str(tmp_path)
    mgr = cgroups.open_manager("/x", "ID", root=root,
                               mountinfo=fake.mountinfo_v2(root))
    assert mgr.mode == "v2" and mgr.paths() == {"": root + "/x"}


def test_load_manager_refuses_unknown_records():
    for record in (None, {}, {"version": 2}, {"version": 1, "mode": "v3"}):
        with pytest.raises(PyociError):
            cgroups.load_manager(record)


def test_features_describe_the_implementation_not_the_host():
    assert cgroups.features() == {
        "v1": True, "v2": True, "systemd": False, "systemdUser": False,
        "rdma": True}

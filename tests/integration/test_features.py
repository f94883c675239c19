"""`pyoci features` lists what really works: every mount option it names is
accepted on a real mount, every namespace it names can be created."""
import json

import pytest

pytestmark = pytest.mark.root


def features(pyoci):
    return json.loads(pyoci("features").stdout)


def test_every_listed_mount_option_mounts(pyoci, bundle, cid, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    options = features(pyoci)["mountOptions"]
    for index, option in enumerate(options):
        bind = [] if option in ("bind", "rbind") else ["rbind"]
        mount = {"destination": "/m%d" % index, "type": "bind",
                 "source": str(source), "options": bind + [option]}
        if option in ("idmap", "ridmap"):
            # no user namespace here: the mount brings its own mapping
            mount["uidMappings"] = mount["gidMappings"] = [
                {"containerID": 0, "hostID": 1000, "size": 1}]
        bundle.config["mounts"].append(mount)
    bundle.shell("ls -d /m%d" % (len(options) - 1))
    result = pyoci("run", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode == 0, result.stderr


def test_every_listed_namespace_is_created(pyoci, bundle, cid):
    listed = features(pyoci)["linux"]["namespaces"]
    assert set(listed) == {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}
    for kind in listed:
        bundle.namespace(kind)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.shell("readlink /proc/self/ns/time")
    assert pyoci("run", "--bundle", bundle.write(), cid).stdout.startswith("time:")


def test_extensions_are_enabled_exactly_where_they_work(pyoci):
    """Each enabled extension has its real-container tests:
    test_net_devices.py, test_idmapped_mounts.py; Intel RDT needs a
    mounted resctrl, which this kind of host lacks (test_intel_rdt.py)."""
    from pyoci.runtime.linux.intelrdt import resctrl_root
    linux = features(pyoci)["linux"]
    assert linux["netDevices"] == {"enabled": True}
    assert linux["mountExtensions"] == {"idmap": {"enabled": True}}
    assert linux["intelRdt"]["enabled"] == (resctrl_root() is not None)
    assert linux["apparmor"] == linux["selinux"] == {"enabled": False}

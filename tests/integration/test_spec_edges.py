"""Config corners the runtime-tools suite checks (linux_ns_itype,
linux_rootfs_propagation, linux_cgroups_devices,
hooks_stdin), checked here on real containers without the suite."""
import json
import os

import pytest

from pyoci.tests.integration.harness import mount_table, wait_for

pytestmark = pytest.mark.root


def run(runtime, bundle, cid, *, check=True):
    return runtime("run", "--bundle", bundle.write(), cid, check=check)


def test_no_mount_namespace_shares_the_hosts_and_delete_takes_the_mounts(
        runtime, bundle, cid):
    # linux_ns_itype: no namespace at all in the config. Without one the
    # container's mounts are made in the host's namespace; runc 1.1.5
    # leaves them there after delete, pyoci detaches them.
    bundle.linux["namespaces"] = []
    bundle.config.pop("hostname")
    bundle.linux.pop("maskedPaths")
    bundle.linux.pop("readonlyPaths")
    bundle.args("sleep", "60")
    before = mount_table()
    runtime("create", "--bundle", bundle.write(), cid)
    try:
        pid = runtime.state(cid)["pid"]
        for ns in ("mnt", "pid", "net", "uts", "ipc"):
            assert os.readlink("/proc/%d/ns/%s" % (pid, ns)) == \
                os.readlink("/proc/self/ns/" + ns), ns
        assert os.readlink("/proc/%d/root" % pid) == bundle.config["root"]["path"]
        with open("/proc/%d/root/proc/self/status" % pid) as f:
            assert "Name:" in f.read()   # /proc is mounted in its root
    finally:
        runtime("delete", "--force", cid)
    if runtime.name == "runc":
        leaked = sorted(set(mount_table()) - set(before))
        for entry in reversed(leaked):
            os.system("umount -l '%s'" % entry.split()[1])
    assert mount_table() == before


def _may_mount(bundle):
    for kind in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][kind].append("CAP_SYS_ADMIN")


def _root_line(out):
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[4] == "/":
            return fields
    raise AssertionError("no / in mountinfo:\n" + out)


def test_rootfs_propagation_shared(runtime, bundle, cid):
    # A mount under a bind of / shows up in the original: / is shared.
    bundle.linux["rootfsPropagation"] = "shared"
    _may_mount(bundle)
    bundle.shell("mkdir -p /tmp/a /tmp/b /tmp/src && touch /tmp/src/seen && "
                 "mount --rbind / /tmp/a && mount --bind /tmp/src /tmp/b && "
                 "ls /tmp/a/tmp/b; cat /proc/self/mountinfo")
    out = run(runtime, bundle, cid, check=False)
    if runtime.name == "runc":
        # runc 1.1.5 leaves the root private: the mount does not propagate.
        assert "seen" not in out.stdout.split()
        return
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "seen"
    assert any(f.startswith("shared:") for f in _root_line(out.stdout))


def test_rootfs_propagation_unbindable(runtime, bundle, cid):
    bundle.linux["rootfsPropagation"] = "unbindable"
    _may_mount(bundle)
    bundle.shell("mkdir -p /tmp/a; mount --bind / /tmp/a 2>&1 || echo REFUSED; "
                 "cat /proc/self/mountinfo")
    out = run(runtime, bundle, cid, check=False)
    if runtime.name == "runc":
        # runc 1.1.5 makes / unbindable before its own rootfs bind: create fails.
        assert out.returncode != 0 and "invalid argument" in out.stderr
        return
    assert out.returncode == 0, out.stderr
    assert "Invalid argument" in out.stdout and "REFUSED" in out.stdout
    assert "unbindable" in _root_line(out.stdout)


def test_device_rules_listed_in_config_order(runtime, bundle, cid):
    # The v1 devices.list shows exceptions in the order written.
    cgroup = "/pyoci-devices-" + cid
    bundle.linux["cgroupsPath"] = cgroup
    bundle.linux["resources"] = {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        {"allow": True, "type": "b", "major": 8, "minor": 20, "access": "rw"},
        {"allow": True, "type": "b", "major": 10, "minor": 200, "access": "r"}]}
    bundle.args("sleep", "60")
    runtime("create", "--bundle", bundle.write(), cid)
    try:
        with open("/sys/fs/cgroup/devices%s/devices.list" % cgroup) as f:
            listed = f.read().splitlines()
    finally:
        runtime("delete", "--force", cid)
    if runtime.name == "runc":
        assert listed[0] == "b *:* m"   # runc 1.1.5 sorts its rules first
        return
    assert listed[:3] == ["c 10:229 rwm", "b 8:20 rw", "b 10:200 r"]
    assert "c 1:3 rwm" in listed


def test_prestart_hooks_read_status_created(runtime, bundle, cid, tmp_path):
    seen = tmp_path / "seen"
    bundle.config["hooks"] = {phase: [{"path": "/bin/sh", "args": [
        "sh", "-c", "cat >> %s; echo >> %s" % (seen, seen)]}]
        for phase in ("prestart", "createRuntime")}
    bundle.args("true")
    run(runtime, bundle, cid)
    statuses = [json.loads(line)["status"] for line in seen.read_text().splitlines() if line]
    # runc 1.1.5 says "creating"; runtime-tools hooks_stdin wants "created".
    assert statuses == ["creating" if runtime.name == "runc" else "created"] * 2


def test_the_poststop_hooks_after_a_failing_one_still_run(runtime, bundle, cid, tmp_path):
    # runtime.md step 13 (runtime-tools poststop_fail): a failing poststop
    # hook is a warning, "the remaining hooks ... continue".
    ran = tmp_path / "ran"
    bundle.config["hooks"] = {"poststop": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]},
        {"path": "/bin/sh", "args": ["sh", "-c", "echo second > %s" % ran]}]}
    bundle.args("true")
    runtime("create", "--bundle", bundle.write(), cid)
    runtime("start", cid)
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    result = runtime("delete", cid)
    if runtime.name == "runc":
        # runc 1.1.5 stops at the first failing poststop hook.
        assert not ran.exists()
        return
    assert ran.read_text() == "second\n"
    assert "poststop[0]" in result.stderr

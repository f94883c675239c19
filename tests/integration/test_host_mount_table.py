"""Containers are set up right whatever else the host's mount table holds."""
import os
import subprocess

import pytest

pytestmark = pytest.mark.root


def test_cgroup_mount_ignores_binds_of_hierarchies_elsewhere(runtime, bundle, cid, tmp_path):
    # What a container sharing the host's mount namespace leaves in the
    # table while it runs: its pids cgroup bound under its rootfs.
    cgroup = "/sys/fs/cgroup/pids/%s-elsewhere" % cid
    os.mkdir(cgroup)
    elsewhere = tmp_path / "rootfs" / "sys" / "fs" / "cgroup" / "pids"
    elsewhere.mkdir(parents=True)
    subprocess.run(["mount", "--bind", cgroup, str(elsewhere)], check=True)
    try:
        bundle.without_namespace("cgroup")
        bundle.shell("ls /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup | grep -c '^pids$'")
        result = runtime("run", "--bundle", bundle.write(), cid)
        assert result.stdout.split() == ["/sys/fs/cgroup/pids/pids.max", "1"]
    finally:
        subprocess.run(["umount", str(elsewhere)], check=True)
        os.rmdir(cgroup)

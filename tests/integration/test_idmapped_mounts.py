"""Idmapped bind mounts on real containers: what a container sees of files
the host owns, and what the host gets of files the container writes.

runc 1.1.5 predates idmapped mounts; it takes `idmap` for a filesystem
option that a bind mount drops and ignores the mappings, so the file shows
unmapped (test_runc_1_1_ignores_idmap). crun (1.8.1 here) has them, so the
tests that read ids through a mount run against it too: a second opinion on
which way the mappings go."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pyoci.tests.integration.harness import PYOCI, RUNC, Runtime

pytestmark = pytest.mark.root

CONTAINER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]
CRUN = shutil.which("crun")
# crun refuses v1 controllers beside a cgroup2 mount: it runs in a mount
# namespace of its own without /sys/fs/cgroup/unified (a hybrid host).
CRUN_ARGV = ["unshare", "--mount", "sh", "-c", "mountpoint -q /sys/fs/cgroup/unified "
             "&& umount /sys/fs/cgroup/unified; exec \"$0\" \"$@\"", str(CRUN)]


@pytest.fixture(params=["pyoci"] + (["crun"] if CRUN else []))
def idmapping(request, tmp_path, state_roots, bundle):
    """pyoci, or crun as the reference."""
    state_roots.append(tmp_path / "state")
    if request.param == "pyoci":
        return Runtime("pyoci", [PYOCI], tmp_path / "state")
    bundle.config["ociVersion"] = "1.0.2"    # crun 1.8.1 refuses 1.3.0
    return Runtime("crun", CRUN_ARGV, tmp_path / "state")


@pytest.fixture
def source():
    """A host directory with a file owned by uid and gid 1000; not under
    pytest's 0700 directories, which a container's root (host uid 100000)
    could not reach through a plain bind."""
    base = Path(tempfile.mkdtemp(prefix="pyoci-idmap-"))
    base.chmod(0o755)
    (base / "owned").write_text("x")
    os.chown(base / "owned", 1000, 1000)
    yield base
    shutil.rmtree(base)


def user_namespaced(bundle):
    bundle.namespace("user")
    bundle.linux["uidMappings"] = CONTAINER_MAP
    bundle.linux["gidMappings"] = CONTAINER_MAP
    return bundle


def bind(bundle, source, options, **mappings):
    # on /home, a directory the shared rootfs has: a user-namespaced root
    # could not make one there
    mount = {"destination": "/home", "type": "bind", "source": str(source),
             "options": options}
    for key, value in mappings.items():
        mount[key + "Mappings"] = value
    bundle.config["mounts"].append(mount)
    return bundle


def owner_seen(runtime, bundle, cid):
    bundle.shell("stat -c %u:%g /home/owned")
    return runtime("run", "--bundle", bundle.write(), cid).stdout.strip()


def test_without_idmap_the_file_is_unmapped(idmapping, bundle, cid, source):
    bind(user_namespaced(bundle), source, ["rbind"])
    assert owner_seen(idmapping, bundle, cid) == "65534:65534"


@pytest.mark.parametrize("option", ["idmap", "ridmap"])
def test_idmap_takes_the_containers_mapping(idmapping, bundle, cid, source, option):
    if idmapping.name == "crun" and option == "ridmap":
        pytest.skip("crun 1.8.1 predates ridmap: it binds with no mapping (65534)")
    bind(user_namespaced(bundle), source, ["rbind", option])
    bundle.shell("stat -c %u:%g /home/owned; touch /home/made; "
                 "stat -c %u:%g /home/made")
    seen = idmapping("run", "--bundle", bundle.write(), cid).stdout.split()
    assert seen == ["1000:1000", "0:0"]
    # written by the container's root (host uid 100000): on disk as uid 0
    made = os.stat(source / "made")
    assert (made.st_uid, made.st_gid) == (0, 0)


def test_mount_mappings_of_its_own(idmapping, bundle, cid, source):
    # disk 1000 -> host 100005 -> container 5
    own = [{"containerID": 1000, "hostID": 100005, "size": 1}]
    bind(user_namespaced(bundle), source, ["rbind", "idmap"], uid=own, gid=own)
    assert owner_seen(idmapping, bundle, cid) == "5:5"


def test_mount_mappings_without_a_user_namespace(idmapping, bundle, cid, source):
    own = [{"containerID": 1000, "hostID": 2000, "size": 1}]
    bind(bundle, source, ["bind", "ro"], uid=own, gid=own)
    bundle.shell("stat -c %u:%g /home/owned; touch /home/x 2>&1; true")
    seen = idmapping("run", "--bundle", bundle.write(), cid).stdout
    assert seen.startswith("2000:2000\n") and "Read-only file system" in seen
    assert os.stat(source / "owned").st_uid == 1000      # the host's view stays


def test_idmap_of_a_mount_needing_mappings_fails_clearly(pyoci, bundle, cid, source):
    bind(bundle, source, ["rbind", "idmap"])
    result = pyoci("create", "--bundle", bundle.shell("true").write(), cid, check=False)
    assert result.returncode == 1
    assert "'idmap' needs uidMappings and gidMappings on the mount or a user " \
        "namespace" in result.stderr


@pytest.mark.skipif(not RUNC, reason="no runc")
def test_runc_1_1_ignores_idmap(bundle, cid, source, tmp_path, state_roots):
    state_roots.append(tmp_path / "runc-state")
    runc = Runtime("runc", [RUNC], tmp_path / "runc-state")
    bind(user_namespaced(bundle), source, ["rbind", "idmap"])
    assert owner_seen(runc, bundle, cid) == "65534:65534"

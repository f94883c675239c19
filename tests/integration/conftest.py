import itertools
import os
import shutil
import tempfile

import pytest

from pyoci.tests.integration.harness import (PYOCI, RUNC, Bundle, Runtime,
                                             cgroups_named, make_rootfs,
                                             mount_table, processes_with,
                                             wait_for)

pytestmark = pytest.mark.root
_counter = itertools.count()


@pytest.fixture(scope="session")
def rootfs():
    # Not under pytest's 0700 temp dirs: user-namespaced containers reach
    # the rootfs as an unprivileged host id, so every directory on the way
    # must be searchable.
    base = tempfile.mkdtemp(prefix="pyoci-rootfs-")
    os.chmod(base, 0o755)
    yield make_rootfs(os.path.join(base, "rootfs"))
    shutil.rmtree(base)


RUNTIMES = ["pyoci"] + (["runc"] if RUNC else [])


@pytest.fixture
def state_roots():
    """The state roots of the runtimes a test used, for host_untouched."""
    return []


@pytest.fixture(params=RUNTIMES)
def runtime(request, tmp_path, state_roots):
    argv = {"pyoci": [PYOCI], "runc": [RUNC]}[request.param]
    state_roots.append(tmp_path / "state")
    return Runtime(request.param, argv, tmp_path / "state")


@pytest.fixture
def pyoci(tmp_path, state_roots):
    state_roots.append(tmp_path / "state")
    return Runtime("pyoci", [PYOCI], tmp_path / "state")


@pytest.fixture
def cid(request):
    """A container id unique to this test, also used to find leftovers."""
    return "pyoci-test-%d-%d" % (os.getpid(), next(_counter))


@pytest.fixture
def bundle(tmp_path, rootfs, cid):
    return Bundle(tmp_path / ("bundle-" + cid), rootfs)


@pytest.fixture(autouse=True)
def host_untouched(cid, state_roots):
    """After each test: no mount, process, cgroup or state it made."""
    if os.geteuid() != 0:
        yield
        return
    mounts_before = mount_table()
    yield
    leftover = wait_for(lambda: not processes_with(cid), timeout=5)
    assert leftover, "processes left: %s" % processes_with(cid)
    assert mount_table() == mounts_before, "mounts changed"
    assert cgroups_named(cid) == [], "cgroups left"
    for root in state_roots:
        left = [name for name in os.listdir(root)] if os.path.isdir(root) else []
        assert left == [], "state left in %s: %s" % (root, left)

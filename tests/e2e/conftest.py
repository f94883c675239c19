import os
import tempfile

import pytest

from pyoci.tests.e2e.daemons import (CONTAINERD, CTR, DOCKER, DOCKERD, PODMAN,
                                     Daemons)


@pytest.fixture(scope="session")
def daemons():
    """A private containerd + dockerd for the whole session; after it, no
    daemon, mount, cgroup or directory of theirs is left."""
    missing = [name for name, path in (("docker", DOCKER), ("dockerd", DOCKERD),
               ("containerd", CONTAINERD), ("ctr", CTR), ("podman", PODMAN))
               if not path]
    if missing:
        pytest.skip("not installed: %s (scripts/setup installs them)" % ", ".join(missing))
    # Not under pytest's 0700 temp dirs: dockerd's and podman's container
    # processes reach their rootfs through it.
    base = tempfile.mkdtemp(prefix="pyoci-e2e-")
    os.chmod(base, 0o755)
    session = Daemons(base)
    session.start()
    yield session
    session.stop()
    alive = [d.name for d in (session.containerd, session.dockerd)
             if d.process.poll() is None]
    assert alive == [], "daemons left: %s" % alive
    assert session.mounts() == [], "mounts left"
    assert session.cgroup_dirs() == [], "cgroups left"
    assert session.helper_processes() == [], "processes left"
    assert not os.path.exists(base)


@pytest.fixture(params=["pyoci", "runc"])
def rt(request):
    """The runtime Docker, ctr and podman are pointed at."""
    return request.param


@pytest.fixture(autouse=True)
def callers_untouched(request):
    """After each test: no container, state, cgroup, mount or helper
    process left by what it made Docker, containerd or podman do."""
    if "daemons" not in request.fixturenames:
        yield
        return
    session = request.getfixturevalue("daemons")
    yield
    left = session.wait_clean()
    mounts = session.container_mounts()
    if left is not True or mounts:
        session.remove_containers()  # so that the next test starts clean
    assert left is True, "left behind: %s" % left
    assert mounts == [], "mounts left"

"""podman (through conmon) driving pyoci and runc, with private storage."""
import itertools
import os

import pytest

from pyoci.tests.e2e.daemons import IMAGE, LONG_RUNNING, PODMAN_LIMITS, checked

pytestmark = [pytest.mark.root, pytest.mark.e2e]
_names = itertools.count()


def podman_run(daemons, rt, *args):
    return daemons.podman(rt, "run", "--network", "none", *PODMAN_LIMITS,
                          "--cgroup-parent", daemons.podman_cgroup_parent, *args)


def test_run_rm(daemons, rt):
    result = podman_run(daemons, rt, "--rm", IMAGE, "sh", "-c",
                        "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_run_exec_stop_rm(daemons, rt):
    name = "e2e-%s-%d-%d" % (rt, os.getpid(), next(_names))
    checked(podman_run(daemons, rt, "-d", "--name", name, IMAGE, "sh", "-c", LONG_RUNNING))
    try:
        result = daemons.podman(rt, "exec", "-e", "X=1", name, "sh", "-c",
                                "echo exec $X; exit 4")
        assert (result.returncode, result.stdout) == (4, "exec 1\n")
        checked(daemons.podman(rt, "stop", name))
        state = checked(daemons.podman(
            rt, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name)).stdout
        assert state == "exited 0\n"
    finally:
        checked(daemons.podman(rt, "rm", "-f", name))
    assert daemons.podman(rt, "inspect", name).returncode != 0


def test_missing_binary(daemons, rt):
    result = podman_run(daemons, rt, "--rm", IMAGE, "/no/such/bin")
    assert result.returncode == 127
    assert 'exec: "/no/such/bin": stat /no/such/bin: no such file or directory' \
        in result.stderr

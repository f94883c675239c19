"""containerd's runc v2 shim driving pyoci and runc (`ctr run --runc-binary`)."""
import itertools
import os

import pytest

from pyoci.tests.e2e.daemons import LONG_RUNNING, checked
from pyoci.tests.integration.harness import wait_for

pytestmark = [pytest.mark.root, pytest.mark.e2e]
_ids = itertools.count()


@pytest.fixture
def task_id(rt):
    return "e2e-%s-%d-%d" % (rt, os.getpid(), next(_ids))


def ctr_run(daemons, rt, task_id, *args):
    return daemons.ctr("run", *daemons.ctr_run_options(rt),
                       "--cgroup", daemons.ctr_cgroup(task_id), *args[:-1],
                       daemons.ctr_image, task_id, *args[-1])


def task_status(daemons, task_id):
    for line in checked(daemons.ctr("tasks", "ls")).stdout.splitlines()[1:]:
        fields = line.split()
        if fields[0] == task_id:
            return fields[2]
    return None


def test_run_rm_output_and_exit_code(daemons, rt, task_id):
    result = ctr_run(daemons, rt, task_id, "--rm",
                     ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_exec_ps_pause_resume_kill(daemons, rt, task_id):
    checked(ctr_run(daemons, rt, task_id, "-d", ["sh", "-c", LONG_RUNNING]))
    try:
        assert task_status(daemons, task_id) == "RUNNING"
        result = daemons.ctr("tasks", "exec", "--exec-id", "one", task_id,
                             "sh", "-c", "echo from exec; exit 5")
        assert (result.returncode, result.stdout) == (5, "from exec\n")
        ps = checked(daemons.ctr("tasks", "ps", task_id)).stdout.splitlines()
        # the shell and its sleep, as host PIDs
        assert ps[0].split()[0] == "PID" and len(ps) == 3, ps
        assert all(os.path.exists("/proc/%s" % line.split()[0]) for line in ps[1:])
        checked(daemons.ctr("tasks", "pause", task_id))
        assert task_status(daemons, task_id) == "PAUSED"
        checked(daemons.ctr("tasks", "resume", task_id))
        assert task_status(daemons, task_id) == "RUNNING"
        checked(daemons.ctr("tasks", "kill", task_id))  # SIGTERM: the shell exits 0
        assert wait_for(lambda: task_status(daemons, task_id) == "STOPPED")
        checked(daemons.ctr("tasks", "delete", task_id))
    finally:
        checked(daemons.ctr("containers", "delete", task_id))


def test_errors_reach_the_user_with_the_runtime_message(daemons, rt, task_id):
    missing = ctr_run(daemons, rt, task_id, "--rm", ["/no/such/bin"])
    assert missing.returncode != 0
    assert 'exec: "/no/such/bin": stat /no/such/bin: no such file or directory' \
        in missing.stderr
    # A cwd that is a file: runc tries to create it, pyoci refuses it.
    broken = ctr_run(daemons, rt, task_id, "--rm", "--cwd", "/etc/passwd", ["true"])
    assert broken.returncode != 0
    expected = {
        "pyoci": "OCI runtime create failed: process.cwd: cannot change to "
                 "/etc/passwd: Not a directory",
        "runc": "OCI runtime create failed: runc create failed: unable to start "
                "container process: error during container init: "
                "mkdir /etc/passwd: not a directory",
    }[rt]
    assert expected in broken.stderr
    # A memory limit the runtime's own init does not fit in.
    tight = ctr_run(daemons, rt, task_id, "--rm", "--memory-limit", "4096", ["true"])
    assert tight.returncode != 0
    expected = {
        "pyoci": "OCI runtime create failed: container init was killed by the OOM "
                 "killer during create: linux.resources.memory.limit 4096 is too low",
        "runc": "unable to set memory limit to 4096 (current usage: ",
    }[rt]
    assert expected in tight.stderr

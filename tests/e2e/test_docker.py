"""A private dockerd driving pyoci and runc: what `docker` users see."""
import itertools
import os
import re

import pytest

from pyoci.tests.e2e.daemons import IMAGE, checked
from pyoci.tests.integration.harness import under_pty

pytestmark = [pytest.mark.root, pytest.mark.e2e]
_names = itertools.count()

# A size as `stty size` prints it, once one is set (Docker 20.10 resizes
# the terminal only after the process started, so the shell waits for it).
WAIT_FOR_SIZE = ('i=0; while [ $i -lt 100 ]; do s=$(stty size 2>/dev/null); '
                 '[ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i+1)); sleep 0.1; done; '
                 'echo "size $s"')


@pytest.fixture
def name(rt):
    return "e2e-%s-%d-%d" % (rt, os.getpid(), next(_names))


def test_run_rm_stdout_stderr_exit_code(daemons, rt):
    result = daemons.docker_run(rt, "--rm", IMAGE, "sh", "-c",
                                "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert checked(daemons.docker_run(rt, "--rm", IMAGE, "true")).stdout == ""


def test_default_seccomp_profile_is_loaded(daemons, rt):
    result = checked(daemons.docker_run(rt, "--rm", IMAGE, "grep", "^Seccomp:",
                                        "/proc/self/status"))
    assert result.stdout == "Seccomp:\t2\n"  # filter mode: Docker's profile


def test_missing_binary_is_127_with_the_runtime_message(daemons, rt):
    result = daemons.docker_run(rt, "--rm", IMAGE, "/no/such/bin")
    assert result.returncode == 127
    assert 'exec: "/no/such/bin": stat /no/such/bin: no such file or directory' \
        in result.stderr
    assert ("runc create failed" in result.stderr) == (rt == "runc")


def test_permission_denied_binary_is_126(daemons, rt):
    result = daemons.docker_run(rt, "--rm", IMAGE, "/etc/passwd")
    assert result.returncode == 126
    assert 'exec: "/etc/passwd": permission denied' in result.stderr


def test_broken_config_shows_the_runtime_error(daemons, rt):
    # Docker passes any net.* sysctl on; the kernel has no such file.
    result = daemons.docker_run(rt, "--rm", "--sysctl", "net.ipv4.no_such=1",
                                IMAGE, "true")
    assert result.returncode != 0
    expected = {
        "pyoci": "OCI runtime create failed: linux.sysctl.net.ipv4.no_such: "
                 "cannot write /proc/sys/net/ipv4/no_such: No such file or directory",
        "runc": "OCI runtime create failed: runc create failed: unable to start "
                "container process: error during container init: "
                "open /proc/sys/net/ipv4/no_such: no such file or directory",
    }[rt]
    assert expected in result.stderr


def test_run_t_is_a_pty(daemons, rt):
    result = checked(daemons.docker_run(rt, "--rm", "-t", IMAGE, "tty"))
    assert re.fullmatch(r"/dev/pts/\d+\r?\n", result.stdout), result.stdout


def test_run_t_sees_the_callers_window_size(daemons, rt):
    code, output = under_pty(daemons.docker_command(
        "run", "--runtime", rt, "--rm", "-t", IMAGE,
        "sh", "-c", WAIT_FOR_SIZE), 33, 111, env=daemons.client_env)
    assert code == 0 and "size 33 111" in output, output


def test_exec(daemons, rt, name):
    daemons.docker_daemon(rt, name, "-e", "FROM_RUN=1")
    result = daemons.docker("exec", "-e", "FROM_EXEC=2", "-w", "/tmp", "-u", "1000:1000",
                            name, "sh", "-c",
                            'echo $FROM_RUN $FROM_EXEC $(pwd) $(id -u); echo e >&2; exit 4')
    assert (result.returncode, result.stdout, result.stderr) == (4, "1 2 /tmp 1000\n", "e\n")
    # The exec shares the container's pid namespace: its sleep is there.
    ps = checked(daemons.docker("exec", name, "ps", "-o", "pid,args")).stdout
    assert re.search(r"^\s*1 sh -c trap", ps, re.M), ps
    missing = daemons.docker("exec", name, "/no/such")
    assert missing.returncode == 126
    assert 'exec: "/no/such": stat /no/such: no such file or directory' in missing.stdout + missing.stderr
    checked(daemons.docker("rm", "-f", name))


def test_exec_t_is_a_pty_with_the_callers_size(daemons, rt, name):
    daemons.docker_daemon(rt, name)
    code, output = under_pty(daemons.docker_command(
        "exec", "-t", name, "sh", "-c", "tty; " + WAIT_FOR_SIZE), 27, 93,
        env=daemons.client_env)
    assert code == 0, output
    assert re.search(r"^/dev/pts/\d+\r?$", output, re.M), output
    assert "size 27 93" in output, output
    checked(daemons.docker("rm", "-f", name))


def test_top_and_stats(daemons, rt, name):
    daemons.docker_daemon(rt, name, "--memory", "64m")
    top = checked(daemons.docker("top", name)).stdout
    assert "sleep 1000" in top and "trap" in top, top
    stats = checked(daemons.docker(
        "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", name)).stdout
    fields = stats.split()
    assert fields[:2] == [name, "2"], stats
    assert fields[-1] == "64MiB" and not fields[2].startswith("0B"), stats
    checked(daemons.docker("rm", "-f", name))


def test_pause_unpause(daemons, rt, name):
    daemons.docker_daemon(rt, name)
    checked(daemons.docker("pause", name))
    assert daemons.inspect(name, "{{.State.Status}}") == "paused"
    frozen = daemons.docker("exec", name, "true")
    assert frozen.returncode != 0 and "is paused" in frozen.stderr
    checked(daemons.docker("unpause", name))
    assert daemons.inspect(name, "{{.State.Status}}") == "running"
    assert checked(daemons.docker("exec", name, "echo", "thawed")).stdout == "thawed\n"
    checked(daemons.docker("rm", "-f", name))


def test_update_memory(daemons, rt, name):
    daemons.docker_daemon(rt, name, "--memory", "32m")
    limit = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
    assert checked(daemons.docker("exec", name, "sh", "-c", limit)).stdout == "33554432\n"
    checked(daemons.docker("update", "--memory", "64m", "--memory-swap", "128m", name))
    assert checked(daemons.docker("exec", name, "sh", "-c", limit)).stdout == "67108864\n"
    checked(daemons.docker("rm", "-f", name))


def test_stop_kill_rm_f(daemons, rt, name):
    stopped, killed, removed = (daemons.docker_daemon(rt, name + suffix)
                                for suffix in ("-stop", "-kill", "-rm"))
    checked(daemons.docker("stop", stopped))
    assert daemons.inspect(stopped, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    checked(daemons.docker("kill", killed))
    assert daemons.inspect(killed, "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
    checked(daemons.docker("rm", "-f", removed))
    assert daemons.docker("inspect", removed).returncode != 0
    checked(daemons.docker("rm", stopped, killed))


# option, shell command inside, what it prints
OPTIONS = [
    (["--user", "1000:1000"], "id -u; id -g", "1000\n1000\n"),
    (["--read-only"], "touch /x 2>&1; echo $?",
     "touch: /x: Read-only file system\n1\n"),
    (["--cap-drop", "ALL"], "grep CapEff /proc/self/status", "CapEff:\t0000000000000000\n"),
    (["--memory", "32m"], "cat /sys/fs/cgroup/memory/memory.limit_in_bytes", "33554432\n"),
    # Docker's smallest limit: the runtime's own work inside the cgroup fits
    (["--memory", "6m"], "cat /sys/fs/cgroup/memory/memory.limit_in_bytes", "6291456\n"),
    (["--pids-limit", "10"], "cat /sys/fs/cgroup/pids/pids.max", "10\n"),
    (["--tmpfs", "/scratch:size=1m"], "grep ' /scratch ' /proc/mounts | cut -d' ' -f1,3",
     "tmpfs tmpfs\n"),
    (["--network", "none"], "ls /sys/class/net", "lo\n"),
]


@pytest.mark.parametrize("options,script,expected", OPTIONS,
                         ids=["-".join(o[0]).lstrip("-") for o in OPTIONS])
def test_run_options(daemons, rt, options, script, expected):
    result = checked(daemons.docker_run(rt, "--rm", *options, IMAGE, "sh", "-c", script))
    assert result.stdout == expected


def test_bind_mount(daemons, rt, tmp_path):
    (tmp_path / "in").write_text("from host\n")
    result = checked(daemons.docker_run(
        rt, "--rm", "-v", "%s:/data" % tmp_path, "-v", "%s/in:/in:ro" % tmp_path, IMAGE,
        "sh", "-c", "cat /data/in; echo from container > /data/out; "
        "echo x > /in 2>/dev/null || echo read-only"))
    assert result.stdout == "from host\nread-only\n"
    assert (tmp_path / "out").read_text() == "from container\n"


def test_network_host_and_container(daemons, rt, name):
    host_netns = os.readlink("/proc/self/ns/net")
    netns = "readlink /proc/self/ns/net"
    assert checked(daemons.docker_run(rt, "--rm", "--network", "host", IMAGE,
                                      "sh", "-c", netns)).stdout == host_netns + "\n"
    daemons.docker_daemon(rt, name, "--network", "none")
    own = checked(daemons.docker("exec", name, "sh", "-c", netns)).stdout
    assert own != host_netns + "\n"
    joined = checked(daemons.docker_run(rt, "--rm", "--network", "container:" + name,
                                        IMAGE, "sh", "-c", netns)).stdout
    assert joined == own
    checked(daemons.docker("rm", "-f", name))

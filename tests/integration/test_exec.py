"""`exec` as Docker (`--process FILE`) and people (runc's argument form)
use it, the fds a caller passes on, and the session keyring; against
pyoci and runc alike."""
import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def running(runtime, bundle, cid):
    """A running container that idles (its command line names the test's
    id for the leak check); deleted afterwards."""
    runtime("run", "--detach", "--bundle",
            bundle.shell("sleep 1000; : %s" % cid).write(), cid)
    yield runtime.state(cid)["pid"]
    runtime("delete", "--force", cid)


def host_view(pid, name):
    with open("/proc/%d/%s" % (pid, name)) as f:
        return f.read()


def test_exec_joins_the_container(runtime, cid, running, tmp_path):
    init = running
    result = runtime("exec", "--detach", "--pid-file", tmp_path / "pid", cid,
                     "sleep", "1000")
    assert result.returncode == 0
    text = (tmp_path / "pid").read_text()
    assert text.isdigit()
    pid = int(text)
    for ns in ("mnt", "pid", "net", "ipc", "uts", "cgroup"):
        assert os.readlink("/proc/%d/ns/%s" % (pid, ns)) == \
            os.readlink("/proc/%d/ns/%s" % (init, ns)), ns
    assert host_view(pid, "cgroup") == host_view(init, "cgroup")
    assert os.readlink("/proc/%d/root" % pid) == "/"
    assert os.stat("/proc/%d/root/bin/busybox" % pid).st_ino == \
        os.stat("/proc/%d/root/bin/busybox" % init).st_ino


def test_exec_argument_form(runtime, cid, running):
    result = runtime("exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user",
                     "1000:1000", "--additional-gids", "65534", cid, "sh", "-c",
                     "echo $$ $FOO; pwd; id -u; id -g; id -G; hostname; "
                     "cat /proc/1/cmdline | tr '\\0' ' '; exit 7", check=False)
    lines = result.stdout.splitlines()
    assert result.returncode == 7, result.stderr
    assert lines[0].split()[1] == "bar" and lines[0].split()[0] != "1"
    assert lines[1:5] == ["/tmp", "1000", "1000", "1000 65534"]
    assert lines[5] == "pyoci-test"
    assert lines[6].startswith("sh -c sleep 1000")


def test_exec_process_file(runtime, cid, running, tmp_path):
    process = {"terminal": False, "user": {"uid": 1000, "gid": 1000},
               "args": ["sh", "-c", "id -u; echo $A; pwd; grep CapEff /proc/self/status"],
               "env": ["PATH=/bin", "A=from-file"], "cwd": "/home/user",
               "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                                "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"],
                                "ambient": ["CAP_KILL"]},
               "noNewPrivileges": True}
    (tmp_path / "process.json").write_text(json.dumps(process))
    result = runtime("exec", "--process", tmp_path / "process.json", cid)
    assert result.stdout.split() == ["1000", "from-file", "/home/user",
                                     "CapEff:", "0000000000000020"]


def test_exec_cap_adds_a_capability(runtime, cid, running):
    result = runtime("exec", "--cap", "CAP_SYS_ADMIN", cid, "grep", "CapEff",
                     "/proc/self/status")
    assert int(result.stdout.split()[1], 16) & (1 << 21)


@pytest.mark.parametrize("command, message", [
    ("no-such-program", "executable file not found in $PATH"),
    ("/etc/passwd", "permission denied"),
    ("/no/such/bin", "no such file or directory"),
])
def test_exec_errors_as_docker_reads_them(runtime, cid, running, command, message):
    result = runtime("exec", cid, command, check=False)
    assert result.returncode == 255  # runc's: the program never ran
    assert message in result.stderr


def test_exec_in_an_unknown_container_exits_255(runtime, cid):
    result = runtime("exec", cid, "true", check=False)
    assert result.returncode == 255
    assert "does not exist" in result.stderr


def test_exec_in_a_stopped_container(runtime, bundle, cid):
    runtime("run", "--detach", "--bundle", bundle.shell("true").write(), cid)
    try:
        result = runtime("exec", cid, "true", check=False)
    finally:
        runtime("delete", "--force", cid)
    assert result.returncode != 0
    assert "cannot exec in a stopped container" in result.stderr


def with_fds(runtime, redirections, *args, env="", pass_fds=()):
    """Run a runtime command through a shell that sets up fds 3.. first
    (the test process's own fd numbers are pytest's)."""
    command = " ".join("'%s'" % a for a in runtime.command(*args))
    return subprocess.run(["bash", "-c", "%s exec %s %s" % (env, command,
                                                           redirections)],
                          pass_fds=pass_fds, capture_output=True, text=True,
                          timeout=60)


def test_preserve_fds(runtime, bundle, cid, running):
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as pipe:
        try:
            result = with_fds(runtime, "3</dev/null 4</dev/null 5>&%d" % write_end,
                              "exec", "--preserve-fds", "3", cid, "sh", "-c",
                              "echo through-fd-5 >&5", pass_fds=(write_end,))
        finally:
            os.close(write_end)
        assert result.returncode == 0, result.stderr
        assert pipe.read() == "through-fd-5\n"


def test_preserve_fds_missing(runtime, bundle, cid):
    result = runtime("create", "--preserve-fds", "40", "--bundle",
                     bundle.shell("true").write(), cid, check=False)
    assert result.returncode != 0
    assert "unable to stat preserved-fd" in result.stderr


def test_socket_activation_fds_reach_the_program(runtime, bundle, cid):
    # pyoci started by systemd socket activation: LISTEN_PID is its pid.
    read_end, write_end = os.pipe()
    bundle.shell("echo activated >&3; echo $LISTEN_FDS $LISTEN_PID")
    with os.fdopen(read_end) as pipe:
        try:
            result = with_fds(runtime, "3>&%d" % write_end, "run", "--bundle",
                              bundle.write(), cid, pass_fds=(write_end,),
                              env="LISTEN_PID=$$ LISTEN_FDS=1")
        finally:
            os.close(write_end)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["1", "1"]
        assert pipe.read() == "activated\n"


@pytest.mark.parametrize("flag", [[], ["--no-new-keyring"]])
def test_session_keyring(runtime, bundle, cid, flag):
    bundle.linux["maskedPaths"] = [p for p in bundle.linux["maskedPaths"]
                                   if p != "/proc/keys"]
    bundle.shell("grep -c ' _ses.%s:' /proc/keys; true" % cid)
    result = runtime("run", *flag, "--bundle", bundle.write(), cid)
    assert result.stdout.split() == (["0"] if flag else ["1"])

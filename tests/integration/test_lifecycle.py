"""The lifecycle of runtime.md, operation by operation, as callers see it
through the command line; each test runs against pyoci and runc alike."""
import json
import signal
import subprocess
import sys
import time

import pytest

from pyoci.tests.integration.harness import stopped_container, wait_for

pytestmark = pytest.mark.root


def idle(bundle, cid):
    """A container that waits; its shell's command line names the test's
    id, so the leak check can find it."""
    bundle.shell("sleep 1000; : %s" % cid)
    return bundle.write()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_created_running_stopped_deleted(runtime, bundle, cid):
    runtime("create", "--bundle", idle(bundle, cid), cid)
    state = runtime.state(cid)
    assert state["status"] == "created"
    assert state["id"] == cid and state["pid"] > 0
    assert state["bundle"] == str(bundle.path)
    pid = state["pid"]
    assert alive(pid)
    runtime("start", cid)
    assert runtime.status(cid) == "running"
    runtime("kill", cid, "KILL")
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    assert not alive(pid)
    runtime("delete", cid)
    result = runtime("state", cid, check=False)
    assert result.returncode != 0 and "does not exist" in result.stderr


def test_status_is_creating_while_the_prestart_hooks_run(pyoci, bundle, cid, tmp_path):
    # pyoci only, a deliberate difference: runc 1.1.5 writes no state before
    # its hooks run, so `runc state` there says the container does not exist;
    # runtime.md's "creating" status is what pyoci reports.
    runtime = pyoci
    seen = tmp_path / "seen"
    bundle.config["hooks"] = {"prestart": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", " ".join(runtime.command("state", cid)) + " > %s" % seen]}]}
    runtime("create", "--bundle", idle(bundle, cid), cid)
    assert '"creating"' in seen.read_text()
    runtime("delete", "--force", cid)


def test_second_start_fails(runtime, bundle, cid):
    runtime("create", "--bundle", idle(bundle, cid), cid)
    runtime("start", cid)
    again = runtime("start", cid, check=False)
    assert again.returncode != 0
    assert "running" in again.stderr
    assert runtime.status(cid) == "running"
    runtime("delete", "--force", cid)


def test_start_of_a_stopped_container_fails(runtime, bundle, cid):
    stopped_container(runtime, bundle, cid)
    again = runtime("start", cid, check=False)
    assert again.returncode != 0 and "stopped" in again.stderr
    runtime("delete", cid)


def test_delete_of_a_running_container_needs_force(runtime, bundle, cid):
    runtime("create", "--bundle", idle(bundle, cid), cid)
    runtime("start", cid)
    refused = runtime("delete", cid, check=False)
    assert refused.returncode != 0
    assert "running" in refused.stderr
    assert runtime.status(cid) == "running"
    pid = runtime.state(cid)["pid"]
    runtime("delete", "--force", cid)
    assert wait_for(lambda: not alive(pid))


def test_delete_of_a_created_container(runtime, bundle, cid):
    # runc allows it and containerd relies on it (a task that never started).
    runtime("create", "--bundle", idle(bundle, cid), cid)
    pid = runtime.state(cid)["pid"]
    runtime("delete", cid)
    assert wait_for(lambda: not alive(pid))


def test_kill_of_a_stopped_container_says_not_running(runtime, bundle, cid):
    stopped_container(runtime, bundle, cid)
    refused = runtime("kill", cid, "TERM", check=False)
    assert refused.returncode != 0
    assert "container not running" in refused.stderr
    runtime("delete", cid)


def test_a_container_killed_before_start(runtime, bundle, cid):
    runtime("create", "--bundle", idle(bundle, cid), cid)
    runtime("kill", cid, "KILL")
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    runtime("delete", cid)


@pytest.mark.parametrize("command", [["state"], ["start"], ["kill"], ["delete"],
                                     ["kill", "--all"]])
def test_unknown_ids_do_not_exist(runtime, command):
    args = command + ["no-such-container"]
    if command[0] == "kill":
        args.append("TERM")
    result = runtime(*args, check=False)
    assert result.returncode != 0
    assert "does not exist" in result.stderr


def test_force_delete_of_an_unknown_id_succeeds(runtime):
    # containerd's shim deletes with --force after a failed create.
    assert runtime("delete", "--force", "no-such-container", check=False).returncode == 0


def test_run_returns_the_exit_code(runtime, bundle, cid):
    bundle.shell("exit 42")
    assert runtime("run", "--bundle", bundle.write(), cid, check=False).returncode == 42


def test_run_returns_128_plus_the_signal(runtime, bundle, cid, tmp_path):
    idle(bundle, cid)
    with open(tmp_path / "out", "wb") as out:
        foreground = subprocess.Popen(runtime.command("run", "--bundle", bundle.path, cid),
                                      stdout=out, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: runtime("state", cid, check=False).returncode == 0
                            and runtime.status(cid) == "running")
            runtime("kill", cid, "KILL")
            assert foreground.wait(timeout=30) == 128 + signal.SIGKILL
        finally:
            if foreground.poll() is None:
                foreground.kill()
                foreground.wait()


def test_run_forwards_signals_to_the_container(runtime, bundle, cid, tmp_path):
    bundle.shell("trap 'exit 7' TERM; while :; do sleep 0.1; done; : %s" % cid)
    bundle.write()
    with open(tmp_path / "out", "wb") as out:
        foreground = subprocess.Popen(runtime.command("run", "--bundle", bundle.path, cid),
                                      stdout=out, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: runtime("state", cid, check=False).returncode == 0
                            and runtime.status(cid) == "running")
            time.sleep(0.3)   # the shell has installed its trap
            foreground.send_signal(signal.SIGTERM)
            assert foreground.wait(timeout=30) == 7
        finally:
            if foreground.poll() is None:
                foreground.kill()
                foreground.wait()


def test_pid_file_holds_the_container_pid(runtime, bundle, cid, tmp_path):
    pid_file = tmp_path / "pid"
    runtime("create", "--bundle", idle(bundle, cid), "--pid-file", pid_file, cid)
    text = pid_file.read_text()
    assert text.isdigit() and int(text) == runtime.state(cid)["pid"]
    runtime("delete", "--force", cid)


def test_list_shows_the_containers(runtime, bundle, cid):
    runtime("create", "--bundle", idle(bundle, cid), cid)
    assert runtime("list", "-q").stdout.split() == [cid]
    table = runtime("list").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"]
    assert table[1].split()[0] == cid and "created" in table[1]
    runtime("delete", "--force", cid)


def test_the_caller_as_subreaper_inherits_the_container(runtime, bundle, cid, tmp_path):
    """With the caller a subreaper (as containerd's shim is), the container's
    init is its child once create returns, and no runtime process lingers."""
    script = tmp_path / "caller.py"
    script.write_text(
        "import ctypes, json, os, subprocess, sys\n"
        "ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER\n"
        "subprocess.run(sys.argv[1:], check=True, stdin=subprocess.DEVNULL,\n"
        "               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "state = json.loads(subprocess.run(sys.argv[1:4] + ['state', %r],\n"
        "                   check=True, capture_output=True).stdout)\n"
        "with open('/proc/%%d/status' %% state['pid']) as f:\n"
        "    ppid = [l.split()[1] for l in f if l.startswith('PPid:')][0]\n"
        "print(json.dumps({'me': os.getpid(), 'parent': int(ppid)}))\n" % cid)
    command = runtime.command("create", "--bundle", idle(bundle, cid), cid)
    out = subprocess.run([sys.executable, script] + command, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    seen = json.loads(out)
    assert seen["parent"] == seen["me"]
    lingering = [line for line in subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                                 text=True).stdout.splitlines()
                 if runtime.argv[0] in line and cid in line]
    assert lingering == []
    runtime("delete", "--force", cid)


def test_sigkill_to_the_runtime_mid_create_leaves_nothing_after_delete(pyoci, bundle, cid, tmp_path):
    # pyoci only, a named difference: runc 1.1.5 writes no state before its
    # prestart hooks, so after a SIGKILL there `delete --force` finds nothing
    # and the container's cgroups stay behind. pyoci's state names them
    # from the start.
    runtime = pyoci
    entered = tmp_path / "entered"
    bundle.config["hooks"] = {"prestart": [{
        "path": "/bin/sh", "args": ["sh", "-c", "touch %s; sleep 2; : %s" % (entered, cid)]}]}
    idle(bundle, cid)
    with open(tmp_path / "out", "wb") as out:
        create = subprocess.Popen(runtime.command("create", "--bundle", bundle.path, cid),
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        assert wait_for(entered.exists)
        create.kill()
        create.wait()
    assert runtime("delete", "--force", cid, check=False).returncode == 0
    assert "does not exist" in runtime("state", cid, check=False).stderr

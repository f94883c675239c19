"""Hooks as config.md orders them: when each runs, in which namespaces, the
state it reads on stdin, and what its failure does; against pyoci and runc."""
import json
import os

import pytest

from pyoci.tests.integration.harness import wait_for

pytestmark = pytest.mark.root

PHASES = ["prestart", "createRuntime", "createContainer", "startContainer",
          "poststart", "poststop"]
# startContainer runs inside the container, after pivot_root: its path and
# its log are the container's.
IN_CONTAINER_LOG = "/hooklog/log"


def recording_hook(phase, log):
    """A hook that appends `phase <its mount namespace> <the state on stdin>`."""
    script = ('printf "%%s %%s " %s "$(readlink /proc/self/ns/mnt)" >> %s; '
              'cat >> %s; echo >> %s' % (phase, log, log, log))
    return {"path": "/bin/sh", "args": ["sh", "-c", script]}


def failing_hook():
    return {"path": "/bin/sh", "args": ["sh", "-c", "echo hook says no >&2; exit 3"]}


def records(log):
    found = []
    for line in log.read_text().splitlines():
        phase, namespace, state = line.split(" ", 2)
        found.append((phase, namespace, json.loads(state)))
    return found


@pytest.fixture
def hook_log(tmp_path, bundle):
    """A host directory the container also sees at /hooklog."""
    directory = tmp_path / "hooklog"
    directory.mkdir()
    bundle.config["mounts"].append({"destination": "/hooklog", "type": "bind",
                                    "source": str(directory), "options": ["rbind"]})
    return directory / "log"


def test_order_side_and_state_of_every_hook(runtime, bundle, cid, hook_log):
    bundle.config["hooks"] = {
        phase: [recording_hook(phase, IN_CONTAINER_LOG if phase == "startContainer"
                               else hook_log)] for phase in PHASES}
    bundle.shell("sleep 1000; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    pid = runtime.state(cid)["pid"]
    container_ns = os.readlink("/proc/%d/ns/mnt" % pid)
    runtime("start", cid)
    assert wait_for(lambda: len(hook_log.read_text().splitlines()) == 5)
    runtime("kill", cid, "KILL")
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    runtime("delete", cid)

    seen = records(hook_log)
    order = [phase for phase, _, _ in seen]
    if runtime.name == "runc":
        # A named difference: runc 1.1.5 runs poststart hooks during create
        # (runc 1.2 moved them after the exec, where config.md puts them).
        order.remove("poststart")
        order.insert(PHASES.index("poststart"), "poststart")
    assert order == PHASES
    host_ns = os.readlink("/proc/self/ns/mnt")
    for phase, namespace, state in seen:
        expected = container_ns if phase in ("createContainer", "startContainer") else host_ns
        assert namespace == expected, phase
        assert state["id"] == cid, phase
        assert state["bundle"] == str(bundle.path), phase
        assert state["ociVersion"], phase
        in_container = phase in ("createContainer", "startContainer")
        if runtime.name == "runc" and in_container:
            # A named difference: runc 1.1.5 gives these hooks the pid as
            # the container sees it (1); the state's pid is the host's.
            assert state["pid"] == 1, phase
        elif phase != "poststop":
            assert state["pid"] == pid, phase
    statuses = {phase: state["status"] for phase, _, state in seen}
    # runc 1.1.5 runs poststart at create (see above), so it says created.
    assert statuses["poststart"] == ("created" if runtime.name == "runc" else "running")
    assert statuses["poststop"] == "stopped"


@pytest.mark.parametrize("phase", ["prestart", "createRuntime", "createContainer"])
def test_a_failing_create_hook_fails_create_and_leaves_nothing(runtime, bundle, cid, phase):
    bundle.config["hooks"] = {phase: [failing_hook()]}
    bundle.shell("sleep 1000; : %s" % cid)
    result = runtime("create", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode != 0
    assert "hook" in result.stderr
    assert "does not exist" in runtime("state", cid, check=False).stderr


def test_a_failing_prestart_hook_runs_no_later_hook(runtime, bundle, cid, hook_log):
    bundle.config["hooks"] = {
        "prestart": [failing_hook()],
        "createRuntime": [recording_hook("createRuntime", hook_log)],
    }
    bundle.shell("true")
    assert runtime("create", "--bundle", bundle.write(), cid, check=False).returncode != 0
    assert not hook_log.exists()


def test_a_failing_poststart_hook_fails_start_and_stops_the_container(pyoci, bundle, cid):
    # pyoci only: runc 1.1.5 runs poststart at create, so there it is
    # create that fails.
    runtime = pyoci
    bundle.config["hooks"] = {"poststart": [failing_hook()]}
    bundle.shell("sleep 1000; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    result = runtime("start", cid, check=False)
    assert result.returncode != 0
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    runtime("delete", cid)


def test_a_failing_poststop_hook_does_not_stop_delete(runtime, bundle, cid):
    bundle.config["hooks"] = {"poststop": [failing_hook()]}
    bundle.shell("true")
    runtime("run", "--bundle", bundle.write(), cid)
    assert "does not exist" in runtime("state", cid, check=False).stderr


def test_a_hook_past_its_timeout_fails_create(runtime, bundle, cid):
    bundle.config["hooks"] = {"prestart": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}]}
    bundle.shell("true")
    result = runtime("create", "--bundle", bundle.write(), cid, check=False, timeout=20)
    assert result.returncode != 0
    assert "does not exist" in runtime("state", cid, check=False).stderr


def test_hook_env_and_args_are_passed(runtime, bundle, cid, tmp_path):
    out = tmp_path / "env"
    bundle.config["hooks"] = {"prestart": [{
        "path": "/bin/sh", "args": ["sh", "-c", 'echo "$0 $GREETING" > %s' % out, "zero"],
        "env": ["GREETING=hello"]}]}
    bundle.shell("true")
    runtime("run", "--bundle", bundle.write(), cid)
    assert out.read_text().split() == ["zero", "hello"]

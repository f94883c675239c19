"""runtime.md and config.md, MUST by MUST, on real containers under pyoci
and runc (no runtime-tools needed). Each test names the sentence it checks.

MUSTs checked elsewhere, not repeated here:
- lifecycle order and the side and state of every hook, a failing hook at
  each step, poststop failure as a warning: tests/integration/test_hooks.py
- start of a running or stopped container, delete of a running one, kill of
  a stopped one, unknown ids: tests/integration/test_lifecycle.py
- hook stdin status, no mount namespace, rootfsPropagation, device rule
  order: tests/integration/test_spec_edges.py
"""
import os

import pytest

from pyoci.spec.full import schema_problems
from pyoci.tests.integration.harness import wait_for

pytestmark = pytest.mark.root


def outbox(bundle, tmp_path):
    """A host directory the container writes to at /out."""
    directory = tmp_path / "out"
    directory.mkdir(exist_ok=True)
    bundle.config["mounts"].append({"destination": "/out", "type": "bind",
                                    "source": str(directory), "options": ["rbind"]})
    return directory


def cgroup_dirs(relative):
    return [os.path.join("/sys/fs/cgroup", h, relative.lstrip("/"))
            for h in ("pids", "memory", "devices")
            if os.path.isdir(os.path.join("/sys/fs/cgroup", h, relative.lstrip("/")))]


# -- State ----------------------------------------------------------------

def test_state_fields_and_schema(runtime, bundle, cid):
    """State: ociVersion, id, status, pid, bundle (an absolute path),
    annotations; 'the format MUST adhere to the JSON Schema'."""
    bundle.config["annotations"] = {"org.example.key": "value"}
    bundle.shell("sleep 1000; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    try:
        state = runtime.state(cid)
        assert schema_problems(state, "state.schema.json") == []
        assert state["id"] == cid and state["status"] == "created"
        assert state["bundle"] == str(bundle.path) and os.path.isabs(state["bundle"])
        if runtime.name == "runc":
            # runc 1.1.5 reports the spec version it was built with.
            assert state["ociVersion"] == "1.0.2-dev"
        else:
            assert state["ociVersion"] == bundle.config["ociVersion"]
        assert state["annotations"] == {"org.example.key": "value"}
        with open("/proc/%d/status" % state["pid"]) as f:
            assert "State:" in f.read()   # the pid is a live host process
    finally:
        runtime("delete", "--force", cid)


# -- Operations without an id ----------------------------------------------

@pytest.mark.parametrize("command", ["state", "start", "kill", "delete"])
def test_an_operation_without_the_container_id_is_an_error(runtime, command):
    """'This operation MUST generate an error if it is not provided the
    container ID' (state, start, kill, delete)."""
    assert runtime(command, check=False).returncode != 0


def test_create_without_an_id_is_an_error(runtime, bundle):
    """create 'MUST generate an error if it is not provided a path to the
    bundle and the container ID'."""
    assert runtime("create", "--bundle", bundle.write(), check=False).returncode != 0
    assert runtime("list", "-q").stdout.split() == []


# -- create ---------------------------------------------------------------

def test_an_id_in_use_is_an_error_and_creates_nothing(runtime, bundle, cid):
    """'If the ID provided is not unique ... MUST generate an error and a new
    container MUST NOT be created.'"""
    bundle.shell("sleep 1000; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    try:
        first = runtime.state(cid)
        again = runtime("create", "--bundle", bundle.write(), cid, check=False)
        assert again.returncode != 0
        assert runtime.state(cid) == first
        assert runtime("list", "-q").stdout.split() == [cid]
    finally:
        runtime("delete", "--force", cid)


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "."])
def test_an_invalid_id_is_an_error(runtime, bundle, bad_id):
    """'... or is not valid in any other way, the implementation MUST generate
    an error.'"""
    bundle.args("true")
    assert runtime("create", "--bundle", bundle.write(), bad_id, check=False).returncode != 0
    assert runtime("list", "-q").stdout.split() == []


def test_process_args_wait_for_start(runtime, bundle, cid, tmp_path):
    """'process.args MUST NOT be applied until triggered by the start
    operation'; start 'MUST run the user-specified program'."""
    out = outbox(bundle, tmp_path)
    bundle.shell("echo ran > /out/ran; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    assert not (out / "ran").exists()
    runtime("start", cid)
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    assert (out / "ran").read_text() == "ran\n"
    runtime("delete", cid)


def test_config_changes_after_create_do_not_affect_the_container(runtime, bundle, cid, tmp_path):
    """'Any updates to config.json after this step MUST NOT affect the
    container.'"""
    out = outbox(bundle, tmp_path)
    bundle.shell("echo first > /out/which; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    bundle.shell("echo second > /out/which; : %s" % cid)
    bundle.config["hostname"] = "changed"
    bundle.write()
    assert runtime.state(cid)["bundle"] == str(bundle.path)
    runtime("start", cid)
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    assert (out / "which").read_text() == "first\n"
    runtime("delete", cid)


def test_a_property_that_cannot_be_applied_fails_create_and_leaves_nothing(
        runtime, bundle, cid, tmp_path):
    """'If the runtime cannot apply a property as specified ... it MUST
    generate an error and a new container MUST NOT be created'; an error
    'MUST leave the state of the environment as if the operation were never
    attempted' (host_untouched checks mounts, processes, cgroups)."""
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": str(tmp_path / "absent"), "options": ["rbind"]})
    bundle.linux["cgroupsPath"] = "/pyoci-md-" + cid
    bundle.shell("sleep 1000; : %s" % cid)
    assert runtime("create", "--bundle", bundle.write(), cid, check=False).returncode != 0
    assert runtime("state", cid, check=False).returncode != 0
    assert runtime("list", "-q").stdout.split() == []
    assert cgroup_dirs("/pyoci-md-" + cid) == []


# -- kill -----------------------------------------------------------------

def test_kill_sends_the_signal_to_the_container_process(runtime, bundle, cid, tmp_path):
    """'This operation MUST send the specified signal to the container
    process.'"""
    out = outbox(bundle, tmp_path)
    bundle.shell("trap 'echo USR1 > /out/got; exit 0' USR1; echo up > /out/up; "
                 "while :; do sleep 0.1; done; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    runtime("start", cid)
    assert wait_for(lambda: (out / "up").exists())
    runtime("kill", cid, "USR1")
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    assert (out / "got").read_text() == "USR1\n"
    runtime("delete", cid)


# -- delete ---------------------------------------------------------------

def test_delete_removes_what_create_made_and_only_that(runtime, bundle, cid):
    """'Deleting a container MUST delete the resources that were created
    during the create step. Note that resources associated with the
    container, but not created by this container, MUST NOT be deleted.'"""
    parent = "/pyoci-md-parent-" + cid
    made = []
    for hierarchy in sorted(os.listdir("/sys/fs/cgroup")):
        if os.path.exists(os.path.join("/sys/fs/cgroup", hierarchy, "cgroup.procs")):
            path = os.path.join("/sys/fs/cgroup", hierarchy, parent.lstrip("/"))
            os.mkdir(path)
            made.append(path)
    try:
        bundle.linux["cgroupsPath"] = parent + "/" + cid
        bundle.linux["resources"] = {"pids": {"limit": 50}}
        bundle.shell("sleep 1000; : %s" % cid)
        runtime("create", "--bundle", bundle.write(), cid)
        assert cgroup_dirs(parent + "/" + cid)
        runtime("delete", "--force", cid)
        assert cgroup_dirs(parent + "/" + cid) == []
        assert all(os.path.isdir(p) for p in made)
        assert runtime("state", cid, check=False).returncode != 0
    finally:
        for path in made:
            if os.path.isdir(path):
                os.rmdir(path)


# -- config.md --------------------------------------------------------------

def test_mounts_in_the_listed_order(runtime, bundle, cid, tmp_path):
    """config.md mounts: 'The runtime MUST mount entries in the listed
    order.' A later mount lands inside an earlier one."""
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "marker").write_text("inner\n")
    bundle.config["mounts"] += [
        {"destination": "/stack", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/stack/in", "type": "bind", "source": str(inner), "options": ["rbind"]},
    ]
    bundle.shell("cat /stack/in/marker; grep -c ' /stack' /proc/self/mountinfo")
    out = runtime("run", "--bundle", bundle.write(), cid).stdout.split()
    assert out == ["inner", "2"]


def test_unknown_properties_and_annotations_are_not_errors(runtime, bundle, cid):
    """config.md: runtimes 'MUST NOT generate an error if they encounter an
    unknown property' nor 'an unknown annotation key'."""
    bundle.config["org.example.unknown"] = {"anything": [1, 2]}
    bundle.process["org.example.unknownToo"] = True
    bundle.config["annotations"] = {"org.example.never-heard-of": "x"}
    bundle.args("true")
    assert runtime("run", "--bundle", bundle.write(), cid).returncode == 0


def test_an_invalid_oci_version_is_an_error(runtime, bundle, cid):
    """config.md: 'Runtimes that are reading or processing this configuration
    file MUST generate an error when invalid or unsupported values are
    encountered' (ociVersion MUST be SemVer v2)."""
    bundle.config["ociVersion"] = "invalid"
    bundle.args("true")
    result = runtime("create", "--bundle", bundle.write(), cid, check=False)
    if runtime.name == "runc":
        # runc 1.1.5 does not check ociVersion: a named difference.
        assert result.returncode == 0
        runtime("delete", "--force", cid)
        return
    assert result.returncode != 0 and "ociVersion" in result.stderr


def test_default_devices_filesystems_and_links(runtime, bundle, cid):
    """config-linux.md: the default devices 'MUST' exist (null, zero, full,
    random, urandom, tty, console, ptmx), /dev/fd, stdin, stdout, stderr
    'MUST' be symlinks, and the default filesystems are mounted."""
    bundle.shell("for d in null zero full random urandom tty ptmx; do "
                 "  stat -L -c '%n %F %t:%T' /dev/$d; done; "
                 "for l in fd stdin stdout stderr; do readlink /dev/$l; done; "
                 "awk '{print $5}' /proc/self/mountinfo")
    out = runtime("run", "--bundle", bundle.write(), cid).stdout.splitlines()
    devices = {line.split()[0]: line.split()[-1] for line in out[:7]}
    assert devices == {"/dev/null": "1:3", "/dev/zero": "1:5", "/dev/full": "1:7",
                       "/dev/random": "1:8", "/dev/urandom": "1:9", "/dev/tty": "5:0",
                       "/dev/ptmx": "5:2"}
    assert all("character special" in line for line in out[:7])
    assert out[7:11] == ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1",
                         "/proc/self/fd/2"]
    assert {"/proc", "/sys", "/dev", "/dev/pts", "/dev/shm"} <= set(out[11:])


def test_run_gives_process_env_cwd_and_user(runtime, bundle, cid, tmp_path):
    """config.md process: env, cwd and user.uid/gid/additionalGids as given."""
    bundle.process["env"] = ["PATH=/bin", "ONLY=this"]
    bundle.process["cwd"] = "/tmp"
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [65534]}
    bundle.shell("echo $ONLY; pwd; id -u; id -g; id -G")
    out = runtime("run", "--bundle", bundle.write(), cid).stdout.split()
    assert out[:4] == ["this", "/tmp", "1000", "1000"]
    assert "65534" in out[4:]

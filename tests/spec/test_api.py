"""The calls the runtime makes: check_config, state_document, default_config."""
import copy
import json
import os
from pathlib import Path

import pytest

from pyoci.spec import OCI_VERSION, validate
from pyoci.spec.defaults import default_config
from pyoci.spec.errors import InvalidSpec, PyociError
from pyoci.spec.state import state_document

RUNC_SPEC = Path(__file__).parent / "data" / "runc-1.1-spec.json"


def test_check_config_raises_with_every_problem():
    doc = default_config()
    doc["process"]["cwd"] = "tmp"
    doc["linux"]["namespaces"].append({"type": "foo"})
    with pytest.raises(InvalidSpec) as error:
        validate.check_config(doc)
    assert isinstance(error.value, PyociError)
    assert error.value.problems == [
        "linux.namespaces[%d].type: 'foo' is not one of ['mount', 'pid', 'network', 'uts', 'ipc', 'user', "
        "'cgroup', 'time']" % (len(doc["linux"]["namespaces"]) - 1),
        "process.cwd: 'tmp' is not an absolute path [process-cwd-absolute]",
    ]
    assert str(error.value).startswith("invalid config.json:\n  linux.namespaces[")


def test_check_config_accepts_a_valid_config():
    assert validate.check_config(default_config()) is None


def test_default_config_is_what_runc_spec_writes():
    # runc 1.1 `runc spec` on a cgroup v2 host, with pyoci's ociVersion; key order matters to
    # anyone diffing the two.
    expected = RUNC_SPEC.read_text()
    assert json.dumps(default_config(cgroup_namespace=True), indent="\t") + "\n" == expected
    assert OCI_VERSION == json.loads(expected)["ociVersion"]


def test_default_config_follows_the_hosts_cgroup_mode():
    cgroup2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    assert ({"type": "cgroup"} in default_config()["linux"]["namespaces"]) == cgroup2
    assert {"type": "cgroup"} not in default_config(cgroup_namespace=False)["linux"]["namespaces"]


def test_rootless_default_config_is_runcs_to_rootless():
    plain, rootless = default_config(cgroup_namespace=True), default_config(rootless=True, cgroup_namespace=True)
    assert [ns["type"] for ns in rootless["linux"]["namespaces"]] == ["pid", "ipc", "uts", "mount", "cgroup", "user"]
    assert rootless["linux"]["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert rootless["linux"]["gidMappings"] == [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
    assert list(rootless["linux"]) == ["uidMappings", "gidMappings", "namespaces", "maskedPaths", "readonlyPaths"]
    sys_mount = [m for m in rootless["mounts"] if m["destination"] == "/sys"]
    assert sys_mount == [{"destination": "/sys", "type": "none", "source": "/sys",
                          "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}]
    devpts = [m for m in rootless["mounts"] if m["destination"] == "/dev/pts"][0]
    assert devpts["options"] == ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    unchanged = [m for m in plain["mounts"] if m["destination"] not in ("/sys", "/dev/pts")]
    assert [m for m in rootless["mounts"] if m["destination"] not in ("/sys", "/dev/pts")] == unchanged
    assert {k: v for k, v in rootless.items() if k != "linux" and k != "mounts"} == \
        {k: v for k, v in plain.items() if k != "linux" and k != "mounts"}
    assert validate.config_problems(rootless) == []
    assert validate.config_warnings(rootless) == []


def test_default_configs_are_fresh_objects():
    first = default_config()
    first["mounts"].clear()
    assert default_config()["mounts"]


@pytest.mark.parametrize("status", ["created", "running"])
def test_state_document_while_the_process_exists(status):
    doc = state_document("c1", status, 1234, "/run/bundle", {"a.b": "c"})
    assert doc == {"ociVersion": "1.3.0", "id": "c1", "status": status, "pid": 1234, "bundle": "/run/bundle",
                   "annotations": {"a.b": "c"}}
    assert list(doc) == ["ociVersion", "id", "status", "pid", "bundle", "annotations"]


def test_state_document_leaves_out_a_stopped_pid_and_empty_annotations():
    assert state_document("c1", "stopped", 1234, "/run/bundle", {}) == {
        "ociVersion": "1.3.0", "id": "c1", "status": "stopped", "bundle": "/run/bundle"}
    assert "pid" not in state_document("c1", "creating", None, "/b")


@pytest.mark.parametrize("args, problem", [
    (("c1", "running", None, "/b"), "(root): 'pid' is required when status is 'running' [state-pid-required]"),
    (("c1", "paused", 1, "/b"), "status: 'paused' is not one of ['creating', 'created', 'running', 'stopped']"),
    (("c1", "created", -1, "/b"), "pid: -1 is less than the minimum of 0"),
    (("c1", "created", 1, "b"), "bundle: 'b' is not an absolute path [state-bundle-absolute]"),
])
def test_state_document_refuses_what_the_spec_forbids(args, problem):
    with pytest.raises(InvalidSpec) as error:
        state_document(*args)
    assert error.value.problems == [problem]


def test_process_problems_for_exec():
    process = copy.deepcopy(default_config()["process"])
    assert validate.process_problems(process) == []
    del process["cwd"]
    process["args"] = []
    assert validate.process_problems(process) == [
        "(root): 'cwd' is a required property",
        "args: needs at least one entry [process-args-required]",
    ]

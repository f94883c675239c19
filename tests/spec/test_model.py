"""The typed model: defaults the spec gives, values it keeps, documents it writes."""
import json

import pytest

from pyoci.spec.defaults import default_config
from pyoci.spec.model import Config, DeviceRule, Features, Namespace, Process, Root, State, User

from .upstream import EXAMPLES_DIR, SPEC_DIR

needs_examples = pytest.mark.skipif(not SPEC_DIR.is_dir(), reason="upstream examples not found at %s" % SPEC_DIR)


def test_spec_defaults_apply_to_a_minimal_config():
    config = Config.from_dict({"ociVersion": "1.3.0", "root": {"path": "rootfs"},
                               "process": {"cwd": "/", "args": ["sh"]}})
    assert config.oci_version == "1.3.0"
    assert (config.root.path, config.root.readonly) == ("rootfs", False)
    process = config.process
    assert (process.terminal, process.user.uid, process.user.gid, process.user.umask) == (False, 0, 0, None)
    assert process.capabilities is None  # absent: the runtime leaves them alone
    assert (process.env, process.rlimits, process.no_new_privileges) == ([], [], False)
    assert config.mounts == [] and config.annotations == {}
    assert config.hooks.prestart == [] and config.hooks.poststop == []
    assert config.linux.namespaces == [] and config.linux.resources is None
    assert config.linux.namespace("pid") is None


def test_values_are_kept_under_snake_case_names():
    config = Config.from_dict(default_config(cgroup_namespace=True))
    assert config.process.capabilities.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert config.process.rlimits[0].type == "RLIMIT_NOFILE" and config.process.rlimits[0].hard == 1024
    assert config.process.no_new_privileges is True
    assert [m.destination for m in config.mounts][:2] == ["/proc", "/dev"]
    assert config.mounts[1].options == ["nosuid", "strictatime", "mode=755", "size=65536k"]
    assert config.linux.namespace("cgroup").type == "cgroup"
    assert config.linux.resources.devices[0].allow is False
    assert config.linux.resources.devices[0].type == "a"  # unset means all
    assert config.linux.masked_paths[0] == "/proc/acpi"


@needs_examples
def test_spec_example_in_full():
    config = Config.from_dict(json.loads((EXAMPLES_DIR / "config/good/spec-example.json").read_text()))
    assert config.process.user.additional_gids == [5, 6]
    assert config.linux.uid_mappings[0].host_id == 1000 and config.linux.uid_mappings[0].size == 32000
    assert config.linux.resources.memory.kernel_tcp == -1
    assert config.linux.resources.memory.disable_oom_killer is False
    assert config.linux.resources.block_io.weight_device[1].leaf_weight is None
    assert config.linux.resources.block_io.throttle_read_bps_device[0].rate == 600
    assert config.linux.resources.network.priorities[1].name == "eth1"
    assert config.linux.resources.hugepage_limits[0].page_size == "2MB"
    assert config.linux.seccomp.syscalls[0].names == ["getcwd", "chmod"]
    assert config.linux.time_offsets["boottime"].secs == 604800
    assert config.hooks.poststart[0].timeout == 5
    assert config.hooks.create_runtime[0].args == ["fix-mounts", "arg1", "arg2"]
    assert config.linux.devices[0].file_mode == 438


def test_an_empty_namespace_path_joins_nothing():
    assert Namespace.from_dict({"type": "network", "path": ""}).path is None
    assert Namespace.from_dict({"type": "network", "path": "/run/netns/a"}).path == "/run/netns/a"
    assert DeviceRule.from_dict({"allow": True, "type": ""}).type == "a"


def test_root_host_path(tmp_path):
    assert Root(path="rootfs").host_path("/b/x") == "/b/x/rootfs"
    assert Root(path="/var/lib/r/").host_path("/b/x") == "/var/lib/r"


def test_env_dict_keeps_the_last_value():
    assert Process(env=["A=1", "B=x=y", "A=2"]).env_dict() == {"A": "2", "B": "x=y"}


def test_model_does_not_share_containers_with_the_dict():
    doc = {"ociVersion": "1.3.0", "process": {"cwd": "/", "args": ["sh"]}}
    config = Config.from_dict(doc)
    config.process.args.append("-c")
    assert doc["process"]["args"] == ["sh"]


def test_unknown_fields_are_refused_by_the_constructor():
    with pytest.raises(TypeError, match="User has no field name"):
        User(name="x")


def test_state_round_trip():
    state = State.from_dict({"ociVersion": "1.3.0", "id": "c", "status": "running", "pid": 7, "bundle": "/b"})
    assert (state.id, state.status, state.pid, state.annotations) == ("c", "running", 7, {})
    assert state.to_dict() == {"ociVersion": "1.3.0", "id": "c", "status": "running", "pid": 7, "bundle": "/b"}
    state.status = "stopped"
    assert "pid" not in state.to_dict()


@needs_examples
def test_features_round_trip():
    doc = json.loads((EXAMPLES_DIR / "features/good/runc.json").read_text())
    features = Features.from_dict(doc)
    assert features.linux.seccomp.known_flags == ["SECCOMP_FILTER_FLAG_LOG"]
    assert features.linux.cgroup.systemd_user is True and features.linux.cgroup.rdma is None
    assert features.linux.net_devices.enabled is True
    assert features.linux.mount_extensions is None  # unknown, not false
    assert features.to_dict() == doc


def test_features_built_in_code():
    assert Features(oci_version_min="1.0.0", oci_version_max="1.3.0", hooks=["prestart"]).to_dict() == {
        "ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "hooks": ["prestart"]}

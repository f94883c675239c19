"""Each semantic rule, on a document that pyoci's schema (and upstream's)
accepts: the rule, and only it, reports the break, at the right JSON path."""
import copy

import pytest

from pyoci.spec import full, validate
from pyoci.spec.defaults import default_config
from pyoci.spec.rules import CONFIG, ERROR, PROCESS, RULES, STATE, WARNING

from . import upstream as up

BASE_CONFIG = default_config(cgroup_namespace=True)
BASE_STATE = {"ociVersion": "1.3.0", "id": "c1", "status": "running", "pid": 42, "bundle": "/b"}
MAPPING = {"containerID": 0, "hostID": 1000, "size": 1}


def linux(doc):
    return doc["linux"]


def drop_namespace(doc, kind):
    linux(doc)["namespaces"] = [ns for ns in linux(doc)["namespaces"] if ns["type"] != kind]


def add_namespace(doc, kind):
    linux(doc)["namespaces"].append({"type": kind})


def set_in(*path_and_value):
    """A mutation setting doc[path...] = value, creating objects on the way."""
    *path, value = path_and_value

    def mutate(doc):
        for key in path[:-1]:
            doc = doc.setdefault(key, {}) if isinstance(key, str) else doc[key]
        doc[path[-1]] = value
    return mutate


def both(*mutations):
    def mutate(doc):
        for mutation in mutations:
            mutation(doc)
    return mutate


# (rule, mutation of BASE_CONFIG, or of BASE_STATE for state rules, path of the problem)
CASES = [
    ("oci-version-semver", set_in("ociVersion", "1.0"), "ociVersion"),
    ("root-required", lambda d: d.pop("root"), "(root)"),
    ("process-required", lambda d: d.pop("process"), "(root)"),
    ("hook-path-absolute", set_in("hooks", "prestart", [{"path": "bin/hook"}]), "hooks.prestart[0].path"),
    ("annotation-key-nonempty", set_in("annotations", {"": "x"}), 'annotations[""]'),
    ("mount-destination-absolute", set_in("mounts", 0, "destination", "proc"), "mounts[0].destination"),
    ("mount-idmap-mappings-paired", both(set_in("mounts", 0, "type", "bind"),
                                         set_in("mounts", 0, "uidMappings", [MAPPING])), "mounts[0]"),
    ("mount-idmap-needs-mapping", set_in("mounts", 0, "options", ["rbind", "idmap"]), "mounts[0].options"),
    ("mount-idmap-bind-only", both(set_in("mounts", 1, "uidMappings", [MAPPING]),
                                   set_in("mounts", 1, "gidMappings", [MAPPING])), "mounts[1]"),
    ("namespace-type-unique", lambda d: add_namespace(d, "pid"), "linux.namespaces[6].type"),
    ("namespace-path-absolute", set_in("linux", "namespaces", 1, "path", "run/netns/x"), "linux.namespaces[1].path"),
    ("user-namespace-needs-mappings", both(lambda d: add_namespace(d, "user"),
                                           set_in("linux", "uidMappings", [MAPPING])), "linux.namespaces[6]"),
    ("id-mappings-need-user-namespace", set_in("linux", "gidMappings", [MAPPING]), "linux.gidMappings"),
    ("time-offsets-need-time-namespace", set_in("linux", "timeOffsets", {"monotonic": {"secs": 1}}),
     "linux.timeOffsets"),
    ("time-offsets-clock-known", both(lambda d: add_namespace(d, "time"),
                                      set_in("linux", "timeOffsets", {"realtime": {"secs": 1}})),
     "linux.timeOffsets.realtime"),
    ("hostname-needs-uts-namespace", lambda d: drop_namespace(d, "uts"), "hostname"),
    ("restricted-paths-need-mount-namespace", both(lambda d: drop_namespace(d, "mount"),
                                                   lambda d: linux(d).pop("readonlyPaths")), "linux.maskedPaths"),
    ("masked-path-absolute", lambda d: linux(d)["maskedPaths"].append("proc/kcore"), "linux.maskedPaths[10]"),
    ("readonly-path-absolute", set_in("linux", "readonlyPaths", 0, "proc/bus"), "linux.readonlyPaths[0]"),
    ("device-path-absolute", set_in("linux", "devices", [{"type": "c", "path": "dev/fuse", "major": 10, "minor": 229}]),
     "linux.devices[0].path"),
    ("device-type-known", set_in("linux", "devices", [{"type": "c\n", "path": "/dev/fuse", "major": 10, "minor": 229}]),
     "linux.devices[0].type"),
    ("device-major-minor-required", set_in("linux", "devices", [{"type": "b", "path": "/dev/sda", "major": 8}]),
     "linux.devices[0]"),
    ("device-cgroup-type", set_in("linux", "resources", "devices", 0, "type", "x"), "linux.resources.devices[0].type"),
    ("device-cgroup-access", set_in("linux", "resources", "devices", 0, "access", "rwx"),
     "linux.resources.devices[0].access"),
    ("blockio-weight-device-weight", set_in("linux", "resources", "blockIO", {"weightDevice": [{"major": 8, "minor": 0}]}),
     "linux.resources.blockIO.weightDevice[0]"),
    ("rdma-limit-required", set_in("linux", "resources", "rdma", {"mlx5_1": {}}), "linux.resources.rdma.mlx5_1"),
    ("seccomp-errno-action", set_in("linux", "seccomp", {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}),
     "linux.seccomp.defaultErrnoRet"),
    ("seccomp-listener-metadata-needs-path",
     set_in("linux", "seccomp", {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}),
     "linux.seccomp.listenerMetadata"),
    ("seccomp-notify-needs-listener",
     set_in("linux", "seccomp", {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]}),
     "linux.seccomp.syscalls[0].action"),
    ("seccomp-notify-not-default",
     set_in("linux", "seccomp", {"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"}),
     "linux.seccomp.defaultAction"),
    ("memory-policy-mode-required", set_in("linux", "memoryPolicy", {"nodes": "0"}), "linux.memoryPolicy"),
    ("memory-policy-nodes", set_in("linux", "memoryPolicy", {"mode": "MPOL_LOCAL", "nodes": "0-1"}),
     "linux.memoryPolicy.nodes"),
    ("memory-policy-nodes-syntax", set_in("linux", "memoryPolicy", {"mode": "MPOL_BIND", "nodes": "3-1"}),
     "linux.memoryPolicy.nodes"),
    ("personality-domain-required", set_in("linux", "personality", {"flags": []}), "linux.personality"),
    ("net-device-name-valid", set_in("linux", "netDevices", {"eth0": {"name": "a/b"}}), "linux.netDevices.eth0.name"),
    ("net-devices-need-network-namespace", both(lambda d: drop_namespace(d, "network"),
                                                set_in("linux", "netDevices", {"eth0": {}})), "linux.netDevices"),
    ("intel-rdt-closid-name", set_in("linux", "intelRdt", {"closID": "a/b"}), "linux.intelRdt.closID"),
    ("intel-rdt-no-newlines", set_in("linux", "intelRdt", {"memBwSchema": "MB:0=20\n"}), "linux.intelRdt.memBwSchema"),
    ("process-cwd-absolute", set_in("process", "cwd", "tmp"), "process.cwd"),
    ("process-args-required", set_in("process", "args", []), "process.args"),
    ("process-env-format", set_in("process", "env", ["PATH=/bin", "=x"]), "process.env[1]"),
    ("user-ids-required", set_in("process", "user", {"uid": 0}), "process.user"),
    ("rlimit-type-known", set_in("process", "rlimits", 0, "type", "RLIMIT_FOO"), "process.rlimits[0].type"),
    ("rlimit-type-unique", lambda d: d["process"]["rlimits"].append({"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}),
     "process.rlimits[1].type"),
    ("io-priority-range", set_in("process", "ioPriority", {"class": "IOPRIO_CLASS_BE", "priority": 8}),
     "process.ioPriority.priority"),
    ("scheduler-nice-range", set_in("process", "scheduler", {"policy": "SCHED_OTHER", "nice": 20}),
     "process.scheduler.nice"),
    ("scheduler-priority-policy", set_in("process", "scheduler", {"policy": "SCHED_BATCH", "priority": 1}),
     "process.scheduler.priority"),
    ("scheduler-deadline-policy", set_in("process", "scheduler", {"policy": "SCHED_FIFO", "runtime": 1}),
     "process.scheduler.runtime"),
    ("capability-known", lambda d: d["process"]["capabilities"]["bounding"].append("CAP_FLY"),
     "process.capabilities.bounding[3]"),
    ("state-pid-required", lambda s: s.pop("pid"), "(root)"),
    ("state-bundle-absolute", set_in("bundle", "b"), "bundle"),
]
CASE_IDS = [case[0] for case in CASES]


def broken(rule_name, mutate):
    doc = copy.deepcopy(BASE_STATE if RULES[rule_name].applies_to == STATE else BASE_CONFIG)
    mutate(doc)
    return doc


def test_base_documents_pass():
    assert validate.config_problems(BASE_CONFIG) == []
    assert validate.config_warnings(BASE_CONFIG) == []
    assert validate.state_problems(BASE_STATE) == []


def test_every_rule_has_a_case():
    assert sorted(CASE_IDS + ["root-path-exists"]) == sorted(RULES)


def test_registry_entries_are_complete():
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.applies_to in (CONFIG, PROCESS, STATE)
        assert rule.severity in (ERROR, WARNING)
        assert rule.summary


@pytest.mark.parametrize("rule_name, mutate, path", CASES, ids=CASE_IDS)
def test_rule_reports_what_the_schema_allows(rule_name, mutate, path):
    doc = broken(rule_name, mutate)
    rule = RULES[rule_name]
    if rule.applies_to == STATE:
        schema, problems = validate.schema_problems(doc, validate.STATE_SCHEMA), validate.state_problems(doc)
    else:
        schema = validate.schema_problems(doc, validate.CONFIG_SCHEMA)
        if rule.severity == WARNING:
            assert validate.config_problems(doc) == []
            problems = validate.config_warnings(doc)
        else:
            problems = validate.config_problems(doc)
            assert full.full_report(doc) == problems
    assert schema == []
    assert len(problems) == 1, problems
    assert problems[0].startswith(path + ": ")
    assert problems[0].endswith(" [%s]" % rule_name)


@pytest.mark.parametrize("rule_name, mutate, path", [c for c in CASES if RULES[c[0]].applies_to == PROCESS],
                         ids=[c[0] for c in CASES if RULES[c[0]].applies_to == PROCESS])
def test_process_rule_applies_to_exec_process(rule_name, mutate, path):
    process = broken(rule_name, mutate)["process"]
    problems = validate.process_warnings(process) if RULES[rule_name].severity == WARNING \
        else validate.process_problems(process)
    assert problems == [p.replace("process.", "", 1) for p in
                        (validate.config_warnings if RULES[rule_name].severity == WARNING
                         else validate.config_problems)(broken(rule_name, mutate))]
    assert full.full_process_report(process) == validate.process_problems(process)


@pytest.mark.parametrize("rule_name, mutate, path", CASES, ids=CASE_IDS)
def test_upstream_schema_allows_what_the_rule_rejects(upstream, rule_name, mutate, path):
    ref = up.STATE if RULES[rule_name].applies_to == STATE else up.CONFIG
    assert upstream.is_valid(broken(rule_name, mutate), ref)


def test_messages_say_what_is_wrong():
    doc = broken("namespace-type-unique", lambda d: add_namespace(d, "pid"))
    assert validate.config_problems(doc) == [
        "linux.namespaces[6].type: 'pid' is already listed at linux.namespaces[0] [namespace-type-unique]"]
    doc = broken("mount-destination-absolute", set_in("mounts", 0, "destination", "proc"))
    assert validate.config_warnings(doc) == [
        "mounts[0].destination: 'proc' is relative; relative mount destinations are deprecated and it is "
        "mounted at '/proc' [mount-destination-absolute]"]


def test_process_missing_is_fine_when_not_starting():
    doc = broken("process-required", lambda d: d.pop("process"))
    assert validate.config_problems(doc, for_start=False) == []


def test_joined_namespaces_need_no_mappings_and_take_no_offsets():
    joined_user = broken("user-namespace-needs-mappings",
                         lambda d: linux(d)["namespaces"].append({"type": "user", "path": "/proc/1/ns/user"}))
    assert validate.config_problems(joined_user) == []
    joined_time = broken("time-offsets-need-time-namespace", both(
        lambda d: linux(d)["namespaces"].append({"type": "time", "path": "/proc/1/ns/time"}),
        set_in("linux", "timeOffsets", {"boottime": {"secs": 5}})))
    assert validate.config_problems(joined_time) == [
        "linux.timeOffsets: offsets cannot be set on the existing time namespace joined at linux.namespaces[6]"
        " [time-offsets-need-time-namespace]"]


@pytest.mark.parametrize("root_path, make, expected", [
    ("rootfs", "dir", None),
    ("rootfs", None, "does not exist"),
    ("rootfs", "file", "is not a directory"),
    ("ABSOLUTE", "dir", None),
])
def test_root_path_exists(tmp_path, root_path, make, expected):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    target = tmp_path / "elsewhere" if root_path == "ABSOLUTE" else bundle / root_path
    if make == "dir":
        target.mkdir()
    elif make == "file":
        target.write_text("")
    doc = copy.deepcopy(BASE_CONFIG)
    doc["root"]["path"] = str(target) if root_path == "ABSOLUTE" else root_path
    problems = validate.config_problems(doc, bundle_dir=str(bundle))
    if expected is None:
        assert problems == []
    else:
        assert problems == ["root.path: %r %s [root-path-exists]" % (str(target), expected)]
    assert full.full_report(doc, bundle_dir=str(bundle)) == problems


def test_rules_tolerate_wrong_types():
    doc = {"ociVersion": 1, "root": [], "process": {"args": "sh", "env": "X", "cwd": 5, "rlimits": {},
                                                   "scheduler": [], "capabilities": {"bounding": "CAP_X"}},
           "linux": {"namespaces": [{"type": 3}, "pid"], "devices": {}, "resources": {"devices": [None]},
                     "seccomp": {"syscalls": [1]}, "netDevices": [], "timeOffsets": []},
           "mounts": {}, "hooks": {"prestart": [{"path": 1}]}, "annotations": []}
    schema = validate.schema_problems(doc, validate.CONFIG_SCHEMA)
    assert schema
    assert validate.config_problems(doc) == schema  # no rule reads a value of the wrong type
    assert full.full_report(doc) == full.schema_problems(doc, validate.CONFIG_SCHEMA)

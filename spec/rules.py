"""Semantic rules: what runtime-spec 1.3.0 requires (its MUSTs for Linux) and
JSON Schema cannot say, plus the few checks runc makes before starting that a
drop-in replacement must make too. Each rule has a short name that appears in
its messages (`... [namespace-type-unique]`), so a user can look it up and
tests can name it.

Rules run on documents that may have failed the schema, so every rule reads
only values of the type it expects and ignores the rest (the schema already
reported those).
"""
import os
import stat

from pyoci.spec.paths import problem

ERROR = "error"
WARNING = "warning"

# What a rule applies to: a whole config.json, a `process` object (config's, or
# the one `exec --process` reads), or a state document.
CONFIG = "config"
PROCESS = "process"
STATE = "state"


class Rule:
    __slots__ = ("name", "applies_to", "severity", "summary", "check")

    def __init__(self, name, applies_to, severity, summary, check):
        self.name = name
        self.applies_to = applies_to
        self.severity = severity
        self.summary = summary
        self.check = check

    def __repr__(self):
        return "Rule(%r)" % self.name


RULES = {}  # name -> Rule, in the order they run


def _rule(name, applies_to, summary, severity=ERROR):
    def register(check):
        RULES[name] = Rule(name, applies_to, severity, summary, check)
        return check
    return register


class Context:
    """What a config rule may need besides the document."""
    __slots__ = ("bundle_dir", "for_start")

    def __init__(self, bundle_dir=None, for_start=True):
        self.bundle_dir = bundle_dir
        self.for_start = for_start


def findings(applies_to, doc, context=None, severity=ERROR):
    """Messages of every rule of `severity` for a document of kind
    `applies_to`; a config also gets the process rules on its `process`."""
    found = []
    if not isinstance(doc, dict):
        return found  # the schema reports the type; nothing to read
    for rule in RULES.values():
        if rule.severity != severity:
            continue
        if rule.applies_to == applies_to:
            target, prefix = doc, ()
        elif applies_to == CONFIG and rule.applies_to == PROCESS and isinstance(doc.get("process"), dict):
            target, prefix = doc["process"], ("process",)
        else:
            continue
        for path, message in rule.check(target, context):
            found.append(problem(prefix + path, "%s [%s]" % (message, rule.name)))
    return found


# Readers that tolerate schema-invalid documents.

def _obj(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _objects(value):
    """(index, item) of the items of a list that are objects."""
    return [(i, item) for i, item in enumerate(_list(value)) if isinstance(item, dict)]


def _str(value):
    return value if isinstance(value, str) else None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _relative(value):
    """A non-empty string that is not an absolute path."""
    return isinstance(value, str) and value != "" and not value.startswith("/")


def _namespaces(doc):
    """type -> (index, namespace object) for the first entry of each type."""
    found = {}
    for index, ns in _objects(_obj(doc.get("linux")).get("namespaces")):
        kind = _str(ns.get("type"))
        if kind is not None and kind not in found:
            found[kind] = (index, ns)
    return found


def _joined(ns):
    """Whether a namespace entry joins an existing namespace. An empty path
    counts as none, as in runc."""
    return bool(_str(ns.get("path")))


# --- config.json -----------------------------------------------------------

_semver = None


@_rule("oci-version-semver", CONFIG, "ociVersion MUST be in SemVer v2.0.0 format (config.md)")
def _oci_version_semver(doc, context):
    global _semver
    version = _str(doc.get("ociVersion"))
    if version is None:
        return
    if _semver is None:
        import re
        number = r"(?:0|[1-9][0-9]*)"
        ident = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
        _semver = re.compile(r"%s\.%s\.%s(?:-%s(?:\.%s)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
                             % (number, number, number, ident, ident))
    if not _semver.fullmatch(version):
        yield ("ociVersion",), "%r is not a SemVer 2.0.0 version" % version


@_rule("root-required", CONFIG, "root is REQUIRED on Linux (config.md)")
def _root_required(doc, context):
    if "root" not in doc:
        yield (), "'root' is required on Linux"


@_rule("root-path-exists", CONFIG,
       "a directory MUST exist at root.path, relative paths resolved against the bundle (config.md)")
def _root_path_exists(doc, context):
    path = _str(_obj(doc.get("root")).get("path"))
    if path is None or context is None or context.bundle_dir is None:
        return
    full = os.path.join(context.bundle_dir, path)  # an absolute path stays as is
    try:
        mode = os.stat(full).st_mode
    except FileNotFoundError:
        yield ("root", "path"), "%r does not exist" % full
        return
    except OSError as e:
        yield ("root", "path"), "cannot use %r: %s" % (full, e.strerror)
        return
    if not stat.S_ISDIR(mode):
        yield ("root", "path"), "%r is not a directory" % full


@_rule("process-required", CONFIG, "process is REQUIRED when start is called (config.md)")
def _process_required(doc, context):
    if context is not None and context.for_start and "process" not in doc:
        yield (), "'process' is required to start a container"


_HOOK_STAGES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")


@_rule("hook-path-absolute", CONFIG, "a hook's path MUST be absolute (config.md)")
def _hook_path_absolute(doc, context):
    hooks = _obj(doc.get("hooks"))
    for stage in _HOOK_STAGES:
        for index, hook in _objects(hooks.get(stage)):
            path = hook.get("path")
            if isinstance(path, str) and not path.startswith("/"):
                yield ("hooks", stage, index, "path"), "%r is not an absolute path" % path


@_rule("annotation-key-nonempty", CONFIG, "annotation keys MUST NOT be empty (config.md)")
def _annotation_key_nonempty(doc, context):
    if "" in _obj(doc.get("annotations")):
        yield ("annotations", ""), "an annotation key must not be empty"


@_rule("mount-destination-absolute", CONFIG,
       "mount destinations SHOULD be absolute; relative ones are deprecated and taken relative"
       " to / (config.md); like runc, pyoci accepts them with a warning", severity=WARNING)
def _mount_destination_absolute(doc, context):
    for index, mount in _objects(doc.get("mounts")):
        destination = mount.get("destination")
        if _relative(destination):
            yield (("mounts", index, "destination"),
                   "%r is relative; relative mount destinations are deprecated and it is mounted at %r"
                   % (destination, "/" + destination))


@_rule("mount-idmap-mappings-paired", CONFIG,
       "a mount's uidMappings and gidMappings MUST be specified together (config.md)")
def _mount_idmap_mappings_paired(doc, context):
    for index, mount in _objects(doc.get("mounts")):
        for given, missing in (("uidMappings", "gidMappings"), ("gidMappings", "uidMappings")):
            if given in mount and missing not in mount:
                yield ("mounts", index), "%s is given without %s" % (given, missing)


@_rule("mount-idmap-needs-mapping", CONFIG,
       "an idmap/ridmap mount without its own mappings needs a user namespace (config.md)")
def _mount_idmap_needs_mapping(doc, context):
    has_userns = "user" in _namespaces(doc)
    for index, mount in _objects(doc.get("mounts")):
        options = [o for o in _list(mount.get("options")) if o in ("idmap", "ridmap")]
        if options and not has_userns and "uidMappings" not in mount and "gidMappings" not in mount:
            yield (("mounts", index, "options"),
                   "%r needs uidMappings and gidMappings on the mount or a user namespace" % options[0])


@_rule("mount-idmap-bind-only", CONFIG,
       "idmapped mounts are bind mounts (runc: only supported for bind-mounts)")
def _mount_idmap_bind_only(doc, context):
    for index, mount in _objects(doc.get("mounts")):
        options = _list(mount.get("options"))
        idmapped = mount.get("uidMappings") or any(o in ("idmap", "ridmap") for o in options)
        if idmapped and mount.get("type") != "bind" and not {"bind", "rbind"} & set(options):
            yield ("mounts", index), "id-mapped mounts are only supported for bind mounts"


@_rule("namespace-type-unique", CONFIG, "a namespace type MUST NOT be listed twice (config-linux.md)")
def _namespace_type_unique(doc, context):
    seen = {}
    for index, ns in _objects(_obj(doc.get("linux")).get("namespaces")):
        kind = _str(ns.get("type"))
        if kind is None:
            continue
        if kind in seen:
            yield (("linux", "namespaces", index, "type"),
                   "%r is already listed at linux.namespaces[%d]" % (kind, seen[kind]))
        else:
            seen[kind] = index


@_rule("namespace-path-absolute", CONFIG, "a namespace path MUST be absolute (config-linux.md)")
def _namespace_path_absolute(doc, context):
    for index, ns in _objects(_obj(doc.get("linux")).get("namespaces")):
        if _relative(ns.get("path")):
            yield ("linux", "namespaces", index, "path"), "%r is not an absolute path" % ns["path"]


@_rule("user-namespace-needs-mappings", CONFIG,
       "a new user namespace needs linux.uidMappings and linux.gidMappings (as runc requires)")
def _user_namespace_needs_mappings(doc, context):
    userns = _namespaces(doc).get("user")
    if userns is None or _joined(userns[1]):
        return
    linux = _obj(doc.get("linux"))
    for key in ("uidMappings", "gidMappings"):
        if not _list(linux.get(key)):
            yield ("linux", "namespaces", userns[0]), "a new user namespace needs linux.%s" % key


@_rule("id-mappings-need-user-namespace", CONFIG,
       "linux.uidMappings/gidMappings need a user namespace (as runc requires)")
def _id_mappings_need_user_namespace(doc, context):
    if "user" in _namespaces(doc):
        return
    linux = _obj(doc.get("linux"))
    for key in ("uidMappings", "gidMappings"):
        if _list(linux.get(key)):
            yield ("linux", key), "mappings are given but linux.namespaces has no user namespace"


@_rule("time-offsets-need-time-namespace", CONFIG,
       "linux.timeOffsets need a new time namespace (as runc requires)")
def _time_offsets_need_time_namespace(doc, context):
    if not _obj(_obj(doc.get("linux")).get("timeOffsets")):
        return
    timens = _namespaces(doc).get("time")
    if timens is None:
        yield ("linux", "timeOffsets"), "offsets are given but linux.namespaces has no time namespace"
    elif _joined(timens[1]):
        yield (("linux", "timeOffsets"),
               "offsets cannot be set on the existing time namespace joined at linux.namespaces[%d]"
               % timens[0])


_OFFSET_CLOCKS = ("monotonic", "boottime")


@_rule("time-offsets-clock-known", CONFIG,
       "only the monotonic and boottime clocks have offsets in a time namespace (time_namespaces(7))")
def _time_offsets_clock_known(doc, context):
    for clock in _obj(_obj(doc.get("linux")).get("timeOffsets")):
        if clock not in _OFFSET_CLOCKS:
            yield ("linux", "timeOffsets", clock), "only %s clocks can be offset" % " and ".join(_OFFSET_CLOCKS)


@_rule("hostname-needs-uts-namespace", CONFIG,
       "hostname and domainname need a uts namespace (as runc requires)")
def _hostname_needs_uts_namespace(doc, context):
    if "uts" in _namespaces(doc):
        return
    for key in ("hostname", "domainname"):
        if _str(doc.get(key)):
            yield (key,), "setting the %s needs a uts namespace in linux.namespaces" % key


@_rule("restricted-paths-need-mount-namespace", CONFIG,
       "linux.maskedPaths and readonlyPaths need a mount namespace (as runc requires)")
def _restricted_paths_need_mount_namespace(doc, context):
    if "mount" in _namespaces(doc):
        return
    linux = _obj(doc.get("linux"))
    for key in ("maskedPaths", "readonlyPaths"):
        if _list(linux.get(key)):
            yield ("linux", key), "paths are given but linux.namespaces has no mount namespace"


def _absolute_entries(doc, key):
    for index, path in enumerate(_list(_obj(doc.get("linux")).get(key))):
        if isinstance(path, str) and not path.startswith("/"):
            yield ("linux", key, index), "%r is not an absolute path" % path


@_rule("masked-path-absolute", CONFIG, "linux.maskedPaths MUST be absolute (config-linux.md)")
def _masked_path_absolute(doc, context):
    return _absolute_entries(doc, "maskedPaths")


@_rule("readonly-path-absolute", CONFIG, "linux.readonlyPaths MUST be absolute (config-linux.md)")
def _readonly_path_absolute(doc, context):
    return _absolute_entries(doc, "readonlyPaths")


@_rule("device-path-absolute", CONFIG, "a device path is the full path inside the container (config-linux.md)")
def _device_path_absolute(doc, context):
    for index, device in _objects(_obj(doc.get("linux")).get("devices")):
        path = device.get("path")
        if isinstance(path, str) and not path.startswith("/"):
            yield ("linux", "devices", index, "path"), "%r is not an absolute path" % path


_DEVICE_TYPES = ("c", "b", "u", "p")


@_rule("device-type-known", CONFIG, "a device type is exactly one of c, b, u, p (config-linux.md)")
def _device_type_known(doc, context):
    # The schema's pattern ^[cbup]$ also lets "c\n" through.
    for index, device in _objects(_obj(doc.get("linux")).get("devices")):
        kind = device.get("type")
        if isinstance(kind, str) and kind not in _DEVICE_TYPES:
            yield ("linux", "devices", index, "type"), "%r is not one of %s" % (kind, ", ".join(_DEVICE_TYPES))


@_rule("device-major-minor-required", CONFIG,
       "a device's major and minor are REQUIRED unless its type is p (config-linux.md)")
def _device_major_minor_required(doc, context):
    for index, device in _objects(_obj(doc.get("linux")).get("devices")):
        if device.get("type") in ("c", "b", "u"):
            for key in ("major", "minor"):
                if key not in device:
                    yield ("linux", "devices", index), "%r is required for a device of type %r" % (key, device["type"])


@_rule("device-cgroup-type", CONFIG, "a device cgroup rule's type is a, b or c (config-linux.md)")
def _device_cgroup_type(doc, context):
    rules = _obj(_obj(doc.get("linux")).get("resources")).get("devices")
    for index, rule in _objects(rules):
        kind = rule.get("type")
        if isinstance(kind, str) and kind not in ("", "a", "b", "c"):
            yield ("linux", "resources", "devices", index, "type"), "%r is not one of a, b, c" % kind


@_rule("device-cgroup-access", CONFIG, "a device cgroup rule's access is made of r, w and m (config-linux.md)")
def _device_cgroup_access(doc, context):
    rules = _obj(_obj(doc.get("linux")).get("resources")).get("devices")
    for index, rule in _objects(rules):
        access = rule.get("access")
        if isinstance(access, str) and access.strip("rwm"):
            yield ("linux", "resources", "devices", index, "access"), "%r is not made of r, w and m" % access


@_rule("blockio-weight-device-weight", CONFIG,
       "a weightDevice entry MUST give weight or leafWeight (config-linux.md)")
def _blockio_weight_device_weight(doc, context):
    block_io = _obj(_obj(_obj(doc.get("linux")).get("resources")).get("blockIO"))
    for index, device in _objects(block_io.get("weightDevice")):
        if "weight" not in device and "leafWeight" not in device:
            yield (("linux", "resources", "blockIO", "weightDevice", index),
                   "at least one of 'weight' and 'leafWeight' is required")


@_rule("rdma-limit-required", CONFIG, "an rdma entry MUST give hcaHandles or hcaObjects (config-linux.md)")
def _rdma_limit_required(doc, context):
    rdma = _obj(_obj(_obj(doc.get("linux")).get("resources")).get("rdma"))
    for device, limits in rdma.items():
        if isinstance(limits, dict) and "hcaHandles" not in limits and "hcaObjects" not in limits:
            yield (("linux", "resources", "rdma", device),
                   "at least one of 'hcaHandles' and 'hcaObjects' is required")


_ERRNO_ACTIONS = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")


@_rule("seccomp-errno-action", CONFIG,
       "an errno return is only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE; the runtime MUST fail otherwise"
       " (config-linux.md)")
def _seccomp_errno_action(doc, context):
    seccomp = _obj(_obj(doc.get("linux")).get("seccomp"))
    action = seccomp.get("defaultAction")
    if "defaultErrnoRet" in seccomp and isinstance(action, str) and action not in _ERRNO_ACTIONS:
        yield ("linux", "seccomp", "defaultErrnoRet"), "is set but defaultAction %r returns no errno" % action
    for index, syscall in _objects(seccomp.get("syscalls")):
        action = syscall.get("action")
        if "errnoRet" in syscall and isinstance(action, str) and action not in _ERRNO_ACTIONS:
            yield ("linux", "seccomp", "syscalls", index, "errnoRet"), "is set but action %r returns no errno" % action


@_rule("seccomp-listener-metadata-needs-path", CONFIG,
       "listenerMetadata MUST NOT be set without listenerPath (config-linux.md)")
def _seccomp_listener_metadata_needs_path(doc, context):
    seccomp = _obj(_obj(doc.get("linux")).get("seccomp"))
    if _str(seccomp.get("listenerMetadata")) and not _str(seccomp.get("listenerPath")):
        yield ("linux", "seccomp", "listenerMetadata"), "is set without listenerPath"


@_rule("seccomp-notify-needs-listener", CONFIG,
       "SCMP_ACT_NOTIFY needs listenerPath: the notify fd must go to a seccomp agent (as runc requires)")
def _seccomp_notify_needs_listener(doc, context):
    seccomp = _obj(_obj(doc.get("linux")).get("seccomp"))
    if _str(seccomp.get("listenerPath")):
        return
    for index, syscall in _objects(seccomp.get("syscalls")):
        if syscall.get("action") == "SCMP_ACT_NOTIFY":
            yield ("linux", "seccomp", "syscalls", index, "action"), "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"


@_rule("seccomp-notify-not-default", CONFIG,
       "SCMP_ACT_NOTIFY cannot be the default action: the runtime itself needs syscalls after loading"
       " the filter to hand the notify fd over (as runc requires)")
def _seccomp_notify_not_default(doc, context):
    if _obj(_obj(doc.get("linux")).get("seccomp")).get("defaultAction") == "SCMP_ACT_NOTIFY":
        yield ("linux", "seccomp", "defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action"


@_rule("memory-policy-mode-required", CONFIG, "memoryPolicy.mode is REQUIRED (config-linux.md)")
def _memory_policy_mode_required(doc, context):
    policy = _obj(doc.get("linux")).get("memoryPolicy")
    if isinstance(policy, dict) and "mode" not in policy:
        yield ("linux", "memoryPolicy"), "'mode' is required"


_MPOL_NO_NODES = ("MPOL_DEFAULT", "MPOL_LOCAL")
_MPOL_NEED_NODES = ("MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED_MANY")


@_rule("memory-policy-nodes", CONFIG,
       "MPOL_DEFAULT and MPOL_LOCAL take no nodes; BIND, INTERLEAVE, WEIGHTED_INTERLEAVE and"
       " PREFERRED_MANY need some (set_mempolicy(2), config-linux.md)")
def _memory_policy_nodes(doc, context):
    policy = _obj(_obj(doc.get("linux")).get("memoryPolicy"))
    mode = policy.get("mode")
    nodes = _str(policy.get("nodes")) or ""
    has_nodes = any(c.isdigit() for c in nodes)
    if mode in _MPOL_NO_NODES and has_nodes:
        yield ("linux", "memoryPolicy", "nodes"), "%s takes no nodes, got %r" % (mode, nodes)
    elif mode in _MPOL_NEED_NODES and not has_nodes:
        yield ("linux", "memoryPolicy"), "%s needs at least one node in 'nodes'" % mode


# Node numbers beyond the largest MAX_NUMNODES a kernel can be built with.
NODE_LIMIT = 1 << 10


def parse_node_list(text):
    """The node numbers of a list like "0-3,7" (set_mempolicy(2) nodes,
    cpuset syntax); ValueError says what is wrong."""
    nodes = set()
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError("%r is not a node number or a range like 0-3" % part)
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise ValueError("range %r runs backwards" % part)
        if last >= NODE_LIMIT:
            raise ValueError("node %d is beyond the kernel's limit of %d nodes" % (last, NODE_LIMIT))
        nodes.update(range(first, last + 1))
    return sorted(nodes)


@_rule("memory-policy-nodes-syntax", CONFIG,
       "memoryPolicy.nodes is a comma-separated list of node numbers and ranges, e.g. 0-3,7"
       " (config-linux.md)")
def _memory_policy_nodes_syntax(doc, context):
    nodes = _str(_obj(_obj(doc.get("linux")).get("memoryPolicy")).get("nodes"))
    if nodes and nodes.strip():
        try:
            parse_node_list(nodes)
        except ValueError as e:
            yield ("linux", "memoryPolicy", "nodes"), str(e)


@_rule("personality-domain-required", CONFIG, "personality.domain is REQUIRED (config-linux.md)")
def _personality_domain_required(doc, context):
    personality = _obj(doc.get("linux")).get("personality")
    if isinstance(personality, dict) and "domain" not in personality:
        yield ("linux", "personality"), "'domain' is required"


def _bad_interface_name(name):
    # The kernel's dev_valid_name(): 1 to 15 bytes, not . or .., no / : or space.
    return (not 0 < len(name.encode()) < 16 or name in (".", "..")
            or any(c in "/:" or c.isspace() for c in name))


@_rule("net-device-name-valid", CONFIG,
       "netDevices names (keys and 'name') are valid interface names (dev_valid_name in Linux)")
def _net_device_name_valid(doc, context):
    for host_name, device in _obj(_obj(doc.get("linux")).get("netDevices")).items():
        if _bad_interface_name(host_name):
            yield ("linux", "netDevices", host_name), "%r is not a valid interface name" % host_name
        name = _str(_obj(device).get("name"))
        if name and _bad_interface_name(name):
            yield ("linux", "netDevices", host_name, "name"), "%r is not a valid interface name" % name


@_rule("net-devices-need-network-namespace", CONFIG,
       "moving netDevices needs a network namespace (as runc requires)")
def _net_devices_need_network_namespace(doc, context):
    if _obj(_obj(doc.get("linux")).get("netDevices")) and "network" not in _namespaces(doc):
        yield ("linux", "netDevices"), "devices are given but linux.namespaces has no network namespace"


@_rule("intel-rdt-closid-name", CONFIG,
       "intelRdt.closID names one resctrl directory, or is / for the default CLOS (config-linux.md)")
def _intel_rdt_closid_name(doc, context):
    clos = _str(_obj(_obj(doc.get("linux")).get("intelRdt")).get("closID"))
    if clos is not None and (clos in (".", "..") or (clos != "/" and "/" in clos)):
        yield ("linux", "intelRdt", "closID"), "%r is not a resctrl group name" % clos


@_rule("intel-rdt-no-newlines", CONFIG,
       "intelRdt.memBwSchema and schemata entries MUST NOT contain newlines (config-linux.md)")
def _intel_rdt_no_newlines(doc, context):
    rdt = _obj(_obj(doc.get("linux")).get("intelRdt"))
    # The schema's pattern ^MB:[^\n]*$ also lets one trailing newline through.
    if "\n" in (_str(rdt.get("memBwSchema")) or ""):
        yield ("linux", "intelRdt", "memBwSchema"), "must not contain a newline"
    for index, line in enumerate(_list(rdt.get("schemata"))):
        if isinstance(line, str) and "\n" in line:
            yield ("linux", "intelRdt", "schemata", index), "must not contain a newline"


# --- process (config.json's, or exec --process) -------------------------------

@_rule("process-cwd-absolute", PROCESS, "process.cwd MUST be an absolute path (config.md)")
def _process_cwd_absolute(process, context):
    cwd = process.get("cwd")
    if isinstance(cwd, str) and not cwd.startswith("/"):
        yield ("cwd",), "%r is not an absolute path" % cwd


@_rule("process-args-required", PROCESS, "process.args needs at least one entry on Linux (config.md)")
def _process_args_required(process, context):
    args = process.get("args")
    if args is None:
        yield (), "'args' is required and needs at least one entry"
    elif args == []:
        yield ("args",), "needs at least one entry"


@_rule("process-env-format", PROCESS, "process.env entries are NAME=value with a non-empty NAME (as runc requires)")
def _process_env_format(process, context):
    for index, entry in enumerate(_list(process.get("env"))):
        if isinstance(entry, str) and entry.find("=") < 1:
            yield ("env", index), "%r is not NAME=value" % entry


@_rule("user-ids-required", PROCESS, "process.user.uid and gid are REQUIRED on POSIX (config.md)")
def _user_ids_required(process, context):
    user = process.get("user")
    if isinstance(user, dict):
        for key in ("uid", "gid"):
            if key not in user:
                yield ("user",), "%r is required" % key


_RLIMITS = frozenset((
    "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
    "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
    "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
))


@_rule("rlimit-type-known", PROCESS,
       "an rlimit type that maps to no Linux resource MUST be an error (config.md, getrlimit(2))")
def _rlimit_type_known(process, context):
    for index, rlimit in _objects(process.get("rlimits")):
        kind = rlimit.get("type")
        if isinstance(kind, str) and kind not in _RLIMITS:
            yield ("rlimits", index, "type"), "%r is not a Linux resource limit" % kind


@_rule("rlimit-type-unique", PROCESS, "an rlimit type MUST NOT be listed twice (config.md)")
def _rlimit_type_unique(process, context):
    seen = {}
    for index, rlimit in _objects(process.get("rlimits")):
        kind = _str(rlimit.get("type"))
        if kind is None:
            continue
        if kind in seen:
            yield ("rlimits", index, "type"), "%r is already listed at rlimits[%d]" % (kind, seen[kind])
        else:
            seen[kind] = index


@_rule("io-priority-range", PROCESS, "ioPriority.priority ranges from 0 to 7 (config.md, as runc requires)")
def _io_priority_range(process, context):
    priority = _int(_obj(process.get("ioPriority")).get("priority"))
    if priority is not None and not 0 <= priority <= 7:
        yield ("ioPriority", "priority"), "%d is not between 0 and 7" % priority


@_rule("scheduler-nice-range", PROCESS,
       "scheduler.nice ranges from -20 to 19 for SCHED_OTHER and SCHED_BATCH (sched_setattr(2), as runc requires)")
def _scheduler_nice_range(process, context):
    scheduler = _obj(process.get("scheduler"))
    nice = _int(scheduler.get("nice"))
    if scheduler.get("policy") in ("SCHED_OTHER", "SCHED_BATCH") and nice is not None and not -20 <= nice <= 19:
        yield ("scheduler", "nice"), "%d is not between -20 and 19" % nice


@_rule("scheduler-priority-policy", PROCESS,
       "scheduler.priority is only for SCHED_FIFO and SCHED_RR (sched_setattr(2), as runc requires)")
def _scheduler_priority_policy(process, context):
    scheduler = _obj(process.get("scheduler"))
    policy = scheduler.get("policy")
    if _int(scheduler.get("priority")) and isinstance(policy, str) and policy not in ("SCHED_FIFO", "SCHED_RR"):
        yield ("scheduler", "priority"), "is only for SCHED_FIFO and SCHED_RR, not %s" % policy


@_rule("scheduler-deadline-policy", PROCESS,
       "scheduler runtime, deadline and period are only for SCHED_DEADLINE (sched_setattr(2), as runc requires)")
def _scheduler_deadline_policy(process, context):
    scheduler = _obj(process.get("scheduler"))
    policy = scheduler.get("policy")
    if not isinstance(policy, str) or policy == "SCHED_DEADLINE":
        return
    for key in ("runtime", "deadline", "period"):
        if _int(scheduler.get(key)):
            yield ("scheduler", key), "is only for SCHED_DEADLINE, not %s" % policy


# capabilities(7) as of Linux 6.x.
_CAPABILITIES = frozenset((
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
))


@_rule("capability-known", PROCESS,
       "a capability that cannot be mapped to the kernel MUST be logged as a warning, not fail (config.md)",
       severity=WARNING)
def _capability_known(process, context):
    capabilities = _obj(process.get("capabilities"))
    for kind in ("bounding", "effective", "inheritable", "permitted", "ambient"):
        for index, name in enumerate(_list(capabilities.get(kind))):
            if isinstance(name, str) and name not in _CAPABILITIES:
                yield ("capabilities", kind, index), "%r is not a Linux capability" % name


# --- state ---------------------------------------------------------------------

@_rule("state-pid-required", STATE, "pid is REQUIRED when status is created or running on Linux (runtime.md)")
def _state_pid_required(state, context):
    if state.get("status") in ("created", "running") and "pid" not in state:
        yield (), "'pid' is required when status is %r" % state["status"]


@_rule("state-bundle-absolute", STATE, "bundle is the absolute path of the bundle directory (runtime.md)")
def _state_bundle_absolute(state, context):
    bundle = state.get("bundle")
    if isinstance(bundle, str) and not bundle.startswith("/"):
        yield ("bundle",), "%r is not an absolute path" % bundle

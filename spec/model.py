"""A typed model of config.json, state.json and the features document.

Built from a validated dict (`Config.from_dict(doc)`), with the spec's
defaults applied where the spec gives one (`terminal` false, `user` uid 0 gid 0,
scheduler values 0, device rule type "a", empty lists and maps); a value with
no default, whose absence means "leave as is" (`capabilities`, resources,
`oomScoreAdj`, `umask`), stays None. Attribute names are the JSON keys in
snake_case. Only the Linux parts of config.json are modelled.

Each class lists its fields once, in FIELDS, as (attribute, JSON key, kind,
default): kind None is a plain JSON value, a Node subclass an object, ListOf
and MapOf a list or a map of such objects. Plain classes with __slots__ keep
this module cheap to import on the hot path.
"""
import os


class ListOf:
    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind


class MapOf:
    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind


EMPTY = object()  # as a default: the object built from {}


def _default(kind, default):
    if default is list:
        return []
    if default is dict:
        return {}
    if default is EMPTY:
        return kind()
    return default


def _load(kind, value):
    if kind is None:
        # Copy containers so that the model never shares them with the dict.
        if isinstance(value, list):
            return list(value)
        if isinstance(value, dict):
            return dict(value)
        return value
    if isinstance(kind, ListOf):
        return [_load(kind.kind, item) for item in value]
    if isinstance(kind, MapOf):
        return {key: _load(kind.kind, item) for key, item in value.items()}
    return kind.from_dict(value)


def _dump(kind, value):
    if kind is None:
        return _load(None, value)
    if isinstance(kind, ListOf):
        return [_dump(kind.kind, item) for item in value]
    if isinstance(kind, MapOf):
        return {key: _dump(kind.kind, item) for key, item in value.items()}
    return value.to_dict()


class Node:
    __slots__ = ()
    FIELDS = ()

    def __init__(self, **values):
        for attr, key, kind, default in self.FIELDS:
            setattr(self, attr, values.pop(attr) if attr in values else _default(kind, default))
        if values:
            raise TypeError("%s has no field %s" % (type(self).__name__, ", ".join(sorted(values))))

    @classmethod
    def from_dict(cls, doc):
        return cls(**{attr: _load(kind, doc[key]) for attr, key, kind, default in cls.FIELDS if key in doc})

    def to_dict(self):
        """The JSON document; fields that are None are left out."""
        doc = {}
        for attr, key, kind, default in self.FIELDS:
            value = getattr(self, attr)
            if value is not None:
                doc[key] = _dump(kind, value)
        return doc

    def __repr__(self):
        shown = ("%s=%r" % (f[0], getattr(self, f[0])) for f in self.FIELDS if getattr(self, f[0]) is not None)
        return "%s(%s)" % (type(self).__name__, ", ".join(shown))


def _slots(fields):
    return tuple(field[0] for field in fields)


# --- config.json: process --------------------------------------------------------

class User(Node):
    FIELDS = (
        ("uid", "uid", None, 0),
        ("gid", "gid", None, 0),
        ("umask", "umask", None, None),
        ("additional_gids", "additionalGids", None, list),
        ("username", "username", None, None),
    )
    __slots__ = _slots(FIELDS)


class ConsoleSize(Node):
    FIELDS = (("height", "height", None, 0), ("width", "width", None, 0))
    __slots__ = _slots(FIELDS)


class Capabilities(Node):
    FIELDS = tuple((kind, kind, None, list) for kind in ("bounding", "effective", "inheritable", "permitted", "ambient"))
    __slots__ = _slots(FIELDS)


class Rlimit(Node):
    FIELDS = (("type", "type", None, None), ("hard", "hard", None, None), ("soft", "soft", None, None))
    __slots__ = _slots(FIELDS)


class IOPriority(Node):
    FIELDS = (("class_", "class", None, None), ("priority", "priority", None, 0))
    __slots__ = _slots(FIELDS)


class Scheduler(Node):
    FIELDS = (
        ("policy", "policy", None, None),
        ("nice", "nice", None, 0),
        ("priority", "priority", None, 0),
        ("flags", "flags", None, list),
        ("runtime", "runtime", None, 0),
        ("deadline", "deadline", None, 0),
        ("period", "period", None, 0),
    )
    __slots__ = _slots(FIELDS)


class CPUAffinity(Node):
    FIELDS = (("initial", "initial", None, None), ("final", "final", None, None))
    __slots__ = _slots(FIELDS)


class Process(Node):
    FIELDS = (
        ("terminal", "terminal", None, False),
        ("console_size", "consoleSize", ConsoleSize, None),
        ("user", "user", User, EMPTY),
        ("args", "args", None, list),
        ("env", "env", None, list),
        ("cwd", "cwd", None, None),
        ("capabilities", "capabilities", Capabilities, None),
        ("rlimits", "rlimits", ListOf(Rlimit), list),
        ("no_new_privileges", "noNewPrivileges", None, False),
        ("apparmor_profile", "apparmorProfile", None, None),
        ("oom_score_adj", "oomScoreAdj", None, None),
        ("selinux_label", "selinuxLabel", None, None),
        ("io_priority", "ioPriority", IOPriority, None),
        ("scheduler", "scheduler", Scheduler, None),
        ("exec_cpu_affinity", "execCPUAffinity", CPUAffinity, None),
    )
    __slots__ = _slots(FIELDS)

    def env_dict(self):
        """env as a dict; a later NAME wins, as execve's callers expect."""
        return dict(entry.split("=", 1) for entry in self.env)


# --- config.json: root, mounts, hooks --------------------------------------------

class Root(Node):
    FIELDS = (("path", "path", None, None), ("readonly", "readonly", None, False))
    __slots__ = _slots(FIELDS)

    def host_path(self, bundle_dir):
        """The root filesystem's path on the host: relative to the bundle
        unless absolute."""
        return os.path.normpath(os.path.join(bundle_dir, self.path))


class IDMapping(Node):
    FIELDS = (("container_id", "containerID", None, None), ("host_id", "hostID", None, None),
              ("size", "size", None, None))
    __slots__ = _slots(FIELDS)


class Mount(Node):
    FIELDS = (
        ("destination", "destination", None, None),
        ("type", "type", None, None),
        ("source", "source", None, None),
        ("options", "options", None, list),
        ("uid_mappings", "uidMappings", ListOf(IDMapping), list),
        ("gid_mappings", "gidMappings", ListOf(IDMapping), list),
    )
    __slots__ = _slots(FIELDS)


class Hook(Node):
    FIELDS = (("path", "path", None, None), ("args", "args", None, list), ("env", "env", None, list),
              ("timeout", "timeout", None, None))
    __slots__ = _slots(FIELDS)


class Hooks(Node):
    FIELDS = tuple((attr, key, ListOf(Hook), list) for attr, key in (
        ("prestart", "prestart"), ("create_runtime", "createRuntime"), ("create_container", "createContainer"),
        ("start_container", "startContainer"), ("poststart", "poststart"), ("poststop", "poststop")))
    __slots__ = _slots(FIELDS)


# --- config.json: linux ----------------------------------------------------------

class Namespace(Node):
    FIELDS = (("type", "type", None, None), ("path", "path", None, None))
    __slots__ = _slots(FIELDS)

    @classmethod
    def from_dict(cls, doc):
        namespace = super().from_dict(doc)
        namespace.path = namespace.path or None  # "" joins nothing, as in runc
        return namespace


class Device(Node):
    FIELDS = (
        ("type", "type", None, None),
        ("path", "path", None, None),
        ("file_mode", "fileMode", None, None),
        ("major", "major", None, None),
        ("minor", "minor", None, None),
        ("uid", "uid", None, None),
        ("gid", "gid", None, None),
    )
    __slots__ = _slots(FIELDS)


class NetDevice(Node):
    FIELDS = (("name", "name", None, None),)
    __slots__ = _slots(FIELDS)


class DeviceRule(Node):
    FIELDS = (
        ("allow", "allow", None, None),
        ("type", "type", None, "a"),
        ("major", "major", None, None),
        ("minor", "minor", None, None),
        ("access", "access", None, None),
    )
    __slots__ = _slots(FIELDS)

    @classmethod
    def from_dict(cls, doc):
        rule = super().from_dict(doc)
        rule.type = rule.type or "a"  # unset means all (config-linux.md)
        return rule


class Memory(Node):
    FIELDS = tuple((attr, key, None, None) for attr, key in (
        ("limit", "limit"), ("reservation", "reservation"), ("swap", "swap"), ("kernel", "kernel"),
        ("kernel_tcp", "kernelTCP"), ("swappiness", "swappiness"), ("disable_oom_killer", "disableOOMKiller"),
        ("use_hierarchy", "useHierarchy"), ("check_before_update", "checkBeforeUpdate")))
    __slots__ = _slots(FIELDS)


class CPU(Node):
    FIELDS = tuple((attr, key, None, None) for attr, key in (
        ("shares", "shares"), ("quota", "quota"), ("burst", "burst"), ("period", "period"),
        ("realtime_runtime", "realtimeRuntime"), ("realtime_period", "realtimePeriod"), ("cpus", "cpus"),
        ("mems", "mems"), ("idle", "idle")))
    __slots__ = _slots(FIELDS)


class Pids(Node):
    FIELDS = (("limit", "limit", None, None),)
    __slots__ = _slots(FIELDS)


class WeightDevice(Node):
    FIELDS = (("major", "major", None, None), ("minor", "minor", None, None),
              ("weight", "weight", None, None), ("leaf_weight", "leafWeight", None, None))
    __slots__ = _slots(FIELDS)


class ThrottleDevice(Node):
    FIELDS = (("major", "major", None, None), ("minor", "minor", None, None), ("rate", "rate", None, None))
    __slots__ = _slots(FIELDS)


class BlockIO(Node):
    FIELDS = (
        ("weight", "weight", None, None),
        ("leaf_weight", "leafWeight", None, None),
        ("weight_device", "weightDevice", ListOf(WeightDevice), list),
        ("throttle_read_bps_device", "throttleReadBpsDevice", ListOf(ThrottleDevice), list),
        ("throttle_write_bps_device", "throttleWriteBpsDevice", ListOf(ThrottleDevice), list),
        ("throttle_read_iops_device", "throttleReadIOPSDevice", ListOf(ThrottleDevice), list),
        ("throttle_write_iops_device", "throttleWriteIOPSDevice", ListOf(ThrottleDevice), list),
    )
    __slots__ = _slots(FIELDS)


class HugepageLimit(Node):
    FIELDS = (("page_size", "pageSize", None, None), ("limit", "limit", None, None))
    __slots__ = _slots(FIELDS)


class InterfacePriority(Node):
    FIELDS = (("name", "name", None, None), ("priority", "priority", None, None))
    __slots__ = _slots(FIELDS)


class Network(Node):
    FIELDS = (("class_id", "classID", None, None), ("priorities", "priorities", ListOf(InterfacePriority), list))
    __slots__ = _slots(FIELDS)


class RdmaLimit(Node):
    FIELDS = (("hca_handles", "hcaHandles", None, None), ("hca_objects", "hcaObjects", None, None))
    __slots__ = _slots(FIELDS)


class Resources(Node):
    """linux.resources, also what `update --resources` reads."""
    FIELDS = (
        ("devices", "devices", ListOf(DeviceRule), list),
        ("memory", "memory", Memory, None),
        ("cpu", "cpu", CPU, None),
        ("pids", "pids", Pids, None),
        ("block_io", "blockIO", BlockIO, None),
        ("hugepage_limits", "hugepageLimits", ListOf(HugepageLimit), list),
        ("network", "network", Network, None),
        ("rdma", "rdma", MapOf(RdmaLimit), dict),
        ("unified", "unified", None, dict),
    )
    __slots__ = _slots(FIELDS)


class SyscallArg(Node):
    FIELDS = (("index", "index", None, None), ("value", "value", None, None),
              ("value_two", "valueTwo", None, 0), ("op", "op", None, None))
    __slots__ = _slots(FIELDS)


class SyscallRule(Node):
    FIELDS = (("names", "names", None, list), ("action", "action", None, None),
              ("errno_ret", "errnoRet", None, None), ("args", "args", ListOf(SyscallArg), list))
    __slots__ = _slots(FIELDS)


class Seccomp(Node):
    FIELDS = (
        ("default_action", "defaultAction", None, None),
        ("default_errno_ret", "defaultErrnoRet", None, None),
        ("architectures", "architectures", None, list),
        ("flags", "flags", None, list),
        ("listener_path", "listenerPath", None, None),
        ("listener_metadata", "listenerMetadata", None, None),
        ("syscalls", "syscalls", ListOf(SyscallRule), list),
    )
    __slots__ = _slots(FIELDS)


class IntelRdt(Node):
    FIELDS = (
        ("clos_id", "closID", None, None),
        ("l3_cache_schema", "l3CacheSchema", None, None),
        ("mem_bw_schema", "memBwSchema", None, None),
        ("schemata", "schemata", None, list),
        ("enable_monitoring", "enableMonitoring", None, False),
    )
    __slots__ = _slots(FIELDS)


class MemoryPolicy(Node):
    FIELDS = (("mode", "mode", None, None), ("nodes", "nodes", None, None), ("flags", "flags", None, list))
    __slots__ = _slots(FIELDS)


class Personality(Node):
    FIELDS = (("domain", "domain", None, None), ("flags", "flags", None, list))
    __slots__ = _slots(FIELDS)


class ClockOffset(Node):
    FIELDS = (("secs", "secs", None, 0), ("nanosecs", "nanosecs", None, 0))
    __slots__ = _slots(FIELDS)


class Linux(Node):
    FIELDS = (
        ("uid_mappings", "uidMappings", ListOf(IDMapping), list),
        ("gid_mappings", "gidMappings", ListOf(IDMapping), list),
        ("sysctl", "sysctl", None, dict),
        ("resources", "resources", Resources, None),
        ("cgroups_path", "cgroupsPath", None, None),
        ("namespaces", "namespaces", ListOf(Namespace), list),
        ("devices", "devices", ListOf(Device), list),
        ("net_devices", "netDevices", MapOf(NetDevice), dict),
        ("seccomp", "seccomp", Seccomp, None),
        ("rootfs_propagation", "rootfsPropagation", None, None),
        ("masked_paths", "maskedPaths", None, list),
        ("readonly_paths", "readonlyPaths", None, list),
        ("mount_label", "mountLabel", None, None),
        ("intel_rdt", "intelRdt", IntelRdt, None),
        ("personality", "personality", Personality, None),
        ("time_offsets", "timeOffsets", MapOf(ClockOffset), dict),
        ("memory_policy", "memoryPolicy", MemoryPolicy, None),
    )
    __slots__ = _slots(FIELDS)

    def namespace(self, type):
        """The entry for namespace `type`, or None when the container keeps
        the runtime's namespace of that type."""
        for namespace in self.namespaces:
            if namespace.type == type:
                return namespace
        return None


class Config(Node):
    FIELDS = (
        ("oci_version", "ociVersion", None, None),
        ("process", "process", Process, None),
        ("root", "root", Root, None),
        ("hostname", "hostname", None, None),
        ("domainname", "domainname", None, None),
        ("mounts", "mounts", ListOf(Mount), list),
        ("hooks", "hooks", Hooks, EMPTY),
        ("annotations", "annotations", None, dict),
        ("linux", "linux", Linux, EMPTY),
    )
    __slots__ = _slots(FIELDS)


# --- state.json -------------------------------------------------------------

class State(Node):
    FIELDS = (
        ("oci_version", "ociVersion", None, None),
        ("id", "id", None, None),
        ("status", "status", None, None),
        ("pid", "pid", None, None),
        ("bundle", "bundle", None, None),
        ("annotations", "annotations", None, dict),
    )
    __slots__ = _slots(FIELDS)

    def to_dict(self):
        """The spec's state document (see state.state_document), validated."""
        from pyoci.spec.state import state_document
        return state_document(self.id, self.status, self.pid, self.bundle, self.annotations)


# --- features ---------------------------------------------------------------------
# Everything is optional: an absent field means "unknown" (features.md).

class Enabled(Node):
    FIELDS = (("enabled", "enabled", None, None),)
    __slots__ = _slots(FIELDS)


class MountExtensions(Node):
    FIELDS = (("idmap", "idmap", Enabled, None),)
    __slots__ = _slots(FIELDS)


class CgroupFeatures(Node):
    FIELDS = tuple((attr, key, None, None) for attr, key in (
        ("v1", "v1"), ("v2", "v2"), ("systemd", "systemd"), ("systemd_user", "systemdUser"), ("rdma", "rdma")))
    __slots__ = _slots(FIELDS)


class SeccompFeatures(Node):
    FIELDS = tuple((attr, key, None, None) for attr, key in (
        ("enabled", "enabled"), ("actions", "actions"), ("operators", "operators"), ("archs", "archs"),
        ("known_flags", "knownFlags"), ("supported_flags", "supportedFlags")))
    __slots__ = _slots(FIELDS)


class LinuxFeatures(Node):
    FIELDS = (
        ("namespaces", "namespaces", None, None),
        ("capabilities", "capabilities", None, None),
        ("cgroup", "cgroup", CgroupFeatures, None),
        ("seccomp", "seccomp", SeccompFeatures, None),
        ("apparmor", "apparmor", Enabled, None),
        ("selinux", "selinux", Enabled, None),
        ("intel_rdt", "intelRdt", Enabled, None),
        ("mount_extensions", "mountExtensions", MountExtensions, None),
        ("net_devices", "netDevices", Enabled, None),
    )
    __slots__ = _slots(FIELDS)


class Features(Node):
    FIELDS = (
        ("oci_version_min", "ociVersionMin", None, None),
        ("oci_version_max", "ociVersionMax", None, None),
        ("hooks", "hooks", None, None),
        ("mount_options", "mountOptions", None, None),
        ("linux", "linux", LinuxFeatures, None),
        ("annotations", "annotations", None, None),
        ("potentially_unsafe_config_annotations", "potentiallyUnsafeConfigAnnotations", None, None),
    )
    __slots__ = _slots(FIELDS)

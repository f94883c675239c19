"""Hypothesis strategies: OCI documents valid by construction (schema and
pyoci's semantic rules alike), and mutations of them that may break either.

The valid generators cover every Linux field of config.json; the mutations
are the mistakes users and callers make: wrong types, unknown enum values,
missing required fields, unknown fields, numbers past a type's range, strings
that miss a pattern, emptied lists and objects.
"""
import copy
import string

from hypothesis import strategies as st

INT32 = (-2**31, 2**31 - 1)
INT64 = (-2**63, 2**63 - 1)


def ints(bounds):
    return st.integers(*bounds)


uint16 = st.integers(0, 2**16 - 1)
uint32 = st.integers(0, 2**32 - 1)
uint64 = st.integers(0, 2**64 - 1)
int32 = ints(INT32)
int64 = ints(INT64)
text = st.text(max_size=6)
names = st.text(alphabet=string.ascii_letters + string.digits + "_-.", min_size=1, max_size=8)
absolute_paths = st.lists(st.sampled_from(["proc", "dev", "sys", "a b", "x", ".."]), max_size=3).map(
    lambda parts: "/" + "/".join(parts))
env_entries = st.builds("{}={}".format, st.text(alphabet=string.ascii_uppercase + "_", min_size=1, max_size=5), text)
semvers = st.sampled_from(["1.3.0", "1.0.0", "0.5.0-dev", "1.0.2-rc.1+build.5", "1.2.1"])


def obj(required=None, **optional):
    return st.fixed_dictionaries(required or {}, optional=optional)


# Draws that must agree with each other (namespaces and what needs them,
# seccomp actions and errno returns, scheduler policy and its fields) are
# built with st.composite.

CAPABILITIES = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", "CAP_AUDIT_WRITE", "CAP_BPF"]
RLIMITS = ["RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_RTTIME", "RLIMIT_MSGQUEUE"]
SCHED_POLICIES = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"]
SCHED_FLAGS = ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
               "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"]
SECCOMP_ACTIONS = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                   "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
SECCOMP_OPS = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
               "SCMP_CMP_MASKED_EQ"]
SECCOMP_ARCHS = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390X"]
SECCOMP_FLAGS = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                 "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
NAMESPACES = ["mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"]
CPU_LISTS = st.sampled_from(["", "0", "0-3,7", "1, 2", "0-1"])


@st.composite
def schedulers(draw):
    policy = draw(st.sampled_from(SCHED_POLICIES))
    doc = {"policy": policy}
    if draw(st.booleans()):
        doc["nice"] = draw(st.integers(-20, 19) if policy in ("SCHED_OTHER", "SCHED_BATCH") else int32)
    if policy in ("SCHED_FIFO", "SCHED_RR") and draw(st.booleans()):
        doc["priority"] = draw(int32)
    if policy == "SCHED_DEADLINE":
        doc.update(draw(obj(runtime=uint64, deadline=uint64, period=uint64)))
    if draw(st.booleans()):
        doc["flags"] = draw(st.lists(st.sampled_from(SCHED_FLAGS), unique=True, max_size=3))
    return doc


rlimits = st.lists(st.sampled_from(RLIMITS), unique=True, max_size=3).flatmap(
    lambda types: st.tuples(*[st.fixed_dictionaries({"type": st.just(t), "soft": uint64, "hard": uint64})
                              for t in types]).map(list))

processes = obj(
    {"cwd": absolute_paths, "args": st.lists(text, min_size=1, max_size=3)},
    env=st.lists(env_entries, max_size=3),
    terminal=st.booleans(),
    consoleSize=obj({"height": uint64, "width": uint64}),
    user=obj({"uid": uint32, "gid": uint32}, umask=uint32, additionalGids=st.lists(uint32, max_size=2)),
    capabilities=obj(**{kind: st.lists(st.sampled_from(CAPABILITIES), max_size=3)
                        for kind in ("bounding", "permitted", "effective", "inheritable", "ambient")}),
    apparmorProfile=text,
    oomScoreAdj=st.integers(-1000, 1000),
    selinuxLabel=text,
    ioPriority=obj({"class": st.sampled_from(["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"])},
                   priority=st.integers(0, 7)),
    noNewPrivileges=st.booleans(),
    scheduler=schedulers(),
    rlimits=rlimits,
    execCPUAffinity=obj(initial=CPU_LISTS, final=CPU_LISTS),
)

id_mappings = st.lists(st.fixed_dictionaries({"containerID": uint32, "hostID": uint32, "size": uint32}),
                       min_size=1, max_size=2)


@st.composite
def mounts(draw, has_userns):
    mount = draw(obj({"destination": absolute_paths}, source=text, type=st.sampled_from(["proc", "tmpfs", "none"]),
                     options=st.lists(st.sampled_from(["ro", "nosuid", "rbind", "mode=755"]), max_size=3)))
    if draw(st.booleans()):
        mount["uidMappings"] = draw(id_mappings)
        mount["gidMappings"] = draw(id_mappings)
    if (has_userns or "uidMappings" in mount) and draw(st.booleans()):
        mount.setdefault("options", []).append(draw(st.sampled_from(["idmap", "ridmap"])))
    if "uidMappings" in mount or {"idmap", "ridmap"} & set(mount.get("options", ())):
        mount["type"] = "bind"      # idmapped mounts are bind mounts
    return mount


hooks = obj(**{stage: st.lists(obj({"path": absolute_paths}, args=st.lists(text, max_size=2),
                                   env=st.lists(env_entries, max_size=2), timeout=st.integers(1, 2**40)),
                               max_size=2)
               for stage in ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                             "poststop")})

string_maps = st.dictionaries(st.text(min_size=1, max_size=6), text, max_size=3)
device_numbers = {"major": int64, "minor": int64}


@st.composite
def devices(draw):
    kind = draw(st.sampled_from(["c", "b", "u", "p"]))
    numbers = {} if kind == "p" else device_numbers
    return draw(obj({"type": st.just(kind), "path": absolute_paths, **numbers},
                    fileMode=st.integers(0, 0o777), uid=uint32, gid=uint32, **({} if numbers else device_numbers)))


weight_devices = st.one_of(
    obj({**device_numbers, "weight": uint16}, leafWeight=uint16),
    obj({**device_numbers, "leafWeight": uint16}))
throttle_devices = st.lists(obj(device_numbers, rate=uint64), max_size=2)
resources = obj(
    unified=string_maps,
    devices=st.lists(obj({"allow": st.booleans()}, type=st.sampled_from(["a", "b", "c", ""]), **device_numbers,
                         access=st.sampled_from(["rwm", "r", "mw", ""])), max_size=3),
    pids=obj({"limit": int64}),
    blockIO=obj(weight=uint16, leafWeight=uint16, weightDevice=st.lists(weight_devices, max_size=2),
                throttleReadBpsDevice=throttle_devices, throttleWriteBpsDevice=throttle_devices,
                throttleReadIOPSDevice=throttle_devices, throttleWriteIOPSDevice=throttle_devices),
    cpu=obj(cpus=CPU_LISTS, mems=CPU_LISTS, period=uint64, quota=int64, burst=uint64, realtimePeriod=uint64,
            realtimeRuntime=int64, shares=uint64, idle=int64),
    hugepageLimits=st.lists(obj({"pageSize": st.sampled_from(["2MB", "1GB", "64KB"]), "limit": uint64}),
                            max_size=2),
    memory=obj(kernel=int64, kernelTCP=int64, limit=int64, reservation=int64, swap=int64, swappiness=uint64,
               disableOOMKiller=st.booleans(), useHierarchy=st.booleans(), checkBeforeUpdate=st.booleans()),
    network=obj(classID=uint32, priorities=st.lists(obj({"name": names, "priority": uint32}), max_size=2)),
    rdma=st.dictionaries(names, st.one_of(obj({"hcaHandles": uint32}, hcaObjects=uint32),
                                          obj({"hcaObjects": uint32})), max_size=2),
)


@st.composite
def seccomps(draw):
    listener = draw(st.booleans())
    actions = [a for a in SECCOMP_ACTIONS if listener or a != "SCMP_ACT_NOTIFY"]

    def with_errno(rule, action_key, errno_key):
        if rule[action_key] in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE") and draw(st.booleans()):
            rule[errno_key] = draw(uint32)
        return rule

    doc = with_errno({"defaultAction": draw(st.sampled_from([a for a in actions if a != "SCMP_ACT_NOTIFY"]))},
                     "defaultAction", "defaultErrnoRet")
    doc.update(draw(obj(flags=st.lists(st.sampled_from(SECCOMP_FLAGS), max_size=2),
                        architectures=st.lists(st.sampled_from(SECCOMP_ARCHS), max_size=2))))
    if listener:
        doc["listenerPath"] = draw(absolute_paths)
        doc.update(draw(obj(listenerMetadata=text)))
    syscalls = []
    for _ in range(draw(st.integers(0, 2))):
        rule = {"names": draw(st.lists(names, min_size=1, max_size=2)), "action": draw(st.sampled_from(actions))}
        rule.update(draw(obj(args=st.lists(obj({"index": uint32, "value": uint64, "op": st.sampled_from(SECCOMP_OPS)},
                                               valueTwo=uint64), max_size=2))))
        syscalls.append(with_errno(rule, "action", "errnoRet"))
    if syscalls or draw(st.booleans()):
        doc["syscalls"] = syscalls
    return doc


@st.composite
def memory_policies(draw):
    mode = draw(st.sampled_from(["MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
                                 "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL"]))
    doc = {"mode": mode}
    if mode not in ("MPOL_DEFAULT", "MPOL_LOCAL"):
        if mode != "MPOL_PREFERRED" or draw(st.booleans()):
            doc["nodes"] = draw(st.sampled_from(["0", "0-3,7", "2-3"]))
    if draw(st.booleans()):
        doc["flags"] = draw(st.lists(st.sampled_from(["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
                                                      "MPOL_F_STATIC_NODES"]), max_size=2))
    return doc


interface_names = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=15)
clock_offsets = obj(secs=int64, nanosecs=uint32)


@st.composite
def configs(draw):
    """A config.json that pyoci accepts, with a process (so it can start)."""
    types = draw(st.lists(st.sampled_from(NAMESPACES), unique=True))
    namespaces = []
    for kind in types:
        namespace = {"type": kind}
        if draw(st.integers(0, 3)) == 0:
            namespace["path"] = "/proc/1/ns/" + kind
        namespaces.append(namespace)
    created = {ns["type"] for ns in namespaces if "path" not in ns}

    linux = draw(obj(
        devices=st.lists(devices(), max_size=2),
        resources=resources,
        cgroupsPath=text,
        rootfsPropagation=st.sampled_from(["private", "shared", "slave", "unbindable"]),
        seccomp=seccomps(),
        sysctl=string_maps,
        mountLabel=text,
        intelRdt=obj(closID=st.one_of(names.filter(lambda n: n not in (".", "..")), st.just("/")),
                     schemata=st.lists(st.sampled_from(["L3:0=7f0;1=1f", "MB:0=20;1=70"]), max_size=2),
                     l3CacheSchema=st.just("L3:0=ff"), memBwSchema=st.sampled_from(["MB:", "MB:0=20"]),
                     enableMonitoring=st.booleans()),
        memoryPolicy=memory_policies(),
        personality=obj({"domain": st.sampled_from(["LINUX", "LINUX32"])}, flags=st.lists(text, max_size=1)),
    ))
    if types or draw(st.booleans()):
        linux["namespaces"] = namespaces
    if "user" in created:
        linux["uidMappings"] = draw(id_mappings)
        linux["gidMappings"] = draw(id_mappings)
    if "time" in created and draw(st.booleans()):
        linux["timeOffsets"] = draw(obj(boottime=clock_offsets, monotonic=clock_offsets))
    if "network" in types and draw(st.booleans()):
        linux["netDevices"] = draw(st.dictionaries(interface_names, obj(name=interface_names), max_size=2))
    if "mount" in types:
        linux.update(draw(obj(maskedPaths=st.lists(absolute_paths, max_size=2),
                              readonlyPaths=st.lists(absolute_paths, max_size=2))))

    doc = {"ociVersion": draw(semvers), "root": draw(obj({"path": text}, readonly=st.booleans())),
           "process": draw(processes)}
    doc.update(draw(obj(mounts=st.lists(mounts("user" in types), max_size=3), hooks=hooks, annotations=string_maps)))
    if "uts" in types:
        doc.update(draw(obj(hostname=text, domainname=text)))
    if linux or draw(st.booleans()):
        doc["linux"] = linux
    return doc


states = obj({"ociVersion": semvers, "id": names, "status": st.sampled_from(["creating", "stopped"]),
              "bundle": absolute_paths},
             pid=st.integers(0, 2**22), annotations=string_maps) | obj(
    {"ociVersion": semvers, "id": names, "status": st.sampled_from(["created", "running"]),
     "pid": st.integers(0, 2**22), "bundle": absolute_paths},
    annotations=string_maps)

features = obj(
    {"ociVersionMin": semvers, "ociVersionMax": semvers},
    hooks=st.lists(text, max_size=2),
    mountOptions=st.lists(text, max_size=2),
    annotations=string_maps,
    potentiallyUnsafeConfigAnnotations=st.lists(text, max_size=2),
    linux=obj(
        namespaces=st.lists(st.sampled_from(NAMESPACES), max_size=3),
        capabilities=st.lists(st.sampled_from(CAPABILITIES), max_size=3),
        cgroup=obj(**{k: st.booleans() for k in ("v1", "v2", "systemd", "systemdUser", "rdma")}),
        seccomp=obj(enabled=st.booleans(), actions=st.lists(st.sampled_from(SECCOMP_ACTIONS), max_size=2),
                    operators=st.lists(st.sampled_from(SECCOMP_OPS), max_size=2),
                    archs=st.lists(st.sampled_from(SECCOMP_ARCHS), max_size=2),
                    knownFlags=st.lists(st.sampled_from(SECCOMP_FLAGS), max_size=2),
                    supportedFlags=st.lists(st.sampled_from(SECCOMP_FLAGS), max_size=2)),
        apparmor=obj(enabled=st.booleans()),
        selinux=obj(enabled=st.booleans()),
        intelRdt=obj(enabled=st.booleans()),
        mountExtensions=obj(idmap=obj(enabled=st.booleans())),
        netDevices=obj(enabled=st.booleans()),
    ),
)

# --- mutations ------------------------------------------------------------------

EDGE_NUMBERS = [-1, 0, 1.0, 1.5, 7, 8, 511, 512, 2**16 - 1, 2**16, 2**31 - 1, 2**31, -2**31 - 1, 2**32 - 1, 2**32,
                2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64 - 1, 2**64, 10**30]
PATTERN_MISSES = ["", "x", "RLIMIT_nofile", "RLIMIT_FOO", "RLIMIT_CPU\n", "64kB", "2MB", "0MB", "MB:x", "MB:\nx",
                  "MB:x\n", "c", "c\n", "cb", "0-3,7", "0-3a", "CAP_X", "SCMP_ACT_ALLOW", "mount", "LINUX",
                  "creating", "1.0", "1.3.0"]
ODD_VALUES = st.one_of(st.sampled_from([None, True, False, "", "x", [], {}, ["x"], [1], {"x": 1}, {"x": "y"}]),
                       st.sampled_from(EDGE_NUMBERS), st.integers(), text)


def _locations(node, path=()):
    """Paths to every value inside `node` (not `node` itself)."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield path + (key,)
        yield from _locations(value, path + (key,))


def _at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def mutated(documents, max_mutations=3):
    """`documents`, each changed in 1 to max_mutations places."""
    @st.composite
    def mutate(draw):
        doc = copy.deepcopy(draw(documents))
        for _ in range(draw(st.integers(1, max_mutations))):
            locations = list(_locations(doc))
            how = draw(st.sampled_from(["replace", "delete", "add", "number", "string", "empty"]))
            if how == "add" or not locations:
                containers = [()] + [p for p in locations if isinstance(_at(doc, p), (dict, list))]
                container = _at(doc, draw(st.sampled_from(containers)))
                if isinstance(container, dict):
                    container[draw(text)] = draw(ODD_VALUES)
                else:
                    container.append(draw(ODD_VALUES))
                continue
            path = draw(st.sampled_from(locations))
            parent, key = _at(doc, path[:-1]), path[-1]
            if how == "delete":
                del parent[key]
            elif how == "number":
                parent[key] = draw(st.sampled_from(EDGE_NUMBERS))
            elif how == "string":
                parent[key] = draw(st.one_of(st.sampled_from(PATTERN_MISSES), text))
            elif how == "empty":
                parent[key] = type(parent[key])() if isinstance(parent[key], (list, dict)) else ""
            else:
                parent[key] = draw(ODD_VALUES)
        return doc
    return mutate()

"""linux.resources (a config.json dict) turned into one flat, checked
object, and the v1 -> v2 conversions runc uses.

Zero values mean "leave unset" (Docker sends `cpu.shares: 0`,
`blockIO.weight: 0`, `pids.limit: 0`...), except where a zero is a real
setting in runc too (cpu.burst, cpu.idle, throttle rates). Kernel memory
limits are ignored, as runc ignores them (the kernel dropped them)."""
import math

from pyoci.runtime.errors import InvalidSpec


def _is_pagesize(size):
    """"2MB", "1GB", "64KB": digits, an optional unit, then "B"."""
    if not isinstance(size, str) or not size.endswith("B"):
        return False
    digits = size[:-2] if size[-2:-1] in ("K", "M", "G", "T", "P", "E") \
        else size[:-1]
    return digits.isdigit() and digits.isascii()


def _is_name(name):
    """An interface or device name: no whitespace, no slash."""
    return (isinstance(name, str) and bool(name)
            and not any(c.isspace() or c in "/\0" for c in name))


class Resources:
    """Flat view of linux.resources. Integers use 0 for "unset"; optional
    settings where 0 is meaningful use None."""

    def __init__(self):
        self.memory = 0
        self.memory_reservation = 0
        self.memory_swap = 0
        self.memory_swappiness = None
        self.oom_kill_disable = False
        self.check_before_update = False
        self.kernel_memory_ignored = False
        self.cpu_shares = 0
        self.cpu_quota = 0
        self.cpu_period = 0
        self.cpu_burst = None
        self.cpu_rt_runtime = 0
        self.cpu_rt_period = 0
        self.cpuset_cpus = ""
        self.cpuset_mems = ""
        self.cpu_idle = None
        self.pids_limit = None          # "max" or a positive int
        self.blkio_weight = 0
        self.blkio_leaf_weight = 0
        self.blkio_weight_device = []   # (major, minor, weight, leaf weight)
        self.throttle_read_bps = []     # (major, minor, rate)
        self.throttle_write_bps = []
        self.throttle_read_iops = []
        self.throttle_write_iops = []
        self.hugetlb = []               # (page size "2MB", limit)
        self.net_cls_classid = 0
        self.net_prio = []              # (interface, priority)
        self.rdma = {}                  # device -> (hca handles, hca objects)
        self.unified = {}
        self.devices = None             # list of rules, None = not given

    # which controllers a request touches
    def memory_set(self):
        return bool(self.memory or self.memory_reservation or self.memory_swap
                    or self.memory_swappiness is not None
                    or self.oom_kill_disable)

    def cpu_set(self):
        return bool(self.cpu_shares or self.cpu_quota or self.cpu_period
                    or self.cpu_burst is not None or self.cpu_rt_runtime
                    or self.cpu_rt_period or self.cpu_idle is not None)

    def cpuset_set(self):
        return bool(self.cpuset_cpus or self.cpuset_mems)

    def blkio_set(self):
        return bool(self.blkio_weight or self.blkio_leaf_weight
                    or self.blkio_weight_device or self.throttle_read_bps
                    or self.throttle_write_bps or self.throttle_read_iops
                    or self.throttle_write_iops)


def _int(value, where, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSpec("linux.resources.%s: expected an integer, got %r"
                          % (where, value))
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidSpec("linux.resources.%s: %d is out of range"
                          % (where, value))
    return value


def _get(section, key, where, low=None, high=None):
    value = section.get(key)
    return 0 if value is None else _int(value, where + "." + key, low, high)


def _section(resources, key):
    value = resources.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidSpec("linux.resources.%s: expected an object" % key)
    return value


def _list(section, key, where):
    value = section.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidSpec("linux.resources.%s.%s: expected an array"
                          % (where, key))
    return value


U64 = 1 << 64


def parse(resources):
    """Resources from a linux.resources dict (None or {} = nothing set)."""
    r = Resources()
    resources = resources or {}
    if not isinstance(resources, dict):
        raise InvalidSpec("linux.resources: expected an object")

    mem = _section(resources, "memory")
    r.memory = _get(mem, "limit", "memory")
    r.memory_reservation = _get(mem, "reservation", "memory")
    r.memory_swap = _get(mem, "swap", "memory")
    r.kernel_memory_ignored = bool(mem.get("kernel") or mem.get("kernelTCP"))
    swappiness = mem.get("swappiness")
    if swappiness is not None:
        swappiness = _int(swappiness, "memory.swappiness")
        # -1 (or its uint64 spelling) is "unset", as in runc
        if swappiness not in (-1, U64 - 1):
            if not 0 <= swappiness <= 100:
                raise InvalidSpec("linux.resources.memory.swappiness: invalid "
                                  "value %d (valid range is 0-100)" % swappiness)
            r.memory_swappiness = swappiness
    r.oom_kill_disable = bool(mem.get("disableOOMKiller"))
    r.check_before_update = bool(mem.get("checkBeforeUpdate"))

    cpu = _section(resources, "cpu")
    r.cpu_shares = _get(cpu, "shares", "cpu", 0)
    r.cpu_quota = _get(cpu, "quota", "cpu")
    r.cpu_period = _get(cpu, "period", "cpu", 0)
    if cpu.get("burst") is not None:
        r.cpu_burst = _int(cpu["burst"], "cpu.burst", 0)
    r.cpu_rt_runtime = _get(cpu, "realtimeRuntime", "cpu")
    r.cpu_rt_period = _get(cpu, "realtimePeriod", "cpu", 0)
    r.cpuset_cpus = _cpulist(cpu.get("cpus"), "cpu.cpus")
    r.cpuset_mems = _cpulist(cpu.get("mems"), "cpu.mems")
    if cpu.get("idle") is not None:
        r.cpu_idle = _int(cpu["idle"], "cpu.idle")

    pids = _section(resources, "pids")
    limit = _get(pids, "limit", "pids")
    if limit > 0:
        r.pids_limit = limit
    elif limit < 0:
        r.pids_limit = "max"

    blk = _section(resources, "blockIO")
    r.blkio_weight = _get(blk, "weight", "blockIO", 0, 65535)
    r.blkio_leaf_weight = _get(blk, "leafWeight", "blockIO", 0, 65535)
    for i, wd in enumerate(_list(blk, "weightDevice", "blockIO")):
        where = "blockIO.weightDevice[%d]" % i
        r.blkio_weight_device.append((
            _get(wd, "major", where, 0), _get(wd, "minor", where, 0),
            _get(wd, "weight", where, 0, 65535),
            _get(wd, "leafWeight", where, 0, 65535)))
    for key, target in (("throttleReadBpsDevice", r.throttle_read_bps),
                        ("throttleWriteBpsDevice", r.throttle_write_bps),
                        ("throttleReadIOPSDevice", r.throttle_read_iops),
                        ("throttleWriteIOPSDevice", r.throttle_write_iops)):
        for i, td in enumerate(_list(blk, key, "blockIO")):
            where = "blockIO.%s[%d]" % (key, i)
            target.append((_get(td, "major", where, 0),
                           _get(td, "minor", where, 0),
                           _get(td, "rate", where, 0)))

    hugepages = resources.get("hugepageLimits") or []
    for i, h in enumerate(hugepages):
        size = h.get("pageSize")
        if not _is_pagesize(size):
            raise InvalidSpec("linux.resources.hugepageLimits[%d].pageSize: "
                              "invalid page size %r" % (i, size))
        r.hugetlb.append((size, _get(h, "limit", "hugepageLimits[%d]" % i, 0)))

    net = _section(resources, "network")
    r.net_cls_classid = _get(net, "classID", "network", 0, (1 << 32) - 1)
    for i, p in enumerate(_list(net, "priorities", "network")):
        name = p.get("name")
        if not _is_name(name):
            raise InvalidSpec("linux.resources.network.priorities[%d].name: "
                              "invalid interface name %r" % (i, name))
        r.net_prio.append((name, _get(p, "priority", "network.priorities[%d]"
                                      % i, 0)))

    for device, limits in (resources.get("rdma") or {}).items():
        if not _is_name(device):
            raise InvalidSpec("linux.resources.rdma: invalid device %r" % device)
        where = "rdma." + device
        handles, objects = limits.get("hcaHandles"), limits.get("hcaObjects")
        r.rdma[device] = (
            None if handles is None else _int(handles, where + ".hcaHandles", 0),
            None if objects is None else _int(objects, where + ".hcaObjects", 0))

    for key, value in (resources.get("unified") or {}).items():
        if (not isinstance(key, str) or not key or "/" in key
                or key in (".", "..") or "\0" in key):
            raise InvalidSpec("linux.resources.unified: unified resource %r "
                              "must be a file name (no slashes)" % (key,))
        if not isinstance(value, str):
            raise InvalidSpec("linux.resources.unified.%s: expected a string"
                              % key)
        r.unified[key] = value

    if "devices" in resources and resources["devices"] is not None:
        from pyoci.runtime.linux.cgroups import devices
        r.devices = devices.rules_from_spec(resources["devices"])
    return r


def _cpulist(value, where):
    if value is None:
        return ""
    if not isinstance(value, str) or any(c not in "0123456789,- " for c in value):
        raise InvalidSpec("linux.resources.%s: invalid list %r" % (where, value))
    return value.strip()


# -- v1 -> v2 conversions (runc's, to the digit) -----------------------------------

def shares_to_weight(shares):
    """cpu.shares [2..262144] (default 1024) -> cpu.weight [1..10000]
    (default 100): runc's quadratic fit through min, max and default."""
    if shares == 0:
        return 0
    if shares <= 2:
        return 1
    if shares >= 262144:
        return 10000
    lg = math.log2(shares)
    exponent = (lg * lg + 125 * lg) / 612.0 - 7.0 / 34.0
    return int(math.ceil(math.pow(10, exponent)))


def blkio_weight_to_io_weight(weight):
    """blkio.weight [10..1000] -> io.weight [1..10000], linearly."""
    if weight == 0:
        return 0
    return 1 + max(weight - 10, 0) * 9999 // 990


def swap_to_v2(memory_swap, memory):
    """OCI swap is memory+swap; memory.swap.max is swap alone."""
    if memory == -1 and memory_swap == 0:
        return -1
    if memory_swap in (-1, 0):
        return memory_swap
    if memory == -1:
        return memory_swap
    if memory == 0:
        raise InvalidSpec("linux.resources.memory: unable to set swap limit "
                          "without memory limit")
    if memory < 0:
        raise InvalidSpec("linux.resources.memory.limit: invalid memory value "
                          "%d" % memory)
    if memory_swap < memory:
        raise InvalidSpec("linux.resources.memory: memory+swap limit should be "
                          ">= memory limit")
    return memory_swap - memory

"""The cgroup v2 (unified) backend, after runc's fs2.

The module-level set_* functions write one controller's files into a
cgroup2 directory; the hybrid backend uses some of them (hugetlb, rdma,
unified keys, the freezer) for controllers that only the unified hierarchy
has."""
import errno
import os
import time

from pyoci.runtime.errors import InvalidSpec, PyociError, SyscallError
from pyoci.runtime.linux.cgroups import _fs, base, devices as _devices
from pyoci.runtime.linux.cgroups import resources as _resources


class V2Manager(base.Manager):
    mode = "v2"

    def __init__(self, path, mount, created=None, fs=None, systemd=False):
        super().__init__(fs, created, systemd)
        self.path = path
        self.mount = mount

    def leaf_dirs(self):
        return [self.path]

    def _pid_dir(self):
        return self.path

    def _unified_dir(self):
        return self.path

    def paths(self):
        return {"": self.path}

    def _record(self):
        return {"paths": {}, "mounts": {}, "unified": self.path,
                "unified_mount": self.mount}

    def create(self):
        """Make the directory and its parents, enabling every controller the
        root offers in each ancestor's cgroup.subtree_control (runc's
        CreateCgroupPath)."""
        made = create_path(self.fs, self.mount, self.path, enable="all")
        self.created = (self.created or []) + made

    def add_process(self, pid):
        base.write_pid(self.fs, self.path, pid)

    def _set(self, r, update, linux_devices):
        fs, path = self.fs, self.path
        with _controller_errors(fs, path):
            set_pids(fs, path, r)
            set_memory(fs, path, r)
            set_io(fs, path, r)
            set_cpu(fs, path, r)
        if r.devices is not None or not update:
            rules = list(r.devices or []) + _devices.default_rules(linux_devices)
            set_devices(fs, path, rules)
        with _controller_errors(fs, path):
            set_cpuset(fs, path, r)
            set_hugetlb(fs, path, r)
            set_rdma(fs, path, r)
        set_unified(fs, path, r.unified)

    def freeze(self):
        freeze(self.fs, self.path)

    def thaw(self):
        thaw(self.fs, self.path)

    def is_frozen(self):
        return is_frozen(self.fs, self.path)

    def oom_kill_count(self):
        text = base.read_optional(self.fs, self.path, "memory.events")
        return base.key_values(text or "").get("oom_kill", 0)

    def oom_watch(self):
        """memory.events, polled for POLLPRI: kernfs signals each change."""
        import select    # only `events` watches: off the ordinary path
        try:
            fd = os.open(os.path.join(self.path, "memory.events"),
                         os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        watch = base.OomWatch(fd, select.POLLPRI)
        watch.clear()
        return watch

    def stats(self):
        return stats(self.fs, self.path)


# -- directories ---------------------------------------------------------------------

def create_path(fs, mount, path, enable="all"):
    """mkdir path below mount; in the mount and every directory on the way
    (not the leaf) enable controllers in cgroup.subtree_control: "all"
    those the mount's cgroup.controllers lists, or a list of names.
    Returns the directories made."""
    if enable == "all":
        names = fs.read(mount, "cgroup.controllers").split()
    else:
        names = list(enable)
    rel = os.path.relpath(path, mount)
    chain = [mount]
    for part in rel.split("/"):
        chain.append(os.path.join(chain[-1], part))
    made = []
    try:
        for index, current in enumerate(chain):
            if index > 0:
                made.extend(_fs.mkdir_p(fs, current, chain[index - 1]))
                kind = (base.read_optional(fs, current, "cgroup.type") or "").strip()
                if kind == "domain invalid":
                    # a cgroup below one with processes: only threaded works
                    fs.write(current, "cgroup.type", "threaded")
            if index < len(chain) - 1 and names:
                enable_controllers(fs, current, names)
    except BaseException:
        for d in reversed(made):
            try:
                fs.rmdir(d)
            except OSError:
                pass
        raise
    return made


def enable_controllers(fs, directory, names):
    """Enable controllers for the children of directory; one by one (and
    quietly) when the kernel refuses the whole list, as runc does; errors
    show later when a limit is set."""
    try:
        fs.write(directory, "cgroup.subtree_control",
                 " ".join("+" + n for n in names))
    except SyscallError:
        for name in names:
            try:
                fs.write(directory, "cgroup.subtree_control", "+" + name)
            except SyscallError:
                pass


class _controller_errors:
    """Turn ENOENT on "<controller>.<knob>" into an error naming the
    missing controller."""

    def __init__(self, fs, path):
        self.fs, self.path = fs, path

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if kind is SyscallError and error.errno == errno.ENOENT:
            name = os.path.basename(getattr(error, "path", ""))
            controller = name.split(".", 1)[0]
            available = (base.read_optional(self.fs, self.path,
                                            "cgroup.controllers") or "").split()
            if controller not in available:
                raise SyscallError(
                    "cgroup: cannot set %s: the %s controller is not available "
                    "in %s (cgroup.controllers: %s)"
                    % (name, controller, self.path, " ".join(available) or "none"),
                    errno.ENOENT) from None
        return False


# -- limits ----------------------------------------------------------------------

def _num(value):
    """-1 is "max" (cgroup v1's way to say unlimited)."""
    return "max" if value == -1 else str(value)


def set_pids(fs, path, r):
    if r.pids_limit is not None:
        fs.write(path, "pids.max", str(r.pids_limit))


def check_memory_usage(fs, path, r):
    """memory.checkBeforeUpdate: refuse a limit at or below current usage."""
    if not r.check_before_update or (r.memory <= 0 and r.memory_swap <= 0):
        return
    try:
        usage = base.read_uint(fs, path, "memory.current")
    except SyscallError:
        return      # best effort, as runc
    if r.memory_swap > 0 and r.memory_swap <= usage:
        raise PyociError("rejecting memory+swap limit %d <= usage %d"
                         % (r.memory_swap, usage))
    if r.memory > 0 and r.memory <= usage:
        raise PyociError("rejecting memory limit %d <= usage %d"
                         % (r.memory, usage))


def set_memory(fs, path, r):
    if not (r.memory or r.memory_reservation or r.memory_swap):
        return   # swappiness and disableOOMKiller have no v2 file (runc ignores)
    check_memory_usage(fs, path, r)
    swap = _resources.swap_to_v2(r.memory_swap, r.memory)
    value = "" if swap == 0 else _num(swap)
    if swap == 0 and r.memory_swap > 0:
        value = "0"     # memory == memory+swap: no swap at all
    if value:
        try:
            fs.write(path, "memory.swap.max", value)
        except SyscallError as e:
            # no swap accounting: "max" and "0" are what we have anyway
            if not (e.errno == errno.ENOENT and value in ("max", "0")):
                raise
    if r.memory:
        fs.write(path, "memory.max", _num(r.memory))
    if r.memory_reservation:
        fs.write(path, "memory.low", _num(r.memory_reservation))


def _bfq_device_weights(text):
    """Since 5.4 io.bfq.weight reads "default N" plus per-device lines."""
    try:
        int(text.strip())
        return False
    except ValueError:
        return True


def set_io(fs, path, r):
    if not (r.blkio_weight or r.blkio_weight_device or r.throttle_read_bps
            or r.throttle_write_bps or r.throttle_read_iops
            or r.throttle_write_iops):
        return
    bfq = None
    if r.blkio_weight or r.blkio_weight_device:
        bfq = base.read_optional(fs, path, "io.bfq.weight")
    if r.blkio_weight:
        if bfq is not None:
            fs.write(path, "io.bfq.weight", str(r.blkio_weight))
        else:
            fs.write(path, "io.weight",
                     str(_resources.blkio_weight_to_io_weight(r.blkio_weight)))
    if bfq is not None and _bfq_device_weights(bfq):
        for major, minor, weight, _ in r.blkio_weight_device:
            if weight:
                fs.write(path, "io.bfq.weight", "%d:%d %d\n" % (major, minor,
                                                                weight))
    for key, entries in (("rbps", r.throttle_read_bps),
                         ("wbps", r.throttle_write_bps),
                         ("riops", r.throttle_read_iops),
                         ("wiops", r.throttle_write_iops)):
        for major, minor, rate in entries:
            fs.write(path, "io.max", "%d:%d %s=%d" % (major, minor, key, rate))


def set_cpu(fs, path, r):
    """cpu.weight from shares (runc's conversion), cpu.max, burst, idle.
    realtimeRuntime/realtimePeriod have no v2 files and are ignored, as in
    runc."""
    if r.cpu_idle is not None:
        fs.write(path, "cpu.idle", str(r.cpu_idle))
    weight = _resources.shares_to_weight(r.cpu_shares)
    if weight:
        fs.write(path, "cpu.weight", str(weight))
    burst = None
    if r.cpu_burst is not None:
        try:
            fs.write(path, "cpu.max.burst", str(r.cpu_burst))
        except SyscallError as e:
            # a burst above the old quota: set it again after the quota
            if e.errno != errno.EINVAL or not r.cpu_quota:
                raise
            burst = str(r.cpu_burst)
    if r.cpu_quota or r.cpu_period:
        value = str(r.cpu_quota) if r.cpu_quota > 0 else "max"
        value += " %d" % (r.cpu_period or 100000)
        fs.write(path, "cpu.max", value)
        if burst is not None:
            fs.write(path, "cpu.max.burst", burst)


def set_cpuset(fs, path, r):
    if r.cpuset_cpus:
        fs.write(path, "cpuset.cpus", r.cpuset_cpus)
    if r.cpuset_mems:
        fs.write(path, "cpuset.mems", r.cpuset_mems)


def set_hugetlb(fs, path, r):
    skip_rsvd = False
    for size, limit in r.hugetlb:
        prefix = "hugetlb." + size
        fs.write(path, prefix + ".max", str(limit))
        if skip_rsvd:
            continue
        try:
            fs.write(path, prefix + ".rsvd.max", str(limit))
        except SyscallError as e:
            if e.errno != errno.ENOENT:
                raise
            skip_rsvd = True


def set_rdma(fs, path, r):
    for device, (handles, objects) in sorted(r.rdma.items()):
        line = device
        if handles is not None:
            line += " hca_handle=%d" % handles
        if objects is not None:
            line += " hca_object=%d" % objects
        fs.write(path, "rdma.max", line)


def set_unified(fs, path, unified, allowed=None):
    """linux.resources.unified: each key a file of the cgroup, each value
    written line by line. `allowed` limits the controllers (hybrid)."""
    for key, value in unified.items():
        controller = key.split(".", 1)[0]
        if allowed is not None and controller not in allowed:
            raise InvalidSpec(
                "linux.resources.unified: unified resource %r can't be set: "
                "controller %r is not in the unified hierarchy of this hybrid "
                "host (it has: %s)" % (key, controller, " ".join(sorted(allowed))))
        lines = [line + "\n" for line in value.split("\n")[:-1]]
        last = value.split("\n")[-1]
        if last:
            lines.append(last)
        try:
            fs.write_lines(path, key, lines or [""])
        except SyscallError as e:
            if e.errno in (errno.ENOENT, errno.EPERM, errno.EACCES):
                if "." not in key:
                    raise InvalidSpec(
                        "linux.resources.unified: unified resource %r must be "
                        "in the form CONTROLLER.PARAMETER" % key) from None
                available = (base.read_optional(fs, path, "cgroup.controllers")
                             or "").split()
                if controller not in available and controller != "cgroup":
                    raise SyscallError(
                        "cgroup: unified resource %r can't be set: controller "
                        "%r not available" % (key, controller), e.errno) from None
            raise SyscallError("cgroup: unable to set unified resource %r: %s"
                               % (key, e), e.errno) from None


def set_devices(fs, path, rules):
    from pyoci.runtime.linux.cgroups import ebpf
    insns = ebpf.program(rules)
    try:
        fs.attach_device_filter(path, insns)
    except SyscallError:
        if not ebpf.can_skip_error(rules):
            raise


# -- freezer -------------------------------------------------------------------------

def freeze(fs, path):
    try:
        fs.write(path, "cgroup.freeze", "1")
    except SyscallError as e:
        raise SyscallError("cgroup: freezer not supported: %s" % e,
                           e.errno) from None
    if not _wait_frozen(fs, path):
        raise PyociError("cgroup: timeout waiting for %s to freeze" % path)


def thaw(fs, path):
    try:
        fs.write(path, "cgroup.freeze", "0")
    except SyscallError as e:
        if e.errno != errno.ENOENT:   # nothing to thaw without the file
            raise
        return
    if (base.read_optional(fs, path, "cgroup.freeze") or "0").strip() != "0":
        raise PyociError('cgroup: expected "cgroup.freeze" of %s to be 0' % path)


def is_frozen(fs, path):
    state = base.read_optional(fs, path, "cgroup.freeze")
    if state is None or state.strip() != "1":
        return False
    return _wait_frozen(fs, path)


def _wait_frozen(fs, path, timeout=10.0):
    """cgroup.freeze only asks; cgroup.events says "frozen 1" once every
    task has stopped."""
    deadline = time.monotonic() + timeout
    while True:
        events = base.read_optional(fs, path, "cgroup.events")
        if events is None:
            return False
        if base.key_values(events).get("frozen") == 1:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


# -- stats ---------------------------------------------------------------------------

def stats(fs, path):
    out = base.empty_stats()
    read = lambda name: base.read_optional(fs, path, name)  # noqa: E731
    cpu = base.key_values(read("cpu.stat") or "")
    out["cpu"] = base.cpu_stats(
        total=cpu.get("usage_usec", 0) * 1000,
        kernel=cpu.get("system_usec", 0) * 1000,
        user=cpu.get("user_usec", 0) * 1000,
        periods=cpu.get("nr_periods", 0),
        throttled_periods=cpu.get("nr_throttled", 0),
        throttled_time=cpu.get("throttled_usec", 0) * 1000,
        psi=base.parse_psi(read("cpu.pressure")))
    current = read("pids.current")
    if current is not None:
        out["pids"] = base.pids_stats(base.parse_uint(current),
                                      base.parse_uint(read("pids.max") or "0"))
    else:
        procs = read("cgroup.procs") or ""
        out["pids"] = base.pids_stats(len(procs.split()), 0)
    out["memory"] = _memory_stats(read)
    out["blkio"] = _io_stats(read)
    cpus = read("cpuset.cpus.effective")
    if cpus is not None:
        out["cpuset"] = _cpuset_v2(cpus, read("cpuset.mems.effective") or "")
    hugetlb = {}
    for size in hugepage_sizes():
        prefix = "hugetlb." + size
        usage = read(prefix + ".rsvd.current")
        if usage is None:
            usage = read(prefix + ".current")
        if usage is None:
            continue
        events = base.key_values(read(prefix + ".events") or "")
        hugetlb[size] = base.hugetlb_entry(base.parse_uint(usage), 0,
                                           events.get("max", 0))
    out["hugetlb"] = hugetlb
    return out


def _cpuset_v2(cpus, mems):
    out = {}
    if cpus.strip():
        out["cpus"] = base.cpu_list(cpus)
    out["cpu_exclusive"] = 0
    if mems.strip():
        out["mems"] = base.cpu_list(mems)
    for key in ("mem_hardwall", "mem_exclusive", "memory_migrate",
                "memory_spread_page", "memory_spread_slab", "memory_pressure",
                "sched_load_balance", "sched_relax_domain_level"):
        out[key] = 0
    return out


def _memory_stats(read):
    stat_text = read("memory.stat")
    if stat_text is None:
        return {}
    raw = base.key_values(stat_text)
    out = {}
    if raw.get("file"):
        out["cache"] = raw["file"]
    usage = read("memory.current")
    if usage is not None:
        current = base.parse_uint(usage)
        limit = base.parse_uint(read("memory.max") or "max")
        peak = base.parse_uint(read("memory.peak") or "0")
        out["usage"] = base.memory_entry(limit, current, peak, 0)
        swap = read("memory.swap.current")
        if swap is not None:
            swap_limit = base.parse_uint(read("memory.swap.max") or "max")
            total = base.parse_uint(swap) + current
            if swap_limit != base.U64_MAX:
                swap_limit += limit
            # v1 reports memory+swap; the max of a sum is unknown (0)
            out["swap"] = base.memory_entry(swap_limit, total, 0, 0)
    if raw:
        out["raw"] = raw
    psi = base.parse_psi(read("memory.pressure"))
    if psi is not None:
        out["psi"] = psi
    return out


def _io_stats(read):
    text = read("io.stat")
    out = {}
    if text:
        tables = {"ioServiceBytesRecursive": [], "ioServicedRecursive": []}
        names = {"rbytes": ("ioServiceBytesRecursive", "Read"),
                 "wbytes": ("ioServiceBytesRecursive", "Write"),
                 "rios": ("ioServicedRecursive", "Read"),
                 "wios": ("ioServicedRecursive", "Write")}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 2 or ":" not in parts[0]:
                continue
            major, minor = (int(x) for x in parts[0].split(":"))
            for item in parts[1:]:
                key, _, value = item.partition("=")
                if key in names:
                    table, op = names[key]
                    tables[table].append((major, minor, op, int(value)))
        for table, entries in tables.items():
            if entries:
                out[table] = base.blkio_entries(entries)
    psi = base.parse_psi(read("io.pressure"))
    if psi is not None:
        out["psi"] = psi
    return out


def hugepage_sizes(directory="/sys/kernel/mm/hugepages"):
    """["2MB", "1GB"] from /sys/kernel/mm/hugepages (runc's naming)."""
    sizes = []
    try:
        names = os.listdir(directory)
    except OSError:
        return sizes
    for name in sorted(names):
        if not name.startswith("hugepages-") or not name.endswith("kB"):
            continue
        try:
            kb = int(name[len("hugepages-"):-2])
        except ValueError:
            continue
        if kb >= 1 << 20:
            sizes.append("%dGB" % (kb >> 20))
        elif kb >= 1 << 10:
            sizes.append("%dMB" % (kb >> 10))
        else:
            sizes.append("%dKB" % kb)
    return sizes

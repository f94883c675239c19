"""The cgroup v1 backend (one hierarchy per controller), after runc's fs
driver; with a cgroup2 companion directory on hybrid hosts.

Hybrid: every v1 controller is used through v1, exactly as runc does; the
container also gets the same path in the unified hierarchy (created, joined,
removed) so that nothing leaks there and cgroup.kill works. Controllers the
host has only in the unified hierarchy (hugetlb on this kind of host) are
set there, which runc does not do (it fails with "cannot set hugetlb
limit")."""
import errno
import os
import time

from pyoci.runtime.errors import InvalidSpec, PyociError, SyscallError
from pyoci.runtime.linux.cgroups import _fs, base, devices as _devices, v2
from pyoci.runtime.linux.cgroups.layout import V1_CONTROLLERS

NS_PER_TICK = 1000000000 // 100      # USER_HZ is 100 on Linux


class V1Manager(base.Manager):

    def __init__(self, paths, mounts, unified=None, unified_mount=None,
                 created=None, fs=None, systemd=False):
        super().__init__(fs, created, systemd)
        self._paths = dict(paths)
        self.mounts = dict(mounts)
        self.unified = unified
        self.unified_mount = unified_mount
        self.mode = "hybrid" if unified else "v1"

    # -- directories ----------------------------------------------------------------
    def _dir(self, controller):
        return self._paths.get(controller)

    def _groups(self):
        """[(dir, mount, [controllers])], one per distinct hierarchy, in
        runc's order."""
        seen = {}
        order = [c for c in V1_CONTROLLERS if c in self._paths]
        order += [c for c in self._paths if c not in order]
        for controller in order:
            d = self._paths[controller]
            if d not in seen:
                seen[d] = (d, self.mounts[controller], [])
            seen[d][2].append(controller)
        return list(seen.values())

    def leaf_dirs(self):
        dirs = [d for d, _, _ in self._groups()]
        if self.unified:
            dirs.append(self.unified)
        return dirs

    def paths(self):
        out = dict(self._paths)
        if self.unified:
            out[""] = self.unified
        return out

    def _pid_dir(self):
        for controller in ("devices", "pids", "freezer", "memory", "cpu"):
            if controller in self._paths:
                return self._paths[controller]
        return self.unified or next(iter(self._paths.values()))

    def _unified_dir(self):
        return self.unified

    def _record(self):
        return {"paths": dict(self._paths), "mounts": dict(self.mounts),
                "unified": self.unified, "unified_mount": self.unified_mount}

    def create(self):
        made = []
        try:
            for d, mount, controllers in self._groups():
                if "cpuset" in controllers:
                    made.extend(_cpuset_mkdirs(self.fs, d, mount))
                else:
                    made.extend(_fs.mkdir_p(self.fs, d, mount))
            if self.unified:
                made.extend(_fs.mkdir_p(self.fs, self.unified, self.unified_mount))
        except BaseException:
            for d in reversed(made):
                try:
                    self.fs.rmdir(d)
                except OSError:
                    pass
            raise
        self.created = (self.created or []) + made

    def add_process(self, pid):
        for d, _, controllers in self._groups():
            try:
                base.write_pid(self.fs, d, pid)
            except SyscallError:
                if controllers != ["name=systemd"]:
                    raise      # runc ignores only the named hierarchy
        if self.unified:
            base.write_pid(self.fs, self.unified, pid)

    # -- limits ---------------------------------------------------------------------
    def _unified_controllers(self):
        if not self.unified_mount:
            return set()
        text = base.read_optional(self.fs, self.unified_mount,
                                  "cgroup.controllers") or ""
        return set(text.split())

    def _need(self, controller, wanted):
        """The directory for a controller that has something to set; in
        hybrid mode None when the unified hierarchy has it instead."""
        d = self._dir(controller)
        if d is not None or not wanted:
            return d
        if self.unified and controller in self._unified_controllers():
            return None
        raise PyociError("cannot set %s limit: the %s cgroup controller is not "
                         "mounted on this host" % (controller, controller))

    def _set(self, r, update, linux_devices):
        fs = self.fs
        if r.unified and not self.unified:
            raise InvalidSpec("linux.resources.unified: invalid configuration: "
                              "cannot use unified on cgroup v1")
        d = self._need("cpuset", r.cpuset_set())
        if d:
            if r.cpuset_cpus:
                fs.write(d, "cpuset.cpus", r.cpuset_cpus)
            if r.cpuset_mems:
                fs.write(d, "cpuset.mems", r.cpuset_mems)
        if r.devices is not None or not update:
            rules = list(r.devices or []) + _devices.default_rules(linux_devices)
            set_devices(fs, self._dir("devices"), rules)
        d = self._need("memory", r.memory_set())
        if d:
            set_memory(fs, d, r)
        d = self._need("cpu", r.cpu_set())
        if d:
            set_cpu(fs, d, r)
        d = self._need("pids", r.pids_limit is not None)
        if d and r.pids_limit is not None:
            fs.write(d, "pids.max", str(r.pids_limit))
        d = self._need("blkio", r.blkio_set())
        if d:
            set_blkio(fs, d, r)
        hybrid_v2 = set()
        d = self._need("hugetlb", bool(r.hugetlb))
        if d:
            set_hugetlb(fs, d, r)
        elif r.hugetlb:
            hybrid_v2.add("hugetlb")
        d = self._need("net_cls", bool(r.net_cls_classid))
        if d and r.net_cls_classid:
            fs.write(d, "net_cls.classid", str(r.net_cls_classid))
        d = self._need("net_prio", bool(r.net_prio))
        if d:
            for name, priority in r.net_prio:
                fs.write(d, "net_prio.ifpriomap", "%s %d" % (name, priority))
        d = self._need("rdma", bool(r.rdma))
        if d:
            v2.set_rdma(fs, d, r)
        elif r.rdma:
            hybrid_v2.add("rdma")
        if hybrid_v2 or r.unified:
            self._set_unified(r, hybrid_v2)

    def _set_unified(self, r, controllers):
        """Hybrid: limits of controllers only the unified hierarchy has."""
        available = self._unified_controllers()
        wanted = set(controllers)
        for key in r.unified:
            controller = key.split(".", 1)[0]
            if controller != "cgroup":
                wanted.add(controller)
        # enable them on the way down (no-op when already on)
        v2.create_path(self.fs, self.unified_mount, self.unified,
                       enable=sorted(wanted & available))
        with v2._controller_errors(self.fs, self.unified):
            if "hugetlb" in controllers:
                v2.set_hugetlb(self.fs, self.unified, r)
            if "rdma" in controllers:
                v2.set_rdma(self.fs, self.unified, r)
        if r.unified:
            v2.set_unified(self.fs, self.unified, r.unified,
                           allowed=available | {"cgroup"})

    # -- freezer --------------------------------------------------------------------
    def freeze(self):
        d = self._dir("freezer")
        if d is None:
            if self.unified:
                return v2.freeze(self.fs, self.unified)
            raise PyociError("cannot toggle freezer: no freezer cgroup")
        freeze(self.fs, d)

    def thaw(self):
        d = self._dir("freezer")
        if d is None:
            if self.unified:
                return v2.thaw(self.fs, self.unified)
            raise PyociError("cannot toggle freezer: no freezer cgroup")
        self.fs.write(d, "freezer.state", "THAWED")

    def is_frozen(self):
        d = self._dir("freezer")
        if d is None:
            return bool(self.unified) and v2.is_frozen(self.fs, self.unified)
        return is_frozen(self.fs, d)

    # -- reports --------------------------------------------------------------------
    def oom_kill_count(self):
        d = self._dir("memory")
        if d is None:
            return 0
        text = base.read_optional(self.fs, d, "memory.oom_control")
        return base.key_values(text or "").get("oom_kill", 0)

    def oom_watch(self):
        """An eventfd registered on memory.oom_control through
        cgroup.event_control (it also fires when the cgroup is removed)."""
        import select    # only `events` watches: off the ordinary path
        d = self._dir("memory")
        if d is None or not os.path.isdir(d):
            return None
        control = os.open(os.path.join(d, "memory.oom_control"),
                          os.O_RDONLY | os.O_CLOEXEC)
        event = os.eventfd(0, os.EFD_CLOEXEC)
        try:
            self.fs.write(d, "cgroup.event_control", "%d %d" % (event, control))
        except BaseException:
            os.close(event)
            os.close(control)
            raise
        return base.OomWatch(event, select.POLLIN, [control])

    def stats(self):
        out = base.empty_stats()
        fs = self.fs
        cpu_dir, acct_dir = self._dir("cpu"), self._dir("cpuacct")
        cpu = {}
        if cpu_dir:
            throttling = base.key_values(base.read_optional(fs, cpu_dir, "cpu.stat")
                                         or "")
            cpu.update(periods=throttling.get("nr_periods", 0),
                       throttled_periods=throttling.get("nr_throttled", 0),
                       throttled_time=throttling.get("throttled_time", 0))
        if acct_dir and fs.exists(acct_dir):
            cpu.update(_cpuacct(fs, acct_dir))
        out["cpu"] = base.cpu_stats(**cpu)
        d = self._dir("cpuset")
        if d and fs.exists(d):
            out["cpuset"] = _cpuset_stats(fs, d)
        d = self._dir("memory")
        if d and fs.exists(d):
            out["memory"] = _memory_stats(fs, d)
        d = self._dir("pids")
        if d and fs.exists(d):
            out["pids"] = base.pids_stats(
                base.read_uint(fs, d, "pids.current"),
                base.read_uint(fs, d, "pids.max"))
        d = self._dir("blkio")
        if d and fs.exists(d):
            out["blkio"] = _blkio_stats(fs, d)
        d = self._dir("hugetlb")
        if d and fs.exists(d):
            out["hugetlb"] = _hugetlb_stats(fs, d)
        elif self.unified and fs.exists(self.unified):
            out["hugetlb"] = v2.stats(fs, self.unified)["hugetlb"]
        return out


# -- directories -------------------------------------------------------------------

def _cpuset_mkdirs(fs, path, mount):
    """A new cpuset cgroup has empty cpus and mems, and a task cannot join
    it then: copy them down from the parent at every level (runc's
    cpusetEnsureParent / cpusetCopyIfNeeded)."""
    made = []
    current = mount
    for part in os.path.relpath(path, mount).split("/"):
        parent, current = current, os.path.join(current, part)
        made.extend(_fs.mkdir_p(fs, current, parent))
        for name in ("cpuset.cpus", "cpuset.mems"):
            if not fs.read(current, name).strip():
                inherited = fs.read(parent, name).strip()
                if inherited:
                    fs.write(current, name, inherited)
    return made


# -- limits (runc's order and conversions) ---------------------------------------------

def set_devices(fs, d, rules):
    if d is None:
        # runc: the devices cgroup is a hard requirement for security
        raise PyociError("the devices cgroup controller is not mounted: "
                         "refusing to run without device restrictions")
    if base.in_user_namespace():
        return
    current = _devices.parse_list(fs.read(d, "devices.list"))
    target = _devices.build(rules)
    for rule in current.transition(target):
        fs.write(d, "devices.allow" if rule[4] else "devices.deny",
                 _devices.cgroup_string(rule))
    after = _devices.parse_list(fs.read(d, "devices.list"))
    if not target.is_blacklist() and after != target:
        raise PyociError("resulting devices cgroup doesn't precisely match target")
    if target.is_blacklist() != after.is_blacklist():
        raise PyociError("resulting devices cgroup doesn't match target mode")


def _set_memory_limit(fs, d, value):
    if not value:
        return
    try:
        fs.write(d, "memory.limit_in_bytes", str(value))
    except SyscallError as e:
        if e.errno != errno.EBUSY:
            raise
        usage = base.read_uint(fs, d, "memory.usage_in_bytes")
        peak = base.read_uint(fs, d, "memory.max_usage_in_bytes")
        raise SyscallError("unable to set memory limit to %d (current usage: %d, "
                           "peak usage: %d)" % (value, usage, peak),
                           errno.EBUSY) from None


def _set_swap(fs, d, value):
    if value:
        fs.write(d, "memory.memsw.limit_in_bytes", str(value))


def set_memory(fs, d, r):
    if r.check_before_update and (r.memory > 0 or r.memory_swap > 0):
        try:
            usage = base.read_uint(fs, d, "memory.usage_in_bytes")
        except SyscallError:
            usage = 0
        if r.memory_swap > 0 and r.memory_swap <= usage:
            raise PyociError("rejecting memory+swap limit %d <= usage %d"
                             % (r.memory_swap, usage))
        if r.memory > 0 and r.memory <= usage:
            raise PyociError("rejecting memory limit %d <= usage %d"
                             % (r.memory, usage))
    memory, swap = r.memory, r.memory_swap
    if memory == -1 and swap == 0 and fs.exists(d, "memory.memsw.limit_in_bytes"):
        swap = -1   # unlimited memory: unlimited swap too
    done = False
    if memory and swap:
        current = base.read_uint(fs, d, "memory.limit_in_bytes")
        # order the two writes so that memory <= memory+swap holds throughout
        if swap == -1 or current < swap:
            _set_swap(fs, d, swap)
            _set_memory_limit(fs, d, memory)
            done = True
    if not done:
        _set_memory_limit(fs, d, memory)
        _set_swap(fs, d, swap)
    if r.memory_reservation:
        fs.write(d, "memory.soft_limit_in_bytes", str(r.memory_reservation))
    if r.oom_kill_disable:
        fs.write(d, "memory.oom_control", "1")
    if r.memory_swappiness is not None:
        fs.write(d, "memory.swappiness", str(r.memory_swappiness))


def _set_rt(fs, d, r):
    period = None
    if r.cpu_rt_period:
        try:
            fs.write(d, "cpu.rt_period_us", str(r.cpu_rt_period))
        except SyscallError as e:
            # period and runtime depend on each other: retry after runtime
            if e.errno != errno.EINVAL or not r.cpu_rt_runtime:
                raise
            period = str(r.cpu_rt_period)
    if r.cpu_rt_runtime:
        fs.write(d, "cpu.rt_runtime_us", str(r.cpu_rt_runtime))
        if period is not None:
            fs.write(d, "cpu.rt_period_us", period)


def set_cpu(fs, d, r):
    if r.cpu_shares:
        fs.write(d, "cpu.shares", str(r.cpu_shares))
        got = base.read_uint(fs, d, "cpu.shares")
        if r.cpu_shares > got:
            raise PyociError("the maximum allowed cpu-shares is %d" % got)
        if r.cpu_shares < got:
            raise PyociError("the minimum allowed cpu-shares is %d" % got)
    period = None
    if r.cpu_period:
        try:
            fs.write(d, "cpu.cfs_period_us", str(r.cpu_period))
        except SyscallError as e:
            # a smaller period can exceed the parent's quota until the new
            # quota is in: retry after it
            if e.errno != errno.EINVAL or not r.cpu_quota:
                raise
            period = str(r.cpu_period)
    burst = None
    if r.cpu_burst is not None:
        try:
            fs.write(d, "cpu.cfs_burst_us", str(r.cpu_burst))
        except SyscallError as e:
            if e.errno == errno.ENOENT:
                pass                 # older kernel: no burst knob, as runc
            elif e.errno != errno.EINVAL or not r.cpu_quota:
                raise
            else:
                burst = str(r.cpu_burst)
    if r.cpu_quota:
        fs.write(d, "cpu.cfs_quota_us", str(r.cpu_quota))
        if period is not None:
            fs.write(d, "cpu.cfs_period_us", period)
        if burst is not None:
            fs.write(d, "cpu.cfs_burst_us", burst)
    if r.cpu_idle is not None:
        fs.write(d, "cpu.idle", str(r.cpu_idle))
    _set_rt(fs, d, r)


def set_blkio(fs, d, r):
    if fs.exists(d, "blkio.weight"):
        weight_file, device_file = "blkio.weight", "blkio.weight_device"
    else:
        weight_file, device_file = "blkio.bfq.weight", "blkio.bfq.weight_device"
    if r.blkio_weight:
        fs.write(d, weight_file, str(r.blkio_weight))
    if r.blkio_leaf_weight:
        fs.write(d, "blkio.leaf_weight", str(r.blkio_leaf_weight))
    for major, minor, weight, leaf in r.blkio_weight_device:
        if weight:
            fs.write(d, device_file, "%d:%d %d" % (major, minor, weight))
        if leaf:
            fs.write(d, "blkio.leaf_weight_device", "%d:%d %d" % (major, minor,
                                                                 leaf))
    for name, entries in (("read_bps_device", r.throttle_read_bps),
                          ("write_bps_device", r.throttle_write_bps),
                          ("read_iops_device", r.throttle_read_iops),
                          ("write_iops_device", r.throttle_write_iops)):
        for major, minor, rate in entries:
            fs.write(d, "blkio.throttle." + name, "%d:%d %d" % (major, minor,
                                                               rate))


def set_hugetlb(fs, d, r):
    skip_rsvd = False
    for size, limit in r.hugetlb:
        prefix = "hugetlb." + size
        fs.write(d, prefix + ".limit_in_bytes", str(limit))
        if skip_rsvd:
            continue
        try:
            fs.write(d, prefix + ".rsvd.limit_in_bytes", str(limit))
        except SyscallError as e:
            if e.errno != errno.ENOENT:
                raise
            skip_rsvd = True


# -- freezer ------------------------------------------------------------------------

def freeze(fs, d):
    """runc's loop: a v1 cgroup can stay FREEZING while tasks keep coming;
    retry, thawing and sleeping now and then; thaw again on failure."""
    try:
        for i in range(1000):
            if i % 50 == 49:
                fs.write(d, "freezer.state", "THAWED")
                time.sleep(0.01)
            fs.write(d, "freezer.state", "FROZEN")
            if i % 25 == 24:
                time.sleep(0.00001)
            state = fs.read(d, "freezer.state").strip()
            if state == "FROZEN":
                return
            if state != "FREEZING":
                raise PyociError("unexpected state %s while freezing" % state)
        raise PyociError("unable to freeze %s" % d)
    except BaseException:
        try:
            fs.write(d, "freezer.state", "THAWED")
        except PyociError:
            pass
        raise


def is_frozen(fs, d):
    """FROZEN by itself (freezer.self_freezing), not through a parent."""
    while True:
        state = base.read_optional(fs, d, "freezer.state")
        if state is None:
            return False
        state = state.strip()
        if state == "THAWED":
            return False
        if state == "FROZEN":
            self_freezing = base.read_optional(fs, d, "freezer.self_freezing")
            return self_freezing is None or self_freezing.strip() == "1"
        if state == "FREEZING":
            time.sleep(0.001)
            continue
        raise PyociError("unknown freezer.state %r" % state)


# -- stats --------------------------------------------------------------------------

def _cpuacct(fs, d):
    out = {}
    stat = base.key_values(base.read_optional(fs, d, "cpuacct.stat") or "")
    out["user"] = stat.get("user", 0) * NS_PER_TICK
    out["kernel"] = stat.get("system", 0) * NS_PER_TICK
    out["total"] = base.read_uint(fs, d, "cpuacct.usage", missing=0)
    percpu = base.read_optional(fs, d, "cpuacct.usage_percpu") or ""
    out["percpu"] = [int(x) for x in percpu.split()]
    usage_all = base.read_optional(fs, d, "cpuacct.usage_all")
    if usage_all:
        lines = usage_all.splitlines()[1:]
        rows = [line.split() for line in lines if len(line.split()) >= 3]
        out["percpu_user"] = [int(row[1]) for row in rows]
        out["percpu_kernel"] = [int(row[2]) for row in rows]
    return out


def _cpuset_stats(fs, d):
    def value(name, signed=False):
        text = base.read_optional(fs, d, "cpuset." + name)
        if text is None:
            return 0
        return int(text) if signed else base.parse_uint(text)
    out = {}
    cpus = base.read_optional(fs, d, "cpuset.cpus") or ""
    if cpus.strip():
        out["cpus"] = base.cpu_list(cpus)
    out["cpu_exclusive"] = value("cpu_exclusive")
    mems = base.read_optional(fs, d, "cpuset.mems") or ""
    if mems.strip():
        out["mems"] = base.cpu_list(mems)
    for name in ("mem_hardwall", "mem_exclusive", "memory_migrate",
                 "memory_spread_page", "memory_spread_slab", "memory_pressure",
                 "sched_load_balance"):
        out[name] = value(name)
    out["sched_relax_domain_level"] = value("sched_relax_domain_level", True)
    return out


def _memory_data(fs, d, module):
    usage = base.read_optional(fs, d, module + ".usage_in_bytes")
    if usage is None:
        return None          # no swap / kmem accounting in this kernel
    return (base.read_uint(fs, d, module + ".limit_in_bytes", missing=0),
            base.parse_uint(usage),
            base.read_uint(fs, d, module + ".max_usage_in_bytes", missing=0),
            base.read_uint(fs, d, module + ".failcnt", missing=0))


def _memory_stats(fs, d):
    out = {}
    raw = base.key_values(base.read_optional(fs, d, "memory.stat") or "")
    if raw.get("cache"):
        out["cache"] = raw["cache"]
    for key, module in (("usage", "memory"), ("swap", "memory.memsw"),
                        ("kernel", "memory.kmem"), ("kernelTCP", "memory.kmem.tcp")):
        data = _memory_data(fs, d, module)
        if data is not None and any(data):
            out[key] = base.memory_entry(*data)
    if raw:
        out["raw"] = raw
    return out


_BLKIO_GROUPS = (
    (("blkio.bfq.sectors_recursive", "sectorsRecursive"),
     ("blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"),
     ("blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"),
     ("blkio.bfq.io_merged_recursive", "ioMergedRecursive"),
     ("blkio.bfq.io_queued_recursive", "ioQueueRecursive"),
     ("blkio.bfq.time_recursive", "ioTimeRecursive"),
     ("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.sectors_recursive", "sectorsRecursive"),
     ("blkio.io_service_time_recursive", "ioServiceTimeRecursive"),
     ("blkio.io_wait_time_recursive", "ioWaitTimeRecursive"),
     ("blkio.io_merged_recursive", "ioMergedRecursive"),
     ("blkio.io_queued_recursive", "ioQueueRecursive"),
     ("blkio.time_recursive", "ioTimeRecursive"),
     ("blkio.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.throttle.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.throttle.io_serviced", "ioServicedRecursive"),
     ("blkio.throttle.io_service_bytes", "ioServiceBytesRecursive")),
)


def _blkio_entries(text):
    entries = []
    for line in text.splitlines():
        fields = line.replace(":", " ").split()
        if len(fields) < 3:
            continue          # the "Total N" line
        op, value = (fields[2], fields[3]) if len(fields) >= 4 else ("", fields[2])
        entries.append((int(fields[0]), int(fields[1]), op, int(value)))
    return entries


def _blkio_stats(fs, d):
    """runc's order: the first group whose first file has data wins."""
    for group in _BLKIO_GROUPS:
        first = base.read_optional(fs, d, group[0][0])
        if not first:
            continue
        out = {}
        for name, key in group:
            text = base.read_optional(fs, d, name) or ""
            entries = _blkio_entries(text)
            if entries:
                out[key] = base.blkio_entries(entries)
        return out
    return {}


def _hugetlb_stats(fs, d):
    out = {}
    for size in v2.hugepage_sizes():
        prefix = "hugetlb." + size
        usage = base.read_optional(fs, d, prefix + ".rsvd.usage_in_bytes")
        rsvd = ".rsvd" if usage is not None else ""
        if usage is None:
            usage = base.read_optional(fs, d, prefix + ".usage_in_bytes")
        if usage is None:
            continue
        out[size] = base.hugetlb_entry(
            base.parse_uint(usage),
            base.read_uint(fs, d, prefix + rsvd + ".max_usage_in_bytes", 0),
            base.read_uint(fs, d, prefix + rsvd + ".failcnt", 0))
    return out

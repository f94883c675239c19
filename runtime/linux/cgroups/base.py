"""What every backend shares: the Manager interface, the process walk,
kill_all, destroy, and small parsers for cgroup files."""
import errno
import os
# The signal module only wraps _signal's functions and constants in
# IntEnums: importing it imports enum, about 3 ms of every command.
import _signal as signal

from pyoci.runtime.errors import PyociError, SyscallError
from pyoci.runtime.linux.cgroups import _fs, resources as _resources

U64_MAX = (1 << 64) - 1
RECORD_VERSION = 1


class Manager:
    """One container's cgroup, whatever the host layout. See the package
    docstring for the calling order and semantics."""

    mode = None

    def __init__(self, fs=None, created=None, systemd=False):
        self.fs = fs or _fs.REAL
        # directories create() made itself (None: unknown, e.g. a record
        # taken before create(); destroy then removes the leaf dirs, as runc)
        self.created = created
        self.systemd = systemd
        self.warnings = []

    # -- backend hooks ------------------------------------------------------------
    def leaf_dirs(self):
        """Every distinct directory of this cgroup (all hierarchies)."""
        raise NotImplementedError

    def _pid_dir(self):
        raise NotImplementedError

    def _unified_dir(self):
        """The cgroup2 directory (v2, or the hybrid companion), or None."""
        return None

    def _set(self, r, update, linux_devices):
        raise NotImplementedError

    # -- the interface ------------------------------------------------------------
    def paths(self):
        """controller -> directory (v1 and hybrid; "" is the cgroup2
        directory); v2: {"": directory}."""
        raise NotImplementedError

    def apply(self, resources, linux_devices=None):
        """Set linux.resources (a config.json dict) at create time. Device
        rules are always set: config.json's rules followed by runc's default
        allow-list (minus entries whose path `linux_devices`, the
        linux.devices array, lists)."""
        self._set(self._parse(resources), False, linux_devices)

    def update(self, resources, linux_devices=None):
        """Set a linux.resources dict on a running container (`update`):
        only what it names changes; devices only when it has "devices"."""
        self._set(self._parse(resources), True, linux_devices)

    def _parse(self, resources):
        r = _resources.parse(resources)
        if r.kernel_memory_ignored:
            self.warnings.append("kernel memory settings are ignored")
        return r

    def pids(self):
        """Host pids of every process in the cgroup and its sub-cgroups."""
        seen = []
        for pid in _walk_pids(self.fs, self._pid_dir()):
            if pid not in seen:
                seen.append(pid)
        return seen

    def exists(self):
        return self.fs.exists(self._pid_dir())

    def oom_killed(self):
        """Whether the OOM killer killed a process of this cgroup."""
        return self.oom_kill_count() > 0

    def oom_watch(self):
        """An OomWatch whose fd wakes a poll() for its `events` when
        something OOM-related happens in the cgroup, or None when there is
        no memory controller to watch; compare oom_kill_count() after each
        wake-up (runc's NotifyOOM, without a thread)."""
        return None

    def kill_all(self, signum):
        """Signal every process: cgroup.kill for SIGKILL where the kernel has
        it, else freeze, signal each, thaw (runc's signalAllProcesses; like
        runc it leaves the cgroup thawed)."""
        unified = self._unified_dir()
        if signum == signal.SIGKILL and unified is not None:
            try:
                self.fs.write(unified, "cgroup.kill", "1")
                return
            except SyscallError as e:
                if e.errno != errno.ENOENT:
                    raise
        if not self.exists():
            return
        try:
            self.freeze()
        except PyociError as e:
            self.warnings.append("kill: freeze: %s" % e)
        try:
            for pid in self.pids():
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass
        finally:
            try:
                self.thaw()
            except PyociError as e:
                self.warnings.append("kill: thaw: %s" % e)

    def destroy(self):
        """Remove the directories create() made (sub-cgroups first), retrying
        while killed tasks exit; thaw first so that SIGKILLed tasks of a
        frozen cgroup can die. Gone already is fine."""
        try:
            if self.is_frozen():
                self.thaw()
        except PyociError:
            pass
        created = None if self.created is None else set(self.created)
        errors = []
        for leaf in self.leaf_dirs():
            if created is not None and leaf not in created:
                continue
            try:
                _fs.remove_tree(self.fs, leaf)
            except SyscallError as e:
                errors.append(e)
        # parents we made, deepest first, if nobody else uses them now
        for path in sorted(created or (), key=lambda p: -p.count("/")):
            if path in self.leaf_dirs():
                continue
            try:
                self.fs.rmdir(path)
            except OSError:
                pass
        if errors:
            raise errors[0]

    def to_record(self):
        """A JSON-serialisable dict for load_manager(). Take it after
        create() so that destroy() knows which directories were its own."""
        record = {"version": RECORD_VERSION, "mode": self.mode,
                  "systemd": self.systemd,
                  "created": None if self.created is None else list(self.created)}
        record.update(self._record())
        return record

    def _record(self):
        raise NotImplementedError


class OomWatch:
    """A pollable fd (`fileno()`) that wakes on OOM events; poll it for
    `events`; close() it."""

    def __init__(self, fd, events, keep=()):
        self.fd = fd
        # an eventfd: POLLIN; a kernfs file: POLLPRI (it is always POLLIN)
        self.events = events
        self.keep = list(keep)      # fds that must stay open while watching

    def fileno(self):
        return self.fd

    def clear(self):
        """Consume a wake-up: read the eventfd's counter, or re-read the
        kernfs file from its start. Call it only after a wake-up (an
        eventfd read blocks at zero)."""
        try:
            os.lseek(self.fd, 0, os.SEEK_SET)
        except OSError:
            pass        # an eventfd: no position
        try:
            os.read(self.fd, 4096)
        except OSError:
            pass

    def close(self):
        for fd in [self.fd] + self.keep:
            os.close(fd)


def _walk_pids(fs, path):
    try:
        text = fs.read(path, "cgroup.procs")
    except SyscallError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return []
        if e.errno != errno.EOPNOTSUPP:
            raise
        text = fs.read(path, "cgroup.threads")   # a threaded cgroup
    pids = [int(line) for line in text.split() if line.strip()]
    for child in fs.listdir(path):
        pids.extend(_walk_pids(fs, os.path.join(path, child)))
    return pids


def write_pid(fs, directory, pid):
    """Move pid into a cgroup; EINVAL right after fork (TASK_NEW) is
    retried, as runc does."""
    import time
    for attempt in range(5):
        try:
            fs.write(directory, "cgroup.procs", str(pid))
            return
        except SyscallError as e:
            if e.errno != errno.EINVAL or attempt == 4:
                raise
            time.sleep(0.03)


def in_user_namespace():
    """True when this process runs in a user namespace (not the initial
    one): device cgroups are then out of reach, as runc assumes."""
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


# -- parsing cgroup files ----------------------------------------------------------

def parse_uint(text):
    """A cgroup number: "max" is U64_MAX; a negative value (v1 shows -1
    for some) counts as 0, as runc."""
    text = text.strip()
    if text == "max":
        return U64_MAX
    try:
        value = int(text)
    except ValueError:
        return 0
    return value if value >= 0 else 0


def key_values(text):
    """"key value" lines -> {key: int}."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parse_uint(parts[1])
    return out


def read_uint(fs, directory, name, missing=None):
    try:
        return parse_uint(fs.read(directory, name))
    except SyscallError as e:
        if missing is not None and e.errno == errno.ENOENT:
            return missing
        raise


def read_optional(fs, directory, name):
    """File text, or None when the file is not there."""
    try:
        return fs.read(directory, name)
    except SyscallError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV, errno.EOPNOTSUPP):
            return None
        raise


def cpu_list(text):
    """"0-2,5" -> [0, 1, 2, 5]."""
    out = []
    for part in text.strip().split(","):
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            out.extend(range(int(low), int(high) + 1))
        else:
            out.append(int(part))
    return out


# -- the events --stats "data" object (runc's types.Stats) --------------------------

def memory_entry(limit=0, usage=0, max_usage=0, failcnt=0):
    entry = {"limit": limit}
    if usage:
        entry["usage"] = usage
    if max_usage:
        entry["max"] = max_usage
    entry["failcnt"] = failcnt
    return entry


def blkio_entries(entries):
    out = []
    for major, minor, op, value in entries:
        e = {}
        if major:
            e["major"] = major
        if minor:
            e["minor"] = minor
        if op:
            e["op"] = op
        if value:
            e["value"] = value
        out.append(e)
    return out


def empty_stats():
    return {"cpu": {}, "cpuset": {}, "memory": {}, "pids": {}, "blkio": {},
            "hugetlb": {}, "intel_rdt": {}, "network_interfaces": None}


def cpu_stats(total=0, percpu=(), percpu_kernel=(), percpu_user=(), kernel=0,
              user=0, periods=0, throttled_periods=0, throttled_time=0,
              psi=None):
    usage = {}
    if total:
        usage["total"] = total
    if percpu:
        usage["percpu"] = list(percpu)
    if percpu_kernel:
        usage["percpu_kernel"] = list(percpu_kernel)
    if percpu_user:
        usage["percpu_user"] = list(percpu_user)
    usage["kernel"] = kernel
    usage["user"] = user
    out = {}
    if len(usage) > 2 or kernel or user:
        out["usage"] = usage
    throttling = {}
    if periods:
        throttling["periods"] = periods
    if throttled_periods:
        throttling["throttledPeriods"] = throttled_periods
    if throttled_time:
        throttling["throttledTime"] = throttled_time
    if throttling:
        out["throttling"] = throttling
    if psi is not None:
        out["psi"] = psi
    return out


def pids_stats(current, limit):
    out = {}
    if current:
        out["current"] = current
    if limit and limit != U64_MAX:
        out["limit"] = limit
    return out


def hugetlb_entry(usage=0, max_usage=0, failcnt=0):
    e = {}
    if usage:
        e["usage"] = usage
    if max_usage:
        e["max"] = max_usage
    e["failcnt"] = failcnt
    return e


def parse_psi(text):
    if text is None:
        return None
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in ("some", "full"):
            continue
        data = {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 0}
        for item in parts[1:]:
            key, _, value = item.partition("=")
            if key == "total":
                data["total"] = int(value)
            elif key in data:
                data[key] = float(value)
        if any(data.values()):
            out[parts[0]] = data
    return out

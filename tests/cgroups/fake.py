"""A fake cgroup kernel in a temp dir: real directories and files, plus the
few behaviours of cgroupfs the backends rely on (interface files appear on
mkdir, devices.list follows devices.allow/deny, cgroup.freeze drives
cgroup.events, subtree_control decides a child's controllers, cpu.shares is
clamped). Every write is logged in order, so tests can assert what was
written where and in which order."""
import errno
import os

from pyoci.runtime.errors import SyscallError
from pyoci.runtime.linux.cgroups._fs import CgroupFS, check_name
from pyoci.runtime.linux.cgroups import layout as _layout

V1_ROOT_FILES = {
    "cpuset": {"cpuset.cpus": "0-3\n", "cpuset.mems": "0\n"},
}

V1_FILES = {
    "cpu": {"cpu.shares": "1024\n", "cpu.cfs_period_us": "100000\n",
            "cpu.cfs_quota_us": "-1\n", "cpu.cfs_burst_us": "0\n",
            "cpu.idle": "0\n", "cpu.rt_period_us": "1000000\n",
            "cpu.rt_runtime_us": "0\n",
            "cpu.stat": "nr_periods 7\nnr_throttled 2\nthrottled_time 900\n"},
    "cpuacct": {"cpuacct.stat": "user 10\nsystem 5\n",
                "cpuacct.usage": "123456\n",
                "cpuacct.usage_percpu": "100000 23456 \n",
                "cpuacct.usage_all": "cpu user system\n0 70000 30000\n"
                                     "1 20000 3456\n"},
    "cpuset": {"cpuset.cpus": "\n", "cpuset.mems": "\n",
               "cpuset.cpu_exclusive": "0\n", "cpuset.mem_exclusive": "0\n",
               "cpuset.mem_hardwall": "0\n", "cpuset.memory_migrate": "0\n",
               "cpuset.memory_pressure": "0\n",
               "cpuset.memory_spread_page": "0\n",
               "cpuset.memory_spread_slab": "0\n",
               "cpuset.sched_load_balance": "1\n",
               "cpuset.sched_relax_domain_level": "-1\n"},
    "memory": {"memory.limit_in_bytes": "9223372036854771712\n",
               "memory.memsw.limit_in_bytes": "9223372036854771712\n",
               "memory.soft_limit_in_bytes": "9223372036854771712\n",
               "memory.swappiness": "60\n",
               "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n"
                                     "oom_kill 0\n",
               "memory.usage_in_bytes": "4096\n",
               "memory.max_usage_in_bytes": "8192\n",
               "memory.failcnt": "0\n",
               "memory.memsw.usage_in_bytes": "4096\n",
               "memory.memsw.max_usage_in_bytes": "8192\n",
               "memory.memsw.failcnt": "0\n",
               "memory.kmem.usage_in_bytes": "0\n",
               "memory.kmem.max_usage_in_bytes": "0\n",
               "memory.kmem.failcnt": "0\n",
               "memory.stat": "cache 4096\nrss 0\n",
               "memory.use_hierarchy": "1\n"},
    "devices": {"devices.allow": "", "devices.deny": "",
                "devices.list": "a *:* rwm\n"},
    "freezer": {"freezer.state": "THAWED\n", "freezer.self_freezing": "0\n"},
    "blkio": {"blkio.bfq.weight": "100\n", "blkio.bfq.weight_device": "",
              "blkio.throttle.read_bps_device": "",
              "blkio.throttle.write_bps_device": "",
              "blkio.throttle.read_iops_device": "",
              "blkio.throttle.write_iops_device": "",
              "blkio.throttle.io_service_bytes_recursive":
                  "254:0 Read 4096\n254:0 Write 0\nTotal 4096\n",
              "blkio.throttle.io_serviced_recursive":
                  "254:0 Read 1\n254:0 Write 0\nTotal 1\n"},
    "pids": {"pids.max": "max\n", "pids.current": "1\n"},
    "hugetlb": {"hugetlb.2MB.limit_in_bytes": "9223372036854771712\n",
                "hugetlb.2MB.usage_in_bytes": "0\n",
                "hugetlb.2MB.max_usage_in_bytes": "0\n",
                "hugetlb.2MB.failcnt": "0\n"},
    "net_cls": {"net_cls.classid": "0\n"},
    "net_prio": {"net_prio.ifpriomap": ""},
    "rdma": {"rdma.max": ""},
    "name=systemd": {},
}

V2_CORE = {"cgroup.procs": "", "cgroup.subtree_control": "\n",
           "cgroup.type": "domain\n", "cgroup.freeze": "0\n",
           "cgroup.events": "populated 0\nfrozen 0\n", "cgroup.kill": "",
           "cgroup.max.depth": "max\n",
           "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
                       "nr_periods 3\nnr_throttled 1\nthrottled_usec 20\n"}

V2_FILES = {
    "memory": {"memory.max": "max\n", "memory.high": "max\n", "memory.swap.max": "max\n",
               "memory.low": "0\n", "memory.current": "8192\n",
               "memory.peak": "16384\n", "memory.swap.current": "0\n",
               "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
               "memory.stat": "anon 4096\nfile 4096\n"},
    "cpu": {"cpu.weight": "100\n", "cpu.max": "max 100000\n",
            "cpu.max.burst": "0\n", "cpu.idle": "0\n"},
    "io": {"io.max": "", "io.weight": "default 100\n",
           "io.stat": "254:0 rbytes=4096 wbytes=0 rios=1 wios=0\n"},
    "pids": {"pids.max": "max\n", "pids.current": "1\n"},
    "cpuset": {"cpuset.cpus": "\n", "cpuset.mems": "\n",
               "cpuset.cpus.effective": "0-3\n", "cpuset.mems.effective": "0\n"},
    "hugetlb": {"hugetlb.2MB.max": "max\n", "hugetlb.2MB.rsvd.max": "max\n",
                "hugetlb.2MB.current": "0\n", "hugetlb.2MB.rsvd.current": "0\n",
                "hugetlb.2MB.events": "max 0\n"},
    "rdma": {"rdma.max": "", "rdma.current": ""},
}

ALL_V1 = ("cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
          "pids", "hugetlb", "name=systemd")


class FakeKernel(CgroupFS):

    def __init__(self, layout, v2_controllers=(), bfq=False):
        self.layout = layout
        self.writes = []             # (directory, name, data), in order
        self.attached = {}           # directory -> device filter program
        self.v2_controllers = list(v2_controllers)
        self.bfq = bfq

    # -- the tree --------------------------------------------------------------------
    def _put(self, directory, files):
        for name, text in files.items():
            with open(os.path.join(directory, name), "w") as f:
                f.write(text)

    def _v1_controllers(self, mount):
        return [c for c, m in self.layout.v1.items() if m == mount]

    def _hierarchy(self, path):
        for controller, mount in self.layout.v1.items():
            if path == mount or path.startswith(mount + "/"):
                return "v1", mount
        unified = self.layout.unified
        if unified and (path == unified or path.startswith(unified + "/")):
            return "v2", unified
        raise AssertionError("%s is in no fake hierarchy" % path)

    def populate_root(self):
        for mount in set(self.layout.v1.values()):
            os.makedirs(mount, exist_ok=True)
            self._put(mount, {"cgroup.procs": "1\n", "tasks": "1\n"})
            for c in self._v1_controllers(mount):
                self._put(mount, V1_FILES[c])
                self._put(mount, V1_ROOT_FILES.get(c, {}))
        if self.layout.unified:
            os.makedirs(self.layout.unified, exist_ok=True)
            self._put(self.layout.unified, dict(V2_CORE, **{
                "cgroup.controllers": " ".join(self.v2_controllers) + "\n",
                "cgroup.procs": "1\n"}))
            del_files = ("cgroup.freeze", "cgroup.kill")   # not on a root
            for name in del_files:
                os.unlink(os.path.join(self.layout.unified, name))

    def mkdir(self, path):
        made = super().mkdir(path)
        if made:
            kind, mount = self._hierarchy(path)
            if kind == "v1":
                self._put(path, {"cgroup.procs": "", "tasks": ""})
                for c in self._v1_controllers(mount):
                    self._put(path, V1_FILES[c])
                if "devices" in self._v1_controllers(mount):
                    # a child starts with its parent's exceptions
                    self._put(path, {"devices.list": self.read(
                        os.path.dirname(path), "devices.list")})
            else:
                parent = os.path.dirname(path)
                enabled = self.read(parent, "cgroup.subtree_control").split()
                self._put(path, dict(V2_CORE, **{
                    "cgroup.controllers": " ".join(enabled) + "\n"}))
                for c in enabled:
                    self._put(path, V2_FILES.get(c, {}))
                if self.bfq and "io" in enabled:
                    self._put(path, {"io.bfq.weight": "default 100\n"})
        return made

    def rmdir(self, path):
        """cgroupfs: a cgroup goes with its interface files, if it has no
        sub-cgroups and no processes."""
        if self.listdir(path):
            raise OSError(errno.ENOTEMPTY, os.strerror(errno.ENOTEMPTY), path)
        if not os.path.isdir(path):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        procs = os.path.join(path, "cgroup.procs")
        if os.path.exists(procs) and open(procs).read().strip():
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        os.rmdir(path)

    # -- kernel behaviour on write ---------------------------------------------------
    def write_lines(self, directory, name, lines):
        check_name(name)
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            error = SyscallError("cgroup: open %s: %s"
                                 % (path, os.strerror(errno.ENOENT)), errno.ENOENT)
            error.path = path
            raise error
        for line in lines:
            self.writes.append((directory, name, line))
            self._effect(directory, name, line)

    def _effect(self, directory, name, data):
        path = os.path.join(directory, name)
        value = data.strip()
        if name == "cgroup.procs":
            self._append(path, value + "\n")
        elif name in ("devices.allow", "devices.deny"):
            self._devices(directory, name == "devices.allow", value)
        elif name == "cgroup.freeze":
            self._put(directory, {"cgroup.freeze": value + "\n",
                                  "cgroup.events": "populated 0\nfrozen %s\n"
                                                   % value})
        elif name == "freezer.state":
            self._put(directory, {"freezer.state": value + "\n",
                                  "freezer.self_freezing":
                                      "1\n" if value == "FROZEN" else "0\n"})
        elif name == "cgroup.subtree_control":
            available = self.read(directory, "cgroup.controllers").split()
            enabled = self.read(directory, name).split()
            for item in value.split():
                controller = item[1:]
                if controller not in available:
                    raise SyscallError("cgroup: write %s: no such controller"
                                       % path, errno.ENOENT)
                if item[0] == "+" and controller not in enabled:
                    enabled.append(controller)
                elif item[0] == "-" and controller in enabled:
                    enabled.remove(controller)
            self._put(directory, {name: " ".join(enabled) + "\n"})
            for child in self.listdir(directory):
                # the children see (and get the files of) what is enabled
                child = os.path.join(directory, child)
                had = self.read(child, "cgroup.controllers").split()
                self._put(child, {"cgroup.controllers":
                                  " ".join(enabled) + "\n"})
                for c in enabled:
                    if c not in had:
                        self._put(child, V2_FILES.get(c, {}))
        elif name == "cpu.shares":
            self._put(directory, {name: "%d\n" % min(max(int(value), 2), 262144)})
        elif name in ("io.max", "rdma.max", "net_prio.ifpriomap",
                      "blkio.bfq.weight_device") or name.startswith(
                          "blkio.throttle.") or (name == "io.bfq.weight"
                                                 and ":" in value):
            self._append(path, value + "\n")
        else:
            self._put(directory, {name: data})

    def _append(self, path, text):
        with open(path, "a") as f:
            f.write(text)

    def _devices(self, directory, allow, rule):
        """devices.list of a v1 cgroup: "a *:* rwm" when allow-all, else
        the allowed entries."""
        lines = [line for line in self.read(directory, "devices.list").splitlines()
                 if line]
        if rule.startswith("a"):
            lines = ["a *:* rwm"] if allow else []
        elif lines == ["a *:* rwm"]:
            if allow:
                pass     # already allowed
            else:
                raise AssertionError("fake kernel: deny exceptions in "
                                     "allow-all mode are not modelled")
        else:
            kind, numbers, access = rule.split()
            entries = {}
            for line in lines:
                k, n, a = line.split()
                entries[(k, n)] = set(a)
            have = entries.get((kind, numbers), set())
            have = have | set(access) if allow else have - set(access)
            if have:
                entries[(kind, numbers)] = have
            else:
                entries.pop((kind, numbers), None)
            lines = ["%s %s %s" % (k, n, "".join(c for c in "rwm" if c in a))
                     for (k, n), a in entries.items()]
        self._put(directory, {"devices.list": "".join(line + "\n"
                                                      for line in lines)})

    def attach_device_filter(self, path, insns):
        self.attached[path] = insns

    # -- helpers for tests -------------------------------------------------------------
    def written(self, name=None):
        return [(os.path.basename(d), n, v) for d, n, v in self.writes
                if name is None or n == name]

    def content(self, directory, name):
        with open(os.path.join(directory, name)) as f:
            return f.read()


def mountinfo_v1(root, hierarchies=ALL_V1, unified=False):
    lines = []
    for i, options in enumerate(hierarchies):
        directory = options.replace("name=", "")
        lines.append("%d 31 0:%d / %s/%s rw,relatime - cgroup cgroup rw,%s"
                     % (32 + i, 29 + i, root, directory, options))
    if unified:
        lines.append("60 31 0:60 / %s/unified rw,relatime - cgroup2 cgroup2 rw"
                     % root)
    return "31 23 0:28 / %s rw - tmpfs tmpfs rw,mode=755\n" % root + \
        "\n".join(lines) + "\n"


def mountinfo_v2(root):
    return "31 23 0:28 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n" % root


def v1_tree(tmp, hierarchies=ALL_V1, unified=False, v2_controllers=("hugetlb",)):
    root = str(tmp)
    layout = _layout.detect(root, mountinfo_v1(root, hierarchies, unified))
    fs = FakeKernel(layout, v2_controllers if unified else ())
    fs.populate_root()
    return layout, fs


def v2_tree(tmp, controllers=("cpuset", "cpu", "io", "memory", "hugetlb",
                              "pids", "rdma"), bfq=False):
    root = str(tmp)
    layout = _layout.detect(root, mountinfo_v2(root))
    fs = FakeKernel(layout, controllers, bfq=bfq)
    fs.populate_root()
    return layout, fs

"""Namespaces: which ones a container creates and which it joins."""
import os

from pyoci.runtime import _native
from pyoci.runtime.errors import InvalidSpec

CLONE_FLAGS = {
    "user": _native.CLONE_NEWUSER,
    "mount": _native.CLONE_NEWNS,
    "pid": _native.CLONE_NEWPID,
    "network": _native.CLONE_NEWNET,
    "ipc": _native.CLONE_NEWIPC,
    "uts": _native.CLONE_NEWUTS,
    "cgroup": _native.CLONE_NEWCGROUP,
    "time": _native.CLONE_NEWTIME,
}
# The names under /proc/PID/ns/.
PROC_NAMES = {
    "user": "user", "mount": "mnt", "pid": "pid", "network": "net",
    "ipc": "ipc", "uts": "uts", "cgroup": "cgroup", "time": "time",
}
# Join the user namespace first: it decides what the other joins may do.
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "time", "cgroup", "mount")


class NamespacePlan:
    """What config.json's linux.namespaces asks for: `created` holds the
    types to unshare, `joined` maps each type to join to an open fd."""

    def __init__(self, namespaces):
        self.created = set()
        self.joined = {}
        self.kinds = set()   # created or joined; kept after close()
        for index, ns in enumerate(namespaces):
            kind = ns["type"]
            self.kinds.add(kind)
            path = ns.get("path")
            if not path:
                self.created.add(kind)
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as e:
                self.close()
                raise InvalidSpec("invalid config.json", [
                    "linux.namespaces[%d].path: cannot open %s namespace %s: %s"
                    % (index, kind, path, e.strerror)]) from None
            self.joined[kind] = fd

    def has(self, kind):
        return kind in self.kinds

    def flags(self, kinds):
        result = 0
        for kind in kinds:
            if kind in self.created:
                result |= CLONE_FLAGS[kind]
        return result

    def join_all(self):
        for kind in JOIN_ORDER:
            fd = self.joined.get(kind)
            if fd is not None:
                _native.setns(fd, CLONE_FLAGS[kind])

    def close(self):
        for fd in self.joined.values():
            os.close(fd)
        self.joined = {}


def write_id_mappings(pid, uid_mappings, gid_mappings):
    """Write a child's uid_map and gid_map from the parent's side (root in
    the parent user namespace needs no setgroups=deny)."""
    for name, mappings in (("uid_map", uid_mappings), ("gid_map", gid_mappings)):
        text = "".join("%d %d %d\n" % (m["containerID"], m["hostID"], m["size"])
                       for m in mappings)
        with open("/proc/%d/%s" % (pid, name), "w") as f:
            f.write(text)


def write_time_offsets(offsets):
    """Offsets for the time namespace this process just unshared; they must
    be written before any process enters it."""
    lines = ["%s %d %d\n" % (clock, offset.get("secs", 0),
                             offset.get("nanosecs", 0))
             for clock, offset in offsets.items()]
    with open("/proc/self/timens_offsets", "w") as f:
        f.write("".join(lines))

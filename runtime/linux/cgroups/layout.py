"""Where the cgroup hierarchies are, and where a container's cgroup goes.

Detection reads /proc/self/mountinfo (text can be passed in for tests):

- v2:     a cgroup2 filesystem is mounted at the root (/sys/fs/cgroup);
- hybrid: cgroup v1 hierarchies under the root plus a cgroup2 mount below it
          (/sys/fs/cgroup/unified, as systemd sets up);
- v1:     cgroup v1 hierarchies only.

Path rules (runc's, see the package docstring for the whole story) live in
`inner_path` and `Layout.resolve`."""
import errno
import os

from pyoci.runtime.errors import InvalidSpec, SyscallError

DEFAULT_ROOT = "/sys/fs/cgroup"

# The v1 hierarchies runc joins, in runc's subsystem order (the order limits
# are set in). Named hierarchies other than name=systemd are left alone.
V1_CONTROLLERS = ("cpuset", "devices", "memory", "cpu", "cpuacct", "pids",
                  "blkio", "hugetlb", "net_cls", "net_prio", "perf_event",
                  "freezer", "rdma", "name=systemd", "misc")


class Layout:
    """The host's cgroup layout.

    mode:     "v1", "v2" or "hybrid"
    root:     the directory holding the hierarchies (/sys/fs/cgroup)
    v1:       controller -> mount point of its v1 hierarchy
    v1_roots: controller -> the cgroup that mount shows at its top ("/"
              unless the mount is a bind of a sub-cgroup, as in a container)
    unified:  mount point of the cgroup2 hierarchy, or None
    unified_root: the cgroup shown at its top
    """

    def __init__(self, mode, root=DEFAULT_ROOT, v1=None, v1_roots=None,
                 unified=None, unified_root="/"):
        self.mode = mode
        self.root = root
        self.v1 = dict(v1 or {})
        self.v1_roots = dict(v1_roots or {})
        for controller in self.v1:
            self.v1_roots.setdefault(controller, "/")
        self.unified = unified
        self.unified_root = unified_root

    def __repr__(self):
        return "Layout(%r, root=%r, v1=%r, unified=%r)" % (
            self.mode, self.root, self.v1, self.unified)

    def resolve(self, inner, own=None):
        """The cgroup directories for `inner` (from inner_path).

        Returns (v1 paths {controller: dir}, unified dir or None). A relative
        inner path is relative to the calling process's own cgroup (`own`,
        from /proc/self/cgroup) in each v1 hierarchy, and to the parent of
        its own cgroup on v2 (runc: "the current scope most probably has
        tasks in it already"). In hybrid mode the unified directory is
        always <unified mount>/<inner>, as runc does."""
        absolute = inner.startswith("/")
        paths = {}
        for controller, mount in self.v1.items():
            if absolute:
                base = mount
            else:
                mine = _own_for(own, controller, required=controller == "devices")
                if mine is None:
                    continue     # runc skips a hierarchy it is not in
                base = _join_below(mount, _relative(self.v1_roots[controller],
                                                    mine))
            paths[controller] = _join_below(base, inner)
        unified = None
        if self.unified is not None:
            if absolute or self.mode == "hybrid":
                base = self.unified
            else:
                mine = os.path.dirname(_own_for(own, ""))
                base = _join_below(self.unified,
                                   _relative(self.unified_root, mine))
            unified = _join_below(base, inner)
        return paths, unified


def _own_for(own, controller, required=True):
    if own is None:
        raise SyscallError("cgroup: cannot resolve a relative cgroupsPath "
                           "without /proc/self/cgroup", errno.ENOENT)
    path = own.get(controller)
    if path is None and controller:
        path = own.get(controller.split("=", 1)[-1])
    if path is None and not required:
        return None
    if path is None:
        raise SyscallError("cgroup: /proc/self/cgroup has no entry for %s"
                           % (controller or "the unified hierarchy"),
                           errno.ENOENT)
    return path


def _relative(mount_root, cgroup):
    """cgroup (as /proc/self/cgroup shows it) relative to what the mount
    shows at its top; "." when it is not below it (a foreign namespace)."""
    mount_root = mount_root.rstrip("/") or "/"
    if mount_root == "/":
        return cgroup.lstrip("/") or "."
    if cgroup == mount_root:
        return "."
    if cgroup.startswith(mount_root + "/"):
        return cgroup[len(mount_root) + 1:]
    return "."


def _join_below(base, rel):
    path = os.path.normpath(os.path.join(base, rel.lstrip("/")))
    if path != base and not path.startswith(base.rstrip("/") + "/"):
        raise InvalidSpec("linux.cgroupsPath: %r leaves the cgroup "
                          "hierarchy %s" % (rel, base))
    return path


# -- mountinfo -----------------------------------------------------------------

def _unescape(field):
    """mountinfo writes space, tab, newline and backslash as \\ooo."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        octal = field[i + 1:i + 4]
        if field[i] == "\\" and len(octal) == 3 and all(c in "01234567"
                                                       for c in octal):
            out.append(chr(int(octal, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text):
    """[(root, mount point, fstype, super options)] of the cgroup mounts."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-", 6)
        except ValueError:
            continue
        fstype = fields[sep + 1]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        superopts = fields[sep + 3] if len(fields) > sep + 3 else ""
        mounts.append((_unescape(fields[3]), _unescape(fields[4]), fstype,
                       superopts))
    return mounts


def detect(root=DEFAULT_ROOT, mountinfo=None):
    """The Layout of the hierarchies mounted at or under `root`. mountinfo
    is the text of /proc/self/mountinfo (read when None)."""
    if mountinfo is None:
        with open("/proc/self/mountinfo") as f:
            mountinfo = f.read()
    root = os.path.normpath(root)
    v1, v1_roots = {}, {}
    unified = unified_root = None
    for mroot, point, fstype, superopts in parse_mountinfo(mountinfo):
        if point != root and not point.startswith(root + "/"):
            continue
        if fstype == "cgroup2":
            if point == root:
                return Layout("v2", root, unified=root, unified_root=mroot)
            if unified is None:
                unified, unified_root = point, mroot
            continue
        if point == root:
            continue
        for option in superopts.split(","):
            if option in V1_CONTROLLERS and option not in v1:
                v1[option] = point
                v1_roots[option] = mroot
    if not v1:
        if unified is not None:
            # a lone cgroup2 below the root and no v1: use it as v2
            return Layout("v2", root, unified=unified, unified_root=unified_root)
        raise SyscallError("cgroup: no cgroup filesystem is mounted under %s"
                           % root, errno.ENOENT)
    return Layout("hybrid" if unified else "v1", root, v1, v1_roots, unified,
                  unified_root or "/")


def parse_proc_cgroup(text):
    """controller -> cgroup path from /proc/<pid>/cgroup text; the unified
    hierarchy's entry ("0::/path") is under the key ""."""
    own = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(","):
            own[controller] = parts[2]
    return own


def own_cgroups():
    with open("/proc/self/cgroup") as f:
        return parse_proc_cgroup(f.read())


# -- linux.cgroupsPath -----------------------------------------------------------

def inner_path(cgroups_path, container_id, systemd=False):
    """The cgroup path below each hierarchy's mount for a container, as
    runc derives it: absolute ("/docker/ID") or relative to the caller's own
    cgroup ("ID" when cgroupsPath is empty). With systemd=True,
    "slice:prefix:name" maps to /<expanded slice>/<prefix>-<name>.scope."""
    _check_id(container_id)
    if systemd:
        return _systemd_path(cgroups_path or "", container_id)
    path = cgroups_path or ""
    if not path:
        return container_id
    return clean_path(path)


def clean_path(path):
    """Lexically clean a cgroupsPath; ".." is refused rather than resolved
    (it has no business in a cgroup path, and resolving it is how a hostile
    path would reach outside the hierarchy)."""
    if "\0" in path:
        raise InvalidSpec("linux.cgroupsPath: contains a NUL byte")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidSpec("linux.cgroupsPath: %r must not contain '..'" % path)
    if not parts:
        raise InvalidSpec("linux.cgroupsPath: %r names the root cgroup" % path)
    joined = "/".join(parts)
    return "/" + joined if path.startswith("/") else joined


def _check_id(container_id):
    if (not container_id or "/" in container_id or container_id in (".", "..")
            or "\0" in container_id):
        raise InvalidSpec("invalid container id %r for a cgroup name"
                          % (container_id,))


def expand_slice(slice_name):
    """systemd's slice nesting: "a-b-c.slice" -> "/a.slice/a-b.slice/
    a-b-c.slice"; "-.slice" is the root."""
    suffix = ".slice"
    if (len(slice_name) <= len(suffix) or not slice_name.endswith(suffix)
            or "/" in slice_name):
        raise InvalidSpec("linux.cgroupsPath: invalid slice name %r"
                          % slice_name)
    name = slice_name[:-len(suffix)]
    if name == "-":
        return "/"
    path, prefix = "", ""
    for component in name.split("-"):
        if not component or component in (".", ".."):
            raise InvalidSpec("linux.cgroupsPath: invalid slice name %r"
                              % slice_name)
        path += "/" + prefix + component + suffix
        prefix += component + "-"
    return path


def _systemd_path(cgroups_path, container_id):
    if not cgroups_path:
        parent, prefix, name = "", "runc", container_id
    else:
        parts = cgroups_path.split(":")
        if len(parts) != 3:
            raise InvalidSpec(
                'linux.cgroupsPath: expected cgroupsPath to be of format '
                '"slice:prefix:name" for systemd cgroups, got %r instead'
                % cgroups_path)
        parent, prefix, name = parts
    for what, value in (("prefix", prefix), ("name", name)):
        if "/" in value or value in (".", "..") or "\0" in value:
            raise InvalidSpec("linux.cgroupsPath: invalid systemd unit %s %r"
                              % (what, value))
    if not name:
        raise InvalidSpec("linux.cgroupsPath: %r has an empty unit name"
                          % cgroups_path)
    slice_path = expand_slice(parent or "system.slice")
    unit = name if name.endswith(".slice") else "%s-%s.scope" % (prefix, name)
    return slice_path.rstrip("/") + "/" + unit

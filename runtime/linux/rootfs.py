"""The container's filesystem: mounts in config order, devices, pivot_root,
masked and read-only paths.

Every destination is resolved inside the rootfs with openat2(RESOLVE_IN_ROOT),
and every mount is made onto /proc/self/fd/N of the resolved fd, so neither a
symlink in the image nor a directory swapped for one during setup can point
a mount outside the rootfs (the CVE-2021-30465 class)."""
import errno
import os
import stat

from pyoci.runtime import _native as n
from pyoci.runtime.errors import InvalidSpec, SyscallError

# option -> (flags to set, flags to clear), as mount(8) and runc read them.
MOUNT_FLAGS = {
    "async": (0, n.MS_SYNCHRONOUS), "atime": (0, n.MS_NOATIME),
    "bind": (n.MS_BIND, 0), "defaults": (0, 0), "dev": (0, n.MS_NODEV),
    "diratime": (0, n.MS_NODIRATIME), "dirsync": (n.MS_DIRSYNC, 0),
    "exec": (0, n.MS_NOEXEC), "iversion": (1 << 23, 0),
    "noiversion": (0, 1 << 23), "lazytime": (n.MS_LAZYTIME, 0),
    "nolazytime": (0, n.MS_LAZYTIME), "loud": (0, n.MS_SILENT),
    "mand": (n.MS_MANDLOCK, 0), "nomand": (0, n.MS_MANDLOCK),
    "noatime": (n.MS_NOATIME, 0), "nodev": (n.MS_NODEV, 0),
    "nodiratime": (n.MS_NODIRATIME, 0), "noexec": (n.MS_NOEXEC, 0),
    "nosuid": (n.MS_NOSUID, 0), "norelatime": (0, n.MS_RELATIME),
    "nostrictatime": (0, n.MS_STRICTATIME),
    "nosymfollow": (n.MS_NOSYMFOLLOW, 0), "symfollow": (0, n.MS_NOSYMFOLLOW),
    "rbind": (n.MS_BIND | n.MS_REC, 0), "relatime": (n.MS_RELATIME, 0),
    "remount": (n.MS_REMOUNT, 0), "ro": (n.MS_RDONLY, 0),
    "rw": (0, n.MS_RDONLY), "silent": (n.MS_SILENT, 0),
    "strictatime": (n.MS_STRICTATIME, 0), "suid": (0, n.MS_NOSUID),
    "sync": (n.MS_SYNCHRONOUS, 0),
}
PROPAGATION_FLAGS = {
    "private": n.MS_PRIVATE, "rprivate": n.MS_PRIVATE | n.MS_REC,
    "shared": n.MS_SHARED, "rshared": n.MS_SHARED | n.MS_REC,
    "slave": n.MS_SLAVE, "rslave": n.MS_SLAVE | n.MS_REC,
    "unbindable": n.MS_UNBINDABLE, "runbindable": n.MS_UNBINDABLE | n.MS_REC,
}
_ATIME_MASK = 0x70   # MOUNT_ATTR__ATIME: relatime (0), noatime, strictatime
# Recursive mount attributes (mount_setattr with AT_RECURSIVE):
# option -> (attributes to set, attributes to clear).
RECURSIVE_ATTRS = {
    "rro": (n.MOUNT_ATTR_RDONLY, 0), "rrw": (0, n.MOUNT_ATTR_RDONLY),
    "rnosuid": (n.MOUNT_ATTR_NOSUID, 0), "rsuid": (0, n.MOUNT_ATTR_NOSUID),
    "rnodev": (n.MOUNT_ATTR_NODEV, 0), "rdev": (0, n.MOUNT_ATTR_NODEV),
    "rnoexec": (n.MOUNT_ATTR_NOEXEC, 0), "rexec": (0, n.MOUNT_ATTR_NOEXEC),
    "rnodiratime": (0x80, 0), "rdiratime": (0, 0x80),
    "rrelatime": (0, _ATIME_MASK), "rnorelatime": (0, _ATIME_MASK),
    "rnoatime": (0x10, _ATIME_MASK), "ratime": (0, _ATIME_MASK),
    "rstrictatime": (0x20, _ATIME_MASK), "rnostrictatime": (0, _ATIME_MASK),
    "rnosymfollow": (0x200000, 0), "rsymfollow": (0, 0x200000),
}
# Options that are runtime directives, not kernel data (idmap and ridmap
# are done before the init mounts: idmap.py).
IGNORED_OPTIONS = {"tmpcopyup", "idmap", "ridmap"}

# statvfs flags -> mount flags: the ones a bind remount must keep when the
# kernel has locked them (mounts inherited into a user namespace).
_LOCKABLE = ((os.ST_RDONLY, n.MS_RDONLY), (os.ST_NOSUID, n.MS_NOSUID),
             (os.ST_NODEV, n.MS_NODEV), (os.ST_NOEXEC, n.MS_NOEXEC),
             (os.ST_NOATIME, n.MS_NOATIME), (os.ST_NODIRATIME, n.MS_NODIRATIME),
             (os.ST_RELATIME, n.MS_RELATIME))

_RESOLVE = n.RESOLVE_IN_ROOT | n.RESOLVE_NO_MAGICLINKS
_O_PATH = os.O_PATH | os.O_CLOEXEC

DEFAULT_DEVICES = (
    # path, major, minor
    ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
    ("urandom", 1, 9), ("tty", 5, 0),
)
DEV_SYMLINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"))


class MountOptions:
    """One mount's options split the way the kernel takes them."""

    __slots__ = ("flags", "clear", "propagation", "attr_set", "attr_clr",
                 "data", "bind")

    def __init__(self, options):
        self.flags = 0
        self.clear = 0
        self.propagation = []
        self.attr_set = 0
        self.attr_clr = 0
        data = []
        for option in options or ():
            if option in MOUNT_FLAGS:
                set_bits, clear_bits = MOUNT_FLAGS[option]
                self.flags = (self.flags & ~clear_bits) | set_bits
                self.clear |= clear_bits
            elif option in PROPAGATION_FLAGS:
                self.propagation.append(PROPAGATION_FLAGS[option])
            elif option in RECURSIVE_ATTRS:
                set_bits, clear_bits = RECURSIVE_ATTRS[option]
                self.attr_set = (self.attr_set & ~clear_bits) | set_bits
                self.attr_clr |= clear_bits
            elif option not in IGNORED_OPTIONS:
                data.append(option)
        self.data = ",".join(data) or None
        self.bind = bool(self.flags & n.MS_BIND)


def describe(error):
    """An OSError as one line: the helper's message already names the
    step; the standard library's names the file."""
    if error.filename:
        return "%s: %s" % (error.filename, error.strerror)
    return error.strerror or str(error)


def fd_path(fd):
    return "/proc/self/fd/%d" % fd


def _locked_flags(path):
    flags = 0
    vfs = os.statvfs(path)
    for st_flag, ms_flag in _LOCKABLE:
        if vfs.f_flag & st_flag:
            flags |= ms_flag
    return flags


def remount(path, flags):
    """Bind-remount `path` with `flags`; where the kernel refuses because
    some flags are locked (a user namespace), keep those and try again."""
    try:
        n.mount(None, path, None, flags | n.MS_BIND | n.MS_REMOUNT)
    except PermissionError:
        n.mount(None, path, None,
                flags | _locked_flags(path) | n.MS_BIND | n.MS_REMOUNT)


class Rootfs:
    """Builds the rootfs of one container, in the container's mount
    namespace, in the order runc does."""

    def __init__(self, rootfs, bundle, config, new_user_ns, new_cgroup_ns,
                 host_mount_ns=False, idmapped_trees=None):
        self.rootfs = rootfs
        self.bundle = bundle
        self.config = config
        self.linux = config.get("linux", {})
        self.new_user_ns = new_user_ns
        self.new_cgroup_ns = new_cgroup_ns
        # No mount namespace in the config: the mounts are made in the
        # host's, all under one private bind of the rootfs that delete
        # detaches (detach_host_rootfs), and the root is entered by chroot.
        self.host_mount_ns = host_mount_ns
        # mount index -> detached idmapped tree made by pyoci create
        self.idmapped_trees = idmapped_trees or {}
        self.root_fd = -1

    # -- path resolution inside the rootfs ---------------------------------

    def resolve(self, path, create=None, mode=0o755):
        """An O_PATH fd for `path` inside the rootfs. With create="dir" or
        "file", missing components are made (the last as `create`), each
        under a parent fd that was itself resolved inside the root."""
        relative = path.lstrip("/") or "."
        try:
            return n.openat2(self.root_fd, relative, _O_PATH, 0, _RESOLVE)
        except FileNotFoundError:
            if create is None:
                raise
        parts = [p for p in relative.split("/") if p and p != "."]
        for i, part in enumerate(parts):
            prefix = "/".join(parts[:i + 1])
            try:
                fd = n.openat2(self.root_fd, prefix, _O_PATH, 0, _RESOLVE)
            except FileNotFoundError:
                parent = n.openat2(self.root_fd, "/".join(parts[:i]) or ".",
                                   _O_PATH, 0, _RESOLVE)
                try:
                    if create == "file" and i == len(parts) - 1:
                        os.close(os.open(part, os.O_CREAT | os.O_WRONLY
                                         | os.O_NOFOLLOW | os.O_CLOEXEC,
                                         0o644, dir_fd=parent))
                    else:
                        try:
                            os.mkdir(part, mode, dir_fd=parent)
                        except FileExistsError:
                            pass    # a dangling symlink: resolving it fails below
                finally:
                    os.close(parent)
                fd = n.openat2(self.root_fd, prefix, _O_PATH, 0, _RESOLVE)
            if i < len(parts) - 1:
                os.close(fd)
        return fd

    # -- before pivot_root -------------------------------------------------

    def prepare(self):
        """Stop mount events from leaking to the host, and make the rootfs a
        mount point of its own so that pivot_root accepts it."""
        propagation = PROPAGATION_FLAGS.get(self.linux.get("rootfsPropagation"),
                                            n.MS_SLAVE | n.MS_REC)
        if self.host_mount_ns:
            n.mount(self.rootfs, self.rootfs, None, n.MS_BIND | n.MS_REC)
            n.mount(None, self.rootfs, None, n.MS_PRIVATE | n.MS_REC)
            self.root_fd = os.open(self.rootfs, os.O_PATH | os.O_DIRECTORY
                                   | os.O_CLOEXEC)
            return
        if propagation & n.MS_UNBINDABLE:
            # An unbindable tree cannot give the rootfs bind below: private
            # now, unbindable once the root is in place (finish_propagation).
            propagation = n.MS_PRIVATE
        n.mount(None, "/", None, propagation | n.MS_REC)
        self._make_parent_mount_private()
        n.mount(self.rootfs, self.rootfs, None, n.MS_BIND | n.MS_REC)
        self.root_fd = os.open(self.rootfs, os.O_PATH | os.O_DIRECTORY
                               | os.O_CLOEXEC)

    def _make_parent_mount_private(self):
        # pivot_root refuses a new root whose parent mount is shared.
        parent, best = os.path.dirname(self.rootfs), ""
        for mountpoint, optional in _mountinfo_points():
            if (parent == mountpoint or parent.startswith(mountpoint.rstrip("/") + "/")) \
                    and len(mountpoint) > len(best):
                best, shared = mountpoint, "shared:" in optional
        if best and shared:
            n.mount(None, best, None, n.MS_PRIVATE)

    def mount_all(self):
        for index, mount in enumerate(self.config.get("mounts", ())):
            try:
                tree = self.idmapped_trees.pop(index, -1)
                if tree >= 0:
                    self._move_tree(tree, mount)
                else:
                    self.mount_one(mount)
            except OSError as e:
                raise SyscallError("mounts[%d]: cannot mount %s on %s: %s" % (
                    index, mount.get("source") or mount.get("type", ""),
                    mount["destination"], describe(e)), e.errno) from None

    def mount_one(self, mount):
        options = MountOptions(mount.get("options"))
        kind = mount.get("type") or ""
        destination = mount["destination"]
        if kind == "bind":
            options.bind = True
            options.flags |= n.MS_BIND
        if kind == "cgroup" and not options.bind:
            return self._mount_cgroup_v1(destination, options)
        source = mount.get("source") or kind or "none"
        source_fd = -1
        try:
            if options.bind:
                source_path = os.path.join(self.bundle, source)
                source_fd = os.open(source_path, _O_PATH)
                is_dir = stat.S_ISDIR(os.fstat(source_fd).st_mode)
                target_fd = self.resolve(destination, "dir" if is_dir else "file")
                try:
                    n.mount(fd_path(source_fd), fd_path(target_fd), None,
                            options.flags & (n.MS_BIND | n.MS_REC))
                finally:
                    os.close(target_fd)
            else:
                target_fd = self.resolve(destination, "dir")
                try:
                    n.mount(source, fd_path(target_fd), kind,
                            options.flags & ~n.MS_REMOUNT, options.data)
                finally:
                    os.close(target_fd)
            self._finish_mount(destination, options)
        finally:
            if source_fd >= 0:
                os.close(source_fd)

    def _move_tree(self, tree, mount):
        """An idmapped bind: the detached tree moved onto its destination,
        then the same flags and propagation as any bind."""
        try:
            is_dir = stat.S_ISDIR(os.fstat(tree).st_mode)
            target_fd = self.resolve(mount["destination"],
                                     "dir" if is_dir else "file")
            try:
                n.move_mount(tree, "", target_fd, "", n.MOVE_MOUNT_F_EMPTY_PATH
                             | n.MOVE_MOUNT_T_EMPTY_PATH)
            finally:
                os.close(target_fd)
        finally:
            os.close(tree)
        options = MountOptions(mount.get("options"))
        options.bind = True
        self._finish_mount(mount["destination"], options)

    def _finish_mount(self, destination, options):
        """Flags a bind mount only takes on remount, propagation, and
        recursive attributes: applied to the new mount, re-resolved."""
        remount_flags = options.flags & ~(n.MS_BIND | n.MS_REC | n.MS_REMOUNT)
        needs_remount = options.bind and remount_flags
        if not (needs_remount or options.propagation or options.attr_set
                or options.attr_clr):
            return
        fd = self.resolve(destination)
        try:
            if needs_remount:
                remount(fd_path(fd), remount_flags)
            for propagation in options.propagation:
                n.mount(None, fd_path(fd), None, propagation)
            if options.attr_set or options.attr_clr:
                n.mount_setattr(fd, "", n.AT_EMPTY_PATH | n.AT_RECURSIVE,
                                options.attr_set, options.attr_clr)
        finally:
            os.close(fd)

    def _mount_cgroup_v1(self, destination, options):
        """`type: cgroup` the way runc does it: on a cgroup2-only host a
        cgroup2 mount; otherwise a tmpfs with one directory per v1
        hierarchy, each the container's own cgroup (a cgroup mount in a new
        cgroup namespace, else a bind of the host directory)."""
        flags = options.flags & ~(n.MS_BIND | n.MS_REC | n.MS_REMOUNT)
        hierarchies = _cgroup_v1_hierarchies()
        target_fd = self.resolve(destination, "dir")
        try:
            if not hierarchies:
                n.mount("cgroup2", fd_path(target_fd), "cgroup2", flags)
                return
            n.mount("tmpfs", fd_path(target_fd), "tmpfs",
                    n.MS_NOSUID | n.MS_NODEV | n.MS_NOEXEC, "mode=755")
        finally:
            os.close(target_fd)
        own = _own_cgroups()
        for mountpoint, controllers in hierarchies:
            name = os.path.basename(mountpoint)
            sub_fd = self.resolve(os.path.join(destination, name), "dir")
            try:
                if self.new_cgroup_ns:
                    n.mount("cgroup", fd_path(sub_fd), "cgroup",
                            flags & ~n.MS_RDONLY, controllers)
                else:
                    path = own.get(controllers, "/")
                    n.mount(mountpoint + path, fd_path(sub_fd), None,
                            n.MS_BIND | n.MS_REC)
            finally:
                os.close(sub_fd)
            if flags:
                self._remount_at(os.path.join(destination, name), flags)
            if "," in name:
                for alias in name.split(","):
                    dir_fd = self.resolve(destination)
                    try:
                        os.symlink(name, alias, dir_fd=dir_fd)
                    except FileExistsError:
                        pass
                    finally:
                        os.close(dir_fd)
        if flags & n.MS_RDONLY:
            self._remount_at(destination,
                             flags | n.MS_NOSUID | n.MS_NODEV | n.MS_NOEXEC)

    def _remount_at(self, destination, flags):
        # Resolved afresh: an fd taken before a mount names what the mount
        # covers, not the mount.
        fd = self.resolve(destination)
        try:
            remount(fd_path(fd), flags)
        finally:
            os.close(fd)

    def _mounted_dev(self):
        return any(m["destination"].rstrip("/") == "/dev"
                   and MountOptions(m.get("options")).bind
                   for m in self.config.get("mounts", ()))

    def create_devices(self):
        """The default devices and linux.devices: mknod where allowed, else
        a bind mount of the host's node (in a user namespace)."""
        if self._mounted_dev():
            return
        devices = [{"path": "/dev/" + name, "type": "c", "major": major,
                    "minor": minor, "fileMode": 0o666, "uid": 0, "gid": 0}
                   for name, major, minor in DEFAULT_DEVICES]
        devices += self.linux.get("devices", ())
        old_umask = os.umask(0)
        try:
            for device in devices:
                self._create_device(device)
        finally:
            os.umask(old_umask)
        self._create_dev_symlinks()

    def _create_device(self, device):
        path = device["path"]
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK,
                "p": stat.S_IFIFO}[device["type"]]
        rdev = os.makedev(device.get("major", 0), device.get("minor", 0))
        mode = device.get("fileMode", 0o666) & 0o7777
        parent_fd = self.resolve(os.path.dirname(path), "dir")
        name = os.path.basename(path)
        try:
            try:
                existing = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
            except FileNotFoundError:
                existing = None
            if existing is not None:
                if stat.S_IFMT(existing.st_mode) == kind and existing.st_rdev == rdev:
                    return
                if stat.S_ISDIR(existing.st_mode):
                    raise SyscallError("cannot create device %s: a directory is "
                                       "in the way" % path, errno.EISDIR)
                # A file or symlink from the image where a device must be:
                # replace it, so that nothing that trusts the node (masked
                # paths bind /dev/null) can be redirected.
                os.unlink(name, dir_fd=parent_fd)
            if not self.new_user_ns:
                try:
                    os.mknod(name, kind | mode, rdev, dir_fd=parent_fd)
                    os.chown(name, device.get("uid", 0), device.get("gid", 0),
                             dir_fd=parent_fd, follow_symlinks=False)
                    return
                except PermissionError:
                    pass
            self._bind_host_device(path)
        finally:
            os.close(parent_fd)

    def _bind_host_device(self, path):
        target_fd = self.resolve(path, "file")
        try:
            n.mount(path, fd_path(target_fd), None, n.MS_BIND)
        finally:
            os.close(target_fd)

    def _create_dev_symlinks(self):
        dev_fd = self.resolve("/dev", "dir")
        try:
            links = list(DEV_SYMLINKS)
            if os.path.exists("/proc/kcore"):
                links.append(("core", "/proc/kcore"))
            if any(m["destination"].rstrip("/") == "/dev/pts"
                   for m in self.config.get("mounts", ())):
                try:
                    os.unlink("ptmx", dir_fd=dev_fd)
                except FileNotFoundError:
                    pass
                links.append(("ptmx", "pts/ptmx"))
            for name, target in links:
                try:
                    os.symlink(target, name, dir_fd=dev_fd)
                except FileExistsError:
                    pass
        finally:
            os.close(dev_fd)

    def pivot(self, no_pivot):
        os.chdir(self.rootfs)
        if self.host_mount_ns:
            os.chroot(".")
        elif no_pivot:
            n.mount(self.rootfs, "/", None, n.MS_MOVE)
            os.chroot(".")
        else:
            old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
            try:
                n.pivot_root(".", ".")
                # The old root now sits on top of the new one: detach it
                # without letting the unmount propagate to the host.
                os.fchdir(old_root)
                n.mount(None, ".", None, n.MS_SLAVE | n.MS_REC)
                n.umount2(".", n.MNT_DETACH)
            finally:
                os.close(old_root)
        os.chdir("/")
        os.close(self.root_fd)
        self.root_fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def _root_propagation(self):
        """rootfsPropagation for the container's own root mount, last (an
        unbindable root would refuse the binds of readonlyPaths). The bind
        made in prepare() took the propagation of its private parent, and
        unbindable could not be set before that bind."""
        wanted = PROPAGATION_FLAGS.get(self.linux.get("rootfsPropagation"))
        if wanted is not None:
            n.mount(None, "/", None, wanted | n.MS_REC)

    # -- after pivot_root --------------------------------------------------

    def write_sysctls(self):
        for key, value in self.linux.get("sysctl", {}).items():
            path = "/proc/sys/" + key.replace(".", "/")
            try:
                with open(path, "w") as f:
                    f.write(value)
            except OSError as e:
                raise SyscallError("linux.sysctl.%s: cannot write %s: %s"
                                   % (key, path, e.strerror), e.errno) from None

    def mask_paths(self):
        """maskedPaths: /dev/null bound over files, an empty read-only tmpfs
        over directories. The /dev/null used is checked to be the real
        device, so an image cannot make "masking" expose something."""
        paths = self.linux.get("maskedPaths", ())
        if not paths:
            return
        null_fd = os.open("/dev/null", _O_PATH | os.O_NOFOLLOW)
        try:
            st = os.fstat(null_fd)
            if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3):
                raise SyscallError("/dev/null in the container is not the "
                                   "null device: refusing to mask paths with it",
                                   errno.EPERM)
            for path in paths:
                try:
                    fd = n.openat2(self.root_fd, path.lstrip("/") or ".",
                                   _O_PATH | os.O_NOFOLLOW, 0, _RESOLVE)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                try:
                    mode = os.fstat(fd).st_mode
                    if stat.S_ISLNK(mode):
                        continue
                    if stat.S_ISDIR(mode):
                        n.mount("tmpfs", fd_path(fd), "tmpfs", n.MS_RDONLY)
                    else:
                        n.mount(fd_path(null_fd), fd_path(fd), None, n.MS_BIND)
                finally:
                    os.close(fd)
        finally:
            os.close(null_fd)

    def readonly_paths(self):
        for path in self.linux.get("readonlyPaths", ()):
            try:
                fd = n.openat2(self.root_fd, path.lstrip("/") or ".", _O_PATH,
                               0, _RESOLVE)
            except (FileNotFoundError, NotADirectoryError):
                continue
            try:
                n.mount(fd_path(fd), fd_path(fd), None, n.MS_BIND | n.MS_REC)
            finally:
                os.close(fd)
            fd = n.openat2(self.root_fd, path.lstrip("/") or ".", _O_PATH, 0,
                           _RESOLVE)
            try:
                remount(fd_path(fd), n.MS_RDONLY | n.MS_REC)
            finally:
                os.close(fd)

    def finish(self):
        self._root_propagation()
        if self.config.get("root", {}).get("readonly"):
            remount("/", n.MS_RDONLY)
        os.close(self.root_fd)
        self.root_fd = -1


def mounts_at(path):
    """How many mounts are stacked on `path` in this mount namespace."""
    return sum(1 for point, _ in _mountinfo_points() if point == path)


def mountpoints_of(fstype):
    """Where filesystems of `fstype` are mounted in this mount namespace."""
    return [_unescape(fields[4]) for fields, separator in _mountinfo()
            if fields[separator + 1] == fstype]


def detach_host_rootfs(path, mounts_before):
    """Undo the rootfs bind of a container without a mount namespace, and
    with it every mount made under it; only if it is still there (a mount
    on `path` that was there before create is not ours)."""
    if mounts_at(path) > mounts_before:
        n.umount2(path, n.MNT_DETACH)


def _mountinfo():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            separator = fields.index("-")
            yield fields, separator


def _mountinfo_points():
    for fields, separator in _mountinfo():
        yield _unescape(fields[4]), " ".join(fields[6:separator])


def _unescape(path):
    return path.replace("\\040", " ").replace("\\011", "\t") \
        .replace("\\012", "\n").replace("\\134", "\\")


def _cgroup_v1_hierarchies():
    """(mountpoint, controllers) of the host's cgroup v1 hierarchies: the
    ones under /sys/fs/cgroup, each once. The table also holds binds of
    them elsewhere, such as the cgroup mounts of containers that share the
    host's mount namespace, whose roots are their own cgroups."""
    found = []
    for fields, separator in _mountinfo():
        mountpoint = _unescape(fields[4])
        if fields[separator + 1] != "cgroup" \
                or os.path.dirname(mountpoint) != "/sys/fs/cgroup" \
                or any(mountpoint == seen for seen, _ in found):
            continue
        super_options = fields[separator + 3].split(",")
        controllers = [o for o in super_options
                       if o not in ("rw", "ro") and not o.startswith("release_agent")
                       and o not in ("clone_children", "noprefix", "xattr")]
        found.append((mountpoint, ",".join(controllers)))
    return found


def _own_cgroups():
    """Controller list -> this process's cgroup path, from /proc/self/cgroup."""
    result = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers:
                result[controllers] = path
    return result


def check_rootfs(path):
    if not os.path.isdir(path):
        raise InvalidSpec("invalid config.json",
                          ["root.path: %s is not a directory" % path])

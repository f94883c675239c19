"""Idmapped bind mounts: a mount's `uidMappings`/`gidMappings` and the
`idmap` / `ridmap` options (config.md, "Mounts").

pyoci create (P, in the host's namespaces, as root of the initial user
namespace) clones each such source with open_tree(OPEN_TREE_CLONE) and
gives the detached tree MOUNT_ATTR_IDMAP: only a detached mount can take
it, and only a caller with CAP_SYS_ADMIN over the source filesystem's user
namespace may set it, which the container's init is not. The trees ride to
the init with the `placed` message (init.py), which moves each onto its
destination in mount order (Rootfs.mount_one).

The user namespace that gives the mapping is the container's own when the
mount names no mappings of its own (or the same as the container's), else
a fresh one holding the mount's mappings, as runc makes. A file whose id is
N on disk then shows, through the mount, as host id hostID + N -
containerID, which is N again inside a container with that mapping."""
import os
import sys

from pyoci.runtime import _native as n
from pyoci.runtime.errors import SyscallError
from pyoci.runtime.linux.namespaces import write_id_mappings

IDMAP_OPTIONS = ("idmap", "ridmap")


def is_idmapped(mount):
    return bool(mount.get("uidMappings")) or any(
        option in IDMAP_OPTIONS for option in mount.get("options") or ())


def open_idmapped_trees(config, bundle, init_pid):
    """{mount index: fd of its detached, idmapped tree} for every idmapped
    mount of `config`; `init_pid` is the container's init."""
    linux = config.get("linux", {})
    own = (linux.get("uidMappings") or None, linux.get("gidMappings") or None)
    trees = {}
    fresh = {}      # the mount's mappings -> a user namespace holding them
    try:
        for index, mount in enumerate(config.get("mounts", ())):
            if not is_idmapped(mount):
                continue
            mappings = (mount.get("uidMappings") or None,
                        mount.get("gidMappings") or None)
            if mappings == (None, None) or mappings == own:
                userns = "/proc/%d/ns/user" % init_pid
                userns_fd = os.open(userns, os.O_RDONLY | os.O_CLOEXEC)
            else:
                key = repr(mappings)
                if key not in fresh:
                    fresh[key] = new_user_namespace(*mappings)
                userns_fd = os.dup(fresh[key])
            try:
                trees[index] = idmapped_tree(os.path.join(bundle, mount["source"]),
                                             mount.get("options") or (), userns_fd)
            except OSError as e:
                raise SyscallError("mounts[%d]: cannot idmap %s: %s" % (
                    index, mount["source"], e.strerror), e.errno) from None
            finally:
                os.close(userns_fd)
    except BaseException:
        for fd in trees.values():
            os.close(fd)
        raise
    finally:
        for fd in fresh.values():
            os.close(fd)
    return trees


def idmapped_tree(source, options, userns_fd):
    """A detached copy of the mount at `source` (with its submounts for
    rbind) whose ids go through the user namespace `userns_fd` (all of
    them for ridmap, the top one for idmap)."""
    clone = n.OPEN_TREE_CLONE | n.OPEN_TREE_CLOEXEC
    if "rbind" in options:
        clone |= n.AT_RECURSIVE
    fd = n.open_tree(-100, source, clone)       # AT_FDCWD
    try:
        setattr_flags = n.AT_EMPTY_PATH
        if "ridmap" in options:
            setattr_flags |= n.AT_RECURSIVE
        n.mount_setattr(fd, "", setattr_flags, n.MOUNT_ATTR_IDMAP,
                        userns_fd=userns_fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def new_user_namespace(uid_mappings, gid_mappings):
    """An fd of a new user namespace with these mappings and no process in
    it: a child unshares it, we map and open it, the child exits."""
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    done_r, done_w = os.pipe2(os.O_CLOEXEC)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(ready_r)
            os.close(done_w)
            n.unshare(n.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(done_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(done_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise OSError(0, "cannot create a user namespace for an idmapped mount")
        write_id_mappings(pid, uid_mappings, gid_mappings)
        return os.open("/proc/%d/ns/user" % pid, os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_r)
        os.close(done_w)
        os.waitpid(pid, 0)


def supported():
    """Whether this kernel idmaps a bind mount of a directory on the
    filesystem of the temporary directory (for `pyoci features`)."""
    import tempfile
    mapping = [{"containerID": 0, "hostID": 65534, "size": 1}]
    try:
        userns_fd = new_user_namespace(mapping, mapping)
    except OSError:
        return False
    try:
        with tempfile.TemporaryDirectory() as directory:
            os.close(idmapped_tree(directory, (), userns_fd))
        return True
    except OSError:
        return False
    finally:
        os.close(userns_fd)

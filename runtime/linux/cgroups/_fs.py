"""File operations on a cgroup tree.

`CgroupFS` is the real kernel interface and the only place the cgroup layer
touches files. Tests substitute a subclass that imitates the kernel inside a
temp dir (creating a cgroup's interface files on mkdir, for example).

Writes open the file O_WRONLY without O_CREAT: cgroupfs never lets anyone
create a file, so a missing interface file fails with ENOENT, which the
backends turn into "controller not available" errors."""
import errno
import os
import time

from pyoci.runtime.errors import PyociError, SyscallError


def check_name(name):
    """An interface file name comes from config.json (unified keys,
    hugepage sizes): it must stay a single name in the cgroup directory."""
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise PyociError("invalid cgroup file name %r" % (name,))


class CgroupFS:
    """The real cgroup filesystem."""

    def read(self, directory, name):
        check_name(name)
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                return f.read().decode()
        except OSError as e:
            raise _error("read", path, e) from None

    def write(self, directory, name, data):
        """Write `data` in one write(2), as the kernel wants one value per
        write."""
        self.write_lines(directory, name, [data])

    def write_lines(self, directory, name, lines):
        """Write each line with its own write(2) on one open file (the way
        runc writes multi-line unified values)."""
        check_name(name)
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as e:
            raise _error("open", path, e) from None
        try:
            for line in lines:
                try:
                    os.write(fd, line.encode())
                except OSError as e:
                    raise _error("write %r to" % line, path, e) from None
        finally:
            os.close(fd)

    def exists(self, directory, name=None):
        return os.path.exists(directory if name is None
                              else os.path.join(directory, name))

    def mkdir(self, path):
        """Create one directory; True if it was created, False if it was
        there already."""
        try:
            os.mkdir(path, 0o755)
            return True
        except FileExistsError:
            return False
        except OSError as e:
            raise _error("mkdir", path, e) from None

    def rmdir(self, path):
        """Raises OSError as is: callers look at errno (EBUSY, ENOENT)."""
        os.rmdir(path)

    def listdir(self, path):
        """Names of the sub-cgroups (directories) of path; [] if it is
        gone."""
        try:
            with os.scandir(path) as it:
                return [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def attach_device_filter(self, path, insns):
        """Load and attach a cgroup v2 device filter program to path."""
        from pyoci.runtime.linux.cgroups import ebpf
        fd = self.open_dir(path)
        try:
            ebpf.attach(fd, insns)
        finally:
            os.close(fd)

    def open_dir(self, path):
        try:
            return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise _error("open", path, e) from None


REAL = CgroupFS()


def _error(what, path, e):
    error = SyscallError("cgroup: %s %s: %s"
                         % (what, path, os.strerror(e.errno)), e.errno)
    error.path = path
    return error


def mkdir_p(fs, path, top):
    """Create path and its missing parents below `top` (which must exist);
    returns the directories created, outermost first. A parent removed by a
    concurrent destroy between two steps is created again."""
    created = []
    rel = os.path.relpath(path, top)
    current = top
    for part in rel.split("/"):
        current = os.path.join(current, part)
        for _ in range(5):
            try:
                if fs.mkdir(current):
                    created.append(current)
                break
            except SyscallError as e:
                if e.errno != errno.ENOENT:
                    raise
                # a parent vanished: create the whole chain again
                created.extend(mkdir_p(fs, os.path.dirname(current), top))
        else:
            raise SyscallError("cgroup: mkdir %s keeps failing" % current,
                               errno.ENOENT)
    return created


def remove_tree(fs, path, timeout=2.0):
    """Remove a cgroup directory and its sub-cgroups, deepest first,
    retrying on EBUSY while exiting tasks leave. A missing directory is
    fine. Raises SyscallError when something stays."""
    for child in fs.listdir(path):
        remove_tree(fs, os.path.join(path, child), timeout)
    delay = 0.001
    deadline = time.monotonic() + timeout
    while True:
        try:
            fs.rmdir(path)
            return
        except FileNotFoundError:
            return
        except InterruptedError:
            continue
        except OSError as e:
            if e.errno == errno.EBUSY and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            if e.errno == errno.ENOTEMPTY:
                # a sub-cgroup appeared meanwhile (exec racing delete)
                if time.monotonic() < deadline:
                    for child in fs.listdir(path):
                        remove_tree(fs, os.path.join(path, child), timeout)
                    continue
            raise SyscallError("cgroup: rmdir %s: %s"
                               % (path, os.strerror(e.errno)), e.errno) from None

"""The state store: one directory per container under the root.

    <root>/<id>/            created with mkdir: a clash is "already exists"
    <root>/<id>/state.json  written to a temp name, fsynced, renamed
    <root>/<id>/exec.fifo   present while the container waits for `start`

Commands that change a container hold an flock on its directory. Nothing
stored here is trusted as a status: status is derived from live evidence
(see lifecycle.container)."""
import errno
import fcntl
import os

from pyoci.runtime.errors import AlreadyExists, NotFound, UsageError
from pyoci.spec import jsonio

DEFAULT_ROOT = "/run/pyoci"
STATE_FILE = "state.json"
EXEC_FIFO = "exec.fifo"
# runc's rule ([\w+.-]+, ASCII), plus a bound that keeps <root>/<id> a
# valid file name; a set rather than a regex, which would import re.
_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789_+.-")
MAX_ID_LENGTH = 255


def check_id(container_id):
    if not container_id:
        raise UsageError("invalid container id: the id must not be empty")
    if len(container_id) > MAX_ID_LENGTH:
        raise UsageError("invalid container id: longer than %d characters"
                         % MAX_ID_LENGTH)
    if container_id in (".", "..") or not _ID_CHARACTERS.issuperset(container_id):
        raise UsageError(
            "invalid container id %r: only letters, digits, '_', '+', '-' and "
            "'.' are allowed, and not '.' or '..'" % container_id)
    return container_id


class Store:
    def __init__(self, root=DEFAULT_ROOT):
        self.root = os.path.abspath(root)

    def path(self, container_id):
        return os.path.join(self.root, check_id(container_id))

    def create(self, container_id):
        """Make the container's directory; exactly one of many concurrent
        callers for one id succeeds."""
        path = self.path(container_id)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        try:
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise AlreadyExists("container with id %s already exists"
                                % container_id) from None
        return path

    def exists(self, container_id):
        return os.path.isdir(self.path(container_id))

    def ids(self):
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if _ID_CHARACTERS.issuperset(n)
                      and n not in (".", ".."))

    def lock(self, container_id):
        """An exclusive flock on the container directory, held until the
        returned fd is closed (or the process ends)."""
        path = self.path(container_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound("container %s does not exist" % container_id) from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not os.path.isdir(path):     # deleted while we waited
            os.close(fd)
            raise NotFound("container %s does not exist" % container_id)
        return fd

    def read(self, container_id):
        path = os.path.join(self.path(container_id), STATE_FILE)
        try:
            with open(path, "rb") as f:
                return jsonio.loads(f.read())
        except FileNotFoundError:
            if self.exists(container_id):
                return None     # create has made the directory, not yet the state
            raise NotFound("container %s does not exist" % container_id) from None

    def write(self, container_id, record):
        """Replace state.json atomically: a reader (or a crash) sees the old
        file or the new one, never a part."""
        directory = self.path(container_id)
        data = jsonio.dumps(record, separators=(",", ":")).encode()
        temp = os.path.join(directory, ".%s.%d" % (STATE_FILE, os.getpid()))
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                     0o600)
        try:
            view = memoryview(data)
            while view:     # a large config may take more than one write
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, os.path.join(directory, STATE_FILE))
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def remove(self, container_id):
        directory = self.path(container_id)
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return
        for name in names:
            try:
                os.unlink(os.path.join(directory, name))
            except FileNotFoundError:
                pass
        try:
            os.rmdir(directory)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise


def write_pid_file(path, pid):
    """Digits only, no newline, atomically (temp + rename), as callers read
    it."""
    path = os.path.abspath(path)
    temp = "%s.pyoci-%d" % (path, os.getpid())
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)
    os.rename(temp, path)

"""Terminals: the pty a container process gets when process.terminal is
true, the console socket protocol that hands its master to the caller, and
the relay pyoci runs itself when a person starts `run -t` / `exec -t` at a
shell.

The pty is opened inside the container (its /dev/ptmx, so its own devpts
instance) by the process that will use it; the slave becomes fds 0-2 (and,
for an init, /dev/console); the master travels to pyoci over the launch
socket and from there to the caller's console socket in one message whose
payload is the master's path (/dev/ptmx, as runc sends it: go-runc names
the received file after it) and whose one SCM_RIGHTS fd is the master."""
import errno
import fcntl
import os
import select
import signal
import struct
import termios

from pyoci.runtime import _native as n
from pyoci.runtime.errors import SyscallError, UsageError
from pyoci.runtime.linux import sockets

_TIOCSPTLCK = 0x40045431
_TIOCGPTPEER = 0x5441
_WINSIZE = "HHHH"
MASTER_PATH = "/dev/ptmx"


def check_terminal(terminal, console_socket, detach):
    """The combinations runc accepts (its messages, which callers see)."""
    if detach and terminal and not console_socket:
        raise UsageError("cannot allocate tty if runc will detach without "
                         "setting console socket")
    if (not detach or not terminal) and console_socket:
        raise UsageError("cannot use console socket if runc will not detach "
                         "or allocate tty")


# -- inside the container -----------------------------------------------------

def open_pty(console_size=None):
    """A new pty from the container's /dev/ptmx: (master, slave).
    The slave is opened from the master (TIOCGPTPEER), never by a path an
    image could redirect."""
    try:
        master = os.open(MASTER_PATH, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise SyscallError("process.terminal: cannot open /dev/ptmx in the "
                           "container: %s" % e.strerror, e.errno) from None
    try:
        fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))
        slave = fcntl.ioctl(master, _TIOCGPTPEER,
                            os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        if console_size:
            set_size(master, console_size.get("height", 0),
                     console_size.get("width", 0))
    except OSError:
        os.close(master)
        raise
    return master, slave


def set_size(fd, rows, columns):
    if rows and columns:
        fcntl.ioctl(fd, termios.TIOCSWINSZ,
                    struct.pack(_WINSIZE, rows, columns, 0, 0))


def bind_console(slave):
    """Bind the slave over /dev/console, creating the mount point."""
    # O_PATH: an existing node is never opened (it could be the host's
    # console device).
    try:
        fd = os.open("/dev/console", os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        os.close(os.open("/dev/console", os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_CLOEXEC | os.O_NOCTTY, 0o600))
        fd = os.open("/dev/console", os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        n.mount("/proc/self/fd/%d" % slave, "/proc/self/fd/%d" % fd, None,
                n.MS_BIND)
    finally:
        os.close(fd)


def become_stdio(slave, uid):
    """The slave as fds 0-2 and the controlling terminal of this session
    (the caller has called setsid); owned by the process's user so that it
    can use its own terminal (runc's fixStdioPermissions)."""
    os.fchown(slave, uid, -1)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(slave)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


# -- on the host --------------------------------------------------------------

class ConsoleSocket:
    """The caller's console socket, connected early so that a bad path
    fails before anything is made."""

    def __init__(self, path):
        self.sock = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as e:
            self.sock.close()
            raise SyscallError("cannot connect to console socket %s: %s"
                               % (path, e.strerror), e.errno) from None

    def deliver(self, master):
        try:
            sockets.send_fds(self.sock, [MASTER_PATH.encode()], [master])
        finally:
            os.close(master)
            self.close()

    def close(self):
        self.sock.close()


class KeptMaster:
    """For the foreground: pyoci keeps the master and relays it."""

    def __init__(self):
        self.master = -1

    def deliver(self, master):
        # Sized before the program starts, so that it never sees 0x0.
        if os.isatty(0):
            _copy_size(0, master)
        self.master = master

    def close(self):
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def relay(master, wait_exit, stdin=0, stdout=1):
    """Copy stdin to the pty and the pty to stdout until the process has
    exited and its output is drained; the host terminal is raw meanwhile and
    its size follows SIGWINCH. `wait_exit()` returns the process's wait
    status once it has exited, else None (it must not block)."""
    saved = None
    if os.isatty(stdin):
        saved = termios.tcgetattr(stdin)
        _raw(stdin)
        _copy_size(stdin, master)
    wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    previous_wakeup = signal.set_wakeup_fd(wake_write)
    handlers = {s: signal.signal(s, lambda *_: None)
                for s in (signal.SIGWINCH, signal.SIGCHLD)}
    status = None
    inputs = [master, wake_read] + ([stdin] if _readable(stdin) else [])
    try:
        while True:
            if status is None:
                status = wait_exit()
            # Once the process is gone, read what is left; stop at EIO (no
            # slave left open) or when nothing more comes soon.
            ready, _, _ = select.select(inputs, [], [],
                                        None if status is None else 0.2)
            if not ready and status is not None:
                break
            if wake_read in ready:
                while _read(wake_read):
                    pass
                if saved is not None:
                    _copy_size(stdin, master)
            if stdin in ready:
                data = _read(stdin)
                if data:
                    _write_all(master, data)
                else:
                    inputs.remove(stdin)
            if master in ready:
                data = _read(master)
                if not data:
                    if status is not None:
                        break
                    inputs.remove(master)
                else:
                    _write_all(stdout, data)
    finally:
        signal.set_wakeup_fd(previous_wakeup)
        for s, handler in handlers.items():
            signal.signal(s, handler)
        os.close(wake_read)
        os.close(wake_write)
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSAFLUSH, saved)
    while status is None:
        status = wait_exit(block=True)
    return status


def _raw(fd):
    import tty
    tty.setraw(fd, termios.TCSANOW)


def _copy_size(tty_fd, master):
    size = fcntl.ioctl(tty_fd, termios.TIOCGWINSZ, struct.pack(_WINSIZE, 0, 0, 0, 0))
    fcntl.ioctl(master, termios.TIOCSWINSZ, size)


def _readable(fd):
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _read(fd):
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""
    except OSError as e:
        if e.errno == errno.EIO:    # the last slave fd was closed
            return b""
        raise


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except InterruptedError:
            continue
        except BrokenPipeError:
            return

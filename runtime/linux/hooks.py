"""Running OCI hooks: argv exactly `path` + `args`, `env` as given, the
state JSON on stdin and then EOF, `timeout` enforced by killing the hook's
process group."""
import os
import select
# The signal module only wraps _signal's functions and constants in
# IntEnums: importing it imports enum, about 3 ms of every command.
import _signal as signal

from pyoci.runtime.errors import HookFailed
from pyoci.spec import jsonio

OUTPUT_LIMIT = 4096


def run_hooks(hooks, phase, state):
    """Run each hook of one phase in order; the first failure raises
    HookFailed naming the phase, the hook and what it printed."""
    if not hooks:
        return
    payload = jsonio.dumps(state, separators=(",", ":")).encode()
    for index, hook in enumerate(hooks):
        run_hook(hook, "%s[%d]" % (phase, index), payload)


def run_hooks_warning(hooks, phase, state):
    """Run every hook of a phase whose failure is only a warning (poststop:
    'the remaining hooks and lifecycle continue as if the hook had
    succeeded', runtime.md); return the failures' messages."""
    payload = jsonio.dumps(state, separators=(",", ":")).encode()
    warnings = []
    for index, hook in enumerate(hooks or ()):
        try:
            run_hook(hook, "%s[%d]" % (phase, index), payload)
        except HookFailed as e:
            warnings.append(str(e))
    return warnings


def run_hook(hook, name, payload):
    path = hook["path"]
    argv = hook.get("args") or [path]
    env = dict(entry.split("=", 1) for entry in hook.get("env", ())
               if "=" in entry)
    stdin_read, stdin_write = os.pipe()
    # Output goes to an anonymous file, not a pipe: a hook that leaves a
    # daemon behind holding its stdout cannot make us wait forever.
    output = os.memfd_create("pyoci-hook", os.MFD_CLOEXEC)
    try:
        try:
            pid = os.posix_spawn(path, argv, env, file_actions=[
                (os.POSIX_SPAWN_DUP2, stdin_read, 0),
                (os.POSIX_SPAWN_DUP2, output, 1),
                (os.POSIX_SPAWN_DUP2, output, 2),
            ], setpgroup=0, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ,
                                       signal.SIGINT, signal.SIGTERM))
        except OSError as e:
            raise HookFailed("%s hook %s could not start: %s"
                             % (name, path, e.strerror)) from None
        os.close(stdin_read)
        stdin_read = -1
        try:
            os.write(stdin_write, payload)
        except BrokenPipeError:
            pass    # a hook need not read its stdin
        os.close(stdin_write)
        stdin_write = -1
        status = _wait(pid, hook.get("timeout"))
        if status is None:
            raise HookFailed("%s hook %s timed out after %ds"
                             % (name, path, hook["timeout"]))
        if status != 0:
            raise HookFailed("%s hook %s failed (%s)%s"
                             % (name, path, _describe_status(status),
                                _tail(output)))
    finally:
        for fd in (stdin_read, stdin_write, output):
            if fd >= 0:
                os.close(fd)


def _wait(pid, timeout):
    """The hook's wait status, or None after killing it on timeout."""
    if timeout is None:
        return os.waitpid(pid, 0)[1]
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(timeout * 1000):
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
    finally:
        os.close(pidfd)
    return os.waitpid(pid, 0)[1]


def _describe_status(status):
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    return "exit status %d" % os.waitstatus_to_exitcode(status)


def _tail(fd):
    size = os.lseek(fd, 0, os.SEEK_END)
    if not size:
        return ""
    os.lseek(fd, max(0, size - OUTPUT_LIMIT), os.SEEK_SET)
    text = os.read(fd, OUTPUT_LIMIT).decode(errors="replace").strip()
    return ": " + text if text else ""

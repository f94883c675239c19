"""The one exception hierarchy of pyoci. The CLI catches PyociError once and
turns it into a message, a log line and exit status 1."""
from pyoci.spec.errors import InvalidSpec, PyociError

__all__ = ["PyociError", "InvalidSpec", "NotFound", "AlreadyExists",
           "WrongState", "UsageError", "SyscallError", "HookFailed"]


class NotFound(PyociError):
    """A container (or another named object) does not exist."""


class AlreadyExists(PyociError):
    """A container with this id already exists."""


class WrongState(PyociError):
    """The container's status does not allow the operation."""


class UsageError(PyociError):
    """Bad command-line arguments or ids."""


class SyscallError(PyociError):
    """A syscall or kernel interface failed; carries errno."""

    def __init__(self, message, errno=0):
        super().__init__(message)
        self.errno = errno


class HookFailed(PyociError):
    """A lifecycle hook exited non-zero, timed out or could not start."""

"""The one module that talks to libseccomp (through the `_libseccomp` cffi
binding). It compiles filters and exports their BPF; it never loads one
(pyoci_exec does, right before execve). Failed calls raise OSError."""
import os

from pyoci.runtime._native._libseccomp import ffi, lib

ACT_KILL_PROCESS = lib.SCMP_ACT_KILL_PROCESS
ACT_KILL_THREAD = lib.SCMP_ACT_KILL_THREAD
ACT_TRAP = lib.SCMP_ACT_TRAP
ACT_NOTIFY = lib.SCMP_ACT_NOTIFY
ACT_LOG = lib.SCMP_ACT_LOG
ACT_ALLOW = lib.SCMP_ACT_ALLOW

COMPARE = {"SCMP_CMP_NE": lib.SCMP_CMP_NE, "SCMP_CMP_LT": lib.SCMP_CMP_LT,
           "SCMP_CMP_LE": lib.SCMP_CMP_LE, "SCMP_CMP_EQ": lib.SCMP_CMP_EQ,
           "SCMP_CMP_GE": lib.SCMP_CMP_GE, "SCMP_CMP_GT": lib.SCMP_CMP_GT,
           "SCMP_CMP_MASKED_EQ": lib.SCMP_CMP_MASKED_EQ}


def act_errno(code):
    """seccomp.h's SCMP_ACT_ERRNO(x), a function-like macro cffi cannot
    declare."""
    return 0x00050000 | (code & 0xffff)


def act_trace(code):
    """seccomp.h's SCMP_ACT_TRACE(x)."""
    return 0x7ff00000 | (code & 0xffff)


def version():
    v = lib.seccomp_version()
    return "%d.%d.%d" % (v.major, v.minor, v.micro)


def arch_token(name):
    """The token of a libseccomp architecture name ("x86_64"), or 0 when
    this libseccomp does not know it."""
    return lib.seccomp_arch_resolve_name(name.encode())


def syscall_number(name):
    """The syscall's number on the native architecture (negative for
    libseccomp's pseudo-syscalls), or None when libseccomp has no such
    syscall."""
    number = lib.seccomp_syscall_resolve_name(name.encode())
    return None if number == lib.__NR_SCMP_ERROR else number


def _check(rc, what):
    if rc < 0:
        raise OSError(-rc, "libseccomp %s: %s" % (what, os.strerror(-rc)))
    return rc


class Filter:
    """A libseccomp filter context; `bpf()` exports the program."""

    def __init__(self, default_action):
        ctx = lib.seccomp_init(default_action)
        if ctx == ffi.NULL:
            raise OSError(22, "libseccomp seccomp_init: invalid default "
                          "action %#x" % default_action)
        self._ctx = ffi.gc(ctx, lib.seccomp_release)
        # The export carries no flags: pyoci_exec passes them to seccomp(2)
        # itself, and sets no_new_privs only when the config asks for it.
        _check(lib.seccomp_attr_set(self._ctx, lib.SCMP_FLTATR_CTL_NNP, 0),
               "seccomp_attr_set NNP")

    def add_arch(self, token):
        rc = lib.seccomp_arch_add(self._ctx, token)
        if rc != -17:   # EEXIST: the native architecture is always there
            _check(rc, "seccomp_arch_add")

    def optimize_as_tree(self):
        """Syscalls dispatched by a binary tree instead of a linear scan."""
        _check(lib.seccomp_attr_set(self._ctx, lib.SCMP_FLTATR_CTL_OPTIMIZE, 2),
               "seccomp_attr_set OPTIMIZE")

    def add_rule(self, action, number, conditions=()):
        """conditions: (argument index, operator, datum a, datum b) each,
        all of which must hold."""
        cmps = ffi.new("struct scmp_arg_cmp[]", max(len(conditions), 1))
        for cmp, (index, op, a, b) in zip(cmps, conditions):
            cmp.arg, cmp.op, cmp.datum_a, cmp.datum_b = index, op, a, b
        _check(lib.seccomp_rule_add_array(self._ctx, action, number,
                                          len(conditions), cmps),
               "seccomp_rule_add")

    def bpf(self):
        """The program as bytes of struct sock_filter."""
        fd = os.memfd_create("pyoci-seccomp", os.MFD_CLOEXEC)
        try:
            _check(lib.seccomp_export_bpf(self._ctx, fd), "seccomp_export_bpf")
            size = os.lseek(fd, 0, os.SEEK_CUR)
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)


def syscall_name(number, token=None):
    """The name of syscall `number` on an architecture (native by
    default), or None."""
    name = lib.seccomp_syscall_resolve_num_arch(
        lib.seccomp_arch_native() if token is None else token, number)
    if name == ffi.NULL:
        return None
    try:
        return ffi.string(name).decode()
    finally:
        lib.free(name)

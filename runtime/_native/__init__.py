"""The one module that talks to the compiled C helper.

Each wrapper turns a failed call (-errno) into OSError with the helper's
description of the failed step; nothing else in pyoci imports `_helper`."""
import os

from pyoci.runtime import __version__
from pyoci.runtime._native._helper import ffi, lib

if ffi.string(lib.pyoci_native_version()).decode() != __version__:
    raise ImportError(
        "pyoci C helper version %s does not match pyoci %s: reinstall pyoci"
        % (ffi.string(lib.pyoci_native_version()).decode(), __version__))

COMMIT = ffi.string(lib.pyoci_native_commit()).decode()

# Linux ABI constants the standard library does not carry.
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NAME = 15
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

CAP_SYS_ADMIN = 21

SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_FILTER_FLAG_LOG = 2
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4
SECCOMP_FILTER_FLAG_NEW_LISTENER = 8
SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x04
MOVE_MOUNT_T_EMPTY_PATH = 0x40
MOUNT_ATTR_RDONLY = 0x01
MOUNT_ATTR_NOSUID = 0x02
MOUNT_ATTR_NODEV = 0x04
MOUNT_ATTR_NOEXEC = 0x08
MOUNT_ATTR_IDMAP = 0x100000


def _check(rc):
    if rc < 0:
        raise OSError(-rc, ffi.string(lib.pyoci_error()).decode(errors="replace"))
    return rc


def _c(text):
    return ffi.NULL if text is None else os.fsencode(text)


def mount(source, target, fstype=None, flags=0, data=None):
    _check(lib.pyoci_mount(_c(source), _c(target), _c(fstype), flags, _c(data)))


def umount2(target, flags=0):
    _check(lib.pyoci_umount2(_c(target), flags))


def pivot_root(new_root, put_old):
    _check(lib.pyoci_pivot_root(_c(new_root), _c(put_old)))


def unshare(flags):
    _check(lib.pyoci_unshare(flags))


def setns(fd, nstype=0):
    _check(lib.pyoci_setns(fd, nstype))


def sethostname(name):
    _check(lib.pyoci_sethostname(_c(name)))


def setdomainname(name):
    _check(lib.pyoci_setdomainname(_c(name)))


def prctl(option, arg2=0, arg3=0, arg4=0, arg5=0):
    return _check(lib.pyoci_prctl(option, arg2, arg3, arg4, arg5))


def capset(effective, permitted, inheritable):
    _check(lib.pyoci_capset(effective, permitted, inheritable))


def capget(pid=0):
    """(effective, permitted, inheritable) of a process, as 64-bit masks."""
    sets = ffi.new("uint64_t[3]")
    _check(lib.pyoci_capget(pid, sets, sets + 1, sets + 2))
    return sets[0], sets[1], sets[2]


def personality(persona):
    _check(lib.pyoci_personality(persona))


def ioprio_set(which, who, ioprio):
    _check(lib.pyoci_ioprio_set(which, who, ioprio))


def sched_setattr(pid, policy, flags=0, nice=0, priority=0, runtime=0,
                  deadline=0, period=0):
    _check(lib.pyoci_sched_setattr(pid, policy, flags, nice, priority,
                                   runtime, deadline, period))


def set_mempolicy(mode, nodes=()):
    """set_mempolicy(2) for the calling thread; `mode` includes its flags,
    `nodes` are node numbers."""
    words = [0] * ((max(nodes, default=-1) + 64) // 64)
    for node in nodes:
        words[node // 64] |= 1 << (node % 64)
    mask = ffi.new("unsigned long[]", words) if words else ffi.NULL
    _check(lib.pyoci_set_mempolicy(mode, mask, 64 * len(words)))


def openat2(dirfd, path, flags, mode=0, resolve=0):
    return _check(lib.pyoci_openat2(dirfd, _c(path), flags | os.O_CLOEXEC,
                                    mode, resolve))


def open_tree(dirfd, path, flags):
    return _check(lib.pyoci_open_tree(dirfd, _c(path), flags))


def move_mount(from_dirfd, from_path, to_dirfd, to_path, flags):
    _check(lib.pyoci_move_mount(from_dirfd, _c(from_path), to_dirfd,
                                _c(to_path), flags))


def mount_setattr(dirfd, path, flags, attr_set=0, attr_clr=0, propagation=0,
                  userns_fd=0):
    _check(lib.pyoci_mount_setattr(dirfd, _c(path), flags, attr_set, attr_clr,
                                   propagation, userns_fd))


def join_session_keyring(name, add_perm):
    return _check(lib.pyoci_join_session_keyring(_c(name), add_perm))


def execute(path, argv, envp, close_from_fd=3, seccomp=None):
    """Reset signals, seal fds >= close_from_fd, load the seccomp filter
    (a SeccompLoad, or None), execve. Returns only by raising OSError."""
    keep = [ffi.new("char[]", os.fsencode(a)) for a in argv]
    keep_env = [ffi.new("char[]", os.fsencode(e)) for e in envp]
    c_argv = ffi.new("char *[]", keep + [ffi.NULL])
    c_envp = ffi.new("char *[]", keep_env + [ffi.NULL])
    c_seccomp = ffi.NULL if seccomp is None else seccomp.c_struct()
    _check(lib.pyoci_exec(_c(path), c_argv, c_envp, close_from_fd, c_seccomp))


class SeccompLoad:
    """What pyoci_exec needs to load a filter: the BPF program (bytes of
    struct sock_filter), seccomp(2) flags; `caps` (effective, permitted,
    inheritable) to set once it is loaded, when CAP_SYS_ADMIN was kept for
    the load; `agent_fd` and `message` for an SCMP_ACT_NOTIFY listener."""

    def __init__(self, bpf, flags, caps=None, agent_fd=-1, message=b""):
        self.bpf, self.flags, self.caps = bpf, flags, caps
        self.agent_fd, self.message = agent_fd, message

    def c_struct(self):
        s = ffi.new("struct pyoci_seccomp *")
        # cffi keeps these buffers alive only as long as self does.
        self._bpf = ffi.from_buffer(self.bpf)
        self._message = ffi.from_buffer(self.message)
        s.bpf, s.bpf_len, s.flags = self._bpf, len(self.bpf) // 8, self.flags
        if self.caps is not None:
            s.restore_caps = 1
            s.effective, s.permitted, s.inheritable = self.caps
        s.agent_fd = self.agent_fd
        s.message, s.message_len = self._message, len(self.message)
        self._struct = s
        return s


def seccomp_flags_supported(flags):
    return bool(_check(lib.pyoci_seccomp_flags_supported(flags)))


def seccomp_action_available(action):
    return bool(_check(lib.pyoci_seccomp_action_available(action)))


# eBPF for the cgroup v2 device controller (used by pyoci.runtime.linux.cgroups).

def bpf_cgroup_device_load(insns, license="Apache", log_size=0):
    """Load a BPF_PROG_TYPE_CGROUP_DEVICE program (bytes of struct bpf_insn);
    returns its fd. On failure the OSError message carries the verifier log
    when log_size > 0."""
    program = ffi.from_buffer(insns)
    c_license = ffi.new("char[]", license.encode())
    log = ffi.new("char[]", log_size) if log_size else ffi.NULL
    rc = lib.pyoci_bpf_cgroup_device_load(program, len(insns) // 8, c_license,
                                          log, log_size)
    if rc < 0:
        message = ffi.string(lib.pyoci_error()).decode(errors="replace")
        if log_size:
            text = ffi.string(log).decode(errors="replace").strip()
            if text:
                message += ": " + text
        raise OSError(-rc, message)
    return rc


def bpf_cgroup_device_attach(cgroup_fd, prog_fd, replace_fd=-1):
    _check(lib.pyoci_bpf_cgroup_device_attach(cgroup_fd, prog_fd, replace_fd))


def bpf_cgroup_device_detach(cgroup_fd, prog_fd):
    _check(lib.pyoci_bpf_cgroup_device_detach(cgroup_fd, prog_fd))


def bpf_cgroup_device_query(cgroup_fd):
    """Ids of the device programs attached to the cgroup directly."""
    size = 64
    for _ in range(10):
        ids = ffi.new("uint32_t[]", size)
        count = ffi.new("uint32_t *", size)
        rc = lib.pyoci_bpf_cgroup_device_query(cgroup_fd, ids, count)
        if rc == -28 and count[0] > size:  # ENOSPC: more than we asked for
            size = count[0]
            continue
        _check(rc)
        return [ids[i] for i in range(count[0])]
    raise OSError(28, "bpf BPF_PROG_QUERY: program list keeps growing")


def bpf_prog_get_fd_by_id(prog_id):
    return _check(lib.pyoci_bpf_prog_get_fd_by_id(prog_id))


def set_process_name(name):
    """PR_SET_NAME: what ps shows. Unlike a write to /proc/self/comm it
    works once the process is no longer dumpable."""
    buffer = ffi.new("char[]", os.fsencode(name)[:15])
    prctl(PR_SET_NAME, int(ffi.cast("uintptr_t", buffer)))

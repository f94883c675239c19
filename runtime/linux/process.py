"""Turning the container's init into the configured process: rlimits,
scheduling, personality, user and groups, capabilities, no_new_privs, cwd,
and finding args[0]."""
import errno
import os
import resource
import stat

from pyoci.runtime import _native as n
from pyoci.runtime.errors import SyscallError, UsageError
from pyoci.runtime.linux.procfs import last_capability
from pyoci.runtime.linux.rootfs import describe
from pyoci.spec.rules import parse_node_list

CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
    "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
CAPABILITY_BITS = {name: bit for bit, name in enumerate(CAPABILITIES)}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

SCHED_POLICIES = {"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2,
                  "SCHED_BATCH": 3, "SCHED_ISO": 4, "SCHED_IDLE": 5,
                  "SCHED_DEADLINE": 6}
SCHED_FLAGS = {"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02,
               "SCHED_FLAG_DL_OVERRUN": 0x04, "SCHED_FLAG_KEEP_POLICY": 0x08,
               "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
               "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40}
IOPRIO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2,
                  "IOPRIO_CLASS_IDLE": 3}
IOPRIO_WHO_PROCESS = 1
PERSONALITY_DOMAINS = {"LINUX": 0x0000, "LINUX32": 0x0008}
MEMORY_POLICY_MODES = {"MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2,
                       "MPOL_INTERLEAVE": 3, "MPOL_LOCAL": 4,
                       "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6}
MEMORY_POLICY_FLAGS = {"MPOL_F_NUMA_BALANCING": 1 << 13,
                       "MPOL_F_RELATIVE_NODES": 1 << 14,
                       "MPOL_F_STATIC_NODES": 1 << 15}
_RLIM_INFINITY = 2 ** 64 - 1


def capability_mask(names, last_cap, warnings):
    """A 64-bit mask of the named capabilities. Names this kernel does not
    know are left out with a warning, as runc does."""
    mask = 0
    for name in names or ():
        bit = CAPABILITY_BITS.get(name)
        if bit is None or bit > last_cap:
            warnings.append("ignoring unknown or unavailable capability %s" % name)
            continue
        mask |= 1 << bit
    return mask


def apply_rlimits(rlimits):
    for limit in rlimits or ():
        name = limit["type"]
        number = getattr(resource, name, None)
        if number is None:
            raise UsageError("process.rlimits: unknown limit %s" % name)
        soft, hard = (resource.RLIM_INFINITY if v >= _RLIM_INFINITY else v
                      for v in (limit["soft"], limit["hard"]))
        try:
            resource.setrlimit(number, (soft, hard))
        except (ValueError, OSError) as e:
            raise SyscallError("process.rlimits: cannot set %s to %d/%d: %s"
                               % (name, limit["soft"], limit["hard"], e),
                               getattr(e, "errno", 0) or errno.EINVAL) from None


def apply_scheduler(scheduler):
    if not scheduler:
        return
    flags = 0
    for flag in scheduler.get("flags", ()):
        flags |= SCHED_FLAGS[flag]
    n.sched_setattr(0, SCHED_POLICIES[scheduler["policy"]], flags,
                    scheduler.get("nice", 0), scheduler.get("priority", 0),
                    scheduler.get("runtime", 0), scheduler.get("deadline", 0),
                    scheduler.get("period", 0))


def apply_io_priority(io_priority):
    if io_priority:
        value = (IOPRIO_CLASSES[io_priority["class"]] << 13) | io_priority.get(
            "priority", 0)
        n.ioprio_set(IOPRIO_WHO_PROCESS, 0, value)


def apply_memory_policy(policy):
    """linux.memoryPolicy: the task policy survives fork and execve, so
    setting it on the init sets it for the container's program."""
    if not policy:
        return
    mode = MEMORY_POLICY_MODES[policy["mode"]]
    for flag in policy.get("flags", ()):
        mode |= MEMORY_POLICY_FLAGS[flag]
    text = policy.get("nodes", "").strip()
    nodes = parse_node_list(text) if text else []
    try:
        n.set_mempolicy(mode, nodes)
    except OSError as e:
        raise SyscallError("linux.memoryPolicy: cannot set %s%s on nodes %r: %s"
                           % (policy["mode"], "".join("|" + f for f in policy.get("flags", ())),
                              text, describe(e)), e.errno) from None


def apply_personality(personality):
    if personality:
        n.personality(PERSONALITY_DOMAINS[personality["domain"]])


class Credentials:
    """The user and capabilities the process will have, computed before
    anything changes so that errors surface early."""

    def __init__(self, process, warnings):
        self.warnings = warnings
        user = process.get("user", {})
        self.uid = user.get("uid", 0)
        self.gid = user.get("gid", 0)
        self.additional_gids = user.get("additionalGids", [])
        self.umask = user.get("umask")
        self.no_new_privileges = process.get("noNewPrivileges", False)
        caps = process.get("capabilities")
        self.last_cap = last_capability()
        if caps is None:
            self.capabilities = None
            return
        self.capabilities = {
            key: capability_mask(caps.get(key), self.last_cap, warnings)
            for key in ("bounding", "effective", "permitted", "inheritable",
                        "ambient")}

    def apply(self, keep_sys_admin=False):
        """Bounding set, then switch uid/gid keeping capabilities, then the
        other four sets. Order as runc: dropping from the bounding set needs
        CAP_SETPCAP, and setuid would otherwise clear the permitted set.

        keep_sys_admin: a seccomp filter is still to be loaded and
        noNewPrivileges is off, so the load needs CAP_SYS_ADMIN; it stays
        effective and permitted, and the (effective, permitted,
        inheritable) sets to set once the filter is in are returned."""
        caps = self.capabilities
        restore = None
        if caps is not None:
            for bit in range(self.last_cap + 1):
                if not caps["bounding"] & (1 << bit):
                    n.prctl(n.PR_CAPBSET_DROP, bit)
            n.prctl(n.PR_SET_KEEPCAPS, 1)
        self._switch_user()
        if caps is not None:
            n.prctl(n.PR_SET_KEEPCAPS, 0)
            effective, permitted = caps["effective"], caps["permitted"]
            sys_admin = 1 << n.CAP_SYS_ADMIN
            if keep_sys_admin and not self.no_new_privileges \
                    and not effective & sys_admin \
                    and n.capget()[1] & sys_admin:
                restore = (effective, permitted, caps["inheritable"])
                effective |= sys_admin
                permitted |= sys_admin
            n.capset(effective, permitted, caps["inheritable"])
            n.prctl(n.PR_CAP_AMBIENT, n.PR_CAP_AMBIENT_CLEAR_ALL)
            # The kernel takes an ambient capability only when it is also
            # permitted and inheritable; runc skips the others, and so do we
            # (runc's own `spec` asks for ambient caps it cannot have).
            raisable = caps["ambient"] & caps["permitted"] & caps["inheritable"]
            for bit in range(self.last_cap + 1):
                if raisable & (1 << bit):
                    n.prctl(n.PR_CAP_AMBIENT, n.PR_CAP_AMBIENT_RAISE, bit)
            if caps["ambient"] & ~raisable:
                self.warnings.append("ambient capabilities that are not both "
                                     "permitted and inheritable were not raised")
        if self.no_new_privileges:
            n.prctl(n.PR_SET_NO_NEW_PRIVS, 1)
        if self.umask is not None:
            os.umask(self.umask)
        return restore

    def _switch_user(self):
        try:
            os.setgroups(self.additional_gids)
        except PermissionError:
            # setgroups is denied in a user namespace that says so; only
            # an explicit list of groups makes that an error.
            if self.additional_gids:
                raise
        os.setresgid(self.gid, self.gid, self.gid)
        os.setresuid(self.uid, self.uid, self.uid)


def check_seccomp_loadable(credentials):
    """Fail create (not start) when the seccomp filter could not be
    loaded: seccomp(2) takes a filter only with no_new_privs or
    CAP_SYS_ADMIN, which a process without a capabilities section loses
    when it switches to a non-root user."""
    if credentials.no_new_privileges:
        return
    if not n.capget()[0] & (1 << n.CAP_SYS_ADMIN):
        raise SyscallError("linux.seccomp: the filter can be loaded only with "
                           "process.noNewPrivileges or CAP_SYS_ADMIN, and user "
                           "%d has neither" % credentials.uid, errno.EPERM)


def change_directory(cwd):
    """chdir, then make sure the result is inside the container: a cwd
    reached through a leaked fd would be outside it (CVE-2024-21626)."""
    try:
        os.chdir(cwd)
    except OSError as e:
        raise SyscallError("process.cwd: cannot change to %s: %s"
                           % (cwd, e.strerror), e.errno) from None
    try:
        here = os.getcwd()
    except FileNotFoundError:
        here = "(unreachable)"
    if not here.startswith("/"):
        raise SyscallError("process.cwd %s is outside the container" % cwd,
                           errno.EPERM)


def environment_path(env):
    for entry in env:
        if entry.startswith("PATH="):
            return entry[5:]
    return DEFAULT_PATH


def go_strerror(code):
    """errno text as Go (and so runc) spells it, lower case: callers match
    "no such file or directory" and "permission denied" literally."""
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


def find_executable(name, env):
    """Resolve args[0] the way runc (Go's exec.LookPath) does, with its
    messages: callers map "executable file not found" / "no such file or
    directory" to 127 and "permission denied" to 126."""
    if "/" in name:
        try:
            st = os.stat(name)
        except OSError as e:
            raise SyscallError('exec: "%s": stat %s: %s' % (name, name,
                                                             go_strerror(e.errno)),
                               e.errno) from None
        if stat.S_ISDIR(st.st_mode) or not os.access(name, os.X_OK):
            raise SyscallError('exec: "%s": permission denied' % name, errno.EACCES)
        return name
    for directory in environment_path(env).split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) and os.access(candidate, os.X_OK):
            return candidate
    raise SyscallError('exec: "%s": executable file not found in $PATH' % name,
                       errno.ENOENT)

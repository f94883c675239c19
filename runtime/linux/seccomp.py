"""linux.seccomp: compiled to a BPF program with libseccomp in pyoci's own
process, before anything of the container exists, so that a section
libseccomp refuses fails create (or exec) with its JSON path and leaves
nothing behind. The container process loads the program as the very last
step before execve (pyoci_exec in the C helper); see `SeccompFilter.load`.

Semantics follow runc's libcontainer/seccomp: ERRNO and TRACE return EPERM
unless errnoRet says otherwise; a rule with the default action is skipped;
a syscall name libseccomp does not know is ignored; conditions on distinct
arguments must all hold, and when two conditions name the same argument
each becomes a rule of its own (either may match)."""
import errno
import json
import socket

from pyoci.runtime import _native as n
from pyoci.runtime._native import libseccomp as scmp
from pyoci.runtime.errors import InvalidSpec, SyscallError

ACTIONS = ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
           "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE",
           "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY")
OPERATORS = tuple(scmp.COMPARE)
# The OCI names (config-linux.md) and libseccomp's own.
ARCHITECTURES = {
    "SCMP_ARCH_X86": "x86", "SCMP_ARCH_X86_64": "x86_64",
    "SCMP_ARCH_X32": "x32", "SCMP_ARCH_ARM": "arm",
    "SCMP_ARCH_AARCH64": "aarch64", "SCMP_ARCH_LOONGARCH64": "loongarch64",
    "SCMP_ARCH_M68K": "m68k", "SCMP_ARCH_MIPS": "mips",
    "SCMP_ARCH_MIPS64": "mips64", "SCMP_ARCH_MIPS64N32": "mips64n32",
    "SCMP_ARCH_MIPSEL": "mipsel", "SCMP_ARCH_MIPSEL64": "mipsel64",
    "SCMP_ARCH_MIPSEL64N32": "mipsel64n32", "SCMP_ARCH_PPC": "ppc",
    "SCMP_ARCH_PPC64": "ppc64", "SCMP_ARCH_PPC64LE": "ppc64le",
    "SCMP_ARCH_S390": "s390", "SCMP_ARCH_S390X": "s390x",
    "SCMP_ARCH_SH": "sh", "SCMP_ARCH_SHEB": "sheb",
    "SCMP_ARCH_PARISC": "parisc", "SCMP_ARCH_PARISC64": "parisc64",
    "SCMP_ARCH_RISCV64": "riscv64",
}
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": n.SECCOMP_FILTER_FLAG_TSYNC,
    "SECCOMP_FILTER_FLAG_LOG": n.SECCOMP_FILTER_FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": n.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
        n.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}
# Between loading the filter and execve pyoci_exec calls these (capset
# only when CAP_SYS_ADMIN was kept for the load); a notified sendmsg would
# wait for an agent that has not got the listener yet (runc refuses
# SCMP_ACT_NOTIFY on write, its own hand-over syscall, the same way).
_HAND_OVER_SYSCALL = "sendmsg"
# libseccomp's binary tree pays off past this many rules (runc's choice).
_OPTIMIZE_ABOVE = 32
_BPF_MAXINSNS = 4096    # the kernel's limit for one classic BPF program


def features():
    """features.json's linux.seccomp: what libseccomp knows and this kernel
    takes, probed rather than assumed."""
    actions = [name for name in ACTIONS
               if n.seccomp_action_available(_action(name, 0) & 0xffff0000)]
    archs = [name for name, arch in ARCHITECTURES.items()
             if scmp.arch_token(arch)]
    supported = [name for name in FLAGS if _kernel_takes(name)]
    return {"enabled": True, "actions": actions,
            "operators": list(OPERATORS), "archs": archs,
            "knownFlags": list(FLAGS), "supportedFlags": supported}


def _kernel_takes(flag_name):
    flag = FLAGS[flag_name]
    if flag == n.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
        flag |= n.SECCOMP_FILTER_FLAG_NEW_LISTENER  # refused without it
    return n.seccomp_flags_supported(flag)


def _action(name, errno_ret):
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return scmp.ACT_KILL_THREAD
    if name == "SCMP_ACT_ERRNO":
        return scmp.act_errno(errno.EPERM if errno_ret is None else errno_ret)
    if name == "SCMP_ACT_TRACE":
        return scmp.act_trace(errno.EPERM if errno_ret is None else errno_ret)
    return {"SCMP_ACT_KILL_PROCESS": scmp.ACT_KILL_PROCESS,
            "SCMP_ACT_TRAP": scmp.ACT_TRAP, "SCMP_ACT_ALLOW": scmp.ACT_ALLOW,
            "SCMP_ACT_LOG": scmp.ACT_LOG,
            "SCMP_ACT_NOTIFY": scmp.ACT_NOTIFY}[name]


def _invalid(path, message):
    return InvalidSpec("invalid seccomp configuration",
                       ["linux.seccomp%s: %s" % (path, message)])


def compile_filter(section):
    """The SeccompFilter of a linux.seccomp object already checked against
    the schema and pyoci's rules; raises InvalidSpec naming the field."""
    default = _action(section["defaultAction"], section.get("defaultErrnoRet"))
    try:
        ctx = scmp.Filter(default)
        for index, arch in enumerate(section.get("architectures") or ()):
            token = scmp.arch_token(ARCHITECTURES[arch])
            if not token:
                raise _invalid(".architectures[%d]" % index,
                               "%s is not known to libseccomp %s"
                               % (arch, scmp.version()))
            ctx.add_arch(token)
        syscalls = section.get("syscalls") or ()
        if len(syscalls) > _OPTIMIZE_ABOVE:
            ctx.optimize_as_tree()
        notify = False
        for index, rule in enumerate(syscalls):
            action = _action(rule["action"], rule.get("errnoRet"))
            if action == default:
                continue
            if action == scmp.ACT_NOTIFY:
                notify = True
                if _HAND_OVER_SYSCALL in rule["names"]:
                    raise _invalid(".syscalls[%d].names" % index,
                                   "SCMP_ACT_NOTIFY cannot be used for %s: "
                                   "pyoci hands the listener fd over with it"
                                   % _HAND_OVER_SYSCALL)
            for name in rule["names"]:
                _add_rule(ctx, action, name, rule.get("args") or (),
                          ".syscalls[%d]" % index)
        bpf = ctx.bpf()
    except OSError as e:
        raise _invalid("", e.strerror) from None
    if len(bpf) // 8 > _BPF_MAXINSNS:
        raise _invalid(".syscalls", "the filter compiles to %d BPF instructions, "
                       "more than the kernel's %d" % (len(bpf) // 8, _BPF_MAXINSNS))
    flags = 0
    for index, name in enumerate(section.get("flags") or ()):
        flags |= FLAGS[name]
        if not _kernel_takes(name):
            raise _invalid(".flags[%d]" % index, "%s is not supported by this "
                           "kernel" % name)
    if notify:
        flags |= n.SECCOMP_FILTER_FLAG_NEW_LISTENER
        if flags & n.SECCOMP_FILTER_FLAG_TSYNC:
            # The kernel takes TSYNC with a listener only with TSYNC_ESRCH.
            flags |= n.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    elif flags & n.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
        # Meaningful (and accepted by the kernel) only with a listener.
        flags &= ~n.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    return SeccompFilter(bpf, flags, section.get("listenerPath") if notify
                         else None, section.get("listenerMetadata"))


def _add_rule(ctx, action, name, args, path):
    number = scmp.syscall_number(name)
    if number is None:
        return      # not a syscall libseccomp knows: ignored, as runc does
    conditions = [(arg["index"], scmp.COMPARE[arg["op"]], arg["value"],
                   arg.get("valueTwo", 0)) for arg in args]
    indexes = [c[0] for c in conditions]
    groups = [[c] for c in conditions] if len(set(indexes)) < len(indexes) \
        else [conditions]
    for group in groups:
        try:
            ctx.add_rule(action, number, group)
        except OSError as e:
            raise _invalid(path, "rule for %s: %s" % (name, e.strerror)) \
                from None


class SeccompFilter:
    """A compiled filter; with SCMP_ACT_NOTIFY also where its listener
    goes. pyoci connects to the agent before forking (listenerPath is a
    host path the container cannot reach); the process hands the listener
    fd over from C right after loading (see pyoci_exec)."""

    def __init__(self, bpf, flags, listener_path, metadata):
        self.bpf = bpf
        self.flags = flags
        self.listener_path = listener_path
        self.metadata = metadata
        self.agent = None

    def connect_agent(self):
        if self.listener_path is None:
            return
        agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            agent.connect(self.listener_path)
        except OSError as e:
            agent.close()
            raise SyscallError("linux.seccomp.listenerPath: cannot connect "
                               "to the seccomp agent at %s: %s"
                               % (self.listener_path, e.strerror or e),
                               e.errno or 0) from None
        self.agent = agent

    def agent_fds(self):
        return [self.agent.fileno()] if self.agent is not None else []

    def close_agent(self):
        if self.agent is not None:
            self.agent.close()
            self.agent = None

    def load(self, state, pid, caps):
        """The SeccompLoad for pyoci_exec. `state` is the container's
        state and `pid` the process's host pid (the container process
        state the agent receives); `caps` are the capabilities to set once
        loaded, when process.Credentials kept CAP_SYS_ADMIN for the load."""
        message = b""
        if self.agent is not None:
            document = {"ociVersion": state["ociVersion"],
                        "fds": ["seccompFd"], "pid": pid, "state": state}
            if self.metadata:
                document["metadata"] = self.metadata
            message = json.dumps(document).encode()
        return n.SeccompLoad(self.bpf, self.flags, caps,
                             self.agent.fileno() if self.agent else -1,
                             message)

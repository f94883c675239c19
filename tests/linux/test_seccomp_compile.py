"""Compiling linux.seccomp with libseccomp, without root or a container:
what reaches the BPF program, the seccomp(2) flags, and the errors."""
import pytest

from pyoci.runtime import _native as n
from pyoci.runtime.errors import InvalidSpec
from pyoci.runtime.linux.seccomp import compile_filter


def section(*rules, **fields):
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(rules), **fields}


def rule(action, *names, **fields):
    return {"names": list(names), "action": action, **fields}


def test_a_rule_with_the_default_action_and_unknown_names_change_nothing():
    plain = compile_filter(section(rule("SCMP_ACT_ERRNO", "getpgid"))).bpf
    assert compile_filter(section(
        rule("SCMP_ACT_ALLOW", "getsid"),
        rule("SCMP_ACT_ERRNO", "getpgid", "no_such_syscall_ever"))).bpf == plain
    assert compile_filter(section(rule("SCMP_ACT_ERRNO", "getpgid", errnoRet=2))).bpf != plain


def test_errno_defaults_to_eperm_as_in_runc():
    assert compile_filter(section(rule("SCMP_ACT_ERRNO", "getpgid"))).bpf == \
        compile_filter(section(rule("SCMP_ACT_ERRNO", "getpgid", errnoRet=1))).bpf


def test_flags_reach_seccomp_as_the_kernel_takes_them():
    flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
             "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    plain = compile_filter(section(rule("SCMP_ACT_ERRNO", "getpgid"), flags=flags))
    # WAIT_KILLABLE_RECV only means something (and is taken) with a listener.
    assert plain.flags == (n.SECCOMP_FILTER_FLAG_TSYNC | n.SECCOMP_FILTER_FLAG_LOG
                           | n.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
    assert plain.listener_path is None
    notify = compile_filter(section(rule("SCMP_ACT_NOTIFY", "getpgid"), flags=flags,
                                    listenerPath="/run/agent.sock"))
    assert notify.flags == (plain.flags | n.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
                            | n.SECCOMP_FILTER_FLAG_NEW_LISTENER
                            | n.SECCOMP_FILTER_FLAG_TSYNC_ESRCH)
    assert notify.listener_path == "/run/agent.sock"


@pytest.mark.parametrize("broken, field", [
    (section(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_SH"]),
     "linux.seccomp.architectures[1]: SCMP_ARCH_SH is not known to libseccomp"),
    (section(rule("SCMP_ACT_NOTIFY", "getpgid", "sendmsg"), listenerPath="/a"),
     "linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for sendmsg"),
    # Syscalls have six arguments, 0 to 5.
    (section(rule("SCMP_ACT_ERRNO", "getsid"),
             rule("SCMP_ACT_ERRNO", "getpgid", args=[
                 {"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}])),
     "linux.seccomp.syscalls[1]: rule for getpgid"),
])
def test_what_libseccomp_refuses_names_its_field(broken, field):
    with pytest.raises(InvalidSpec) as raised:
        compile_filter(broken)
    assert field in str(raised.value)

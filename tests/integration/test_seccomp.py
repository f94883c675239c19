"""linux.seccomp as the container meets it, under pyoci and runc alike: a
profile built the way Docker builds its default one, argument conditions
with every operator, every action, the default errno, flags, unknown
syscall names, exec, SCMP_ACT_NOTIFY with a seccomp agent, and broken
sections that leave nothing behind.

Docker's own default profile lives in dockerd's code, not in a file this
test could read; `docker_like_profile` is built the same way instead (an
ERRNO/EPERM default, the x86 architectures, one allow list with every
syscall libseccomp knows but those Docker denies, Docker's argument
conditions on personality and clone, ENOSYS for clone3). The test of the
profile dockerd itself generates is in tests/e2e.

Syscalls are made by a small static prober (harness.build_seccomp_probe),
bind-mounted at /probe, so that each result is an errno the test names
rather than a busybox message."""
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import threading
import uuid

import pytest

from pyoci.runtime._native import libseccomp
from pyoci.tests.integration.harness import (build_seccomp_probe, imported,
                                             probe, results, syscall_number as nr,
                                             wait_for)

pytestmark = pytest.mark.root

SIGSYS_STATUS = 128 + 31
EPERM, ENOSYS = 1, 38
# What Docker's default profile never allows a container without extra
# capabilities (and what it gates by argument, added back below).
DOCKER_DENIED = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "clone",
    "clone3", "create_module", "delete_module", "fanotify_init",
    "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
    "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl",
    "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
    "mbind", "mount", "mount_setattr", "move_mount", "move_pages",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree",
    "perf_event_open", "personality", "pivot_root", "process_vm_readv",
    "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot",
    "request_key", "set_mempolicy", "setdomainname", "sethostname", "setns",
    "settimeofday", "stime", "swapoff", "swapon", "syslog", "umount",
    "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vhangup",
    "vm86", "vm86old",
}
PERSONALITY_ALLOWED = (0x0, 0x8, 0x20000, 0x20008, 0xffffffff)
CLONE_NAMESPACE_FLAGS = 0x7e020000   # CLONE_NEWNS .. CLONE_NEWNET
KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING = 0, 2**64 - 3


def docker_like_profile():
    known = {libseccomp.syscall_name(number) for number in range(1024)}
    allowed = sorted(known - {None} - DOCKER_DENIED)
    return {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": EPERM,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": allowed, "action": "SCMP_ACT_ALLOW"},
            *({"names": ["personality"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 0, "value": value, "op": "SCMP_CMP_EQ"}]}
              for value in PERSONALITY_ALLOWED),
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": CLONE_NAMESPACE_FLAGS,
                       "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
             "errnoRet": ENOSYS},
        ],
    }


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    return build_seccomp_probe(tmp_path_factory.mktemp("seccomp-probe"))


@pytest.fixture
def probing(bundle, probe_dir):
    bundle.config["mounts"].append({"destination": "/probe", "type": "bind",
                                    "source": str(probe_dir),
                                    "options": ["rbind", "ro"]})
    return bundle


def run(runtime, bundle, cid, script, check=True):
    bundle.shell(script)
    return runtime("run", "--bundle", bundle.write(), cid, check=check,
                   stdin=subprocess.DEVNULL)


def rule(action, *names, **fields):
    return {"names": list(names), "action": action, **fields}


def allow_all_but(*rules, **fields):
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(rules), **fields}


def kernel_log_has(*parts):
    log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    return any(all(p in line for p in parts) for line in log.splitlines())


def logged_by_kernel(attempt, *parts):
    """Whether a kernel log line with all `parts` follows `attempt()`,
    which is repeated for a while: the audit lines go through printk's rate
    limit (10 lines per 5 s for the whole host), which may drop one."""
    for _ in range(8):
        attempt()
        if wait_for(lambda: kernel_log_has(*parts), timeout=1):
            return True
    return False


def log_probe(name, *args):
    """Shell text making one syscall through the prober under a name of its
    own, which the kernel log shows as comm=; returns (text, name)."""
    comm = "sc" + uuid.uuid4().hex[:10]
    return ("ln -sf /probe/probe /tmp/%s; /tmp/%s %s" % (
        comm, comm, " ".join(str(a) for a in (nr(name),) + args)), comm)


def test_docker_like_profile_denies_namespaces_mounts_and_keys(runtime, probing, cid):
    probing.linux["seccomp"] = docker_like_profile()
    # As Docker runs containers: no no_new_privs, no CAP_SYS_ADMIN (the
    # filter still loads), and here CAP_SYS_ADMIN added back so that the
    # mount below would succeed without the filter.
    probing.process["noNewPrivileges"] = False
    caps = probing.process["capabilities"]
    for kind in ("bounding", "effective", "permitted"):
        caps[kind] = caps[kind] + ["CAP_SYS_ADMIN"]
    script = (probe("unshare", 0x10000000) + probe("mount", "0", "0", "0")
              + probe("keyctl", KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING)
              + probe("clone3", 0, 0)
              + "unshare -U true 2>&1; mount -t tmpfs none /tmp 2>&1; "
                "echo @ordinary: $(echo a b | wc -w) $(ls /bin | grep -c .) "
                "$(date +%Y | wc -c) $(ps -o pid | grep -c 1); "
                "sleep 0.01 & wait; echo @background: $?; "
                "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | "
                "while read key value; do echo \"@$key $value\"; done")
    out = run(runtime, probing, cid, script).stdout
    seen = results(out)
    assert seen["unshare"] == seen["mount"] == seen["keyctl"] == "errno %d" % EPERM
    assert seen["clone3"] == "errno %d" % ENOSYS
    assert "unshare(0x10000000): Operation not permitted" in out
    assert "mount: permission denied" in out or "Operation not permitted" in out
    words, applets, year, pids = seen["ordinary"].split()
    assert words == "2" and int(applets) > 100 and year == "5" and int(pids) > 0
    assert seen["background"] == "0"
    assert seen["Seccomp"].split() == ["2"] and seen["NoNewPrivs"].split() == ["0"]

    # The same script without the filter: the calls go through.
    del probing.linux["seccomp"]
    seen = results(run(runtime, probing, cid, script).stdout)
    assert seen["unshare"] == "ok 0" and seen["keyctl"].startswith("ok ")
    assert seen["mount"] != "errno %d" % EPERM


def test_argument_conditions_behave_as_written(runtime, probing, cid):
    profile = docker_like_profile()
    ret = iter(range(60, 80))
    conditions = {     # syscall: (operator, value, valueTwo, matching, not)
        "getpgid": ("SCMP_CMP_NE", 5, 0, 6, 5),
        "getsid": ("SCMP_CMP_LT", 5, 0, 4, 5),
        "sched_get_priority_max": ("SCMP_CMP_LE", 5, 0, 5, 6),
        "sched_get_priority_min": ("SCMP_CMP_EQ", 5, 0, 5, 4),
        "sched_getscheduler": ("SCMP_CMP_GE", 5, 0, 5, 4),
        "getpriority": ("SCMP_CMP_GT", 5, 0, 6, 5),
        "ioprio_get": ("SCMP_CMP_MASKED_EQ", 0xf0, 0x20, 0x2f, 0x3f),
    }
    errnos = {}
    for name, (op, value, value_two, _, _) in conditions.items():
        errnos[name] = next(ret)
        profile["syscalls"].insert(0, rule(
            "SCMP_ACT_ERRNO", name, errnoRet=errnos[name],
            args=[{"index": 0, "value": value, "valueTwo": value_two, "op": op}]))
    # Two arguments: both must hold. One argument twice: either may (runc).
    profile["syscalls"].insert(0, rule(
        "SCMP_ACT_ERRNO", "getitimer", errnoRet=80,
        args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
              {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]))
    profile["syscalls"].insert(0, rule(
        "SCMP_ACT_ERRNO", "sysinfo", errnoRet=81,
        args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
              {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]))
    # Out of the unconditional allow list, as Docker's own conditioned
    # syscalls are: libseccomp lets an unconditional rule win.
    conditioned = set(conditions) | {"getitimer", "sysinfo"}
    allow_list = max(profile["syscalls"], key=lambda r: len(r["names"]))
    allow_list["names"] = [n for n in allow_list["names"] if n not in conditioned]
    probing.linux["seccomp"] = profile
    script = "".join(probe(name, matching) + probe(name, other).replace(
                         '"@%s: ' % name, '"@%s-not: ' % name)
                     for name, (_, _, _, matching, other) in conditions.items())
    script += "".join(probe(name, *args).replace('"@%s: ' % name, '"@%s: ' % label)
                      for label, name, args in [
                          ("personality-8", "personality", (8,)),
                          ("personality-query", "personality", (0xffffffff,)),
                          ("personality-40000", "personality", (0x40000,)),
                          ("both", "getitimer", (1, 2)), ("one", "getitimer", (1, 3)),
                          ("either-1", "sysinfo", (1,)), ("either-2", "sysinfo", (2,)),
                          ("neither", "sysinfo", (3,))])
    seen = results(run(runtime, probing, cid, script).stdout)
    for name in conditions:
        assert seen[name] == "errno %d" % errnos[name], name
        assert seen[name + "-not"] != "errno %d" % errnos[name], name
    assert seen["personality-8"].startswith("ok ")
    assert seen["personality-query"].startswith("ok ")
    assert seen["personality-40000"] == "errno %d" % EPERM
    assert seen["both"] == "errno 80" and seen["one"] != "errno 80"
    assert seen["either-1"] == seen["either-2"] == "errno 81"
    assert seen["neither"] != "errno 81"


def test_every_action(runtime, probing, cid):
    probing.linux["seccomp"] = allow_all_but(
        rule("SCMP_ACT_ERRNO", "getpgid", errnoRet=42),
        rule("SCMP_ACT_ERRNO", "getsid"),
        rule("SCMP_ACT_KILL", "sched_get_priority_max"),
        rule("SCMP_ACT_KILL_PROCESS", "sched_get_priority_min"),
        rule("SCMP_ACT_KILL_THREAD", "sched_getscheduler"),
        rule("SCMP_ACT_TRAP", "getpriority"),
        rule("SCMP_ACT_TRACE", "sysinfo", errnoRet=43),
        rule("SCMP_ACT_LOG", "ioprio_get"),
        rule("SCMP_ACT_ALLOW", "getitimer"))
    script = (probe("getpgid", 0) + probe("getsid", 0)
              + probe("sched_get_priority_max", 0)
              + probe("sched_get_priority_min", 0)
              + probe("sched_getscheduler", 0) + probe("getpriority", 0, 0)
              + probe("getpriority", 0, 0, catch=True).replace(
                  '"@getpriority: ', '"@trapped: ')
              + probe("sysinfo", 0) + probe("getitimer", 0, 0)
              + probe("ioprio_get", 1, 0))
    seen = results(run(runtime, probing, cid, script).stdout)
    assert seen["getpgid"] == "errno 42"
    assert seen["getsid"] == "errno %d" % EPERM
    for killed in ("sched_get_priority_max", "sched_get_priority_min",
                   "sched_getscheduler", "getpriority"):
        assert seen[killed] == "status %d" % SIGSYS_STATUS, killed
    assert seen["trapped"] == "sigsys %d" % nr("getpriority")
    # No tracer: the kernel fails the call with ENOSYS, whatever errnoRet.
    assert seen["sysinfo"] == "errno %d" % ENOSYS
    # getitimer(0, NULL): allowed, the kernel itself answers EFAULT.
    assert seen["getitimer"] == "errno 14"
    # SCMP_ACT_LOG: allowed (ioprio_get of this process answers), and logged.
    assert seen["ioprio_get"].startswith("ok ")
    script, comm = log_probe("ioprio_get", 1, 0)
    assert logged_by_kernel(lambda: run(runtime, probing, cid, script),
                            'comm="%s"' % comm, "code=0x7ffc0000")


def test_default_errno_and_unknown_names(runtime, probing, cid):
    profile = docker_like_profile()
    profile["defaultErrnoRet"] = 95
    # A name libseccomp has never heard of is skipped; the rule's other
    # names still apply (as runc).
    profile["syscalls"].insert(0, rule("SCMP_ACT_ERRNO", "no_such_syscall_ever",
                                       "getpgid", errnoRet=42))
    probing.linux["seccomp"] = profile
    seen = results(run(runtime, probing, cid,
                       probe("mount", 0, 0, 0) + probe("getpgid", 0)
                       + probe("getsid", 0)).stdout)
    assert seen["mount"] == "errno 95"
    assert seen["getpgid"] == "errno 42"
    assert seen["getsid"].startswith("ok ")


def test_flags(pyoci, probing, cid):
    # pyoci only: runc 1.1.5 refuses every flag ("seccomp flags are not yet
    # supported by runc").
    probing.linux["seccomp"] = allow_all_but(
        rule("SCMP_ACT_ERRNO", "getpgid", errnoRet=42),
        flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
               "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    script, comm = log_probe("getpgid", 0)
    outputs = []
    # SECCOMP_FILTER_FLAG_LOG: the kernel logs actions other than allow.
    assert logged_by_kernel(
        lambda: outputs.append(run(pyoci, probing, cid, script).stdout.split()),
        'comm="%s"' % comm, "code=0x50000")
    assert outputs[0] == ["errno", "42"]
    features = json.loads(pyoci("features").stdout)["linux"]["seccomp"]
    assert set(features["supportedFlags"]) <= set(features["knownFlags"])
    assert "SECCOMP_FILTER_FLAG_LOG" in features["supportedFlags"]


def test_exec_gets_the_container_filter(runtime, probing, cid):
    probing.linux["seccomp"] = allow_all_but(
        rule("SCMP_ACT_ERRNO", "getpgid", errnoRet=42))
    probing.shell("sleep 1000; : %s" % cid)
    runtime("run", "--detach", "--bundle", probing.write(), cid,
            stdin=subprocess.DEVNULL)
    try:
        out = runtime("exec", cid, "/probe/probe", nr("getpgid"), 0).stdout
        status = runtime("exec", cid, "grep", "^Seccomp:", "/proc/self/status").stdout
    finally:
        runtime("delete", "--force", cid)
    assert out.split() == ["errno", "42"]
    assert status.split() == ["Seccomp:", "2"]


# -- SCMP_ACT_NOTIFY ----------------------------------------------------------

SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100   # _IOWR('!', 0, struct seccomp_notif)
SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101   # _IOWR('!', 1, struct seccomp_notif_resp)
NOTIF = struct.Struct("QIIiIQ6Q")       # id pid flags | nr arch ip args[6]
NOTIF_RESP = struct.Struct("QqiI")      # id val error flags


class Agent:
    """A seccomp agent on a unix socket: takes container process states,
    each with its listener fd, and answers every notified syscall of every
    listener with `answer_errno`, until closed."""

    def __init__(self, path, answer_errno):
        self.path = str(path)
        self.answer_errno = answer_errno
        self.states = []
        self.notified = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(4)
        self._wake, self._stop = os.pipe()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        poller = select.poll()
        poller.register(self.server, select.POLLIN)
        poller.register(self._wake, select.POLLIN)
        listeners = []
        try:
            while True:
                for fd, event in poller.poll():
                    if fd == self._wake:
                        return
                    if fd == self.server.fileno():
                        listener = self._accept()
                        listeners.append(listener)
                        poller.register(listener, select.POLLIN)
                    elif event & (select.POLLHUP | select.POLLERR):
                        poller.unregister(fd)
                    else:
                        self._answer(fd)
        finally:
            for fd in listeners:
                os.close(fd)

    def _accept(self):
        connection, _ = self.server.accept()
        with connection:
            data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 1)
            # Read until the state is whole, not until end-of-file: runc
            # 1.1.5 keeps a duplicate of its end open.
            while True:
                try:
                    self.states.append(json.loads(data))
                    return fds[0]
                except ValueError:
                    more = connection.recv(1 << 16)
                    if not more:
                        raise
                    data += more

    def _answer(self, listener):
        buffer = bytearray(NOTIF.size)
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buffer)
        except OSError:
            return          # the process died meanwhile
        fields = NOTIF.unpack(buffer)
        self.notified.append(fields[3])
        answer = bytearray(NOTIF_RESP.pack(fields[0], 0, -self.answer_errno, 0))
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, answer)
        except OSError:
            pass

    def close(self):
        os.write(self._stop, b"x")
        self.thread.join()
        self.server.close()
        os.close(self._wake)
        os.close(self._stop)


@pytest.fixture
def agent(tmp_path):
    agent = Agent(tmp_path / "agent.sock", answer_errno=18)
    yield agent
    agent.close()


def notify_profile(agent, *flags):
    return allow_all_but(rule("SCMP_ACT_NOTIFY", "getpgid"),
                         listenerPath=agent.path,
                         listenerMetadata="pyoci-test-metadata",
                         flags=list(flags))


def test_notify_hands_the_listener_to_the_agent(runtime, probing, cid, agent):
    probing.linux["seccomp"] = notify_profile(agent)
    seen = results(run(runtime, probing, cid, probe("getpgid", 0)).stdout)
    # The agent answered the notified call with its errno.
    assert seen["getpgid"] == "errno 18"
    assert agent.notified == [nr("getpgid")]
    [state] = agent.states
    assert state["fds"] == ["seccompFd"]
    assert state["metadata"] == "pyoci-test-metadata"
    assert state["state"]["id"] == cid
    assert state["state"]["bundle"] == str(probing.path)
    assert state["pid"] == state["state"]["pid"] > 0
    assert state["state"]["status"] in ("creating", "created")


def test_notify_for_an_exec_process(runtime, probing, cid, agent):
    probing.linux["seccomp"] = notify_profile(agent)
    probing.shell("sleep 1000; : %s" % cid)
    runtime("run", "--detach", "--bundle", probing.write(), cid,
            stdin=subprocess.DEVNULL)
    try:
        init = runtime.state(cid)["pid"]
        out = runtime("exec", cid, "/probe/probe", nr("getpgid"), 0).stdout
    finally:
        runtime("delete", "--force", cid)
    assert out.split() == ["errno", "18"]
    first, second = agent.states
    assert first["pid"] == second["state"]["pid"] == init
    assert second["pid"] not in (0, init)
    assert second["state"]["status"] == "running"


def test_notify_with_wait_killable_recv(pyoci, probing, cid, agent):
    # pyoci only: runc 1.1.5 refuses every flag.
    probing.linux["seccomp"] = notify_profile(
        agent, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC")
    seen = results(run(pyoci, probing, cid, probe("getpgid", 0)).stdout)
    assert seen["getpgid"] == "errno 18"


# -- broken sections ----------------------------------------------------------

BROKEN = {
    "defaultAction": ({"defaultAction": "SCMP_ACT_SOMETIMES"},
                      "linux.seccomp.defaultAction"),
    "architecture": ({"defaultAction": "SCMP_ACT_ALLOW",
                      "architectures": ["SCMP_ARCH_SH"]},
                     "linux.seccomp.architectures[0]"),
    "operator": ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        rule("SCMP_ACT_ERRNO", "getpgid",
             args=[{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}])]},
        "linux.seccomp.syscalls[0].args[0].op"),
    "errnoRet on KILL": ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        rule("SCMP_ACT_KILL", "getpgid", errnoRet=1)]},
        "linux.seccomp.syscalls[0].errnoRet"),
    "listener": ({"defaultAction": "SCMP_ACT_ALLOW",
                  "listenerPath": "/nonexistent/agent.sock",
                  "syscalls": [rule("SCMP_ACT_NOTIFY", "getpgid")]},
                 "linux.seccomp.listenerPath"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_section_names_the_field_and_leaves_nothing(runtime, bundle, cid, case):
    section, field = BROKEN[case]
    if runtime.name == "runc" and case == "errnoRet on KILL":
        pytest.skip("runc 1.1.5 ignores errnoRet on actions without an errno "
                    "(the spec says the runtime MUST fail)")
    bundle.linux["seccomp"] = section
    bundle.shell("true")
    result = runtime("create", "--bundle", bundle.write(), cid, check=False,
                     stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    if runtime.name == "pyoci":
        assert field in result.stderr and "Traceback" not in result.stderr
    assert runtime("list", "-q").stdout.split() == []


def test_notify_on_the_hand_over_syscall_is_refused(pyoci, bundle, cid):
    # pyoci only: pyoci hands the listener over with sendmsg (runc refuses
    # SCMP_ACT_NOTIFY on write, which it uses instead).
    bundle.linux["seccomp"] = allow_all_but(rule("SCMP_ACT_NOTIFY", "sendmsg"),
                                            listenerPath="/nonexistent/agent.sock")
    result = pyoci("create", "--bundle", bundle.shell("true").write(), cid,
                   check=False)
    assert result.returncode == 1
    assert "linux.seccomp.syscalls[0].names" in result.stderr


def test_libseccomp_is_loaded_only_for_a_config_with_seccomp(pyoci, bundle, cid):
    binding = {"pyoci.runtime._native._libseccomp", "pyoci.runtime.linux.seccomp"}
    bundle.shell("true")
    plain = imported(pyoci.command("run", "--bundle", bundle.write(), cid),
                     stdin=subprocess.DEVNULL, timeout=60)
    bundle.linux["seccomp"] = allow_all_but(rule("SCMP_ACT_ERRNO", "getpgid"))
    filtered = imported(pyoci.command("run", "--bundle", bundle.write(), cid),
                        stdin=subprocess.DEVNULL, timeout=60)
    assert "pyoci.runtime.lifecycle.container" in plain
    assert not plain & binding
    assert binding <= filtered


def test_without_no_new_privs_the_process_keeps_only_its_capabilities(runtime, bundle, cid):
    # CAP_SYS_ADMIN is kept for loading the filter, and no longer.
    bundle.process["noNewPrivileges"] = False
    script = "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status"
    unfiltered = run(runtime, bundle, cid, script).stdout
    bundle.linux["seccomp"] = allow_all_but(rule("SCMP_ACT_ERRNO", "getpgid"))
    filtered = run(runtime, bundle, cid, script).stdout
    assert "Seccomp:\t2" in filtered and "Seccomp:\t0" in unfiltered
    assert filtered.replace("Seccomp:\t2", "") == unfiltered.replace("Seccomp:\t0", "")
    assert "NoNewPrivs:\t0" in filtered


def test_a_filter_that_cannot_be_loaded_fails_create(pyoci, bundle, cid):
    # pyoci only: runc 1.1.5 loads the filter before switching user, so it
    # runs this; pyoci loads it last and says so at create.
    bundle.process["noNewPrivileges"] = False
    del bundle.process["capabilities"]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.linux["seccomp"] = allow_all_but(rule("SCMP_ACT_ERRNO", "getpgid"))
    result = pyoci("create", "--bundle", bundle.shell("true").write(), cid,
                   check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "noNewPrivileges or CAP_SYS_ADMIN" in result.stderr
    assert pyoci("list", "-q").stdout.split() == []

"""Starting a container's init process: the parent side (`InitLauncher`,
driven by lifecycle.create), the two child stages, and the sync protocol
between them.

Processes:
    P   pyoci create. Stays in the host namespaces: writes id maps, runs the
        host-side hooks, puts the init in its cgroup, writes the state and
        the pid file, then exits.
    S1  stage 1, forked by P. Joins the namespaces given by path, creates
        the user namespace (P writes its maps), unshares the others (pid
        and time apply to its children), forks S2, and lingers only until
        create is committed, so that S2 dies with it until then.
    S2  the container init, forked by S1: pid 1 of a new pid namespace.
        Unshares the cgroup namespace once it sits in its cgroup, builds
        the rootfs, pivots, prepares the process, then blocks on
        exec.fifo until `start` and executes the user's program.

Protocol: SOCK_SEQPACKET socketpairs P<->S1 and P<->S2, one JSON object a
message. Every request is answered; instead of its answer a child may send
{"type": "error", "message", "errno"}, which fails create.

    step  from -> to  type        meaning
    1     S1 -> P     userns      user namespace exists: write its id maps
    2     P  -> S1    mapped
    3     S1 -> P     init        S2 forked; "pid" is its host pid
    4     P  -> S2    placed      S2 is in its cgroup; "pid" is its host pid;
                                  "mounts": indexes of the idmapped mounts
                                  whose detached trees ride along
                                  (SCM_RIGHTS, in that order; idmap.py)
    5     S2 -> P     hooks       mounts done: run prestart + createRuntime
    6     P  -> S2    hooks-done
    7     S2 -> P     ready       pivoted, process prepared; "warnings"
    8     P  -> S2    commit      pid file and state are written
    9     S2 -> P     detached    S2 no longer dies with S1
    10    P  -> S1    exit        S1 exits; S2 is re-parented to the caller
                                  (a subreaper) or to init

    With process.terminal, between steps 6 and 7 (after pivot_root, so
    that /dev/ptmx is the container's devpts):
    6a    S2 -> P     console     the pty master rides along (SCM_RIGHTS)
    6b    P  -> S2    console-sent  the master went to the console socket
                                  (or pyoci keeps it to relay a foreground
                                  run); S2 has bound the slave over
                                  /dev/console and made it fds 0-2

A child that reads end-of-file before step 8 exits at once: pyoci is gone,
and so must the half-made container be (S1 and S2 also carry a
parent-death SIGKILL until then).

`exec` (ExecLauncher) runs the same way with two other children:
    X1  forked by P: joins every namespace of the container's init (user
        first, from /proc/PID/ns), forks X2, lingers like S1.
    X2  the new process, inside the pid namespace: waits to be in the
        cgroup, prepares the process as S2 does, executes it.

    step  from -> to  type        meaning
    1     X1 -> P     init        X2 forked; "pid" is its host pid
    2     P  -> X2    placed      X2 is in the container's cgroup
    2a/2b             console / console-sent, as 6a/6b (no /dev/console)
    3     X2 -> P     ready       process prepared, args[0] found
    4     P  -> X2    commit      the pid file is written
    5     X2 -> P     detached
    6     P  -> X1    exit
    7     X2 executes the program: its end of the socket closes with
          execve (P reads end-of-file), or it sends an error
"""
import errno
import fcntl
import os
import signal
import struct
import sys

from pyoci.runtime import _native as n
from pyoci.runtime.errors import PyociError, SyscallError
from pyoci.runtime.linux import hooks as hook_runner
from pyoci.runtime.linux import namespaces, procfs, process as proc, sockets, terminal
from pyoci.runtime.linux.idmap import is_idmapped
from pyoci.runtime.linux.rootfs import Rootfs, describe
from pyoci.spec import jsonio

_MESSAGE_LIMIT = 1 << 16
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
# Signals CPython handles or ignores; the init must not act on them as
# Python would while it waits for `start`.
_PYTHON_SIGNALS = (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)


class InitSpec:
    """Everything the child stages need, fixed before fork."""

    def __init__(self, container_id, config, bundle, rootfs, fifo_fd, *,
                 no_pivot=False, preserve_fds=0, no_new_keyring=False,
                 seccomp=None):
        self.container_id = container_id
        # linux.seccomp compiled (seccomp.SeccompFilter), or None
        self.seccomp = seccomp
        self.config = config
        self.bundle = bundle
        self.rootfs = rootfs
        self.fifo_fd = fifo_fd
        self.no_pivot = no_pivot
        # fds 3.. that the program receives (socket activation + preserved)
        self.preserve_fds = preserve_fds
        self.no_new_keyring = no_new_keyring
        self.terminal = bool(config["process"].get("terminal"))
        linux = config.get("linux", {})
        self.plan = namespaces.NamespacePlan(linux.get("namespaces", ()))

    def state(self, status, pid):
        return {"ociVersion": self.config.get("ociVersion", "1.3.0"),
                "id": self.container_id, "status": status, "pid": pid,
                "bundle": self.bundle,
                "annotations": self.config.get("annotations", {})}


def _send(sock, message):
    try:
        sock.send(jsonio.dumps(message, separators=(",", ":")).encode())
    except OSError:
        # The peer is gone; it may have said why before it went.
        _receive(sock, message["type"], "peer")
        raise


def _receive(sock, expected, who):
    return _decode(_recv_data(sock, 0)[0], expected, who)


def _recv_data(sock, max_fds):
    try:
        data, fds, _, _ = sockets.recv_fds(sock, _MESSAGE_LIMIT, max_fds)
    except ConnectionResetError:
        data, fds = b"", []
    return data, fds


def _receive_console(sock, who):
    """Step 6a: the console message and the pty master it carries."""
    data, fds = _recv_data(sock, 1)
    try:
        _decode(data, "console", who)
        if len(fds) != 1:
            raise SyscallError("container init (%s) sent no pty master" % who,
                               errno.EPROTO)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds[0]


def _send_console(sock, process):
    """Steps 6a-6b from the child's side; returns the pty slave."""
    master, slave = terminal.open_pty(process.get("consoleSize"))
    try:
        sockets.send_fds(sock, [jsonio.dumps({"type": "console"}).encode()], [master])
    finally:
        os.close(master)
    _receive(sock, "console-sent", "pyoci")
    return slave


def _decode(data, expected, who):
    if not data:
        raise SyscallError("container init (%s) exited during create" % who,
                           errno.EPIPE)
    message = jsonio.loads(data)
    if message["type"] == "error":
        raise SyscallError(message["message"], message.get("errno", 0))
    if message["type"] != expected:
        raise SyscallError("container init (%s) sent %r, expected %r"
                           % (who, message["type"], expected), errno.EPROTO)
    return message


class InitLauncher:
    """The parent's side of the protocol, one method per step it takes."""

    def __init__(self, spec, console=None):
        self.spec = spec
        # Where the pty master goes (terminal.ConsoleSocket / KeptMaster)
        self.console = console
        self.stage1_pid = 0
        self.init_pid = 0
        self.warnings = []
        self._stage1 = self._init = None

    def _fork(self, stage1_main):
        """Fork stage 1 with one socket to it and one for the process it
        will fork; returns its pid."""
        stage1, stage1_child = sockets.seqpacket_pair()
        init, init_child = sockets.seqpacket_pair()
        self._stage1, self._init = stage1, init
        parent_pid = os.getpid()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            stage1.close()
            init.close()
            _child_main(stage1_main, stage1_child, self.spec, parent_pid,
                        init_child)
        self.stage1_pid = pid
        stage1_child.close()
        init_child.close()
        self._close_seccomp_agent()
        return pid

    def _close_seccomp_agent(self):
        # The children hold the connection to the seccomp agent now.
        if self.spec.seccomp is not None:
            self.spec.seccomp.close_agent()

    def spawn(self):
        """Fork S1; return once S2 exists (steps 1-3)."""
        pid = self._fork(_stage1_main)
        stage1 = self._stage1
        self.spec.plan.close()
        creates_user_ns = "user" in self.spec.plan.created
        message = _receive(stage1, "userns" if creates_user_ns else "init",
                           "stage 1")
        if message["type"] == "userns":
            linux = self.spec.config["linux"]
            namespaces.write_id_mappings(pid, linux.get("uidMappings", ()),
                                         linux.get("gidMappings", ()))
            _send(stage1, {"type": "mapped"})
            message = _receive(stage1, "init", "stage 1")
        self.init_pid = message["pid"]
        return self.init_pid

    def release(self, idmapped_trees):
        """Step 4-5: the init sits in its cgroup; hand it the idmapped
        trees ({mount index: fd}, closed here), let it build the rootfs and
        return when it asks for the host-side hooks."""
        indexes = sorted(idmapped_trees)
        try:
            sockets.send_fds(self._init, [jsonio.dumps(
                {"type": "placed", "pid": self.init_pid, "mounts": indexes})
                .encode()], [idmapped_trees[i] for i in indexes])
        finally:
            for fd in idmapped_trees.values():
                os.close(fd)
        _receive(self._init, "hooks", "init")

    def finish(self):
        """Steps 6-7: host-side hooks have run; wait until the init is
        ready to be started."""
        _send(self._init, {"type": "hooks-done"})
        self._hand_over_console()
        self.warnings = _receive(self._init, "ready", "init").get("warnings", [])

    def _hand_over_console(self):
        if self.spec.terminal:
            self.console.deliver(_receive_console(self._init, "init"))
            _send(self._init, {"type": "console-sent"})

    def commit(self):
        """Steps 8-10: state is written; cut every tie between pyoci and
        the init."""
        _send(self._init, {"type": "commit"})
        _receive(self._init, "detached", "init")
        _send(self._stage1, {"type": "exit"})
        os.waitpid(self.stage1_pid, 0)
        self.stage1_pid = 0
        self.close()

    def abort(self):
        """Kill whatever the launch made so far and reap stage 1."""
        for pid in (self.init_pid, self.stage1_pid):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.stage1_pid:
            os.waitpid(self.stage1_pid, 0)
            self.stage1_pid = 0
        self.close()

    def close(self):
        for sock in (self._stage1, self._init):
            if sock is not None:
                sock.close()
        self._stage1 = self._init = None
        self._close_seccomp_agent()


class ExecSpec:
    """What the children of `exec` need: the container's config (for its
    seccomp and keyring), the process to run, the namespaces to join as
    open fds by type."""

    def __init__(self, container_id, config, process, namespace_fds, *,
                 preserve_fds=0, no_new_keyring=False, seccomp=None,
                 state=None):
        self.container_id = container_id
        # The container's linux.seccomp compiled, and its state (for a
        # seccomp agent)
        self.seccomp = seccomp
        self.container_state = state
        self.config = config
        self.process = process
        self.namespace_fds = namespace_fds
        self.preserve_fds = preserve_fds
        self.no_new_keyring = no_new_keyring
        self.terminal = bool(process.get("terminal"))
        self.joins_user_ns = "user" in namespace_fds

    def close(self):
        for fd in self.namespace_fds.values():
            os.close(fd)
        self.namespace_fds = {}


class ExecLauncher(InitLauncher):
    """The parent's side of `exec` (steps X1-X7 above)."""

    def spawn(self):
        """Fork X1; return X2's host pid once it exists."""
        self._fork(_exec_stage1_main)
        self.spec.close()
        self.init_pid = _receive(self._stage1, "init", "exec stage 1")["pid"]
        return self.init_pid

    def release(self):
        """X2 sits in the cgroup: let it prepare the process."""
        _send(self._init, {"type": "placed", "pid": self.init_pid})
        self._hand_over_console()
        self.warnings = _receive(self._init, "ready", "exec").get("warnings", [])

    def commit(self):
        """Let X2 execute its program; return once it has (or raise what
        went wrong)."""
        _send(self._init, {"type": "commit"})
        _receive(self._init, "detached", "exec")
        _send(self._stage1, {"type": "exit"})
        os.waitpid(self.stage1_pid, 0)
        self.stage1_pid = 0
        try:
            data, _ = _recv_data(self._init, 0)
            if data:
                _decode(data, "executed", "exec")
        finally:
            self.close()


# -- the children -------------------------------------------------------------

def _child_main(stage, sock, *args):
    """Run a child stage; never return into the caller's code."""
    try:
        stage(sock, *args)
    except BaseException as e:      # report everything, raise nothing
        _report(sock, e)
    finally:
        os._exit(1)


def _report(sock, error):
    if isinstance(error, PyociError):
        message, code = str(error), getattr(error, "errno", 0)
    elif isinstance(error, OSError):
        message = describe(error)
        code = error.errno or 0
    else:
        message, code = "%s: %s" % (type(error).__name__, error), 0
    try:
        _send(sock, {"type": "error", "message": message, "errno": code})
    except OSError:
        os.write(2, ("pyoci: %s\n" % message).encode(errors="replace"))


def _die_with_parent(parent_pid):
    """SIGKILL when the parent goes; set again after each credential
    change, which clears it."""
    n.prctl(n.PR_SET_PDEATHSIG, signal.SIGKILL)
    # A parent that died before prctl leaves us orphaned. (The init of a
    # new pid namespace sees its parent as 0; its socket tells it instead.)
    if os.getppid() not in (parent_pid, 0):
        os._exit(1)


def _close_inherited_fds(keep):
    """Close every fd pyoci itself had open (the state lock among them),
    keeping stdio, the caller's preserved fds and the launch's own."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd >= 3 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass    # the fd of the listing itself


def _agent_fds(spec):
    return spec.seccomp.agent_fds() if spec.seccomp is not None else ()


def _stage1_main(sock, spec, parent_pid, init_sock):
    _die_with_parent(parent_pid)
    _close_inherited_fds({sock.fileno(), init_sock.fileno(), spec.fifo_fd,
                          *spec.plan.joined.values(), *_agent_fds(spec),
                          *range(3, 3 + spec.preserve_fds)})
    n.set_process_name("pyoci:[1]")
    plan = spec.plan
    plan.join_all()
    plan.close()
    if "user" in plan.created:
        n.unshare(n.CLONE_NEWUSER)
        _send(sock, {"type": "userns"})
        _receive(sock, "mapped", "pyoci")
        _become_namespace_root()
        _die_with_parent(parent_pid)
    # The cgroup namespace is unshared by S2 once it sits in its cgroup.
    n.unshare(plan.flags(plan.created - {"user", "cgroup"}))
    if "time" in plan.created:
        offsets = spec.config["linux"].get("timeOffsets")
        if offsets:
            namespaces.write_time_offsets(offsets)
    _fork_and_linger(sock, _init_main, init_sock, spec)


def _fork_and_linger(sock, stage2_main, stage2_sock, spec):
    """Stage 1's end: fork stage 2, tell pyoci its pid, exit when told."""
    my_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        sock.close()
        _child_main(stage2_main, stage2_sock, spec, my_pid)
    stage2_sock.close()
    _send(sock, {"type": "init", "pid": pid})
    try:
        _receive(sock, "exit", "pyoci")
    except SyscallError:
        os._exit(1)     # pyoci died: stage 2 follows through its death signal
    os._exit(0)


def _exec_stage1_main(sock, spec, parent_pid, exec_sock):
    _die_with_parent(parent_pid)
    _close_inherited_fds({sock.fileno(), exec_sock.fileno(),
                          *spec.namespace_fds.values(), *_agent_fds(spec),
                          *range(3, 3 + spec.preserve_fds)})
    n.set_process_name("pyoci:[exec]")
    for kind in namespaces.JOIN_ORDER:
        fd = spec.namespace_fds.get(kind)
        if fd is None:
            continue
        n.setns(fd, namespaces.CLONE_FLAGS[kind])
        if kind == "user":
            _become_namespace_root()
            _die_with_parent(parent_pid)
    spec.close()
    _fork_and_linger(sock, _exec_main, exec_sock, spec)


def _exec_main(sock, spec, stage1_pid):
    _die_with_parent(stage1_pid)
    for signum in _PYTHON_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    host_pid = _receive(sock, "placed", "pyoci")["pid"]
    process = spec.process
    if not spec.no_new_keyring:
        _join_session_keyring(spec.container_id, spec.joins_user_ns)
    if spec.terminal:
        os.setsid()
        slave = _send_console(sock, process)
        terminal.become_stdio(slave, process.get("user", {}).get("uid", 0))
    warnings = []
    path, env, caps = _prepare_process(process, warnings, spec.seccomp)
    _send(sock, {"type": "ready", "warnings": warnings})
    _receive(sock, "commit", "pyoci")
    n.prctl(n.PR_SET_PDEATHSIG, 0)
    _send(sock, {"type": "detached"})
    _execute(spec.seccomp, spec.container_state, host_pid, caps,
             path, process["args"], env, 3 + spec.preserve_fds)


def _become_namespace_root():
    # Files the init makes must belong to a mapped id; root of the new
    # namespace when it is mapped (runc does the same).
    try:
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise


def _init_main(sock, spec, stage1_pid):
    _die_with_parent(stage1_pid)
    n.set_process_name(procfs.INIT_NAME)
    for signum in _PYTHON_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    config = spec.config
    linux = config.get("linux", {})
    plan = spec.plan
    host_pid, idmapped_trees = _receive_placed(sock, config)
    if "cgroup" in plan.created:
        n.unshare(n.CLONE_NEWCGROUP)
    os.setsid()
    if not spec.no_new_keyring:
        _join_session_keyring(spec.container_id, "user" in plan.created)
    warnings = []

    rootfs = Rootfs(spec.rootfs, spec.bundle, config,
                    new_user_ns="user" in plan.created,
                    new_cgroup_ns="cgroup" in plan.created,
                    host_mount_ns=not plan.has("mount"),
                    idmapped_trees=idmapped_trees)
    rootfs.prepare()
    rootfs.mount_all()
    rootfs.create_devices()
    _send(sock, {"type": "hooks"})
    _receive(sock, "hooks-done", "pyoci")
    hooks = config.get("hooks", {})
    hook_runner.run_hooks(hooks.get("createContainer"), "createContainer",
                          spec.state("creating", host_pid))
    rootfs.pivot(spec.no_pivot)
    process = config["process"]
    if spec.terminal:
        slave = _send_console(sock, process)
        terminal.bind_console(slave)
        terminal.become_stdio(slave, process.get("user", {}).get("uid", 0))

    _set_names(config, plan)
    if "network" in plan.created:
        _loopback_up()
    rootfs.write_sysctls()
    rootfs.readonly_paths()
    rootfs.mask_paths()
    rootfs.finish()

    proc.apply_personality(linux.get("personality"))
    proc.apply_memory_policy(linux.get("memoryPolicy"))
    path, env, caps = _prepare_process(process, warnings, spec.seccomp)

    _send(sock, {"type": "ready", "warnings": warnings})
    _receive(sock, "commit", "pyoci")
    n.prctl(n.PR_SET_PDEATHSIG, 0)
    _send(sock, {"type": "detached"})
    sock.close()
    _wait_for_start(spec.fifo_fd)
    hook_runner.run_hooks(hooks.get("startContainer"), "startContainer",
                          spec.state("created", host_pid))
    _execute(spec.seccomp, spec.state("created", host_pid), host_pid, caps,
             path, process["args"], env, 3 + spec.preserve_fds)


def _receive_placed(sock, config):
    """Step 4 from the init's side: its host pid and the idmapped trees."""
    expected = sum(1 for m in config.get("mounts", ()) if is_idmapped(m))
    data, fds = _recv_data(sock, expected)
    try:
        message = _decode(data, "placed", "pyoci")
        if len(fds) != len(message["mounts"]):
            raise SyscallError("pyoci sent %d idmapped mounts for %d"
                               % (len(fds), len(message["mounts"])), errno.EPROTO)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return message["pid"], dict(zip(message["mounts"], fds))


def _prepare_process(process, warnings, seccomp):
    """What the init and an exec'd process both do before execve: limits,
    scheduling, user, capabilities, cwd; returns args[0] resolved, the
    environment and the capabilities to set once the seccomp filter is
    loaded (None: as they are)."""
    proc.apply_rlimits(process.get("rlimits"))
    proc.apply_scheduler(process.get("scheduler"))
    proc.apply_io_priority(process.get("ioPriority"))
    credentials = proc.Credentials(process, warnings)
    cwd = process.get("cwd", "/")
    try:
        os.chdir(cwd)   # as root first: a cwd the user cannot reach is fine
    except OSError:
        pass
    caps = credentials.apply(keep_sys_admin=seccomp is not None)
    if seccomp is not None:
        proc.check_seccomp_loadable(credentials)
    proc.change_directory(cwd)
    env = process.get("env", [])
    return proc.find_executable(process["args"][0], env), env, caps


def _execute(seccomp, state, pid, caps, path, args, env, close_from_fd):
    """The last step of the init and of every exec'd process alike: the
    container's seccomp filter (compiled before fork) is loaded here, in C
    right before execve, after noNewPrivileges and every other setting;
    with SCMP_ACT_NOTIFY its listener goes to the agent with the container
    process state (`state` of the container, `pid` this process's host
    pid)."""
    load = None if seccomp is None else seccomp.load(state, pid, caps)
    n.execute(path, args, env, close_from_fd, load)


def _join_session_keyring(container_id, in_user_namespace):
    """A session keyring of the container's own instead of the caller's,
    named as runc names it so that exec'd processes join the same one;
    searchable by the container's uid (by 'other' across a user namespace).
    Kernels without keyrings (ENOSYS) go without, as with runc."""
    try:
        n.join_session_keyring("_ses." + container_id,
                               0x8 if in_user_namespace else 0x80000)
    except OSError as e:
        if e.errno != errno.ENOSYS:
            raise


def _wait_for_start(fifo_fd):
    """Block until `start` writes to exec.fifo (opened read-write by pyoci
    create, so that opening it for writing never blocks `start`)."""
    while True:
        try:
            if os.read(fifo_fd, 1):
                break
        except InterruptedError:
            continue
    os.close(fifo_fd)


def _set_names(config, plan):
    hostname = config.get("hostname")
    domainname = config.get("domainname")
    # A joined uts namespace (a path) takes the names too, as with runc.
    if (hostname or domainname) and not plan.has("uts"):
        raise SyscallError("cannot set hostname or domainname without a "
                           "uts namespace", errno.EINVAL)
    if hostname:
        n.sethostname(hostname)
    if domainname:
        n.setdomainname(domainname)


def _loopback_up():
    s = sockets.socket(sockets.AF_INET, sockets.SOCK_DGRAM)
    try:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))
    finally:
        s.close()

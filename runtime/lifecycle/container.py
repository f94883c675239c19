"""The container lifecycle as a library: create, start, state, kill,
delete, run. The CLI is a thin layer over this module.

    from pyoci.runtime.lifecycle.container import Container
    c = Container.create("web", bundle="/srv/web", root="/run/pyoci")
    c.start(); c.status(); c.kill("TERM"); c.delete(force=True)
    exit_code = Container.run("job", bundle="/srv/job")

Status is never stored: each call derives it from live evidence (the init's
pid and start time, exec.fifo, the cgroup freezer)."""
import errno
import os
import select
# The signal module only wraps _signal's functions and constants in
# IntEnums: importing it imports enum, about 3 ms of every command.
import _signal as signal
import time

from pyoci.runtime import SPEC_VERSION
from pyoci.runtime.errors import (HookFailed, NotFound, PyociError,
                                  SyscallError, UsageError, WrongState)
from pyoci.runtime.lifecycle.store import (EXEC_FIFO, Store, check_id,
                                           write_pid_file)
from pyoci.runtime.linux import procfs
from pyoci.runtime.linux.hooks import run_hooks, run_hooks_warning
from pyoci.runtime.timestamps import rfc3339_now

CREATING, CREATED, RUNNING, PAUSED, STOPPED = (
    "creating", "created", "running", "paused", "stopped")


def parse_signal(value):
    """A signal given as a number ("9"), a name ("KILL") or "SIGKILL"."""
    text = str(value).strip()
    if text.isdigit():
        number = int(text)
        if 0 < number < signal.NSIG:
            return number
    else:
        name = text.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        # the names signal.Signals has: SIG*, not the SIG_DFL/SIG_IGN handlers
        number = getattr(signal, name, None) if name.isidentifier() \
            and not name.startswith("SIG_") else None
        if isinstance(number, int):
            return number
    raise UsageError("invalid signal %r" % value)


def _owner():
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())


class Container:
    # What the last operation warned about (unknown capabilities, failed
    # poststop hooks); the CLI logs them.
    warnings = ()

    def __init__(self, container_id, store, record):
        self.id = container_id
        self.store = store
        self.record = record

    # -- looking containers up ------------------------------------------------

    @classmethod
    def load(cls, container_id, root=None):
        store = Store(root) if root else Store()
        check_id(container_id)
        return cls(container_id, store, store.read(container_id))

    @property
    def directory(self):
        return self.store.path(self.id)

    @property
    def pid(self):
        return (self.record or {}).get("pid") or 0

    def _cgroup(self):
        record = (self.record or {}).get("cgroup")
        if not record:
            return None
        from pyoci.runtime.linux import cgroups
        return cgroups.load_manager(record)

    def status(self):
        record = self.record
        if record is None or record.get("phase") == CREATING:
            creator = (record or {}).get("creator") or {}
            if procfs.is_alive(creator.get("pid"), creator.get("start")):
                return CREATING
            return STOPPED
        if not procfs.is_alive(record["pid"], record["pid_start"]):
            return STOPPED
        # a paused created container says paused, as in runc
        cgroup = self._cgroup()
        if cgroup is not None and cgroup.is_frozen():
            return PAUSED
        if os.path.exists(os.path.join(self.directory, EXEC_FIFO)):
            return CREATED
        return RUNNING

    def state(self):
        """The OCI state document, plus runc's rootfs/created/owner."""
        status = self.status()
        record = self.record or {}
        state = {
            "ociVersion": record.get("ociVersion", SPEC_VERSION),
            "id": self.id,
            "pid": self.pid if status not in (STOPPED, CREATING) else 0,
            "status": status,
            "bundle": record.get("bundle", ""),
            "rootfs": record.get("rootfs", ""),
            "created": record.get("created", ""),
            "owner": record.get("owner", ""),
        }
        if record.get("annotations"):
            state["annotations"] = record["annotations"]
        return state

    def _hook_state(self, status):
        record = self.record or {}
        return {"ociVersion": record.get("ociVersion", SPEC_VERSION),
                "id": self.id, "status": status,
                "pid": self.pid if status != STOPPED else 0,
                "bundle": record.get("bundle", ""),
                "annotations": record.get("annotations", {})}

    def _hooks(self, phase):
        return ((self.record or {}).get("config", {}).get("hooks") or {}).get(phase)

    # -- create ---------------------------------------------------------------

    # The pty master of a foreground `run -t`, which pyoci relays itself.
    console_master = -1

    @classmethod
    def create(cls, container_id, bundle=".", root=None, *, pid_file=None,
               no_pivot=False, preserve_fds=0, systemd_cgroup=False,
               subreaper=False, console_socket=None, no_new_keyring=False,
               relay_terminal=False):
        """Create the container and leave its init waiting for start.
        With process.terminal the pty master goes to `console_socket`, or
        stays in `console_master` when `relay_terminal` (a foreground run).
        Raises PyociError; on any failure nothing of the container remains."""
        from pyoci.runtime.linux import terminal
        from pyoci.spec.load import load_config
        from pyoci.spec.validate import check_config, config_warnings

        check_id(container_id)
        bundle = os.path.abspath(bundle)
        config = load_config(bundle)
        check_config(config, bundle_dir=bundle, for_start=True)
        if config.get("linux", {}).get("intelRdt") is not None:
            from pyoci.runtime.linux import intelrdt
            intelrdt.check(config["linux"]["intelRdt"], intelrdt.resctrl_root())
        seccomp = _compile_seccomp(config)
        process = config["process"]
        terminal.check_terminal(process.get("terminal"), console_socket,
                                detach=not relay_terminal)
        extra_fds = _passed_fds(process, preserve_fds)
        console = None
        if process.get("terminal"):
            console = terminal.KeptMaster() if relay_terminal else \
                terminal.ConsoleSocket(console_socket)
        store = Store(root) if root else Store()
        try:
            store.create(container_id)
        except BaseException:
            if console is not None:
                console.close()
            raise
        container = cls(container_id, store, None)
        lock = store.lock(container_id)
        try:
            container._create(config, bundle, pid_file, no_pivot,
                              extra_fds, systemd_cgroup, subreaper,
                              console, no_new_keyring, seccomp)
            if relay_terminal and console is not None:
                container.console_master = console.master
            container.warnings = [str(w) for w in config_warnings(config)] \
                + container.warnings
        finally:
            os.close(lock)
        return container

    def _create(self, config, bundle, pid_file, no_pivot, preserve_fds,
                systemd_cgroup, subreaper, console, no_new_keyring, seccomp):
        from pyoci.runtime import _native
        from pyoci.runtime.linux import cgroups
        from pyoci.runtime.linux.init import InitLauncher, InitSpec

        rootfs = os.path.realpath(os.path.join(bundle, config["root"]["path"]))
        self.record = record = {
            "phase": CREATING, "ociVersion": config.get("ociVersion", SPEC_VERSION),
            "bundle": bundle, "rootfs": rootfs, "created": rfc3339_now(),
            "owner": _owner(), "annotations": config.get("annotations", {}),
            "creator": {"pid": os.getpid(), "start": procfs.start_time(os.getpid())},
            "config": config, "pid": 0, "pid_start": None, "cgroup": None,
            "systemd_cgroup": systemd_cgroup, "no_new_keyring": no_new_keyring,
        }
        if not any(ns.get("type") == "mount"
                   for ns in config.get("linux", {}).get("namespaces", ())):
            from pyoci.runtime.linux.rootfs import mounts_at
            record["host_rootfs_mounts"] = mounts_at(rootfs)
        self.store.write(self.id, record)
        launcher = cgroup = None
        fifo_fd = -1
        try:
            fifo = os.path.join(self.directory, EXEC_FIFO)
            os.mkfifo(fifo, 0o600)
            fifo_fd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
            spec = InitSpec(self.id, config, bundle, rootfs, fifo_fd,
                            no_pivot=no_pivot, preserve_fds=preserve_fds,
                            no_new_keyring=no_new_keyring, seccomp=seccomp)
            if subreaper:
                _native.prctl(_native.PR_SET_CHILD_SUBREAPER, 1)
            launcher = InitLauncher(spec, console)
            init_pid = launcher.spawn()
            os.close(fifo_fd)
            fifo_fd = -1
            record["pid"] = init_pid
            record["pid_start"] = procfs.start_time(init_pid)
            linux = config.get("linux", {})
            cgroup = cgroups.open_manager(linux.get("cgroupsPath"), self.id,
                                          systemd=systemd_cgroup)
            # On disk before anything is made, so that `delete` after a
            # SIGKILL mid-create still finds the cgroup (leaf directories).
            record["cgroup"] = cgroup.to_record()
            self.store.write(self.id, record)
            cgroup.create()
            record["cgroup"] = cgroup.to_record()
            cgroup.apply(linux.get("resources") or {}, linux.get("devices"))
            cgroup.add_process(init_pid)
            if linux.get("intelRdt") is not None:
                self._join_resctrl(linux["intelRdt"], init_pid)
            _write_oom_score_adj(init_pid, config["process"].get("oomScoreAdj"))
            if linux.get("netDevices"):
                from pyoci.runtime.linux.netdevices import move_devices
                move_devices(linux["netDevices"], "/proc/%d/ns/net" % init_pid)
            launcher.release(_idmapped_trees(config, bundle, init_pid))
            hooks = config.get("hooks") or {}
            # The process exists and waits for start: the status these hooks
            # read is "created" (runtime-tools hooks_stdin requires it).
            state = self._hook_state(CREATED)
            run_hooks(hooks.get("prestart"), "prestart", state)
            run_hooks(hooks.get("createRuntime"), "createRuntime", state)
            launcher.finish()
            if pid_file:
                write_pid_file(pid_file, init_pid)
            record["phase"] = CREATED
            self.store.write(self.id, record)
            launcher.commit()
            self.warnings = list(launcher.warnings) + cgroup.warnings
        except BaseException as e:
            oom_killed = _init_oom_killed(e, cgroup)
            if seccomp is not None:
                seccomp.close_agent()
            if fifo_fd >= 0:
                os.close(fifo_fd)
            if console is not None:
                console.close()
            if launcher is not None:
                launcher.abort()
            self._destroy(cgroup, run_poststop=launcher is not None
                          and launcher.init_pid != 0)
            if pid_file and launcher is not None and launcher.init_pid:
                _remove_quietly(pid_file)
            if oom_killed:
                raise SyscallError(
                    "container init was killed by the OOM killer during create: "
                    "linux.resources.memory.limit %s is too low"
                    % config["linux"]["resources"]["memory"].get("limit"),
                    errno.ENOMEM) from None
            raise

    def _join_resctrl(self, rdt, init_pid):
        from pyoci.runtime.linux import intelrdt
        root = intelrdt.resctrl_root()
        intelrdt.check(rdt, root)
        group = intelrdt.ResctrlGroup.open(rdt, self.id, root)
        self.record["intel_rdt"] = group.to_record()
        self.store.write(self.id, self.record)
        try:
            group.add_process(init_pid, self.id, rdt.get("enableMonitoring"), root)
        finally:
            self.record["intel_rdt"] = group.to_record()    # the monitoring group

    # -- start, kill ----------------------------------------------------------

    def start(self):
        lock = self.store.lock(self.id)
        try:
            status = self.status()
            if status != CREATED:
                raise WrongState("cannot start a container that is %s" % status
                                 if status != STOPPED else
                                 "cannot start an already stopped container")
            fifo = os.path.join(self.directory, EXEC_FIFO)
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as e:
                if e.errno in (errno.ENXIO, errno.ENOENT):
                    raise WrongState("container %s is not running" % self.id) from None
                raise
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
            os.unlink(fifo)
            self._wait_for_exec()
            try:
                run_hooks(self._hooks("poststart"), "poststart",
                          self._hook_state(RUNNING))
            except HookFailed:
                # runtime-spec: stop the container; delete then destroys it.
                self._signal(signal.SIGKILL)
                raise
        finally:
            os.close(lock)

    def _wait_for_exec(self):
        """poststart hooks run after the user's program is executed
        (runtime-spec), so wait until the init has run its startContainer
        hooks and executed it, or died trying."""
        pid, start_time = self.record["pid"], self.record["pid_start"]
        delay = 0.0005
        while procfs.still_in_runtime(pid, start_time):
            time.sleep(delay)
            delay = min(delay * 2, 0.02)

    def kill(self, sig=signal.SIGTERM, all_processes=False):
        sig = parse_signal(sig)
        lock = self.store.lock(self.id)
        try:
            status = self.status()
            cgroup = self._cgroup()
            if all_processes and status == STOPPED:
                # what is left in the cgroup of a stopped container (no pid
                # namespace) can still be killed, as in runc
                if cgroup is not None and cgroup.exists():
                    cgroup.kill_all(sig)
                return
            if status in (STOPPED, CREATING):
                raise WrongState("container not running")
            if all_processes:
                self._signal_all(sig)
            else:
                self._signal(sig)
            if status == PAUSED and sig == signal.SIGKILL and cgroup is not None:
                cgroup.thaw()   # frozen tasks die only once thawed (runc)
        finally:
            os.close(lock)

    def _signal(self, sig):
        """Signal the init through a pidfd: the pid cannot be reused
        between the liveness check and the kill."""
        try:
            pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            raise WrongState("container not running") from None
        try:
            if not procfs.is_alive(self.pid, self.record["pid_start"]):
                raise WrongState("container not running")
            signal.pidfd_send_signal(pidfd, sig)
        except ProcessLookupError:
            raise WrongState("container not running") from None
        finally:
            os.close(pidfd)

    def _signal_all(self, sig):
        cgroup = self._cgroup()
        if cgroup is None:
            self._signal(sig)
        else:
            cgroup.kill_all(sig)

    def _shares_host_pid_namespace(self):
        namespaces = self.record.get("config", {}).get("linux", {}).get(
            "namespaces", ())
        return not any(ns["type"] == "pid" and not ns.get("path")
                       for ns in namespaces)

    def _wait_gone(self, timeout=10.0):
        try:
            pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            return
        try:
            if procfs.is_alive(self.pid, self.record["pid_start"]):
                poller = select.poll()
                poller.register(pidfd, select.POLLIN)
                if not poller.poll(int(timeout * 1000)):
                    raise SyscallError("container %s did not exit after SIGKILL"
                                       % self.id, errno.ETIMEDOUT)
        finally:
            os.close(pidfd)

    # -- pause, resume, update, ps, events --------------------------------------

    def _require_cgroup(self):
        cgroup = self._cgroup()
        if cgroup is None:
            raise PyociError("container %s has no cgroup" % self.id)
        return cgroup

    def pause(self):
        """Freeze every process (runc pauses created containers too)."""
        lock = self.store.lock(self.id)
        try:
            if self.status() not in (CREATED, RUNNING):
                raise WrongState("container not running")
            self._require_cgroup().freeze()
        finally:
            os.close(lock)

    def resume(self):
        lock = self.store.lock(self.id)
        try:
            if self.status() != PAUSED:
                raise WrongState("container not paused")
            self._require_cgroup().thaw()
        finally:
            os.close(lock)

    def update(self, resources):
        """Change the limits of a live container (a linux.resources dict:
        what it names, zero values meaning "leave as is"), then keep the
        new values in the state record. Devices are not changed (runc's
        update skips them too)."""
        if not isinstance(resources, dict):
            raise UsageError("resources must be a JSON object")
        resources = {k: v for k, v in resources.items() if k != "devices"}
        lock = self.store.lock(self.id)
        try:
            if self.status() in (STOPPED, CREATING):
                raise WrongState("container not running")
            cgroup = self._require_cgroup()
            linux = self.record.setdefault("config", {}).setdefault("linux", {})
            stored = linux.setdefault("resources", {})
            try:
                cgroup.update(_with_cpu_pair(resources, stored.get("cpu") or {}))
            except PyociError:
                # put back what the record says, as runc does
                before = {k: v for k, v in stored.items() if k != "devices"}
                try:
                    cgroup.update(before)
                except PyociError as e:
                    self.warnings = ["setting back the previous limits failed: "
                                     "%s; the state and the cgroup may differ"
                                     % e]
                raise
            self.warnings = cgroup.warnings
            _merge_resources(stored, resources)
            self.store.write(self.id, self.record)
        finally:
            os.close(lock)

    def processes(self):
        """Host pids of every process in the container's cgroup."""
        if self.status() == CREATING:
            raise WrongState("container not running")
        return self._require_cgroup().pids()

    def stats(self):
        """runc's `events --stats` data object for this container."""
        if self.status() in (STOPPED, CREATING):
            raise WrongState("container with id %s is not running" % self.id)
        return self._require_cgroup().stats()

    def events(self, interval):
        """runc's `events`: yield {"type": "stats", ...} every `interval`
        seconds and {"type": "oom", ...} when the OOM killer strikes, until
        the container stops or its cgroup is gone."""
        cgroup = self._require_cgroup()
        if self.status() in (STOPPED, CREATING):
            raise WrongState("container with id %s is not running" % self.id)
        watch = cgroup.oom_watch()
        try:
            kills = cgroup.oom_kill_count()
            poller = select.poll()
            if watch is not None:
                poller.register(watch, watch.events)
            next_stats = time.monotonic() + interval
            while True:
                timeout = max(0.0, next_stats - time.monotonic())
                woken = poller.poll(int(timeout * 1000) + 1)
                if woken:
                    watch.clear()
                if cgroup.exists():
                    now = cgroup.oom_kill_count()
                    if now > kills:
                        kills = now
                        yield {"type": "oom", "id": self.id}
                if not cgroup.exists() or self.status() == STOPPED:
                    return
                if time.monotonic() >= next_stats:
                    next_stats += interval
                    yield {"type": "stats", "id": self.id,
                           "data": cgroup.stats()}
        finally:
            if watch is not None:
                watch.close()

    # -- exec -----------------------------------------------------------------

    def exec(self, process, *, detach=False, pid_file=None, console_socket=None,
             preserve_fds=0):
        """Run `process` (a config.json `process` object) inside the
        running container: its namespaces, cgroup, and the seccomp and
        keyring settings of its init. Returns 0 once it runs when
        detached, else waits and returns its exit code (relaying its
        terminal when it has one and no console socket)."""
        from pyoci.runtime import _native
        from pyoci.runtime.linux import terminal
        from pyoci.runtime.linux.init import ExecLauncher, ExecSpec

        _check_process(process)
        terminal.check_terminal(process.get("terminal"), console_socket, detach)
        for fd in range(3, 3 + preserve_fds):
            try:
                os.fstat(fd)
            except OSError as e:
                raise SyscallError("unable to stat preserved-fd %d (of %d): %s"
                                   % (fd - 3, preserve_fds, e.strerror),
                                   e.errno) from None
        lock = self.store.lock(self.id)
        launcher = console = None
        try:
            status = self.status()
            if status in (STOPPED, CREATING):
                raise WrongState("cannot exec in a stopped container")
            if status == PAUSED:
                raise WrongState("cannot exec in a paused container")
            config = self.record.get("config", {})
            seccomp = _compile_seccomp(config)
            namespace_fds = self._namespace_fds()
            spec = ExecSpec(self.id, config, process,
                            namespace_fds, preserve_fds=preserve_fds,
                            no_new_keyring=self.record.get("no_new_keyring",
                                                           False),
                            seccomp=seccomp, state=self._hook_state(RUNNING))
            if process.get("terminal"):
                console = terminal.ConsoleSocket(console_socket) \
                    if console_socket else terminal.KeptMaster()
            if not detach:
                _native.prctl(_native.PR_SET_CHILD_SUBREAPER, 1)
            launcher = ExecLauncher(spec, console)
            pid = launcher.spawn()
            cgroup = self._cgroup()
            if cgroup is not None:
                cgroup.add_process(pid)
            _write_oom_score_adj(pid, process.get("oomScoreAdj"))
            launcher.release()
            if pid_file:
                write_pid_file(pid_file, pid)
            launcher.commit()
            self.warnings = launcher.warnings
        except BaseException:
            if console is not None:
                console.close()
            if launcher is not None:
                launcher.abort()
                if pid_file and launcher.init_pid:
                    _remove_quietly(pid_file)
            raise
        finally:
            os.close(lock)
        if detach:
            return 0
        master = console.master if isinstance(console, terminal.KeptMaster) \
            else -1
        try:
            return exit_code(_wait_forwarding_signals(pid, master))
        finally:
            if console is not None:
                console.close()

    def _namespace_fds(self):
        """The init's namespaces that differ from ours, opened, by type."""
        from pyoci.runtime.linux.namespaces import PROC_NAMES
        fds = {}
        try:
            for kind, name in PROC_NAMES.items():
                path = "/proc/%d/ns/%s" % (self.pid, name)
                try:
                    theirs = os.stat(path)
                except FileNotFoundError:
                    continue    # a namespace type this kernel lacks
                ours = os.stat("/proc/self/ns/" + name)
                if (theirs.st_dev, theirs.st_ino) != (ours.st_dev, ours.st_ino):
                    fds[kind] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            if not procfs.is_alive(self.pid, self.record["pid_start"]):
                raise WrongState("cannot exec in a stopped container")
        except BaseException:
            for fd in fds.values():
                os.close(fd)
            raise
        return fds

    # -- delete ---------------------------------------------------------------

    def delete(self, force=False):
        lock = self.store.lock(self.id)
        try:
            status = self.status()
            if status == CREATING and not force:
                raise WrongState("cannot delete container %s that is being "
                                 "created" % self.id)
            if status in (RUNNING, PAUSED) and not force:
                raise WrongState("cannot delete container %s that is not "
                                 "stopped: %s" % (self.id, status))
            cgroup = self._cgroup()
            if status != STOPPED and self.pid:
                self._kill_everything(cgroup)
            creator = (self.record or {}).get("creator") or {}
            if status == CREATING and procfs.is_alive(creator.get("pid"),
                                                      creator.get("start")):
                os.kill(creator["pid"], signal.SIGKILL)
            self._destroy(cgroup, run_poststop=self.record is not None)
        finally:
            os.close(lock)

    def _kill_everything(self, cgroup):
        if cgroup is not None and self._shares_host_pid_namespace():
            cgroup.kill_all(signal.SIGKILL)
        try:
            self._signal(signal.SIGKILL)
        except WrongState:
            pass
        if cgroup is not None and cgroup.is_frozen():
            cgroup.thaw()   # a frozen task does not die until thawed
        self._wait_gone()

    def _destroy(self, cgroup, run_poststop):
        """Undo create: cgroup, state; then the poststop hooks, whose
        failure is only a warning (runtime-spec lifecycle step 13)."""
        if cgroup is not None:
            cgroup.destroy()
        record = self.record or {}
        if record.get("intel_rdt"):
            from pyoci.runtime.linux.intelrdt import ResctrlGroup
            ResctrlGroup.from_record(record["intel_rdt"]).destroy()
        if "host_rootfs_mounts" in record:
            from pyoci.runtime.linux.rootfs import detach_host_rootfs
            detach_host_rootfs(record["rootfs"], record["host_rootfs_mounts"])
        hooks = self._hooks("poststop") if run_poststop else None
        state = self._hook_state(STOPPED) if hooks else None
        self.store.remove(self.id)
        if hooks:
            self.warnings = run_hooks_warning(hooks, "poststop", state)

    # -- run ------------------------------------------------------------------

    @classmethod
    def run(cls, container_id, bundle=".", root=None, *, pid_file=None,
            no_pivot=False, preserve_fds=0, systemd_cgroup=False,
            detach=False, console_socket=None, no_new_keyring=False,
            no_subreaper=False):
        """create + start (+ wait + delete unless detached). Returns the
        container's exit code, 128 + signal when it was killed. In the
        foreground a terminal is relayed to pyoci's own stdin/stdout.
        With `no_subreaper` pyoci is a subreaper only until the init is its
        child, so orphans of the container do not land on it."""
        from pyoci.runtime import _native

        container = cls.create(container_id, bundle, root, pid_file=pid_file,
                               no_pivot=no_pivot, preserve_fds=preserve_fds,
                               systemd_cgroup=systemd_cgroup,
                               subreaper=not detach, console_socket=console_socket,
                               no_new_keyring=no_new_keyring,
                               relay_terminal=not detach)
        try:
            if no_subreaper and not detach:
                _native.prctl(_native.PR_SET_CHILD_SUBREAPER, 0)
            container.start()
        except BaseException:
            if container.console_master >= 0:
                os.close(container.console_master)
            container.delete(force=True)
            raise
        if detach:
            return 0
        return container._wait_and_delete()

    def _wait_and_delete(self):
        try:
            status = _wait_forwarding_signals(self.pid, self.console_master)
        finally:
            if self.console_master >= 0:
                os.close(self.console_master)
                self.console_master = -1
        self.delete(force=True)
        return exit_code(status)


# Resource fields where 0 is a real setting rather than "leave as is".
_ZERO_MEANS_SET = {"burst", "idle", "swappiness"}


def _compile_seccomp(config):
    """linux.seccomp as a compiled filter connected to its agent (for
    SCMP_ACT_NOTIFY), or None; libseccomp is loaded only for a config that
    has the section."""
    section = config.get("linux", {}).get("seccomp")
    if not section:
        return None
    from pyoci.runtime.linux.seccomp import compile_filter
    seccomp = compile_filter(section)
    seccomp.connect_agent()
    return seccomp


def _merge_resources(stored, change):
    """Fold an update into the stored linux.resources: objects merge,
    everything else replaces; null and zero values (Docker's "unset")
    leave the stored value."""
    for key, value in change.items():
        if value is None or (value == 0 and not isinstance(value, bool)
                             and key not in _ZERO_MEANS_SET):
            continue
        if isinstance(value, dict) and isinstance(stored.get(key), dict):
            _merge_resources(stored[key], value)
        else:
            stored[key] = value


def _with_cpu_pair(resources, stored_cpu):
    """cgroup v2 writes quota and period together (cpu.max): an update
    naming one keeps the other's current value (runc's update does so)."""
    cpu = resources.get("cpu")
    if not isinstance(cpu, dict):
        return resources
    quota, period = cpu.get("quota") or 0, cpu.get("period") or 0
    if bool(quota) == bool(period):
        return resources
    cpu = dict(cpu)
    if quota:
        cpu["period"] = stored_cpu.get("period") or 0
    else:
        cpu["quota"] = stored_cpu.get("quota") or 0
    return dict(resources, cpu=cpu)


def exit_code(status):
    """A wait status as a shell reports it: 128 + signal when killed."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _wait_forwarding_signals(pid, console_master=-1):
    """Wait for `pid` (our child: we were its subreaper when its parent
    exited), passing on the signals a person or a supervisor sends us;
    with a terminal, relay it meanwhile. Returns the wait status."""
    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
                 signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
    if console_master < 0:
        forwarded += (signal.SIGWINCH,)

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in forwarded}
    try:
        if console_master >= 0:
            from pyoci.runtime.linux import terminal
            return terminal.relay(console_master,
                                  lambda block=False: _reap(pid, block))
        return _reap(pid, block=True)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _reap(pid, block):
    """Reap children until `pid` is among them (orphans of the container
    land on us too); its wait status, or None when it still runs and
    `block` is false."""
    while True:
        try:
            reaped, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            raise SyscallError("lost the container process %d" % pid,
                               errno.ECHILD) from None
        if reaped == pid:
            return status
        if reaped == 0:
            return None


def _check_process(process):
    """runc's checks of an exec'd process, with its messages."""
    if not process.get("args"):
        raise UsageError("args must not be empty")
    cwd = process.get("cwd")
    if not cwd:
        raise UsageError("cwd property must not be empty")
    if not cwd.startswith("/"):
        raise UsageError("cwd must be an absolute path")


def _passed_fds(process, preserve_fds):
    """How many fds from 3 on the program receives, as runc counts them:
    the sockets of systemd socket activation when pyoci itself was
    activated (LISTEN_FDS and LISTEN_PID=1 then join the program's
    environment), then --preserve-fds more."""
    listen = 0
    if os.environ.get("LISTEN_PID") == str(os.getpid()):
        text = os.environ.get("LISTEN_FDS", "")
        listen = int(text) if text.isdigit() else 0
    if listen:
        process["env"] = list(process.get("env", ())) + [
            "LISTEN_FDS=%d" % listen, "LISTEN_PID=1"]
    base = 3 + listen
    for fd in range(base, base + preserve_fds):
        try:
            os.fstat(fd)
        except OSError as e:
            raise SyscallError("unable to stat preserved-fd %d (of %d): %s"
                               % (fd - base, preserve_fds, e.strerror),
                               e.errno) from None
    return listen + preserve_fds


def _idmapped_trees(config, bundle, init_pid):
    """The detached idmapped trees of the mounts that ask for them, by
    mount index (idmap.py), made here because the init cannot."""
    from pyoci.runtime.linux import idmap
    if not any(idmap.is_idmapped(m) for m in config.get("mounts", ())):
        return {}
    return idmap.open_idmapped_trees(config, bundle, init_pid)


def _write_oom_score_adj(pid, value):
    if value is None:
        return
    with open("/proc/%d/oom_score_adj" % pid, "w") as f:
        f.write(str(value))


def _init_oom_killed(error, cgroup):
    """Whether create failed because the init died (it stops answering)
    in a memory limit too small for it: runc sets limits after the init
    joined and the kernel refuses one below its usage, pyoci sets them
    before, so the kernel kills the init instead."""
    if not (isinstance(error, SyscallError) and error.errno == errno.EPIPE
            and cgroup is not None):
        return False
    try:
        return cgroup.oom_killed()
    except OSError:
        return False


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def list_containers(root=None):
    store = Store(root) if root else Store()
    result = []
    for container_id in store.ids():
        try:
            result.append(Container(container_id, store, store.read(container_id)))
        except (NotFound, ValueError):
            continue    # deleted meanwhile, or not ours
    return result

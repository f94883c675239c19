"""Private daemons for end-to-end tests: a containerd and a dockerd with
their own sockets, roots and cgroup parent under one base directory, and
podman pointed at private storage, so that nothing a test does reaches the
host's own daemons, images or networks. Everything they leave is found and
removed by `Daemons.stop`."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from pyoci.tests.integration.harness import (PYOCI, RUNC, make_rootfs,
                                             processes_with, wait_for)

DOCKER = shutil.which("docker")
DOCKERD = shutil.which("dockerd")
CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")
PODMAN = shutil.which("podman")
RUNTIMES = {"pyoci": PYOCI, "runc": RUNC or "/usr/sbin/runc"}
IMAGE = "pyoci-e2e-busybox"
# Docker's stop timeout and podman's default ulimits do not fit this host
# (hard RLIMIT_NOFILE 20000 and no CAP_SYS_RESOURCE): both are set per run.
LONG_RUNNING = 'trap "exit 0" TERM; sleep 1000 & wait'
# podman calls the runtime without --root: each uses its default.
DEFAULT_STATE_ROOTS = ["/run/pyoci", "/run/runc"]
PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def run(argv, timeout=120, input=None, env=None):
    """Run a client command with its output in files (a container started
    by it may hold what it was given). Returns a CompletedProcess."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        completed = subprocess.run(
            argv, timeout=timeout, stdout=out, stderr=err, env=env,
            input=input, stdin=None if input is not None else subprocess.DEVNULL)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            argv, completed.returncode, out.read().decode(errors="replace"),
            err.read().decode(errors="replace"))


def checked(result):
    if result.returncode != 0:
        raise AssertionError("%s failed (%d):\nstdout: %s\nstderr: %s" % (
            " ".join(result.args), result.returncode, result.stdout,
            result.stderr))
    return result


def _container_ids(root):
    """Entries of a state root named like podman's container ids."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return set()
    return {n for n in names if len(n) == 64 and all(c in "0123456789abcdef" for c in n)}


class Daemon:
    """One daemon process in its own session, its output in a log file."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, env=env)

    def log_tail(self, lines=30):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def wait_for_socket(self, path, timeout=60):
        def answers():
            if self.process.poll() is not None:
                raise AssertionError("%s exited (%d):\n%s" % (
                    self.name, self.process.returncode, self.log_tail()))
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
                return True
            except OSError:
                return False
            finally:
                probe.close()
        if not wait_for(answers, timeout=timeout, interval=0.1):
            raise AssertionError("%s did not listen on %s:\n%s" % (
                self.name, path, self.log_tail()))

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL to the whole session if it does not go."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Daemons:
    """A private containerd and dockerd (runtimes pyoci and runc), a busybox
    image in both, and podman's private storage, all under `base`."""

    def __init__(self, base):
        self.base = Path(base)
        self.tag = "pyoci-e2e-%d" % os.getpid()
        self.cgroup_parent = "/" + self.tag
        self.containerd = self.dockerd = None
        ctd = self.base / "containerd"
        self.containerd_socket = ctd / "containerd.sock"
        self.ctr_namespace = "pyoci-e2e"
        self.ctr_runtime_root = self.base / "ctr-runtime-root"
        dock = self.base / "docker"
        self.docker_socket = dock / "docker.sock"
        self.docker_exec_root = dock / "exec"
        self.podman_dir = self.base / "podman"
        self.default_roots_before = {r: _container_ids(r) for r in DEFAULT_STATE_ROOTS}
        self.default_roots_existed = [r for r in DEFAULT_STATE_ROOTS if os.path.isdir(r)]
        self.client_env = dict(os.environ, DOCKER_HOST="unix://%s" % self.docker_socket,
                               DOCKER_CONFIG=str(dock / "client"))

    # -- start ----------------------------------------------------------------

    def start(self):
        try:
            self._start_containerd()
            self._start_dockerd()
            self._import_image()
        except BaseException:
            self.stop()
            raise

    def _start_containerd(self):
        ctd = self.containerd_socket.parent
        ctd.mkdir(parents=True)
        config = ctd / "config.toml"
        config.write_text(
            'version = 2\nroot = "%s"\nstate = "%s"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n'
            '[debug]\n  address = "%s"\n[metrics]\n  address = ""\n' % (
                ctd / "root", ctd / "state", self.containerd_socket,
                self.containerd_socket, ctd / "debug.sock"))
        self.containerd = Daemon("containerd", [CONTAINERD, "--config", str(config)],
                                 ctd / "log")
        self.containerd.wait_for_socket(self.containerd_socket)

    def _start_dockerd(self):
        dock = self.docker_socket.parent
        dock.mkdir(parents=True)
        (dock / "daemon.json").write_text(json.dumps({
            "runtimes": {"pyoci": {"path": RUNTIMES["pyoci"]}},
            "iptables": False, "ip6tables": False, "ip-masq": False,
            "ip-forward": False, "bridge": "none",
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "cgroup-parent": self.cgroup_parent,
        }))
        self.dockerd = Daemon("dockerd", [
            DOCKERD, "--config-file", str(dock / "daemon.json"),
            "--host", "unix://%s" % self.docker_socket,
            "--data-root", str(dock / "data"),
            "--exec-root", str(self.docker_exec_root),
            "--pidfile", str(dock / "docker.pid"),
            "--containerd", str(self.containerd_socket)], dock / "log")
        self.dockerd.wait_for_socket(self.docker_socket)

    def _import_image(self):
        rootfs = make_rootfs(self.base / "rootfs")
        tarball = self.base / "rootfs.tar"
        checked(run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."]))
        checked(self.docker("import", str(tarball), IMAGE))
        archive = self.base / "image.tar"
        checked(self.docker("save", "-o", str(archive), IMAGE))
        checked(self.ctr("images", "import", str(archive)))
        checked(self.podman("pyoci", "load", "-i", str(archive)))

    # -- clients --------------------------------------------------------------

    def docker_command(self, *args):
        """argv of a docker client command (run it with client_env)."""
        return [DOCKER] + [str(a) for a in args]

    def docker(self, *args, timeout=120, input=None):
        return run(self.docker_command(*args), timeout=timeout, input=input,
                   env=self.client_env)

    def inspect(self, container, template):
        return checked(self.docker("inspect", "-f", template, container)).stdout.strip()

    def docker_run(self, runtime, *args, timeout=120, input=None):
        """`docker run --runtime RUNTIME ARGS`."""
        return self.docker("run", "--runtime", runtime, *args,
                           timeout=timeout, input=input)

    def docker_daemon(self, runtime, name, *options):
        """A detached container that runs until stopped (its shell ends on
        SIGTERM, so `docker stop` needs no timeout)."""
        checked(self.docker_run(runtime, "-d", "--name", name, *options, IMAGE,
                                "sh", "-c", LONG_RUNNING))
        return name

    def ctr(self, *args, timeout=120):
        return run([CTR, "-a", str(self.containerd_socket), "-n", self.ctr_namespace]
                   + [str(a) for a in args], timeout=timeout)

    @property
    def ctr_image(self):
        return "docker.io/library/%s:latest" % IMAGE

    def ctr_run_options(self, runtime):
        """What `ctr run` needs to use `runtime` with a private state root
        and a cgroup under the session's parent."""
        return ["--runc-binary", RUNTIMES[runtime],
                "--runc-root", str(self.ctr_runtime_root)]

    def ctr_cgroup(self, container_id):
        return "%s-ctr/%s" % (self.cgroup_parent, container_id)

    def podman(self, runtime, *args, timeout=120):
        p = self.podman_dir
        return run([PODMAN, "--root", str(p / "root"), "--runroot", str(p / "runroot"),
                    "--tmpdir", str(p / "tmp"), "--storage-driver", "vfs",
                    "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                    "--runtime", RUNTIMES[runtime]] + [str(a) for a in args],
                   timeout=timeout)

    @property
    def podman_cgroup_parent(self):
        return self.cgroup_parent + "-podman"

    # -- what is left ---------------------------------------------------------

    def state_roots(self):
        """Every state root a runtime was pointed at by these callers:
        Docker's shim passes EXEC_ROOT/runtime-runc/moby, ctr the
        --runc-root given, podman none (each runtime's default root)."""
        roots = list(self.docker_exec_root.glob("runtime-*/*"))
        roots.append(self.ctr_runtime_root / self.ctr_namespace)
        return roots

    def cgroup_dirs(self):
        """The session's cgroup parents, in every hierarchy."""
        found = []
        for hierarchy in Path("/sys/fs/cgroup").iterdir():
            if hierarchy.is_dir():
                found.extend(hierarchy.glob(self.tag + "*"))
        return found

    def cgroups_left(self):
        """Cgroups below the session's parents: one per container while it
        exists (podman keeps its conmon cgroup, which is not a container's)."""
        left = []
        for parent in self.cgroup_dirs():
            for dirpath, dirnames, _ in os.walk(parent):
                left.extend(os.path.join(dirpath, d) for d in dirnames
                            if d != "conmon")
        return left

    def mounts(self):
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        return [p for p in points if p.startswith(str(self.base))]

    def container_mounts(self):
        """Mounts under the base other than dockerd's own while it runs:
        its data root bind mount and its handle on the host's network
        namespace (made by the first --network host)."""
        own = {str(self.docker_socket.parent / "data"),
               str(self.docker_exec_root / "netns" / "default")}
        return [m for m in self.mounts() if m not in own]

    def helper_processes(self):
        """Processes other than the daemons that name the base directory:
        shims and conmon outliving their containers."""
        daemons = {str(d.process.pid) for d in (self.containerd, self.dockerd) if d}
        return [line for line in processes_with(str(self.base))
                if line.split()[0] not in daemons]

    def leftovers(self):
        """What containers left behind, as a dict of non-empty findings."""
        found = {}
        docker = self.docker("ps", "-aq").stdout.split()
        if docker:
            found["docker containers"] = docker
        tasks = self.ctr("containers", "ls", "-q").stdout.split()
        if tasks:
            found["ctr containers"] = tasks
        pods = self.podman("pyoci", "ps", "-aq").stdout.split()
        if pods:
            found["podman containers"] = pods
        for root, before in self.default_roots_before.items():
            new = _container_ids(root) - before
            if new:
                found["state in %s" % root] = sorted(new)
        for root in self.state_roots():
            if root.is_dir() and os.listdir(root):
                found["state in %s" % root] = os.listdir(root)
        cgroups = self.cgroups_left()
        if cgroups:
            found["cgroups"] = cgroups
        helpers = self.helper_processes()
        if helpers:
            found["processes"] = helpers
        return found

    def wait_clean(self, timeout=20):
        """Leftovers once the callers' asynchronous clean-up had its time
        (a shim exits and dockerd removes an --rm container after the
        client returned)."""
        return wait_for(lambda: not self.leftovers(), timeout=timeout,
                        interval=0.2) or self.leftovers()

    def remove_containers(self):
        """Every container of the three callers, removed by the callers."""
        docker = self.docker("ps", "-aq").stdout.split()
        if docker:
            self.docker("rm", "-f", *docker)
        for task in self.ctr("tasks", "ls", "-q").stdout.split():
            self.ctr("tasks", "kill", "-s", "KILL", task)
            self.ctr("tasks", "delete", "-f", task)
        containers = self.ctr("containers", "ls", "-q").stdout.split()
        if containers:
            self.ctr("containers", "delete", *containers)
        self.podman("pyoci", "rm", "-af", "-t", "0")

    # -- stop -----------------------------------------------------------------

    def stop(self):
        """Stop both daemons, then remove what they leave on the host:
        dockerd's bind mount of its data root (and any other mount under
        the base), the shims, the cgroup parents, the base directory."""
        if self.dockerd:
            self.remove_containers()
            self.dockerd.stop()
        if self.containerd:
            self.containerd.stop()
        for line in self.helper_processes():
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for point in sorted(self.mounts(), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)
        for parent in self.cgroup_dirs():
            for dirpath, _, _ in sorted(os.walk(parent), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        for root in DEFAULT_STATE_ROOTS:
            if root not in self.default_roots_existed:
                try:
                    os.rmdir(root)  # made by a runtime podman called
                except OSError:
                    pass
        shutil.rmtree(self.base, ignore_errors=True)

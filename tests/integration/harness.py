"""Real containers for tests: a busybox rootfs, bundles, the runtimes under
test (pyoci and runc, driven through their command lines), and a check that
the host keeps nothing after each test."""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyoci.spec.defaults import default_config

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
PYOCI = str(Path(sys.executable).with_name("pyoci"))
RUNC = shutil.which("runc")


def make_rootfs(path):
    """A rootfs of one static busybox plus a link per applet, and the
    files a test user needs."""
    path = Path(path)
    for directory in ("bin", "proc", "sys", "dev", "etc", "tmp", "root", "home/user"):
        (path / directory).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, path / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        link = path / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (path / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/:/bin/sh\n")
    (path / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n")
    (path / "tmp").chmod(0o1777)
    return path


class Runtime:
    """One OCI runtime binary with a private state root."""

    def __init__(self, name, argv, root):
        self.name = name
        self.argv = list(argv)
        self.root = str(root)

    def __repr__(self):
        return self.name

    def command(self, *args):
        return self.argv + ["--root", self.root] + [str(a) for a in args]

    def __call__(self, *args, check=True, timeout=60, **kwargs):
        """Run one command. Its output goes to files, not pipes: after
        `create` the container holds the stdio it was given, so a pipe
        would not see end-of-file until the container exits."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            completed = subprocess.run(self.command(*args), timeout=timeout,
                                       stdout=out, stderr=err, **kwargs)
            out.seek(0)
            err.seek(0)
            result = subprocess.CompletedProcess(
                completed.args, completed.returncode,
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"))
        if check and result.returncode != 0:
            raise AssertionError("%s %s failed (%d):\nstdout: %s\nstderr: %s" % (
                self.name, " ".join(map(str, args)), result.returncode,
                result.stdout, result.stderr))
        return result

    def state(self, container_id):
        return json.loads(self("state", container_id).stdout)

    def status(self, container_id):
        return self.state(container_id)["status"]


class Bundle:
    """A bundle directory whose config starts as `pyoci spec` (= `runc
    spec`) with the shared busybox rootfs."""

    def __init__(self, path, rootfs):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.config = copy.deepcopy(default_config())
        self.config["root"] = {"path": str(rootfs), "readonly": False}
        self.config["process"]["terminal"] = False
        self.config["hostname"] = "pyoci-test"

    @property
    def linux(self):
        return self.config["linux"]

    @property
    def process(self):
        return self.config["process"]

    def args(self, *argv):
        self.config["process"]["args"] = list(argv)
        return self

    def shell(self, script):
        return self.args("sh", "-c", script)

    def namespace(self, kind, path=None):
        entry = {"type": kind}
        if path:
            entry["path"] = path
        namespaces = [ns for ns in self.linux["namespaces"] if ns["type"] != kind]
        self.linux["namespaces"] = namespaces + [entry]

    def without_namespace(self, kind):
        self.linux["namespaces"] = [ns for ns in self.linux["namespaces"]
                                    if ns["type"] != kind]

    def write(self):
        (self.path / "config.json").write_text(json.dumps(self.config, indent=1))
        return self.path


def stopped_container(runtime, bundle, container_id):
    """Create and start a container whose program exits at once, and wait
    until the runtime says it stopped (its state is kept until delete)."""
    runtime("create", "--bundle", bundle.shell("true").write(), container_id)
    runtime("start", container_id)
    assert wait_for(lambda: runtime.status(container_id) == "stopped")


def run_at_once(commands, timeout, keep="both", **kwargs):
    """Start every command before waiting for any; return (exit code, what
    it wrote) for each, in order. keep="both" keeps stdout with stderr
    folded in, keep="stderr" only stderr. The output goes to files, not
    pipes: a created container keeps the stdio it was given."""
    files = [tempfile.TemporaryFile() for _ in commands]
    processes = []
    for command, out in zip(commands, files):
        stdout, stderr = {"both": (out, subprocess.STDOUT),
                          "stderr": (subprocess.DEVNULL, out)}[keep]
        processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                          stdout=stdout, stderr=stderr, **kwargs))
    outcomes = []
    for process, out in zip(processes, files):
        code = process.wait(timeout=timeout)
        out.seek(0)
        outcomes.append((code, out.read().decode(errors="replace")))
        out.close()
    return outcomes


def wait_for(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# -- what the host keeps ------------------------------------------------------

def mount_table():
    with open("/proc/self/mountinfo") as f:
        return sorted(" ".join(line.split()[3:5]) for line in f)


def processes_with(marker):
    """Processes whose command line or environment names `marker` (the
    container ids and bundles of one test all contain it)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append("%s %s" % (pid, cmdline))
    return found


def cgroups_named(marker):
    found = []
    for base in Path("/sys/fs/cgroup").iterdir():
        if not base.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(base):
            for name in dirnames:
                if marker in name:
                    found.append(os.path.join(dirpath, name))
            if dirpath.count("/") > 8:
                dirnames[:] = []
    return found


# -- terminals ----------------------------------------------------------------

def create_with_console(runtime, socket_path, *args, timeout=30):
    """Run `create ... --console-socket S` as a caller does: listen on S,
    take the one message create sends, wait for create to exit. Returns
    (completed process, payload, received fds)."""
    import select
    import socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen(1)
    with listener, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            runtime.command(args[0], "--console-socket", socket_path, *args[1:]),
            stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        payload, fds = b"", []
        while process.poll() is None:
            if select.select([listener], [], [], 0.05)[0]:
                connection, _ = listener.accept()
                with connection:
                    payload, fds, _, _ = socket.recv_fds(connection, 4096, 4)
                break
        code = process.wait(timeout=timeout)
        out.seek(0)
        err.seek(0)
        completed = subprocess.CompletedProcess(
            process.args, code, out.read().decode(errors="replace"),
            err.read().decode(errors="replace"))
    return completed, payload, fds


def read_pty(master, timeout=10.0):
    """All a pty master gives until its last slave closes (EIO) or nothing
    comes for `timeout` seconds."""
    import select
    data = b""
    while select.select([master], [], [], timeout)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").replace("\r\n", "\n")


def under_pty(argv, rows, columns, typed=b"", timeout=30, env=None):
    """Run argv with a new pty as its stdin/stdout/stderr and controlling
    terminal, as a person at a shell would; type `typed` once it is up.
    Returns (exit code, everything it printed)."""
    import fcntl
    import struct
    import termios
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                               start_new_session=True, env=env,
                               preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    try:
        if typed:
            time.sleep(0.5)
            os.write(master, typed)
        output = read_pty(master, timeout)
        return process.wait(timeout=timeout), output
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


def imported(argv, **kwargs):
    """Modules (dotted names) a pyoci command imports
    (PYTHONPROFILEIMPORTTIME is `python -X importtime` for a console
    script)."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    # stderr to a file: after create the container holds the one it got.
    with tempfile.TemporaryFile() as err:
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=err, **kwargs)
        err.seek(0)
        lines = err.read().decode(errors="replace").splitlines()
    return {line.rsplit("|", 1)[1].strip()
            for line in lines
            if line.startswith("import time:") and "|" in line}


def top_level(modules):
    return {name.split(".")[0] for name in modules}


# -- a syscall prober for seccomp tests -----------------------------------------

def build_seccomp_probe(directory):
    """Build seccomp_probe.c static into `directory` (bind it at /probe)."""
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-o", str(Path(directory) / "probe"),
                    str(Path(__file__).with_name("seccomp_probe.c"))],
                   check=True)
    return directory


def syscall_number(name):
    from pyoci.runtime._native import libseccomp
    return libseccomp.syscall_number(name)


def probe(name, *args, catch=False):
    """Shell text printing `@NAME: RESULT` for one syscall made by the
    prober at /probe, RESULT being its line or `status N` when it died."""
    argv = " ".join(["/probe/probe"] + (["--catch-sigsys"] if catch else [])
                    + [str(syscall_number(name))] + [str(a) for a in args])
    return 'r=$(%s) || r="status $?"; echo "@%s: $r"; ' % (argv, name)


def results(text):
    """The `@NAME: RESULT` lines of a script's output."""
    return dict(line[1:].split(": ", 1) for line in text.splitlines()
                if line.startswith("@"))

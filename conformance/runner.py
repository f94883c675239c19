"""Run the runtime-tools validation programs against OCI runtimes.

Each program is run as its Makefile's `localvalidation` target runs it: from
the checkout's top directory (it copies ./runtimetest and untars
./rootfs-<arch>.tar.gz from there), as root, with RUNTIME naming the runtime
command. On top of that, for a clean host after every program:

- RUNTIME is a small wrapper script that adds `--root <private dir>` so the
  containers a program leaves behind can be found and force-deleted without
  touching anyone else's (the programs never pass --root themselves);
- TMPDIR is a private directory, so the bundles (os.MkdirTemp) land there;
- the program runs in its own session; on timeout, and after it exits, its
  process group is killed;
- cgroups the program created under the names the suite uses (/cgrouptest,
  testdir/..., or a container id, which the suite makes a UUID) are emptied
  and removed, mounts under the private directories are detached.

Whatever had to be cleaned is recorded with the result (`left_behind`): for
a runtime it is a finding (a runtime whose delete leaves a cgroup shows it).
"""
import dataclasses
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

from pyoci.conformance import host, tap

GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
           "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SUITE_CGROUP_NAMES = {"cgrouptest", "testdir"}  # runtime-tools cgroups/cgroups.go

STDERR_KEPT = 8000


class SuiteError(Exception):
    """The suite directory is not a built runtime-tools checkout."""


@dataclasses.dataclass
class Program:
    name: str
    path: str  # relative to the suite directory, as the Makefile runs it


@dataclasses.dataclass
class Runtime:
    name: str
    path: str
    version: str | None
    version_output: str


@dataclasses.dataclass
class ProgramResult:
    program: str
    runtime: str
    exit_status: int | None  # None when killed by a signal
    signal: int | None
    timed_out: bool
    duration: float
    tap: tap.TapResult
    stderr: str  # the tail
    left_behind: dict

    @property
    def clean(self):
        """Exit status 0, no `not ok`, no bail out, and a complete plan. A
        program that prints no TAP at all says how it went by its exit
        status alone (process_rlimits_fail, process_capabilities_fail:
        silence and 0 when the runtime refused the config)."""
        return (self.exit_status == 0 and not self.timed_out
                and (self.tap.plan_complete or self.tap.empty)
                and self.tap.failed == 0 and self.tap.bail_out is None)

    @property
    def strictly_clean(self):
        """Clean, and no error reported outside an assertion (the lifecycle
        programs print their error in a block, then a plan of 0)."""
        return self.clean and not self.tap.stray_errors


def discover(suite):
    """The validation programs of a built checkout, sorted by name."""
    suite = os.path.abspath(suite)
    validation = os.path.join(suite, "validation")
    if not os.path.isdir(validation):
        raise SuiteError("%s has no validation/ directory: not a runtime-tools checkout" % suite)
    programs = {}
    for entry in sorted(os.listdir(validation)):
        full = os.path.join(validation, entry)
        if os.path.isdir(full):
            # validation/<name>/<name>.t (runtime-tools since 2018)
            for f in sorted(os.listdir(full)):
                if f.endswith(".t") and os.access(os.path.join(full, f), os.X_OK):
                    programs[f[:-2]] = Program(f[:-2], os.path.join("validation", entry, f))
        elif entry.endswith(".t") and os.access(full, os.X_OK):
            programs[entry[:-2]] = Program(entry[:-2], os.path.join("validation", entry))
    if not programs:
        raise SuiteError("no built validation programs (validation/*/*.t) in %s: "
                         "run `make runtimetest validation-executables` there" % suite)
    missing = []
    if not os.access(os.path.join(suite, "runtimetest"), os.X_OK):
        missing.append("runtimetest")
    arch = GO_ARCH.get(os.uname().machine, os.uname().machine)
    if not os.path.exists(os.path.join(suite, "rootfs-%s.tar.gz" % arch)):
        missing.append("rootfs-%s.tar.gz" % arch)
    if missing:
        raise SuiteError("%s lacks %s" % (suite, " and ".join(missing)))
    return [programs[k] for k in sorted(programs)]


def suite_revision(suite):
    try:
        out = subprocess.run(["git", "-C", suite, "describe", "--always", "--tags", "--long", "--dirty"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


_VERSION_WORD = re.compile(r"\bversion\s+v?(\S+)", re.IGNORECASE)


def identify(spec, taken=()):
    """Resolve a runtime given as NAME=PATH or PATH (named after its file)
    and ask it for its version."""
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = "", spec
    found = shutil.which(path)
    if found is None:
        raise FileNotFoundError("runtime %r not found or not executable" % path)
    found = os.path.abspath(found)
    name = name or os.path.basename(path.rstrip("/")) or found
    base, n = name, 2
    while name in taken:
        name = "%s-%d" % (base, n)
        n += 1
    try:
        out = subprocess.run([found, "--version"], capture_output=True, text=True,
                             timeout=20, stdin=subprocess.DEVNULL)
        text = (out.stdout or out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        text = "--version failed: %s" % e
    m = _VERSION_WORD.search(text.splitlines()[0] if text else "")
    return Runtime(name=name, path=found, version=m.group(1) if m else None, version_output=text)


def wrapper_script(runtime_path, state_root, crun_hybrid_workaround=False):
    """The RUNTIME the programs call: the runtime with a private --root.

    With the workaround the runtime runs in a new mount namespace without
    /sys/fs/cgroup/unified (crun refuses the v1 + cgroup2-at-unified layout);
    unshare's default propagation is private, so the host keeps its mount."""
    runtime = shlex.quote(runtime_path)
    root = shlex.quote(state_root)
    if crun_hybrid_workaround:
        inner = ("{ ! mountpoint -q /sys/fs/cgroup/unified || umount /sys/fs/cgroup/unified; }"
                 ' && exec "$0" "$@"')
        return ('#!/bin/sh\nexec unshare -m sh -c %s %s --root %s "$@"\n'
                % (shlex.quote(inner), runtime, root))
    return '#!/bin/sh\nexec %s --root %s "$@"\n' % (runtime, root)


# --- the host around a program -------------------------------------------

def _cgroup_dirs(root=host.CGROUP_ROOT):
    found = set()
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            found.add(os.path.join(dirpath, d))
    return found


def is_suite_cgroup(path, root=host.CGROUP_ROOT):
    """Whether a cgroup directory has a name the suite or its containers use."""
    rel = os.path.relpath(path, root).split(os.sep)[1:]  # drop the hierarchy
    return any(p in SUITE_CGROUP_NAMES or UUID.match(p) for p in rel)


def _pids_in(cgroup):
    try:
        with open(os.path.join(cgroup, "cgroup.procs")) as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []


def _proc_pids():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _cmdline(pid):
    """The command line, or for a process without one (a zombie, one
    exiting) its name, state and parent from /proc/PID/stat."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            text = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        if text:
            return text
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        return "[%s] state %s ppid %s" % (name, state, ppid)
    except (OSError, ValueError):
        return "?"


def _zombie(pid):
    """Dead and waiting for its parent (PID 1 here, once a runtime's
    helper has exited): it holds nothing to clean."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _under(path, prefix):
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _mount_points():
    with open("/proc/self/mountinfo") as f:
        return [m[0] for m in host.parse_mountinfo(f.read())]


class Sandbox:
    """Private state root, TMPDIR and wrapper for one runtime in one run."""

    def __init__(self, base, runtime, crun_hybrid_workaround=False):
        self.runtime = runtime
        self.dir = os.path.join(base, runtime.name)
        self.state_root = os.path.join(self.dir, "state")
        self.tmp = os.path.join(self.dir, "tmp")
        os.makedirs(self.state_root)
        os.makedirs(self.tmp, mode=0o755)
        self.wrapper = os.path.join(self.dir, runtime.name)
        with open(self.wrapper, "w") as f:
            f.write(wrapper_script(runtime.path, self.state_root, crun_hybrid_workaround))
        os.chmod(self.wrapper, 0o755)
        self._cgroups_before = set()

    def env(self, program_tmp):
        env = dict(os.environ)
        env["RUNTIME"] = self.wrapper
        env["TMPDIR"] = program_tmp
        return env

    def before(self):
        self._cgroups_before = _cgroup_dirs()

    def after(self, pgid, program_tmp):
        """Kill, delete, detach and remove what the program left; say what."""
        left = {"processes": [], "containers": [], "mounts": [], "cgroups": [],
                "bundles": [], "errors": []}

        alive = [p for p in _proc_pids() if _pgid(p) == pgid and not _zombie(p)]
        for pid in alive:
            left["processes"].append("%d %s" % (pid, _cmdline(pid)))
        _killpg(pgid)

        for cid in self._containers():
            left["containers"].append(cid)
            try:
                subprocess.run([self.wrapper, "delete", "--force", cid], capture_output=True,
                               timeout=60, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                left["errors"].append("delete --force %s timed out" % cid)
            if cid in self._containers():
                left["errors"].append("delete --force %s left its state" % cid)
                shutil.rmtree(os.path.join(self.state_root, cid), ignore_errors=True)

        new_cgroups = sorted((c for c in _cgroup_dirs() - self._cgroups_before
                              if is_suite_cgroup(c)), key=lambda c: -c.count("/"))
        victims = set()
        for pid in _proc_pids():
            for link in ("cwd", "root"):
                try:
                    target = os.readlink("/proc/%d/%s" % (pid, link))
                except OSError:
                    continue
                if _under(target, self.dir):
                    victims.add(pid)
        for cg in new_cgroups:
            victims.update(_pids_in(cg))
        victims.discard(os.getpid())
        for pid in sorted(victims):
            left["processes"].append("%d %s" % (pid, _cmdline(pid)))
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

        for point in sorted((m for m in _mount_points() if _under(m, self.dir)),
                            key=lambda m: -m.count("/")):
            left["mounts"].append(point)
            r = subprocess.run(["umount", "-l", point], capture_output=True, text=True)
            if r.returncode:
                left["errors"].append("umount -l %s: %s" % (point, r.stderr.strip()))

        for cg in new_cgroups:
            left["cgroups"].append(cg)
            for attempt in range(50):
                try:
                    os.rmdir(cg)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if attempt == 49:
                        left["errors"].append("rmdir %s: %s" % (cg, e.strerror))
                    else:
                        for pid in _pids_in(cg):
                            try:
                                os.kill(pid, signal.SIGKILL)
                            except OSError:
                                pass
                        time.sleep(0.1)

        try:
            left["bundles"] = sorted(os.listdir(program_tmp))
        except OSError:
            pass
        shutil.rmtree(program_tmp, ignore_errors=True)
        if os.path.exists(program_tmp):
            left["errors"].append("could not remove %s" % program_tmp)
        return {k: v for k, v in left.items() if v}

    def _containers(self):
        try:
            return sorted(e for e in os.listdir(self.state_root)
                          if not e.startswith(".") and os.path.isdir(os.path.join(self.state_root, e)))
        except OSError:
            return []

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _killpg(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def suite_cgroups_present():
    """Cgroups with the suite's names that exist before a run: a leftover
    from an earlier run would make the cgroup programs fail."""
    return sorted(c for c in _cgroup_dirs() if is_suite_cgroup(c))


def _read_text(path, tail=None):
    with open(path, "rb") as f:
        data = f.read()
    if tail is not None and len(data) > tail:
        data = b"[...]" + data[-tail:]
    return data.decode("utf-8", errors="replace")


def run_program(suite, program, sandbox, timeout, keep_logs=None):
    """Run one program against the sandbox's runtime; return its result."""
    program_tmp = os.path.join(sandbox.tmp, program.name)
    os.makedirs(program_tmp, mode=0o755)
    out_path = os.path.join(sandbox.dir, program.name + ".stdout")
    err_path = os.path.join(sandbox.dir, program.name + ".stderr")
    sandbox.before()
    timed_out = False
    start = time.monotonic()
    # Files, not pipes: a container the runtime daemonized may hold the
    # program's stdout open long after the program has gone.
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([os.path.join(".", program.path)], cwd=suite,
                                env=sandbox.env(program_tmp), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _killpg(proc.pid)
            proc.wait()
    duration = time.monotonic() - start
    left = sandbox.after(proc.pid, program_tmp)
    stdout = _read_text(out_path)
    stderr = _read_text(err_path, tail=STDERR_KEPT)
    if keep_logs:
        d = os.path.join(keep_logs, sandbox.runtime.name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(out_path, os.path.join(d, program.name + ".stdout"))
        shutil.copy(err_path, os.path.join(d, program.name + ".stderr"))
    os.unlink(out_path)
    os.unlink(err_path)
    rc = proc.returncode
    return ProgramResult(
        program=program.name, runtime=sandbox.runtime.name,
        exit_status=rc if rc >= 0 else None, signal=-rc if rc < 0 else None,
        timed_out=timed_out, duration=round(duration, 2), tap=tap.parse(stdout),
        stderr=stderr, left_behind=left)


def new_workdir():
    # Searchable by everyone: a user-namespaced container reaches its rootfs
    # (under the program's TMPDIR here) as an unprivileged host id.
    path = tempfile.mkdtemp(prefix="pyoci-conformance-")
    os.chmod(path, 0o755)
    return path

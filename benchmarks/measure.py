"""Measuring primitives: runtimes under test, one timed command, the
interleaved loop, statistics, and what the host looks like."""
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Runtime:
    """One runtime's command line with a private state root on tmpfs (/run,
    where runc and crun keep theirs by default)."""

    def __init__(self, name, argv, root, wrapper=()):
        self.name = name
        self.argv = list(argv)
        self.root = str(root)
        self.wrapper = list(wrapper)

    def command(self, *args):
        return self.wrapper + self.argv + ["--root", self.root] + [str(a) for a in args]

    def __repr__(self):
        return self.name


def spawn_wait(argv, stdout=None):
    """Run argv with stdin and stderr on /dev/null (stdout too unless a file
    object is given); its wait status and wall time in seconds. posix_spawn
    + waitpid: the harness's own cost is the same for every runtime."""
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    out = stdout.fileno() if stdout is not None else null
    actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, out, 1),
               (os.POSIX_SPAWN_DUP2, null, 2)]
    try:
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
    finally:
        os.close(null)
    return status, elapsed


def timed(argv, check=True):
    """Seconds `argv` took; raises when it failed (a failed command is no
    measurement)."""
    status, elapsed = spawn_wait(argv)
    if check and status != 0:
        raise RuntimeError("%s failed (status %d): %s" % (
            " ".join(argv), status, explain(argv)))
    return elapsed


def explain(argv):
    """The failed command once more, with its output, for the error."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    return (done.stdout + done.stderr).strip()[-2000:]


def output(argv, timeout=60):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return done.stdout


def interleaved(rounds, subjects):
    """Run every subject once per round, in the same order each round
    (A B C A B C ...), so that drift in the machine hits all alike.
    `subjects` maps a name to a function(round) -> seconds (or None when
    it measured nothing). Returns {name: [seconds, ...]}."""
    samples = {name: [] for name in subjects}
    for index in range(rounds):
        for name, measure in subjects.items():
            value = measure(index)
            if value is not None:
                samples[name].append(value)
    return samples


def summary(seconds):
    """Median and spread in milliseconds: p10, p25, p75, p90."""
    values = sorted(s * 1000 for s in seconds)
    if not values:
        return None
    if len(values) == 1:
        only = round(values[0], 2)
        return {"n": 1, "median": only, "p10": only, "p25": only, "p75": only,
                "p90": only}
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"n": len(values), "median": round(statistics.median(values), 2),
            "p10": round(cuts[1], 2), "p25": round(cuts[4], 2),
            "p75": round(cuts[14], 2), "p90": round(cuts[17], 2)}


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def busy_processes():
    """Other processes using CPU right now (the machine is shared): those
    in state R, other than this one."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)
            name = fields[0].split("(", 1)[1]
            if fields[1].split()[0] == "R":
                found.append(name)
        except (OSError, IndexError):
            continue
    return found


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def machine(runtimes):
    """What the figures were taken on."""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/etc/os-release") as f:
        release = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    versions = {}
    for runtime in runtimes:
        first = output(runtime.wrapper + runtime.argv + ["--version"]).splitlines()
        versions[runtime.name] = first[0] if first else "?"
    cgroup2 = os.path.exists("/sys/fs/cgroup/unified/cgroup.procs")
    v1 = os.path.exists("/sys/fs/cgroup/memory/cgroup.procs")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "kernel": platform.release(),
        "os": release.get("PRETTY_NAME", "").strip('"'),
        "cpu": cpu, "cpus": os.cpu_count(),
        "memory_gib": round(meminfo("MemTotal") / 2 ** 30, 1),
        "cgroups": "hybrid" if v1 and cgroup2 else "v1" if v1 else "v2",
        "python": platform.python_version(),
        "versions": versions,
        "hyperfine": bool(shutil.which("hyperfine")),
    }


def write_json(path, data):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)

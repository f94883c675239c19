"""The measurements of issue 8, one function each. Every function takes
the Setup and returns a JSON-able dict; the runtimes run on the same
bundles in the same loop."""
import copy
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.measure import (interleaved, meminfo, output, ratio,
                                spawn_wait, summary, timed)


class Setup:
    """Bundles (runc's default config, the busybox rootfs of the tests),
    the compiled helpers and the runtimes."""

    def __init__(self, work, runtimes, floor, crun_wrapper_cost_program):
        self.work = Path(work)
        self.runtimes = runtimes
        self.floor = floor
        self.wrapper_probe = crun_wrapper_cost_program
        self.rootfs = self.work / "rootfs"
        self.base_config = _runc_default_config(self.work)

    def bundle(self, name, args, mutate=None, rootfs=None):
        config = copy.deepcopy(self.base_config)
        config["root"] = {"path": str(rootfs or self.rootfs), "readonly": False}
        config["process"]["terminal"] = False
        config["process"]["args"] = list(args)
        if mutate:
            mutate(config)
        path = self.work / name
        path.mkdir(exist_ok=True)
        (path / "config.json").write_text(json.dumps(config))
        return path


def _runc_default_config(work):
    scratch = Path(work) / "spec"
    scratch.mkdir(exist_ok=True)
    subprocess.run(["runc", "spec"], cwd=scratch, check=True)
    config = json.loads((scratch / "config.json").read_text())
    shutil.rmtree(scratch)
    return config


def _status(runtime, container_id):
    text = output(runtime.command("state", container_id))
    return json.loads(text)["status"] if text.strip() else None


def _wait_status(runtime, container_id, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while _status(runtime, container_id) != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError("%s: %s never became %s" % (runtime, container_id,
                                                           wanted))
        time.sleep(0.005)


def _summaries(samples):
    return {name: summary(values) for name, values in samples.items()}


def _with_ratios(result, against="runc"):
    base = (result.get(against) or {}).get("median")
    result["ratio_to_" + against] = {
        name: ratio(s["median"], base) for name, s in result.items()
        if isinstance(s, dict) and "median" in s}
    return result


# -- 1. run of /bin/true ------------------------------------------------------

def run_true(setup, rounds):
    bundle = setup.bundle("true", ["/bin/true"])
    subjects = {}
    for runtime in setup.runtimes:
        subjects[runtime.name] = (lambda rt: lambda i: timed(
            rt.command("run", "--bundle", bundle, "bench-run-%s-%d" % (rt.name, i))))(runtime)
    subjects["floor"] = lambda i: timed([setup.floor, str(setup.rootfs), "/bin/true"])
    subjects["floor+cgroups"] = lambda i: timed(
        [setup.floor, "--cgroups", str(setup.rootfs), "/bin/true"])
    if setup.wrapper_probe:
        subjects["crun-wrapper"] = lambda i: timed(setup.wrapper_probe)
    result = _summaries(interleaved(rounds, subjects))
    _net_crun(result)
    return _with_ratios(result)


def _net_crun(result):
    """crun's figures without the cost of the mount-namespace wrapper that
    lets it run on this host (measured in the same loop)."""
    wrapper = result.get("crun-wrapper")
    if wrapper and result.get("crun"):
        result["crun"] = {k: (round(v - wrapper["median"], 2) if k != "n" else v)
                          for k, v in result["crun"].items()}
        result["crun"]["wrapper_subtracted_ms"] = wrapper["median"]


# -- 2. each lifecycle command on its own ---------------------------------------

LIFECYCLE = ("create", "start", "state", "kill", "delete")


def lifecycle(setup, rounds):
    bundle = setup.bundle("sleep", ["sleep", "1000"])
    samples = {(rt.name, c): [] for rt in setup.runtimes for c in LIFECYCLE}
    for index in range(rounds):
        for rt in setup.runtimes:
            cid = "bench-life-%s-%d" % (rt.name, index)
            samples[rt.name, "create"].append(
                timed(rt.command("create", "--bundle", bundle, cid)))
            samples[rt.name, "start"].append(timed(rt.command("start", cid)))
            samples[rt.name, "state"].append(timed(rt.command("state", cid)))
            samples[rt.name, "kill"].append(timed(rt.command("kill", cid, "KILL")))
            _wait_status(rt, cid, "stopped")
            samples[rt.name, "delete"].append(timed(rt.command("delete", cid)))
    result = {}
    for command in LIFECYCLE:
        result[command] = _with_ratios({rt.name: summary(samples[rt.name, command])
                                        for rt in setup.runtimes})
    return result


# -- 4. memory ----------------------------------------------------------------

def _max_rss_kib(argv, scratch):
    """Peak RSS of a command and the children it waited for, as
    /usr/bin/time -v reports it (into a file: a created container keeps
    the stderr it was given)."""
    report = scratch / "time.txt"
    status, _ = spawn_wait(["/usr/bin/time", "-o", str(report), "-v"] + argv)
    text = report.read_text()
    if status != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), text[-500:]))
    for line in text.splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1])
    raise RuntimeError("no RSS from /usr/bin/time for %s: %s" % (argv, text))


def _rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _processes_with(marker):
    """Processes whose command line names `marker` (a fork of `create`
    keeps its command line, and so its container id)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


def memory(setup):
    """Peak RSS of every command (pyoci and runc side by side), and what
    is resident once `create` and `start` have returned."""
    sleep = setup.bundle("sleep", ["sleep", "1000"])
    true = setup.bundle("true", ["/bin/true"])
    result = {"peak_rss_kib": {}, "after_create": {}}
    for rt in setup.runtimes:
        if rt.name == "crun":
            continue
        cid = "bench-rss-%s" % rt.name
        peaks = {}
        peaks["create"] = _max_rss_kib(rt.command("create", "--bundle", sleep, cid), setup.work)
        state = json.loads(output(rt.command("state", cid)))
        init_rss = _rss_kib(state["pid"])
        left = [p for p in _processes_with(cid) if p != state["pid"]]
        peaks["state"] = _max_rss_kib(rt.command("state", cid), setup.work)
        peaks["list"] = _max_rss_kib(rt.command("list"), setup.work)
        peaks["start"] = _max_rss_kib(rt.command("start", cid), setup.work)
        started_rss = _rss_kib(state["pid"])
        peaks["kill"] = _max_rss_kib(rt.command("kill", cid, "KILL"), setup.work)
        _wait_status(rt, cid, "stopped")
        peaks["delete"] = _max_rss_kib(rt.command("delete", cid), setup.work)
        peaks["run"] = _max_rss_kib(rt.command("run", "--bundle", true, cid), setup.work)
        peaks["features"] = _max_rss_kib(rt.command("features"), setup.work)
        peaks["--version"] = _max_rss_kib(rt.argv + ["--version"], setup.work)
        result["peak_rss_kib"][rt.name] = peaks
        result["after_create"][rt.name] = {
            # the container's own process, waiting for start
            "init_waiting_rss_kib": init_rss,
            # the user's program after start (exec replaced the runtime's code)
            "init_started_rss_kib": started_rss,
            # processes of the runtime other than the container's
            "runtime_processes_left": len(left),
        }
    return result


# -- 5. density -----------------------------------------------------------------

def density(setup, count):
    bundle = setup.bundle("idle", ["sleep", "100000"])
    result = {"containers": count}
    for rt in setup.runtimes:
        if rt.name == "crun":
            continue
        ids = ["bench-dense-%s-%d" % (rt.name, i) for i in range(count)]
        available = meminfo("MemAvailable")
        start = time.perf_counter()
        failures = 0
        for cid in ids:
            status, _ = spawn_wait(rt.command("run", "--detach", "--bundle", bundle, cid))
            failures += status != 0
        created = time.perf_counter() - start
        used = available - meminfo("MemAvailable")
        with open(os.devnull, "w") as null:
            listed = [spawn_wait(rt.command("list"), stdout=null)[1] for _ in range(5)]
        listed_ids = output(rt.command("list", "-q")).split()
        states = [timed(rt.command("state", ids[len(ids) // 2])) for _ in range(5)]
        start = time.perf_counter()
        for cid in ids:
            status, _ = spawn_wait(rt.command("delete", "--force", cid))
            failures += status != 0
        deleted = time.perf_counter() - start
        result[rt.name] = {
            "create_total_s": round(created, 2),
            "create_each_ms": round(created / count * 1000, 2),
            "delete_total_s": round(deleted, 2),
            "delete_each_ms": round(deleted / count * 1000, 2),
            "host_memory_per_container_kib": round(used / count / 1024, 1),
            "list": summary(listed), "state": summary(states),
            "listed": len(listed_ids), "failures": failures,
            "left_behind": _leftovers(rt, "bench-dense-%s-" % rt.name),
        }
    result["list_ratio_to_runc"] = {
        name: ratio(result[name]["list"]["median"], result["runc"]["list"]["median"])
        for name in ("pyoci", "runc") if name in result and "runc" in result}
    return result


def _leftovers(rt, marker):
    """State entries, cgroups and processes named `marker` that remain."""
    state = [n for n in os.listdir(rt.root) if marker in n] \
        if os.path.isdir(rt.root) else []
    cgroups = []
    for base in Path("/sys/fs/cgroup").iterdir():
        if base.is_dir():
            cgroups += [str(p) for p in base.glob("**/" + marker + "*")]
    return {"state": len(state), "cgroups": len(cgroups),
            "processes": len(_processes_with(marker))}


# -- 6. scaling -------------------------------------------------------------------

def scaling(setup, rounds, mount_counts=(10, 100, 1000),
            config_sizes=(10_000, 100_000, 1_000_000)):
    """create time against the number of mounts (bind mounts of one host
    directory, as volumes are) and against the size of config.json
    (annotations of 100 bytes, as callers add labels)."""
    volume = setup.work / "volume"
    volume.mkdir(exist_ok=True)
    rootfs = setup.work / "rootfs-mounts"
    if not rootfs.exists():
        shutil.copytree(setup.rootfs, rootfs, symlinks=True)
    subjects = {}
    for count in mount_counts:
        def add_mounts(config, count=count):
            config["mounts"] += [{"destination": "/mnt/m%d" % i, "type": "bind",
                                  "source": str(volume), "options": ["rbind", "ro"]}
                                 for i in range(count)]
        for i in range(count):
            (rootfs / "mnt" / ("m%d" % i)).mkdir(parents=True, exist_ok=True)
        subjects["mounts", count] = setup.bundle("mounts-%d" % count, ["sleep", "1000"],
                                                 add_mounts, rootfs=rootfs)
    for size in config_sizes:
        def add_annotations(config, size=size):
            config["annotations"] = {"bench.pyoci/%06d" % i: "x" * 80
                                     for i in range(size // 100)}
        subjects["config", size] = setup.bundle("config-%d" % size, ["sleep", "1000"],
                                                add_annotations)
    result = {"mounts": {}, "config_bytes": {}}
    for (kind, value), bundle in subjects.items():
        size = os.path.getsize(bundle / "config.json")

        failures = {}

        def create_once(rt, i, bundle=bundle, tag="%s-%s" % (kind, value)):
            if rt.name in failures:
                return None
            cid = "bench-scale-%s-%s-%d" % (rt.name, tag, i)
            try:
                seconds = timed(rt.command("create", "--bundle", bundle, cid))
            except RuntimeError as e:
                failures[rt.name] = str(e)[-300:]
                return None
            finally:
                spawn_wait(rt.command("delete", "--force", cid))
            return seconds

        samples = interleaved(rounds, {rt.name: (lambda rt: lambda i: create_once(rt, i))(rt)
                                       for rt in setup.runtimes})
        entry = _with_ratios(_summaries(samples))
        entry["config_json_bytes"] = size
        if failures:
            entry["failed"] = failures
        key = "mounts" if kind == "mounts" else "config_bytes"
        result[key][str(value)] = entry
    result["mount_growth"] = _growth(result["mounts"], setup.runtimes)
    return result


def _growth(table, runtimes):
    """Milliseconds per added mount between successive sizes: constant (or
    falling) means linear (or better)."""
    growth = {}
    sizes = sorted(int(k) for k in table)
    for rt in runtimes:
        steps = []
        for low, high in zip(sizes, sizes[1:]):
            a = table[str(low)].get(rt.name)
            b = table[str(high)].get(rt.name)
            if a and b:
                steps.append(round((b["median"] - a["median"]) / (high - low), 4))
        growth[rt.name] = steps
    return growth


def kill_leftovers(setup):
    """After a failed item: force-delete whatever the benchmark started."""
    for rt in setup.runtimes:
        for line in output(rt.command("list", "-q")).split():
            if line.startswith("bench-"):
                spawn_wait(rt.command("delete", "--force", line))

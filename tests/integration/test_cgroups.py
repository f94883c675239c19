"""Cgroups as callers see them: limits that bite, values that land in the
cgroup files, pause/resume, update, ps, events, kill --all, and no cgroup
left after delete on any path. Each test runs against pyoci and runc; the
deliberate differences are named where they are tested.

The host is hybrid: every controller in v1, cgroup2 at
/sys/fs/cgroup/unified with only hugetlb. The last tests run pyoci (and
runc) in a private mount namespace whose /sys/fs/cgroup is that cgroup2
hierarchy alone: a pure v2 host."""
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest

from pyoci.tests.integration.harness import (PYOCI, RUNC, Runtime, stopped_container,
                                             wait_for)

pytestmark = pytest.mark.root

CGROUP = "/sys/fs/cgroup"
MIB = 1 << 20


def cgroup_dirs(pid):
    """controller -> the directory of pid's cgroup ("" is cgroup2)."""
    dirs = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                mount = {"": "unified", "name=systemd": "systemd"}.get(
                    controller, controller)
                dirs[controller] = os.path.join(CGROUP, mount, path.lstrip("/"))
    return dirs


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def with_output_dir(bundle, tmp_path):
    """Bind a host directory at /out so the container can report."""
    out = tmp_path / "out"
    out.mkdir()
    bundle.config["mounts"].append({"destination": "/out", "type": "bind",
                                    "source": str(out),
                                    "options": ["rbind", "rw"]})
    return out


def start_idle(runtime, bundle, cid, script="sleep 1000"):
    bundle.shell("%s; : %s" % (script, cid))
    runtime("run", "--detach", "--bundle", bundle.write(), cid,
            stdin=subprocess.DEVNULL)
    return runtime.state(cid)["pid"]


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def task_states(dirs):
    pids = read(dirs["pids"], "cgroup.procs").split()
    states = []
    for pid in pids:
        with open("/proc/%s/status" % pid) as f:
            states += [line.split()[1] for line in f if line.startswith("State:")]
    return states


# -- limits that bite -------------------------------------------------------------

def test_memory_limit_oom_kills(runtime, bundle, cid):
    bundle.linux["resources"]["memory"] = {"limit": 32 * MIB}
    bundle.args("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    result = runtime("run", "--bundle", bundle.write(), cid, check=False,
                     stdin=subprocess.DEVNULL)
    assert result.returncode == 137, result.stderr


def test_memory_limit_lets_smaller_allocations_through(runtime, bundle, cid):
    bundle.linux["resources"]["memory"] = {"limit": 32 * MIB}
    bundle.args("dd", "if=/dev/zero", "of=/dev/null", "bs=8M", "count=1")
    result = runtime("run", "--bundle", bundle.write(), cid,
                     stdin=subprocess.DEVNULL)
    assert result.returncode == 0


def test_pids_limit_stops_forks(runtime, bundle, cid):
    bundle.linux["resources"]["pids"] = {"limit": 5}
    bundle.shell("i=0; while [ $i -lt 10 ]; do sleep 100 & i=$((i+1)); done; "
                 "echo all forked")
    result = runtime("run", "--bundle", bundle.write(), cid, check=False,
                     stdin=subprocess.DEVNULL)
    assert "can't fork" in result.stderr
    assert "all forked" not in result.stdout
    assert result.returncode == 2       # busybox sh gives up on EAGAIN


def a_disk():
    """(major, minor) of a whole block device of this host (throttles need
    a real one)."""
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram", "zram")):
            major, minor = read("/sys/block/" + name, "dev").split(":")
            return int(major), int(minor)
    pytest.skip("no block device")


def test_values_land_in_the_cgroup_files(runtime, bundle, cid):
    major, minor = a_disk()
    resources = bundle.linux["resources"]
    resources.update({
        "memory": {"limit": 48 * MIB, "reservation": 16 * MIB,
                   "swap": 96 * MIB, "swappiness": 10,
                   "disableOOMKiller": True},
        "cpu": {"shares": 512, "quota": 30000, "period": 60000,
                "cpus": "0", "mems": "0"},
        "pids": {"limit": 42},
        "blockIO": {"throttleReadBpsDevice": [
            {"major": major, "minor": minor, "rate": 1048576}],
                    "throttleWriteIOPSDevice": [
            {"major": major, "minor": minor, "rate": 300}]},
    })
    dirs = cgroup_dirs(start_idle(runtime, bundle, cid))
    assert read(dirs["memory"], "memory.limit_in_bytes") == str(48 * MIB)
    assert read(dirs["memory"], "memory.soft_limit_in_bytes") == str(16 * MIB)
    assert read(dirs["memory"], "memory.memsw.limit_in_bytes") == str(96 * MIB)
    assert read(dirs["memory"], "memory.swappiness") == "10"
    assert "oom_kill_disable 1" in read(dirs["memory"], "memory.oom_control")
    assert read(dirs["cpu"], "cpu.shares") == "512"
    assert read(dirs["cpu"], "cpu.cfs_quota_us") == "30000"
    assert read(dirs["cpu"], "cpu.cfs_period_us") == "60000"
    assert read(dirs["cpuset"], "cpuset.cpus") == "0"
    assert read(dirs["cpuset"], "cpuset.mems") == "0"
    assert read(dirs["pids"], "pids.max") == "42"
    assert read(dirs["blkio"], "blkio.throttle.read_bps_device") == \
        "%d:%d 1048576" % (major, minor)
    assert read(dirs["blkio"], "blkio.throttle.write_iops_device") == \
        "%d:%d 300" % (major, minor)
    runtime("delete", "--force", cid)


@pytest.mark.parametrize("key, value, runc_error", [
    ("hugepageLimits", [{"pageSize": "2MB", "limit": 4 * MIB}],
     "cannot set hugetlb limit"),
    ("unified", {"hugetlb.2MB.max": str(4 * MIB)},
     "cannot use unified on cgroup v1")])
def test_hugetlb_on_the_hybrid_host(runtime, bundle, cid, key, value,
                                    runc_error):
    """Deliberate difference: this host has hugetlb only in cgroup2, where
    pyoci sets the limit (hugepageLimits or a `unified` key); runc 1.1.5
    fails on both (it refuses `unified` on anything but pure v2)."""
    bundle.linux["resources"][key] = value
    if runtime.name == "runc":
        bundle.shell("true")
        result = runtime("run", "--bundle", bundle.write(), cid, check=False,
                         stdin=subprocess.DEVNULL)
        assert result.returncode != 0 and runc_error in result.stderr
        return
    dirs = cgroup_dirs(start_idle(runtime, bundle, cid))
    assert read(dirs[""], "hugetlb.2MB.max") == str(4 * MIB)
    runtime("delete", "--force", cid)


DEVICE_PROBE = ("{ true < /dev/loop-control; } 2>/out/open; "
                "mknod /out/node c 10 237 && { true < /out/node; } 2>/out/node-open; "
                "echo done > /out/done")


def with_loop_control(bundle):
    """/dev/loop-control in linux.devices, CAP_MKNOD to make nodes."""
    bundle.linux["devices"] = [{"path": "/dev/loop-control", "type": "c",
                                "major": 10, "minor": 237, "fileMode": 0o600}]
    for name in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][name].append("CAP_MKNOD")


@pytest.mark.parametrize("allowed", [False, True])
def test_device_rules(runtime, bundle, cid, tmp_path, allowed):
    """resources.devices denies /dev/loop-control (the default deny-all) or
    allows it. A denied device cannot be opened, and a node of it made
    with mknod (runc's defaults allow mknod) cannot be opened either."""
    out = with_output_dir(bundle, tmp_path)
    with_loop_control(bundle)
    if allowed:
        bundle.linux["resources"]["devices"].append(
            {"allow": True, "type": "c", "major": 10, "minor": 237,
             "access": "rw"})
    bundle.shell(DEVICE_PROBE)
    runtime("run", "--bundle", bundle.write(), cid, stdin=subprocess.DEVNULL)
    assert (out / "done").exists()
    for name in ("open", "node-open"):
        text = (out / name).read_text()
        if allowed:
            assert text == "", name
        else:
            assert "Operation not permitted" in text, name


# -- pause, resume, update --------------------------------------------------------

def test_pause_freezes_and_resume_thaws(runtime, bundle, cid):
    # a busy loop held to 20% of a CPU, with a child in sleep
    bundle.linux["resources"]["cpu"] = {"quota": 20000, "period": 100000}
    pid = start_idle(runtime, bundle, cid,
                     "sleep 1000 & while :; do :; done")
    dirs = cgroup_dirs(pid)
    assert wait_for(lambda: cpu_ticks(pid) > 0)
    runtime("pause", cid)
    assert runtime.status(cid) == "paused"
    assert read(dirs["freezer"], "freezer.state") == "FROZEN"
    assert set(task_states(dirs)) == {"D"}      # frozen tasks: uninterruptible
    ticks = cpu_ticks(pid)
    time.sleep(0.5)
    assert cpu_ticks(pid) == ticks              # the loop does not run
    again = runtime("pause", cid, check=False)
    assert again.returncode != 0 and "container not running" in again.stderr
    runtime("resume", cid)
    assert runtime.status(cid) == "running"
    assert read(dirs["freezer"], "freezer.state") == "THAWED"
    assert wait_for(lambda: cpu_ticks(pid) > ticks)
    again = runtime("resume", cid, check=False)
    assert again.returncode != 0 and "container not paused" in again.stderr
    runtime("delete", "--force", cid)


def test_a_created_container_can_be_paused(runtime, bundle, cid):
    bundle.shell("sleep 1000; : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    runtime("pause", cid)
    assert runtime.status(cid) == "paused"
    runtime("resume", cid)
    assert runtime.status(cid) == "created"
    runtime("delete", "--force", cid)


def test_pause_and_resume_of_a_stopped_container_fail(runtime, bundle, cid):
    stopped_container(runtime, bundle, cid)
    result = runtime("pause", cid, check=False)
    assert result.returncode != 0 and "container not running" in result.stderr
    result = runtime("resume", cid, check=False)
    assert result.returncode != 0 and "container not paused" in result.stderr
    result = runtime("update", "--memory", "64m", cid, check=False)
    assert result.returncode != 0 and "container not running" in result.stderr
    runtime("delete", cid)


def test_update_with_flags_changes_the_files(runtime, bundle, cid):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    dirs = cgroup_dirs(start_idle(runtime, bundle, cid))
    runtime("update", "--memory", "32m", "--memory-reservation", "8m",
            "--cpu-quota", "25000", "--cpu-period", "50000",
            "--cpu-share", "256", "--cpuset-cpus", "0", "--pids-limit", "7",
            cid)
    assert read(dirs["memory"], "memory.limit_in_bytes") == str(32 * MIB)
    assert read(dirs["memory"], "memory.soft_limit_in_bytes") == str(8 * MIB)
    assert read(dirs["cpu"], "cpu.cfs_quota_us") == "25000"
    assert read(dirs["cpu"], "cpu.cfs_period_us") == "50000"
    assert read(dirs["cpu"], "cpu.shares") == "256"
    assert read(dirs["cpuset"], "cpuset.cpus") == "0"
    assert read(dirs["pids"], "pids.max") == "7"
    # only what is named changes
    runtime("update", "--cpu-quota", "10000", cid)
    assert read(dirs["cpu"], "cpu.cfs_period_us") == "50000"
    assert read(dirs["memory"], "memory.limit_in_bytes") == str(32 * MIB)
    runtime("delete", "--force", cid)


def test_update_from_stdin_and_file(runtime, bundle, cid, tmp_path):
    dirs = cgroup_dirs(start_idle(runtime, bundle, cid))
    # Docker's shape: zero values mean "leave as is"
    docker = {"memory": {"limit": 40 * MIB, "reservation": 0, "swap": 0},
              "cpu": {"shares": 0, "quota": 0, "period": 0, "cpus": "",
                      "mems": ""},
              "blockIO": {"weight": 0}, "pids": {"limit": 9}}
    runtime("update", "--resources", "-", cid, input=json.dumps(docker).encode(),
            stdin=None)
    assert read(dirs["memory"], "memory.limit_in_bytes") == str(40 * MIB)
    assert read(dirs["pids"], "pids.max") == "9"
    path = tmp_path / "resources.json"
    path.write_text(json.dumps({"cpu": {"shares": 300}}))
    runtime("update", "--resources", path, cid)
    assert read(dirs["cpu"], "cpu.shares") == "300"
    assert read(dirs["pids"], "pids.max") == "9"
    runtime("delete", "--force", cid)


def test_update_changes_behaviour_live(runtime, bundle, cid, tmp_path):
    """After update the running processes are confined to the new CPUs,
    and a 24 MiB allocation that worked under 64 MiB is OOM-killed under
    16 MiB, then works again under 64 MiB. The container allocates only
    when told (/out/goN), so no update meets a busy cgroup."""
    out = with_output_dir(bundle, tmp_path)
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    pid = start_idle(runtime, bundle, cid,
                     "n=1; while :; do if [ -e /out/go$n ]; then "
                     "dd if=/dev/zero of=/dev/null bs=24M count=1 2>/dev/null; "
                     "echo $? > /out/r$n; n=$((n+1)); fi; sleep 0.05; done")

    def allocate(n):
        (out / ("go%d" % n)).touch()
        result = out / ("r%d" % n)
        assert wait_for(lambda: result.exists() and result.read_text().strip())
        return result.read_text().strip()

    assert allocate(1) == "0"
    runtime("update", "--memory", "16m", cid)
    assert allocate(2) == "137"
    runtime("update", "--memory", "64m", cid)
    assert allocate(3) == "0"
    if os.cpu_count() > 1:
        runtime("update", "--cpuset-cpus", "1", cid)
        assert affinity(pid) == "1"
        runtime("update", "--cpuset-cpus", "0", cid)
        assert affinity(pid) == "0"
    runtime("delete", "--force", cid)


def affinity(pid):
    with open("/proc/%d/status" % pid) as f:
        return [line.split()[1] for line in f
                if line.startswith("Cpus_allowed_list:")][0]


def test_a_failed_update_puts_the_limits_back(runtime, bundle, cid, tmp_path):
    """Memory is set before cpu; cpu.shares of 1 is refused (the kernel
    makes it 2), and the memory limit goes back to what it was.
    Deliberate difference: runc 1.1.5 means to do the same, but its
    "previous" resources share the updated config, so 32 MiB stays."""
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    dirs = cgroup_dirs(start_idle(runtime, bundle, cid))
    path = tmp_path / "resources.json"
    path.write_text(json.dumps({"memory": {"limit": 32 * MIB},
                                "cpu": {"shares": 1}}))
    result = runtime("update", "--resources", path, cid, check=False)
    assert result.returncode != 0
    assert "minimum allowed cpu-shares is 2" in result.stderr
    kept = {"pyoci": 64 * MIB, "runc": 32 * MIB}[runtime.name]
    assert read(dirs["memory"], "memory.limit_in_bytes") == str(kept)
    runtime("delete", "--force", cid)


def test_update_is_kept_in_the_state(pyoci, bundle, cid):
    """pyoci only: the state record is pyoci's own format."""
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    start_idle(pyoci, bundle, cid)
    pyoci("update", "--memory", "32m", "--pids-limit", "11", cid)
    with open(os.path.join(pyoci.root, cid, "state.json")) as f:
        resources = json.load(f)["config"]["linux"]["resources"]
    assert resources["memory"]["limit"] == 32 * MIB
    assert resources["pids"]["limit"] == 11
    assert resources["devices"] == [{"allow": False, "access": "rwm"}]
    pyoci("delete", "--force", cid)


def test_update_refusals(pyoci, bundle, cid):
    """runc's messages for Intel RDT (not supported: no resctrl here) and
    kernel memory (a warning only)."""
    start_idle(pyoci, bundle, cid)
    result = pyoci("update", "--l3-cache-schema", "L3:0=f", cid, check=False)
    assert result.returncode != 0
    assert "l3 cache schema is not enabled" in result.stderr
    result = pyoci("update", "--mem-bw-schema", "MB:0=70", cid, check=False)
    assert result.returncode != 0
    assert "memory bandwidth schema is not enabled" in result.stderr
    result = pyoci("update", "--kernel-memory", "32m", cid)
    assert "Kernel memory settings are ignored" in result.stderr
    result = pyoci("update", "--memory", "lots", cid, check=False)
    assert result.returncode != 0 and "invalid value for memory" in result.stderr
    pyoci("delete", "--force", cid)


# -- ps, events, kill --all ------------------------------------------------------

def test_ps_lists_exactly_the_containers_processes(runtime, bundle, cid):
    pid = start_idle(runtime, bundle, cid,
                     "sleep 1000 & sleep 1001 & sleep 1002")
    dirs = cgroup_dirs(pid)
    assert wait_for(lambda: len(read(dirs["pids"], "cgroup.procs").split()) == 4)
    expected = sorted(int(p) for p in read(dirs["pids"], "cgroup.procs").split())
    listed = json.loads(runtime("ps", "--format", "json", cid).stdout)
    assert sorted(listed) == expected and pid in listed
    table = runtime("ps", cid, "-o", "pid,comm").stdout.splitlines()
    assert table[0].split() == ["PID", "COMMAND"]
    assert sorted(int(line.split()[0]) for line in table[1:]) == expected
    runtime("delete", "--force", cid)


def test_events_stats_match_the_cgroup_files(runtime, bundle, cid):
    bundle.linux["resources"]["memory"] = {"limit": 48 * MIB}
    bundle.linux["resources"]["pids"] = {"limit": 20}
    pid = start_idle(runtime, bundle, cid, "sleep 1000 & sleep 1001")
    dirs = cgroup_dirs(pid)
    assert wait_for(lambda: read(dirs["pids"], "pids.current") == "3")
    runtime("pause", cid)               # the figures hold still
    event = json.loads(runtime("events", "--stats", cid).stdout)
    assert event["type"] == "stats" and event["id"] == cid
    data = event["data"]
    memory = data["memory"]["usage"]
    assert memory["limit"] == 48 * MIB
    assert memory["usage"] == int(read(dirs["memory"], "memory.usage_in_bytes"))
    assert memory["max"] == int(read(dirs["memory"],
                                     "memory.max_usage_in_bytes"))
    assert data["pids"] == {"current": 3, "limit": 20}
    assert data["cpu"]["usage"]["total"] == int(read(dirs["cpuacct"],
                                                     "cpuacct.usage"))
    assert data["cpu"]["usage"]["percpu"] == [
        int(n) for n in read(dirs["cpuacct"], "cpuacct.usage_percpu").split()]
    assert set(data) >= {"cpu", "memory", "pids", "blkio", "hugetlb"}
    runtime("delete", "--force", cid)


def test_events_reports_an_oom_kill(runtime, bundle, cid, tmp_path):
    out = with_output_dir(bundle, tmp_path)
    bundle.linux["resources"]["memory"] = {"limit": 32 * MIB}
    start_idle(runtime, bundle, cid,
               "until [ -e /out/go ]; do sleep 0.05; done; "
               "dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1000")
    with tempfile.TemporaryFile() as events:
        watcher = subprocess.Popen(runtime.command("events", "--interval",
                                                   "100ms", cid),
                                   stdout=events, stderr=subprocess.DEVNULL)
        try:
            def lines():
                events.seek(0)
                return [json.loads(line) for line in events.read().splitlines()]
            assert wait_for(lambda: lines())      # subscribed, stats flowing
            (out / "go").touch()
            assert wait_for(lambda: any(e["type"] == "oom" for e in lines()))
            assert {"type": "oom", "id": cid} in lines()
            stats = [e for e in lines() if e["type"] == "stats"]
            assert stats[0]["id"] == cid and "memory" in stats[0]["data"]
            runtime("kill", cid, "KILL")
            assert wait_for(lambda: runtime.status(cid) == "stopped")
            if runtime.name == "runc":
                runtime("delete", cid)   # runc's events end with the cgroup
            assert watcher.wait(timeout=30) == 0
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
    if runtime.name == "pyoci":
        runtime("delete", cid)       # pyoci's end when the container stops


def test_kill_all_signals_every_process(runtime, bundle, cid):
    # without a pid namespace the children do not die with the init
    bundle.without_namespace("pid")
    pid = start_idle(runtime, bundle, cid, "sleep 1000 & sleep 1001 & wait")
    dirs = cgroup_dirs(pid)
    assert wait_for(lambda: len(read(dirs["pids"], "cgroup.procs").split()) == 3)
    runtime("kill", "--all", cid, "TERM")
    assert wait_for(lambda: read(dirs["pids"], "cgroup.procs") == "")
    runtime("delete", cid)


def test_sigkill_of_a_paused_container_stops_it(runtime, bundle, cid):
    """What Docker does to a paused container it stops: SIGKILL, then wait."""
    start_idle(runtime, bundle, cid)
    runtime("pause", cid)
    runtime("kill", cid, "KILL")
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    runtime("delete", cid)


def test_kill_all_of_a_stopped_container_kills_what_is_left(runtime, bundle,
                                                            cid):
    bundle.without_namespace("pid")
    bundle.shell("sleep 1000 & : %s" % cid)
    runtime("create", "--bundle", bundle.write(), cid)
    dirs = cgroup_dirs(runtime.state(cid)["pid"])
    runtime("start", cid)
    assert wait_for(lambda: runtime.status(cid) == "stopped")
    assert len(read(dirs["pids"], "cgroup.procs").split()) == 1
    runtime("kill", "--all", cid, "KILL")
    assert wait_for(lambda: read(dirs["pids"], "cgroup.procs") == "")
    runtime("delete", cid)


def test_systemd_cgroup_path_without_systemd(runtime, bundle, cid):
    """Deliberate difference: with --systemd-cgroup and no systemd running
    (this host), runc refuses; pyoci maps slice:prefix:name onto cgroupfs
    with systemd's naming, and later commands without the flag find it."""
    bundle.linux["cgroupsPath"] = "system.slice:pyoci:" + cid
    bundle.shell("sleep 1000; : %s" % cid)
    created = runtime("--systemd-cgroup", "create", "--bundle", bundle.write(),
                      cid, check=False)
    if runtime.name == "runc":
        assert created.returncode != 0
        assert "systemd not running on this host" in created.stderr
        return
    assert created.returncode == 0, created.stderr
    dirs = cgroup_dirs(runtime.state(cid)["pid"])
    assert dirs["pids"] == os.path.join(CGROUP, "pids", "system.slice",
                                        "pyoci-%s.scope" % cid)
    runtime("pause", cid)
    assert runtime.status(cid) == "paused"
    runtime("delete", "--force", cid)
    assert not os.path.exists(dirs["pids"])


# -- nothing left after delete ---------------------------------------------------

@pytest.mark.parametrize("path", ["normal exit", "oom kill", "sigkill of init",
                                  "force delete of a paused container"])
def test_no_cgroup_left_after_delete(runtime, bundle, cid, path):
    bundle.linux["resources"]["memory"] = {"limit": 32 * MIB}
    script = {"normal exit": "sleep 0.2",
              "oom kill": "sleep 0.2; exec dd if=/dev/zero of=/dev/null "
                          "bs=64M count=1",
              }.get(path, "sleep 1000")
    pid = start_idle(runtime, bundle, cid, script)
    dirs = set(cgroup_dirs(pid).values())
    assert all(os.path.isdir(d) for d in dirs)
    if path == "sigkill of init":
        os.kill(pid, signal.SIGKILL)
    if path == "force delete of a paused container":
        runtime("pause", cid)
        runtime("delete", "--force", cid)
    else:
        assert wait_for(lambda: runtime.status(cid) == "stopped")
        runtime("delete", cid)
    left = [d for d in dirs if os.path.exists(d)]
    assert left == []


# -- a pure cgroup2 host ---------------------------------------------------------

@pytest.fixture
def v2_host():
    """A mount namespace whose /sys/fs/cgroup is the host's cgroup2
    hierarchy (hugetlb only) and nothing else, held open by a sleeping
    process; runtimes run in it through nsenter."""
    holder = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         "umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup "
         "&& echo ready && exec sleep 1000"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert holder.stdout.readline() == b"ready\n"
    yield "/proc/%d/ns/mnt" % holder.pid
    holder.kill()
    holder.wait()
    holder.stdout.close()


@pytest.fixture(params=["pyoci"] + (["runc"] if RUNC else []))
def v2_runtime(request, v2_host, tmp_path, state_roots):
    state_roots.append(tmp_path / "state")
    binary = {"pyoci": PYOCI, "runc": RUNC}[request.param]
    return Runtime(request.param + "-v2", ["nsenter", "--mount=" + v2_host,
                                           binary], tmp_path / "state")


def test_on_a_cgroup2_host(v2_runtime, bundle, cid, tmp_path):
    """The v2 backend for real: the cgroup in the cgroup2 hierarchy,
    hugetlb set (pyoci; runc 1.1.5 also), the eBPF device filter denying
    /dev/loop-control, pause through cgroup.freeze, ps, events --stats, delete."""
    runtime = v2_runtime
    out = with_output_dir(bundle, tmp_path)
    with_loop_control(bundle)
    bundle.linux["resources"]["hugepageLimits"] = [
        {"pageSize": "2MB", "limit": 8 * MIB}]
    pid = start_idle(runtime, bundle, cid,
                     DEVICE_PROBE + "; "
                     "sleep 1000 & while :; do :; done")
    with open("/proc/%d/cgroup" % pid) as f:
        line = [entry for entry in f.read().splitlines()
                if entry.startswith("0::")][0]
    directory = os.path.join(CGROUP, "unified", line[3:].lstrip("/"))
    assert cid in directory
    assert read(directory, "hugetlb.2MB.max") == str(8 * MIB)
    assert wait_for(lambda: (out / "done").exists())
    for name in ("open", "node-open"):
        assert "Operation not permitted" in (out / name).read_text()
    runtime("pause", cid)
    assert runtime.status(cid) == "paused"
    assert "frozen 1" in read(directory, "cgroup.events")
    ticks = cpu_ticks(pid)
    time.sleep(0.3)
    assert cpu_ticks(pid) == ticks
    listed = json.loads(runtime("ps", "--format", "json", cid).stdout)
    assert sorted(listed) == sorted(
        int(p) for p in read(directory, "cgroup.procs").split())
    assert len(listed) == 2
    event = json.loads(runtime("events", "--stats", cid).stdout)
    assert event["data"]["hugetlb"]["2MB"]["failcnt"] == 0
    runtime("resume", cid)
    assert runtime.status(cid) == "running"
    assert wait_for(lambda: cpu_ticks(pid) > ticks)
    runtime("pause", cid)
    runtime("delete", "--force", cid)
    assert not os.path.exists(directory)

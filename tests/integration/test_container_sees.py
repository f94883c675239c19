"""What a process inside a real container sees, for each config item with
a visible effect; every test runs against pyoci and runc alike."""
import os
import subprocess

import pytest

from pyoci.tests.integration.harness import Bundle, wait_for

pytestmark = pytest.mark.root


def run(runtime, bundle, cid, *, check=True):
    return runtime("run", "--bundle", bundle.write(), cid, check=check)


def status_fields(text):
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def test_pid_1_and_hostname(runtime, bundle, cid):
    bundle.shell("echo $$; hostname")
    assert run(runtime, bundle, cid).stdout.split() == ["1", "pyoci-test"]


def test_domainname(pyoci, bundle, cid):
    # pyoci only: Debian's runc 1.1.5 predates `domainname` (runc 1.2).
    bundle.config["domainname"] = "example.org"
    bundle.shell("cat /proc/sys/kernel/domainname")
    assert run(pyoci, bundle, cid).stdout.split() == ["example.org"]


def test_configured_mounts_with_their_options(runtime, bundle, cid, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "file").write_text("from host\n")
    bundle.config["mounts"] += [
        {"destination": "/data", "type": "bind", "source": str(shared),
         "options": ["rbind", "ro", "nosuid", "nodev"]},
        # A destination new to the shared rootfs: runc 1.1 gives a tmpfs
        # the mode of a directory already there, whatever mode= says.
        {"destination": "/scratch-" + cid, "type": "tmpfs", "source": "tmpfs",
         "options": ["size=1m", "mode=700", "noexec"]},
    ]
    bundle.shell("cat /proc/self/mountinfo; cat /data/file; "
                 "touch /data/x 2>/dev/null && echo WROTE; stat -c %a /scratch-" + cid)
    out = run(runtime, bundle, cid).stdout.splitlines()
    mounts = {}
    for line in out:
        fields = line.split()
        if len(fields) > 6 and "-" in fields:
            sep = fields.index("-")
            mounts[fields[4]] = (set(fields[5].split(",")),
                                 fields[sep + 1], set(fields[sep + 3].split(",")))
    expected = {"/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts",
                "/dev/shm": "tmpfs", "/dev/mqueue": "mqueue", "/sys": "sysfs",
                "/scratch-" + cid: "tmpfs"}
    for destination, fstype in expected.items():
        assert mounts[destination][1] == fstype, destination
    assert {"nosuid", "nodev", "noexec"} <= mounts["/dev/shm"][0]
    assert "ro" in mounts["/sys"][0]
    assert {"ro", "nosuid", "nodev"} <= mounts["/data"][0]
    assert "noexec" in mounts["/scratch-" + cid][0]
    assert {"size=1024k", "mode=700"} <= mounts["/scratch-" + cid][2]
    assert "from host" in out
    assert "WROTE" not in out
    assert out[-1] == "700"
    assert not (shared / "x").exists()


def test_masked_paths_unreadable(runtime, bundle, cid):
    bundle.linux["maskedPaths"] = ["/proc/keys", "/sys/firmware", "/proc/no-such"]
    bundle.shell("wc -c < /proc/keys; ls -A /sys/firmware | wc -l; "
                 "touch /sys/firmware/x 2>/dev/null || echo ro")
    assert run(runtime, bundle, cid).stdout.split() == ["0", "0", "ro"]


def test_readonly_paths_not_writable(runtime, bundle, cid):
    bundle.linux["readonlyPaths"] = ["/proc/sys"]
    bundle.shell("echo x > /proc/sys/kernel/hostname 2>/dev/null && echo WROTE; "
                 "grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6")
    out = run(runtime, bundle, cid).stdout.split()
    assert "WROTE" not in out
    assert "ro" in out[-1].split(",")


def test_readonly_root(runtime, bundle, cid):
    bundle.config["root"]["readonly"] = True
    bundle.shell("touch /pyoci-ro-test 2>/dev/null && echo WROTE; echo done")
    assert run(runtime, bundle, cid).stdout.split() == ["done"]


def test_devices_have_type_major_minor(runtime, bundle, cid):
    bundle.linux["devices"] = [{"path": "/dev/pyoci-null", "type": "c", "major": 1,
                                "minor": 3, "fileMode": 0o640, "uid": 1000,
                                "gid": 1000}]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    names = ["null", "zero", "full", "random", "urandom", "tty", "pyoci-null"]
    bundle.shell("for d in %s; do stat -c '%%n %%F %%t:%%T %%a %%u:%%g' /dev/$d; done; "
                 "for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done"
                 % " ".join(names))
    lines = run(runtime, bundle, cid).stdout.splitlines()
    expected = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8",
                "urandom": "1:9", "tty": "5:0"}
    for line, name in zip(lines, names):
        path, kind, rest = line.split(" ", 2)
        assert path == "/dev/" + name
        assert kind.startswith("character")
        numbers, mode, owner = rest.split()[-3:]
        if name == "pyoci-null":
            assert (numbers, mode, owner) == ("1:3", "640", "1000:1000")
        else:
            assert (numbers, mode) == (expected[name], "666")
    assert lines[len(names):] == ["pts/ptmx", "/proc/self/fd", "/proc/self/fd/0",
                                  "/proc/self/fd/1", "/proc/self/fd/2"]


def test_user_groups_umask(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 1000, "gid": 1000,
                              "additionalGids": [10, 20], "umask": 0o027}
    bundle.shell("id -u; id -g; id -G; umask")
    uid, gid, *groups, umask = run(runtime, bundle, cid).stdout.split()
    assert (uid, gid, umask) == ("1000", "1000", "0027")
    assert set(groups) == {"1000", "10", "20"}


def test_capability_sets_and_no_new_privs(runtime, bundle, cid):
    caps = {"bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
            "effective": ["CAP_KILL", "CAP_CHOWN"],
            "permitted": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
            "inheritable": ["CAP_KILL"],
            "ambient": ["CAP_KILL"]}
    bundle.process["capabilities"] = caps
    bundle.process["noNewPrivileges"] = True
    bundle.shell("cat /proc/self/status")
    fields = status_fields(run(runtime, bundle, cid).stdout)
    bit = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_NET_RAW": 13}

    def mask(names):
        return "%016x" % sum(1 << bit[n] for n in names)
    # exec as root recomputes permitted and effective from the bounding and
    # inheritable sets; no_new_privs then caps them at the old permitted set.
    assert fields["CapBnd"] == mask(caps["bounding"])
    assert fields["CapInh"] == mask(caps["inheritable"])
    assert fields["CapAmb"] == mask(caps["ambient"])
    assert fields["CapPrm"] == fields["CapEff"] == mask(caps["permitted"])
    assert fields["NoNewPrivs"] == "1"


def test_non_root_user_gets_only_configured_caps(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    bundle.process["capabilities"] = {"bounding": caps, "effective": caps,
                                      "permitted": caps}
    bundle.shell("cat /proc/self/status")
    fields = status_fields(run(runtime, bundle, cid).stdout)
    # exec as non-root with no ambient caps drops effective and permitted.
    assert fields["CapInh"] == fields["CapAmb"] == "0000000000000000"
    assert fields["CapPrm"] == fields["CapEff"] == "0000000000000000"
    assert fields["CapBnd"] == "%016x" % ((1 << 5) | (1 << 10))


def test_rlimits_and_oom_score_adj(runtime, bundle, cid):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
                                 {"type": "RLIMIT_NPROC", "soft": 77, "hard": 88}]
    bundle.process["oomScoreAdj"] = 500
    bundle.shell("ulimit -n; ulimit -Hn; ulimit -u; cat /proc/self/oom_score_adj")
    assert run(runtime, bundle, cid).stdout.split() == ["123", "456", "77", "500"]


def test_env_and_cwd(runtime, bundle, cid):
    bundle.process["env"] = ["PATH=/bin", "GREETING=hello world"]
    bundle.process["cwd"] = "/tmp"
    bundle.shell('echo "$GREETING"; pwd; env | sort')
    out = run(runtime, bundle, cid).stdout.splitlines()
    assert out[:2] == ["hello world", "/tmp"]
    assert "GREETING=hello world" in out and "PATH=/bin" in out


def test_user_namespace_mappings(runtime, bundle, cid):
    bundle.namespace("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.shell("cat /proc/self/uid_map /proc/self/gid_map; id -u; "
                 "stat -c %u /dev/null")
    out = run(runtime, bundle, cid).stdout.split()
    assert out[:6] == ["0", "100000", "65536", "0", "100000", "65536"]
    assert out[6] == "0"


def test_joined_namespace_is_shared(runtime, bundle, cid, tmp_path, rootfs):
    bundle.config["hostname"] = "first"
    bundle.args("sleep", "60")
    runtime("create", "--bundle", bundle.write(), cid)
    try:
        pid = runtime.state(cid)["pid"]
        second = Bundle(tmp_path / "second", rootfs)
        second.namespace("uts", "/proc/%d/ns/uts" % pid)
        second.namespace("network", "/proc/%d/ns/net" % pid)
        # A hostname in the config is set in the joined namespace too
        # (runtime-tools linux_ns_path), as runc does.
        second.config["hostname"] = "second"
        second.shell("hostname; readlink /proc/self/ns/net")
        out = runtime("run", "--bundle", second.write(), cid + "-2").stdout.split()
        assert out == ["second", os.readlink("/proc/%d/ns/net" % pid)]
        seen = subprocess.run(["nsenter", "--uts=/proc/%d/ns/uts" % pid, "hostname"],
                              capture_output=True, text=True, check=True).stdout
        assert seen.strip() == "second"
    finally:
        runtime("delete", "--force", cid)


def test_exit_code(runtime, bundle, cid):
    bundle.shell("exit 7")
    assert run(runtime, bundle, cid, check=False).returncode == 7


def test_exit_code_of_a_killed_container_is_128_plus_signal(runtime, bundle, cid):
    bundle.args("sleep", "60")
    foreground = subprocess.Popen(runtime.command("run", "--bundle", bundle.write(), cid))
    try:
        assert wait_for(lambda: runtime("state", cid, check=False).returncode == 0
                        and runtime.status(cid) == "running")
        runtime("kill", cid, "KILL")
        assert foreground.wait(timeout=30) == 137
    finally:
        foreground.kill()
        foreground.wait()


def test_missing_executable_fails_create(runtime, bundle, cid):
    bundle.args("/no/such/program")
    result = runtime("create", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode != 0
    assert "no such file or directory" in result.stderr
    bundle.args("no-such-program")
    result = runtime("create", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode != 0
    assert "executable file not found" in result.stderr
    assert runtime("list", "-q").stdout.split() == []


def test_not_executable_is_permission_denied(runtime, bundle, cid):
    bundle.args("/etc/passwd")
    result = runtime("create", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode != 0
    assert "permission denied" in result.stderr

"""`docker run --rm` through a private dockerd (its own socket, data and
exec roots, cgroup parent, no networking changes; it starts its own
containerd), with pyoci, runc and crun registered as runtimes."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from benchmarks.measure import interleaved, ratio, summary, timed

IMAGE = "pyoci-bench-busybox"
# Docker's defaults (its seccomp profile included), no network: the same for every runtime.
OPTIONS = ["--rm", "--network", "none"]


class PrivateDockerd:
    def __init__(self, base, runtimes):
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.socket = base / "docker.sock"
        config = {
            "runtimes": runtimes, "iptables": False, "ip6tables": False,
            "ip-masq": False, "ip-forward": False, "bridge": "none",
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "cgroup-parent": "pyoci-bench-docker",
        }
        (base / "daemon.json").write_text(json.dumps(config))
        self.log = open(base / "dockerd.log", "ab")
        self.process = subprocess.Popen(
            [shutil.which("dockerd"), "--config-file", str(base / "daemon.json"),
             "--host", "unix://%s" % self.socket, "--data-root", str(base / "data"),
             "--exec-root", str(base / "exec"), "--pidfile", str(base / "docker.pid")],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("private dockerd did not start: %s"
                                   % (base / "dockerd.log").read_text()[-1500:])
            time.sleep(0.1)

    def _answers(self):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.socket))
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def command(self, *args):
        return [shutil.which("docker"), "-H", "unix://%s" % self.socket] + list(args)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        # dockerd leaves its data root's mounts (overlay, shm) only if killed
        subprocess.run(["umount", "-R", "-l", str(self.base / "data")],
                       stderr=subprocess.DEVNULL)
        subprocess.run(["umount", "-R", "-l", str(self.base / "exec")],
                       stderr=subprocess.DEVNULL)


def docker_run(setup, rounds):
    if not (shutil.which("dockerd") and shutil.which("docker")):
        return {"skipped": "dockerd or docker is not installed"}
    base = setup.work / "docker"
    # "runc" is a name dockerd reserves for its own
    runtimes = {"bench-" + rt.name: {"path": rt.argv[0]} for rt in setup.runtimes
                if not rt.wrapper}
    wrapped = [rt for rt in setup.runtimes if rt.wrapper]
    for rt in wrapped:
        # Docker calls a runtime by one path: a two-line script runs the
        # wrapper (its cost is reported beside crun's figures in item 1)
        script = setup.work / ("%s-for-docker" % rt.name)
        script.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (
            " ".join(rt.wrapper), rt.argv[0]))
        script.chmod(0o755)
        runtimes["bench-" + rt.name] = {"path": str(script)}
    daemon = PrivateDockerd(base, runtimes)
    try:
        tarball = setup.work / "rootfs.tar"
        subprocess.run(["tar", "-C", str(setup.rootfs), "-cf", str(tarball), "."],
                       check=True)
        timed(daemon.command("import", str(tarball), IMAGE))
        # one run each first: the image's layers and the runtimes warm up
        for name in runtimes:
            timed(daemon.command("run", "--runtime", name, *OPTIONS, IMAGE, "true"))
        samples = interleaved(rounds, {
            name: (lambda n: lambda i: timed(daemon.command(
                "run", "--runtime", n, *OPTIONS, IMAGE, "true")))(name)
            for name in runtimes})
    finally:
        daemon.stop()
    result = {name[len("bench-"):]: summary(values) for name, values in samples.items()}
    base_median = result["runc"]["median"]
    result["ratio_to_runc"] = {n: ratio(s["median"], base_median)
                               for n, s in result.items() if isinstance(s, dict)}
    result["note"] = ("dockerd %s with its own containerd; crun through a "
                      "shell script and the mount-namespace wrapper (not "
                      "subtracted here)." % _version())
    return result


def _version():
    done = subprocess.run([shutil.which("dockerd"), "--version"],
                          capture_output=True, text=True)
    return done.stdout.strip()

"""Helpers for the root tests on the real hierarchies: unique paths, a
child that waits to be placed in a cgroup before it runs, and the leak
check every real test ends with."""
import itertools
import os
import subprocess
import sys

ROOT = "/sys/fs/cgroup"
UNIFIED = "/sys/fs/cgroup/unified"
_count = itertools.count()


def unique(name="t"):
    return "pyoci-cgtest-%d-%s-%d" % (os.getpid(), name, next(_count))


def hierarchies():
    """Every mounted hierarchy directory under /sys/fs/cgroup."""
    return [os.path.join(ROOT, d) for d in sorted(os.listdir(ROOT))
            if os.path.isdir(os.path.join(ROOT, d))]


def leftovers(top):
    """Directories named `top` left in any hierarchy."""
    return [os.path.join(h, top) for h in hierarchies()
            if os.path.exists(os.path.join(h, top))]


def all_leftovers():
    """Every directory this test process made under any hierarchy and
    left there."""
    prefix = "pyoci-cgtest-%d-" % os.getpid()
    return [os.path.join(h, d) for h in hierarchies() for d in os.listdir(h)
            if d.startswith(prefix)]


def stray_children():
    """Live children of this process that our tests started."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"sys.stdin.buffer.read(1)" in cmdline \
                and fields[0] != "Z":
            out.append(int(pid))
    return out


class Child:
    """A python3 child blocked on stdin until released, so that it runs
    its code only once it sits in the cgroup."""

    def __init__(self, code):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys\nsys.stdin.buffer.read(1)\n" + code],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid

    def release(self):
        self.proc.stdin.write(b"x")
        self.proc.stdin.close()

    def wait(self, timeout=60):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        out = self.proc.stdout.read()
        err = self.proc.stderr.read()
        self.proc.wait(timeout=timeout)
        return self.proc.returncode, out.decode(), err.decode()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            pipe.close()


def state(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("State:"):
                return line.split()[1]
    return None


def unified_subtree():
    with open(os.path.join(UNIFIED, "cgroup.subtree_control")) as f:
        return f.read().split()


def restore_unified_subtree(before):
    """Tests that set hugetlb limits enable it in the unified root; put
    back what was there (if nobody else uses it meanwhile)."""
    for controller in unified_subtree():
        if controller not in before:
            try:
                with open(os.path.join(UNIFIED, "cgroup.subtree_control"), "w") as f:
                    f.write("-" + controller)
            except OSError:
                pass

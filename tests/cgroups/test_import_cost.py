"""Importing the cgroup layer and running open_manager + apply for an
ordinary config pulls in only cheap standard modules: no json, no
subprocess, no re, no jsonschema, no cffi helper (only v2 devices load it)."""
import subprocess
import sys

SCRIPT = r"""
import sys, tempfile
before = set(sys.modules)
from pyoci.runtime.linux import cgroups
from pyoci.runtime.linux.cgroups import _fs, layout
root = tempfile.mkdtemp()
import os
for c in ("memory", "pids", "cpu", "devices", "freezer"):
    os.makedirs(os.path.join(root, c))
host = layout.Layout("v1", root, {c: os.path.join(root, c)
                     for c in ("memory", "pids", "cpu", "devices", "freezer")})

class FS(_fs.CgroupFS):          # no kernel here: every write just lands
    def write_lines(self, d, name, lines):
        with open(os.path.join(d, name), "w") as f:
            f.write("".join(lines))
    def read(self, d, name):
        p = os.path.join(d, name)
        if name == "devices.list" and not os.path.exists(p):
            return "a *:* rwm\n"
        if name == "devices.list":
            return ""
        return open(p).read() if os.path.exists(p) else "1024\n"

mgr = cgroups.open_manager("/docker/x", "x", layout=host, fs=FS())
mgr.create()
try:
    mgr.apply({"memory": {"limit": 1 << 30}, "cpu": {"shares": 0},
               "pids": {"limit": 100},
               "devices": [{"allow": False, "access": "rwm"}]})
except Exception:
    pass      # the fake device list cannot match; imports are what counts
new = sorted(m for m in set(sys.modules) - before)
print("\n".join(new))
"""

FORBIDDEN = {"json", "subprocess", "re", "jsonschema", "cffi", "_cffi_backend",
             "pyoci.runtime._native", "pyoci.runtime._native._helper", "dbus",
             "pyoci.runtime.linux.cgroups.ebpf", "threading", "asyncio",
             "socket", "selectors"}


def test_ordinary_path_imports_only_cheap_modules():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True,
                         text=True, check=True).stdout.split()
    pulled = set(out)
    assert pulled & FORBIDDEN == set()
    foreign = {m for m in pulled if not m.startswith("pyoci")} - {
        "math", "tempfile", "random", "shutil", "_random", "_sha512", "bisect",
        "_bisect", "hashlib", "_hashlib", "_blake2", "weakref", "_weakrefset",
        "fnmatch", "ntpath", "errno", "_sha2", "itertools", "_bz2", "bz2",
        "_compression", "lzma", "_lzma", "zlib", "collections", "functools"}
    # what is left must be tiny stdlib (tempfile's own deps listed above
    # come from this test script, not from pyoci)
    assert foreign <= {"math", "signal"}, foreign

"""The README's demo: one real container run by pyoci from a busybox
rootfs in a temporary bundle. It prints what the container sees (its PID,
hostname, mounts, capabilities) and shows the host keeps nothing after."""
import json
import os
import subprocess
import sys
import tempfile

from pyoci.spec.defaults import default_config
from pyoci.tests.integration.harness import PYOCI, make_rootfs

SCRIPT = """\
echo "pid inside: $$"
echo "hostname:   $(hostname)"
echo "user:       $(id)"
echo "mounts:"; awk '{print "  " $2 " (" $3 ")"}' /proc/mounts
grep -E '^Cap(Eff|Bnd)' /proc/self/status | sed 's/^/  /'
"""


def main():
    if os.geteuid() != 0:
        sys.exit("demo: run as root (pyoci creates namespaces and mounts)")
    with tempfile.TemporaryDirectory(prefix="pyoci-demo-") as bundle:
        os.chmod(bundle, 0o755)
        make_rootfs(os.path.join(bundle, "rootfs"))
        config = default_config()
        config["process"]["terminal"] = False
        config["process"]["args"] = ["sh", "-c", SCRIPT]
        config["hostname"] = "pyoci-demo"
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        container_id = "pyoci-demo-%d" % os.getpid()
        argv = [PYOCI, "run", "--bundle", bundle, container_id]
        print("$ " + " ".join(argv), flush=True)
        status = subprocess.call(argv)
        left = subprocess.run([PYOCI, "list", "-q"], capture_output=True,
                              text=True).stdout.split()
        print("exit status %d; containers left: %d" % (status, len(left)))
        return status


if __name__ == "__main__":
    sys.exit(main())

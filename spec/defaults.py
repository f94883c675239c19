"""The config.json that `pyoci spec` writes: exactly what `runc spec` (runc
1.1, libcontainer/specconv/example.go) generates, keys in the same order,
except for ociVersion."""
import os

from pyoci.spec import OCI_VERSION

_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def _cgroup2_unified():
    # runc asks statfs("/sys/fs/cgroup") for CGROUP2_SUPER_MAGIC; only the root
    # of a cgroup2 mount has cgroup.controllers, which the stdlib can see.
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def default_config(rootless=False, cgroup_namespace=None):
    """runc's example spec; `rootless` applies runc's ToRootless (user
    namespace mapping the current euid/egid to 0, no network namespace,
    /sys bind-mounted, no uid=/gid= mount options, no resources).
    `cgroup_namespace` defaults to whether the host has cgroup v2 unified, as
    in runc."""
    if cgroup_namespace is None:
        cgroup_namespace = _cgroup2_unified()
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ]
    namespaces = ["pid", "network", "ipc", "uts", "mount"] + (["cgroup"] if cgroup_namespace else [])
    linux = {}  # keys in the order of Go's specs.Linux fields
    if rootless:
        namespaces = [ns for ns in namespaces if ns not in ("network", "user")] + ["user"]
        linux["uidMappings"] = [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
        for i, mount in enumerate(mounts):
            if mount["destination"] == "/sys":
                mounts[i] = {"destination": "/sys", "type": "none", "source": "/sys",
                             "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}
            elif "options" in mount:
                mount["options"] = [o for o in mount["options"] if not o.startswith(("gid=", "uid="))]
    else:
        linux["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    linux["namespaces"] = [{"type": ns} for ns in namespaces]
    linux["maskedPaths"] = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ]
    linux["readonlyPaths"] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(_CAPABILITIES),
                "effective": list(_CAPABILITIES),
                "permitted": list(_CAPABILITIES),
                "ambient": list(_CAPABILITIES),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": mounts,
        "linux": linux,
    }

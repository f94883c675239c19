"""Facts about the host that decide what a conformance run can show: kernel,
cgroup layout, LSMs, distribution."""
import os

CGROUP_ROOT = "/sys/fs/cgroup"


def parse_mountinfo(text):
    """[(mount point, fstype, super options)] from /proc/*/mountinfo text."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 1:
            continue
        point = _unescape(fields[4])
        mounts.append((point, tail[0], tail[2] if len(tail) > 2 else ""))
    return mounts


def _unescape(path):
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    out = []
    i = 0
    while i < len(path):
        if path[i] == "\\" and len(path[i + 1:i + 4]) == 3 and path[i + 1:i + 4].isdigit():
            out.append(chr(int(path[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def cgroup_layout(mounts, root=CGROUP_ROOT):
    """Describe the cgroup mounts at and under `root`.

    Returns {"layout": "v1" | "v2" | "hybrid" | "none", "v1": [controllers],
    "v2_mount": path or None}. "hybrid" means v1 controller hierarchies
    beside a cgroup2 mount (systemd's /sys/fs/cgroup/unified)."""
    v1 = []
    v2_mount = None
    prefix = root.rstrip("/") + "/"
    for point, fstype, options in mounts:
        if point != root and not point.startswith(prefix):
            continue
        if fstype == "cgroup2":
            v2_mount = point if v2_mount is None or point == root else v2_mount
        elif fstype == "cgroup":
            names = [o for o in options.split(",")
                     if o not in ("rw", "ro") and not o.startswith(("release_agent=", "clone_children"))
                     and o not in ("noprefix", "xattr", "cpuset_v2_mode", "favordynmods")]
            v1.extend(names)
    if v2_mount == root:
        layout = "v2"
    elif v2_mount and v1:
        layout = "hybrid"
    elif v1:
        layout = "v1"
    elif v2_mount:
        layout = "v2"
    else:
        layout = "none"
    return {"layout": layout, "v1": sorted(set(v1)), "v2_mount": v2_mount}


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return e


def lsms(path="/sys/kernel/security/lsm"):
    """(list of LSM names, None) or (None, why they could not be read)."""
    text = _read(path)
    if isinstance(text, OSError):
        if not os.path.isdir("/sys/kernel/security") or not os.listdir("/sys/kernel/security"):
            return None, "%s unreadable: securityfs not mounted (%s)" % (path, text.strerror)
        return None, "%s unreadable: %s" % (path, text.strerror)
    return [n for n in text.strip().split(",") if n], None


def os_release(path="/etc/os-release"):
    text = _read(path)
    if isinstance(text, OSError):
        return None
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def facts():
    mountinfo = _read("/proc/self/mountinfo")
    mounts = [] if isinstance(mountinfo, OSError) else parse_mountinfo(mountinfo)
    cg = cgroup_layout(mounts)
    if cg["v2_mount"]:
        controllers = _read(os.path.join(cg["v2_mount"], "cgroup.controllers"))
        cg["v2"] = [] if isinstance(controllers, OSError) else controllers.split()
    else:
        cg["v2"] = []
    names, why = lsms()
    return {
        "kernel": os.uname().release,
        "machine": os.uname().machine,
        "os": os_release(),
        "cgroup": cg,
        "lsm": names,
        "lsm_note": why,
        "euid": os.geteuid(),
    }

"""linux.intelRdt: the container's resctrl group (config-linux.md,
"IntelRdt"), in the resctrl filesystem mounted in the runtime's mount
namespace.

    closID        group                      made by pyoci  removed by delete
    unset         <resctrl>/<container id>   if missing     if pyoci made it
    "/"           <resctrl> (default CLOS)   never          never
    NAME          <resctrl>/NAME             if missing and  never
                                             schemata given

Schemata (l3CacheSchema, then memBwSchema, then each `schemata` line) are
written to a group pyoci makes or to the container-id group; an existing
closID group is compared with them instead, and a difference is an error.
With enableMonitoring the container also gets mon_groups/<container id>,
removed by delete. The kernel checks what is written; when it refuses,
resctrl's info/last_cmd_status says why and is part of the error.

A config with intelRdt on a host without resctrl fails before anything is
made (the spec's "MUST generate an error"; runc's message)."""
import errno
import os

from pyoci.runtime.errors import SyscallError
from pyoci.runtime.linux.rootfs import mountpoints_of


def resctrl_root():
    """The resctrl mount point of this mount namespace, or None."""
    points = mountpoints_of("resctrl")
    return points[0] if points else None


def _schema_lines(rdt):
    return [line for line in (rdt.get("l3CacheSchema"), rdt.get("memBwSchema"))
            if line] + list(rdt.get("schemata") or ())


def check(rdt, root):
    """What can be refused before anything is made."""
    if root is None:
        raise SyscallError("intelRdt is specified in config, but Intel RDT is "
                           "not enabled: no resctrl filesystem is mounted",
                           errno.ENODEV)
    for field, resource, name in (("l3CacheSchema", "L3", "CAT"),
                                  ("memBwSchema", "MB", "MBA")):
        if rdt.get(field) and not os.path.isdir(os.path.join(root, "info", resource)):
            raise SyscallError("intelRdt.%s is specified in config, but Intel "
                               "RDT/%s is not enabled" % (field, name),
                               errno.ENODEV)


class ResctrlGroup:
    """One container's resctrl group and monitoring group; its record in
    the container's state lets delete undo exactly what create made."""

    def __init__(self, path, remove=False, monitor=None):
        self.path = path
        self.remove = remove        # pyoci made it, under the container id
        self.monitor = monitor      # mon_groups/<id>, made by pyoci

    def to_record(self):
        return {"path": self.path, "remove": self.remove, "monitor": self.monitor}

    @classmethod
    def from_record(cls, record):
        return cls(record["path"], record["remove"], record["monitor"])

    @classmethod
    def open(cls, rdt, container_id, root):
        """The group for config.json's `rdt`, made and given its schemata
        where the spec says so."""
        clos = rdt.get("closID")
        lines = _schema_lines(rdt)
        path = root if clos == "/" else os.path.join(root, clos or container_id)
        if clos and os.path.isdir(path):
            _compare_schemata(path, lines)
            return cls(path)
        if clos and not lines:
            raise SyscallError("intelRdt.closID: resctrl group %s does not exist "
                               "(it must be made beforehand when no schemata "
                               "are given)" % path, errno.ENOENT)
        try:
            os.mkdir(path, 0o755)
            made = True
        except FileExistsError:
            made = False    # the container id's group, left by someone: used
        except OSError as e:
            raise _error("cannot create resctrl group %s" % path, e, root) from None
        group = cls(path, remove=made and not clos)
        try:
            if lines:
                _write(os.path.join(path, "schemata"), "".join(
                    line + "\n" for line in lines), root)
        except BaseException:
            if made:
                os.rmdir(path)
            raise
        return group

    def add_process(self, pid, container_id, monitoring, root):
        _write(os.path.join(self.path, "tasks"), str(pid), root)
        if monitoring:
            monitor = os.path.join(self.path, "mon_groups", container_id)
            try:
                os.mkdir(monitor, 0o755)
            except OSError as e:
                raise _error("cannot create monitoring group %s" % monitor, e,
                             root) from None
            self.monitor = monitor
            _write(os.path.join(monitor, "tasks"), str(pid), root)

    def destroy(self):
        """rmdir: resctrl moves what is left in a group to its parent."""
        for path in (self.monitor, self.path if self.remove else None):
            if path:
                try:
                    os.rmdir(path)
                except FileNotFoundError:
                    pass


def _write(path, text, root):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as e:
        raise _error("cannot write %r to %s" % (text.strip(), path), e, root) from None


def _error(what, error, root):
    message = "intelRdt: %s: %s" % (what, error.strerror)
    try:
        with open(os.path.join(root, "info", "last_cmd_status")) as f:
            status = f.read().strip()
        if status and status != "ok":
            message += " (last_cmd_status: %s)" % status
    except OSError:
        pass
    return SyscallError(message, error.errno)


def _parse_schemata(lines):
    """{(resource, domain): value} of schemata lines ("L3:0=7ff;1=f");
    bitmasks compare as numbers (the kernel prints them without leading
    zeros), bandwidths as numbers, anything else as written."""
    values = {}
    for line in lines:
        resource, _, domains = line.strip().partition(":")
        for domain in filter(None, domains.split(";")):
            key, _, value = domain.partition("=")
            base = 10 if resource.strip().startswith("MB") else 16
            try:
                number = int(value.strip(), base)
            except ValueError:
                number = value.strip()
            values[(resource.strip(), key.strip())] = (number, value.strip())
    return values


def _compare_schemata(path, lines):
    if not lines:
        return
    with open(os.path.join(path, "schemata")) as f:
        have = _parse_schemata(f.read().splitlines())
    for key, (number, text) in _parse_schemata(lines).items():
        if key not in have or have[key][0] != number:
            raise SyscallError(
                "intelRdt: resctrl group %s exists with other schemata: "
                "%s:%s=%s asked, %s there" % (
                    path, key[0], key[1], text,
                    have[key][1] if key in have else "unset"), errno.EEXIST)

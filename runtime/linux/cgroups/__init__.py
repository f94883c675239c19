"""The cgroup layer: one small interface over cgroup v1, v2 and hybrid hosts.

Calling it (what the lifecycle does)::

    from pyoci.runtime.linux import cgroups

    # create
    mgr = cgroups.open_manager(linux.get("cgroupsPath"), container_id,
                               systemd=systemd_cgroup)
    mgr.create()                     # make the directories
    mgr.apply(linux.get("resources") or {}, linux.get("devices"))
    mgr.add_process(init_pid)        # before the process runs user code
    state["cgroup"] = mgr.to_record()   # after create(): it lists what it made

    # every later command (no global flags needed)
    mgr = cgroups.load_manager(state["cgroup"])
    mgr.freeze() / mgr.thaw() / mgr.is_frozen()      # pause, resume, status
    mgr.pids()                                       # ps
    mgr.update(resources)                            # update
    mgr.stats(); mgr.oom_killed()                    # events
    mgr.kill_all(signal.SIGKILL)                     # kill --all, delete --force
    mgr.destroy()                                    # delete
    mgr.add_process(pid)                             # exec
    cgroups.features()                               # features: linux.cgroup

Also: mgr.paths() (controller -> directory; "" is the cgroup2 one),
mgr.exists(), mgr.oom_kill_count(), mgr.warnings (e.g. "kernel memory
settings are ignored"), mgr.mode ("v1", "v2", "hybrid"). apply() takes the
linux.devices array as an optional second argument (runc drops a default
allow rule whose device config.json lists itself). update() changes only
what its dict names (devices only when it has "devices").

The record (to_record, JSON-safe): {"version": 1, "mode", "systemd",
"paths" {controller: dir}, "mounts" {controller: mount point}, "unified"
(cgroup2 dir or null), "unified_mount", "created" [dirs create() made,
outermost first]}. Take it *after* create(): a record without "created"
(null) still works, destroy() then removes the leaf directories only (what
runc does) and leaves parents such as /docker in place.

Errors are pyoci errors: SyscallError (with errno) when the kernel says no,
InvalidSpec for a bad cgroupsPath or resources, PyociError otherwise.

Host layout. Detected from /proc/self/mountinfo under /sys/fs/cgroup: v2
(cgroup2 at the root), v1 (one hierarchy per controller) or hybrid (v1
hierarchies plus cgroup2 at /sys/fs/cgroup/unified). Hybrid is driven like
runc: every controller through v1, and the container also gets the same
directory in the unified hierarchy (created, joined, removed with the rest,
used for cgroup.kill), so nothing leaks there. Unlike runc, controllers the
host has only in the unified hierarchy (hugetlb, on hosts like this one) are
set there instead of failing, and `unified` keys of those controllers are
accepted on hybrid hosts (runc refuses `unified` on anything but v2; so does
pyoci on pure v1, with runc's message).

linux.cgroupsPath (runc's rules):

- "/docker/ID" (absolute): that path below each hierarchy's mount point.
- "a/b" (relative): below the calling process's own cgroup (per v1
  hierarchy, from /proc/self/cgroup); on v2 below the *parent* of the
  caller's cgroup (runc: the caller's own cgroup has processes, so it cannot
  have controllers enabled for children); on a hybrid host the unified
  directory is always <unified mount>/a/b.
- empty: the container id, as a relative path (runc's default), so
  /sys/fs/cgroup/<ctrl>/<own cgroup>/<id>.
- ".." anywhere is refused (InvalidSpec), as are "/", NUL bytes and an id
  that is not a plain name: a hostile path can never reach outside the
  hierarchy (runc cleans ".." lexically instead; refusing is clearer).

systemd=True (`--systemd-cgroup`): pyoci does not talk to systemd (no D-Bus;
no systemd runs here), so it uses runc's systemd *naming* on cgroupfs:
"slice:prefix:name" -> /<slice expanded>/<prefix>-<name>.scope, the slice
nested the systemd way ("a-b.slice" -> /a.slice/a-b.slice, "" ->
system.slice, "-.slice" -> the root); a name ending in ".slice" is used as
is; an empty cgroupsPath is "system.slice:runc:<id>". So Docker's
"system.slice:docker:ID" lands in /sys/fs/cgroup/<ctrl>/system.slice/
docker-ID.scope. As in runc, systemd=True with a path not of that form is an
error, and the systemd form without systemd=True is an ordinary (relative)
path with colons in it. On a host where systemd does run, these directories
are not systemd units (features() says systemd: false).

Resources: zero values mean "leave unset" (Docker sends them); see
resources.py for the details and v1.py / v2.py for the files. Device rules
are config.json's followed by runc's default allow-list; on v1 they are
written to devices.allow/deny as the minimal transition runc computes, on v2
they become an eBPF program attached to the cgroup. net_cls/net_prio and
rdma are v1 controllers that must be mounted (a clear error otherwise, as in
runc); on v2 network is ignored, as in runc.

Tests run the backends on a fake tree: every backend takes its paths (and
a CgroupFS) explicitly, and open_manager takes root=, layout=, mountinfo=
and own= for the same purpose.
"""
from pyoci.runtime.errors import PyociError
from pyoci.runtime.linux.cgroups.layout import DEFAULT_ROOT

__all__ = ["open_manager", "load_manager", "features", "detect"]


def detect(root=DEFAULT_ROOT, mountinfo=None):
    """The host's cgroup Layout (see layout.py)."""
    from pyoci.runtime.linux.cgroups import layout
    return layout.detect(root, mountinfo)


def open_manager(cgroups_path, container_id, systemd=False, *,
                 root=DEFAULT_ROOT, layout=None, mountinfo=None, own=None,
                 fs=None):
    """The Manager for a new container's cgroup (nothing is created yet).

    cgroups_path is linux.cgroupsPath (or None); layout / mountinfo / own
    (a parse of /proc/self/cgroup) / fs are for tests."""
    from pyoci.runtime.linux.cgroups import layout as _layout
    if layout is None:
        layout = _layout.detect(root, mountinfo)
    inner = _layout.inner_path(cgroups_path, container_id, systemd)
    if own is None and not inner.startswith("/"):
        own = _layout.own_cgroups()
    paths, unified = layout.resolve(inner, own)
    if layout.mode == "v2":
        from pyoci.runtime.linux.cgroups.v2 import V2Manager
        return V2Manager(unified, layout.unified, fs=fs, systemd=systemd)
    from pyoci.runtime.linux.cgroups.v1 import V1Manager
    return V1Manager(paths, layout.v1, unified, layout.unified, fs=fs,
                     systemd=systemd)


def load_manager(record, fs=None):
    """The Manager described by a to_record() dict."""
    if not isinstance(record, dict) or record.get("version") != 1:
        raise PyociError("unknown cgroup record %r" % (record,))
    created = record.get("created")
    if record.get("mode") == "v2":
        from pyoci.runtime.linux.cgroups.v2 import V2Manager
        return V2Manager(record["unified"], record["unified_mount"],
                         created=created, fs=fs,
                         systemd=bool(record.get("systemd")))
    if record.get("mode") in ("v1", "hybrid"):
        from pyoci.runtime.linux.cgroups.v1 import V1Manager
        return V1Manager(record["paths"], record["mounts"],
                         record.get("unified"), record.get("unified_mount"),
                         created=created, fs=fs,
                         systemd=bool(record.get("systemd")))
    raise PyociError("unknown cgroup mode in record: %r" % record.get("mode"))


def features():
    """The linux.cgroup object of `pyoci features`: what the runtime
    implements, "irrelevant to the cgroup version of the host"
    (features-linux.md). v1 and v2 (and hybrid) backends both work (the
    integration tests run containers on v1 and on a pure cgroup2
    hierarchy); rdma is set through rdma.max on either; systemd /
    systemdUser are false: pyoci only borrows systemd's naming on
    cgroupfs, it does not create systemd units."""
    return {"v1": True, "v2": True, "systemd": False, "systemdUser": False,
            "rdma": True}

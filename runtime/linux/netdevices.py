"""linux.netDevices: the runtime's network interfaces moved into the
container's network namespace (config-linux.md, "Network Devices").

pyoci create runs this in the runtime's network namespace once the
container's exists, before the prestart hooks. Every device is checked
before any is moved: it exists here, and its name in the container is free
there (unless it ends in `%d`, a template the kernel fills in). The check
must come first because the kernel moves a device before it renames it: a
clash found by the kernel leaves the device in the container's namespace
under its old name, where it dies with that namespace.

Each device is then set down, moved and renamed in one RTM_NEWLINK (as
runc does), given back its permanent global-scope addresses (the kernel
drops every address on the move) and set up. Nothing moves it back: when
the namespace dies the kernel returns physical devices to the initial
namespace and destroys virtual ones (a veth takes its peer with it).

pyroute2 is imported by this module only, and this module only for a
config with netDevices. IPRoute is synchronous: it starts no thread."""
import errno
import os
from contextlib import contextmanager

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pyoci.runtime import _native as n
from pyoci.runtime.errors import SyscallError

IFA_F_PERMANENT = 0x80
RT_SCOPE_UNIVERSE = 0


def move_devices(devices, netns_path):
    """Move `devices` (config.json's linux.netDevices) into the network
    namespace at `netns_path`."""
    target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with _rtnl() as runtime_side, _rtnl(target) as container_side:
            planned = _plan(devices, runtime_side, container_side)
            for host_name, new_name, link in planned:
                try:
                    _move(runtime_side, container_side, target, link, new_name)
                except NetlinkError as e:
                    raise SyscallError(
                        "linux.netDevices.%s: cannot move it into the "
                        "container's network namespace as %s: %s"
                        % (host_name, new_name, os.strerror(e.code)),
                        e.code) from None
    finally:
        os.close(target)


@contextmanager
def _rtnl(netns_fd=-1):
    """A route netlink socket in this network namespace, or in the one of
    `netns_fd` (a socket stays in the namespace it was made in)."""
    if netns_fd < 0:
        sock = IPRoute()
    else:
        own = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            n.setns(netns_fd, n.CLONE_NEWNET)
            try:
                sock = IPRoute()
            finally:
                n.setns(own, n.CLONE_NEWNET)
        finally:
            os.close(own)
    try:
        yield sock
    finally:
        sock.close()


def _names(sock):
    return {link.get("ifname"): link for link in sock.get_links()}


def _plan(devices, runtime_side, container_side):
    """(host name, name in the container, link) of each device; raises
    before anything is moved when one of them cannot be."""
    here = _names(runtime_side)
    taken = set(_names(container_side))
    planned = []
    for host_name, device in devices.items():
        link = here.get(host_name)
        if link is None:
            raise SyscallError("linux.netDevices.%s: no network device %s in "
                               "the runtime's network namespace"
                               % (host_name, host_name), errno.ENODEV)
        new_name = (device or {}).get("name") or host_name
        if not new_name.endswith("%d"):
            if new_name in taken:
                raise SyscallError(
                    "linux.netDevices.%s: a network device named %s already "
                    "exists in the container's network namespace"
                    % (host_name, new_name), errno.EEXIST)
            taken.add(new_name)
        planned.append((host_name, new_name, link))
    return planned


def _move(runtime_side, container_side, target, link, new_name):
    index = link["index"]
    # Read before the link goes down: IPv6 addresses do not survive that.
    addresses = [a for a in runtime_side.get_addr(index=index)
                 if a.get("IFA_FLAGS", a["flags"]) & IFA_F_PERMANENT
                 and a["scope"] == RT_SCOPE_UNIVERSE]
    before = {l["index"] for l in container_side.get_links()}
    runtime_side.link("set", index=index, state="down")
    runtime_side.link("set", index=index, net_ns_fd=target, ifname=new_name)
    moved = _arrived(container_side, before, link.get("IFLA_ADDRESS"))
    for address in addresses:
        # IFA_ADDRESS is the peer's of a point-to-point IPv4 address,
        # IFA_LOCAL our own: both as they were.
        fields = {"index": moved, "family": address["family"],
                  "prefixlen": address["prefixlen"],
                  "address": address.get("IFA_ADDRESS")}
        for attribute, name in (("IFA_LOCAL", "local"), ("IFA_BROADCAST", "broadcast")):
            if address.get(attribute):
                fields[name] = address.get(attribute)
        container_side.addr("add", **fields)
    container_side.link("set", index=moved, state="up")


def _arrived(container_side, before, hardware_address):
    """The index of the device just moved in: a name from a `%d` template
    is not known in advance, and the kernel may give it a new index."""
    new = [l for l in container_side.get_links() if l["index"] not in before]
    matching = [l for l in new if l.get("IFLA_ADDRESS") == hardware_address]
    found = matching or new
    if len(found) != 1:
        raise SyscallError("cannot find the moved network device in the "
                           "container's network namespace", errno.ENODEV)
    return found[0]["index"]

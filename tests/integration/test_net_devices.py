"""linux.netDevices on real containers. Each test makes its own network
namespace (held by a sleeping process), a veth pair in it, and runs the
runtime in that namespace only (nsenter --net: `ip netns exec` would also
remount /sys), so the runtime's network namespace is the test's: the host's
interfaces are never touched and nothing can leave the test namespace.

Only pyoci: runc 1.1.5 predates netDevices and ignores the field: its
container starts with only `lo`, the veth end stays in the runtime's
namespace (checked in test_runc_1_1_ignores_net_devices)."""
import os
import signal
import subprocess

import pytest

from pyoci.tests.integration.harness import RUNC, Runtime, wait_for
from pyoci.tests.integration.test_cli_contract import imported

pytestmark = pytest.mark.root


class OwnNetns:
    """A network namespace of the test's own, held by one process."""

    def __init__(self, marker):
        self.holder = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", "sleep 100000; : " + marker],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True)
        self.path = "/proc/%d/ns/net" % self.holder.pid
        assert wait_for(lambda: os.path.exists(self.path) and
                        os.readlink(self.path) != os.readlink("/proc/self/ns/net"))

    def ip(self, *args):
        return subprocess.run(["nsenter", "--net=" + self.path, "ip"] + list(args),
                              capture_output=True, text=True, check=True).stdout

    def links(self):
        """Interface name -> `ip -o link` line without the counters that
        move on their own."""
        return {line.split(":")[1].strip().split("@")[0]: line
                for line in self.ip("-o", "link").splitlines()}

    def addresses(self):
        return sorted(self.ip("-o", "addr").splitlines())

    def runtime(self, runtime):
        """`runtime` run inside this network namespace."""
        return Runtime(runtime.name, ["nsenter", "--net=" + self.path]
                       + runtime.argv, runtime.root)

    def close(self):
        os.killpg(self.holder.pid, signal.SIGKILL)
        self.holder.wait()


@pytest.fixture
def netns(cid):
    namespace = OwnNetns(cid)
    # Two pairs: `ct0` / `ct1` go to containers, their peers stay.
    namespace.ip("link", "add", "ct0", "type", "veth", "peer", "name", "peer0")
    namespace.ip("link", "add", "ct1", "type", "veth", "peer", "name", "peer1")
    namespace.ip("addr", "add", "10.99.0.1/24", "dev", "ct0")
    namespace.ip("addr", "add", "fd99::1/64", "dev", "ct0")
    namespace.ip("addr", "add", "10.99.1.1/24", "brd", "+", "dev", "ct1")
    namespace.ip("addr", "add", "10.97.0.1", "peer", "10.97.0.2/32", "dev", "ct1")
    # not global scope: not carried over
    namespace.ip("addr", "add", "10.98.0.1/24", "dev", "ct0", "scope", "link")
    yield namespace
    namespace.close()


def container_ip(bundle, devices, script):
    bundle.linux["netDevices"] = devices
    return bundle.shell(script).write()


def test_device_moves_renamed_up_with_its_addresses(pyoci, bundle, cid, netns):
    before = netns.links()
    addresses_before = netns.addresses()
    runtime = netns.runtime(pyoci)
    path = container_ip(bundle, {"ct0": {"name": "eth0"}},
                        "ip -o link; ip -o addr; sleep 1000; : %s" % cid)
    out = bundle.path / "out"
    with open(out, "w") as stdout:
        subprocess.run(runtime.command("create", "--bundle", path, cid), check=True,
                       stdin=subprocess.DEVNULL, stdout=stdout, stderr=stdout)
    inside = netns.links()
    assert "ct0" not in inside and set(inside) == set(before) - {"ct0"}
    runtime("start", cid)
    assert wait_for(lambda: "fd99::1" in out.read_text())
    seen = out.read_text()
    eth0 = [line for line in seen.splitlines()
            if line.split(":")[1:2] and line.split(":")[1].strip().split("@")[0] == "eth0"]
    assert len(eth0) == 1 and ",UP" in eth0[0], seen
    assert "inet 10.99.0.1/24" in seen and "inet6 fd99::1/64" in seen
    assert "10.98.0.1" not in seen          # link scope stays behind (and goes)
    runtime("delete", "--force", cid)
    # The container's namespace is gone: the kernel destroys the veth end it
    # held, and with it its peer here; nothing else here changed. (The
    # container's side cannot be looked at: holding its namespace open
    # would keep the device alive.) The kernel frees namespaces from a
    # work queue, so this may take a moment on a busy host.
    assert wait_for(lambda: "peer0" not in netns.links(), timeout=60)
    assert netns.links() == {k: v for k, v in before.items()
                             if k not in ("ct0", "peer0")}
    assert netns.addresses() == [a for a in addresses_before
                                 if " ct0 " not in a and " peer0 " not in a]


def test_name_template_lets_the_kernel_number_them(pyoci, bundle, cid, netns):
    runtime = netns.runtime(pyoci)
    path = container_ip(bundle, {"ct0": {"name": "net%d"}, "ct1": {"name": "net%d"}},
                        "ip -o addr")
    result = runtime("run", "--bundle", path, cid)
    names = sorted({line.split()[1] for line in result.stdout.splitlines()
                    if "inet " in line and not line.split()[1] == "lo"})
    assert names == ["net0", "net1"], result.stdout
    assert "10.99.0.1/24" in result.stdout and "10.99.1.1/24" in result.stdout


@pytest.mark.parametrize("user_namespace", [False, True])
def test_device_keeps_its_name_without_one(pyoci, bundle, cid, netns, user_namespace):
    if user_namespace:      # the container's network namespace is then its user namespace's
        bundle.namespace("user")
        bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = [
            {"containerID": 0, "hostID": 100000, "size": 65536}]
    runtime = netns.runtime(pyoci)
    result = runtime("run", "--bundle", container_ip(bundle, {"ct1": {}}, "ip -o addr"),
                     cid)
    ct1 = [line.split("\\")[0].split()[2:] for line in result.stdout.splitlines()
           if line.split()[1] == "ct1"]
    assert ["inet", "10.99.1.1/24", "brd", "10.99.1.255", "scope", "global", "ct1"] in ct1
    assert ["inet", "10.97.0.1", "peer", "10.97.0.2/32", "scope", "global", "ct1"] in ct1


@pytest.mark.parametrize("devices, clash", [
    ({"ct0": {"name": "lo"}}, "lo"),                            # the container's own
    ({"ct0": {"name": "eth0"}, "ct1": {"name": "eth0"}}, "eth0"),  # each other
])
def test_a_name_clash_fails_and_moves_nothing(pyoci, bundle, cid, netns, devices, clash):
    before, addresses = netns.links(), netns.addresses()
    runtime = netns.runtime(pyoci)
    result = runtime("create", "--bundle", container_ip(bundle, devices, "true"), cid,
                     check=False)
    assert result.returncode == 1
    assert "a network device named %s already exists in the container's " \
        "network namespace" % clash in result.stderr
    assert netns.links() == before and netns.addresses() == addresses
    assert runtime("list", "-q").stdout.split() == []


def test_a_missing_device_fails_clearly(pyoci, bundle, cid, netns):
    runtime = netns.runtime(pyoci)
    result = runtime("create", "--bundle",
                     container_ip(bundle, {"nosuch0": {}}, "true"), cid, check=False)
    assert result.returncode == 1
    assert "linux.netDevices.nosuch0: no network device nosuch0 in the " \
        "runtime's network namespace" in result.stderr


def test_only_a_config_with_net_devices_imports_pyroute2(pyoci, bundle, cid, netns):
    path = container_ip(bundle, {"ct0": {}}, "sleep 1000; : %s" % cid)
    modules = imported(netns.runtime(pyoci).command("create", "--bundle", path, cid),
                       stdin=subprocess.DEVNULL, timeout=60)
    assert "pyroute2" in modules
    pyoci("delete", "--force", cid)


@pytest.mark.skipif(not RUNC, reason="no runc")
def test_runc_1_1_ignores_net_devices(bundle, cid, netns, tmp_path, state_roots):
    state_roots.append(tmp_path / "runc-state")
    runc = netns.runtime(Runtime("runc", [RUNC], tmp_path / "runc-state"))
    result = runc("run", "--bundle", container_ip(bundle, {"ct0": {"name": "eth0"}},
                                                  "ip -o link"), cid)
    assert "eth0" not in result.stdout and "ct0" in netns.links()

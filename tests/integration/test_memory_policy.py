"""linux.memoryPolicy as the container's own process reports it. pyoci
only: runc supports memoryPolicy from 1.3, this host has Debian's 1.1.5."""
import pytest

pytestmark = pytest.mark.root


def _numa_policies(text):
    # numa_maps: "<address> <policy> ..." per mapping; a mapping without a
    # policy of its own shows the task's.
    return {line.split()[1] for line in text.splitlines() if line.strip()}


def test_interleave_over_node_0_is_the_task_policy(pyoci, bundle, cid):
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "0"}
    bundle.shell("cat /proc/self/numa_maps")
    out = pyoci("run", "--bundle", bundle.write(), cid).stdout
    assert _numa_policies(out) == {"interleave:0"}


def test_bind_with_static_nodes_flag(pyoci, bundle, cid):
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0",
                                    "flags": ["MPOL_F_STATIC_NODES"]}
    bundle.shell("cat /proc/self/numa_maps")
    out = pyoci("run", "--bundle", bundle.write(), cid).stdout
    assert _numa_policies(out) == {"bind=static:0"}


def test_without_a_policy_the_default_stays(pyoci, bundle, cid):
    bundle.shell("cat /proc/self/numa_maps")
    out = pyoci("run", "--bundle", bundle.write(), cid).stdout
    assert _numa_policies(out) == {"default"}


def test_a_node_the_host_lacks_fails_create_and_leaves_nothing(pyoci, bundle, cid):
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "1000"}
    result = pyoci("create", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode == 1
    assert "linux.memoryPolicy: cannot set MPOL_BIND on nodes '1000'" in result.stderr
    assert "Invalid argument" in result.stderr


@pytest.mark.parametrize("policy, path", [
    ({"mode": "MPOL_NOPE", "nodes": "0"}, "linux.memoryPolicy.mode"),
    ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_LOUD"]},
     "linux.memoryPolicy.flags[0]"),
    ({"mode": "MPOL_BIND", "nodes": "0-x"}, "linux.memoryPolicy.nodes"),
    ({"mode": "MPOL_LOCAL", "nodes": "0"}, "linux.memoryPolicy.nodes"),
])
def test_bad_policies_are_refused_with_their_path(pyoci, bundle, cid, policy, path):
    bundle.linux["memoryPolicy"] = policy
    result = pyoci("create", "--bundle", bundle.write(), cid, check=False)
    assert result.returncode == 1
    assert path + ":" in result.stderr

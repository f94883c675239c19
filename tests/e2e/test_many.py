"""Many short `docker run --rm`, one after another and at the same time:
each prints its own output, and nothing is left (the autouse check: no
container, state, cgroup, mount or shim)."""
import pytest

from pyoci.tests.e2e.daemons import IMAGE
from pyoci.tests.integration.harness import run_at_once

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_100_sequential_runs(daemons, rt):
    for n in range(100):
        result = daemons.docker_run(rt, "--rm", IMAGE, "sh", "-c", "echo run %d; exit %d"
                                    % (n, n % 7))
        assert (result.returncode, result.stdout, result.stderr) == \
            (n % 7, "run %d\n" % n, ""), n


def test_20_concurrent_runs(daemons, rt):
    results = run_at_once(
        [daemons.docker_command("run", "--runtime", rt, "--rm", IMAGE,
                                "sh", "-c", "echo run %d; exit %d" % (n, n % 7))
         for n in range(20)], timeout=300, env=daemons.client_env)
    assert results == [(n % 7, "run %d\n" % n) for n in range(20)]

"""Many short `docker run --rm`, one after another and at the same time:
each prints its own output, and nothing is left (the autouse check: no
container, state, cgroup, mount or shim)."""
import subprocess
import tempfile

import pytest

from pyoci.tests.e2e.daemons import IMAGE

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_100_sequential_runs(daemons, rt):
    for n in range(100):
        result = daemons.docker_run(rt, "--rm", IMAGE, "sh", "-c", "echo run %d; exit %d"
                                    % (n, n % 7))
        assert (result.returncode, result.stdout, result.stderr) == \
            (n % 7, "run %d\n" % n, ""), n


def test_20_concurrent_runs(daemons, rt):
    outputs = [tempfile.TemporaryFile() for _ in range(20)]
    clients = [subprocess.Popen(
        daemons.docker_command("run", "--runtime", rt, "--rm", IMAGE,
                               "sh", "-c", "echo run %d; exit %d" % (n, n % 7)),
        stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        env=daemons.client_env) for n, out in enumerate(outputs)]
    results = []
    for client, out in zip(clients, outputs):
        code = client.wait(timeout=300)
        out.seek(0)
        results.append((code, out.read().decode(errors="replace")))
        out.close()
    assert results == [(n % 7, "run %d\n" % n) for n in range(20)]

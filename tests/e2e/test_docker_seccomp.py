"""Docker's own default seccomp profile, as the installed dockerd puts it
into every config.json it generates, run through pyoci and runc."""
import pytest

from pyoci.tests.e2e.daemons import IMAGE, checked
from pyoci.tests.integration.harness import build_seccomp_probe, probe, results

pytestmark = [pytest.mark.root, pytest.mark.e2e]
EPERM = 1
KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING = 0, 2**64 - 3


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    return build_seccomp_probe(tmp_path_factory.mktemp("seccomp-probe"))


def test_default_profile_denies_namespaces_mounts_and_keys(daemons, rt, probe_dir):
    # No --security-opt: dockerd applies its default profile.
    script = (probe("unshare", 0x10000000) + probe("mount", 0, 0, 0)
              + probe("keyctl", KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING)
              + probe("personality", 8) + probe("personality", 0x40000).replace(
                  '"@personality: ', '"@personality-other: ')
              + "unshare -U true 2>&1; "
                "echo @ordinary: $(echo a b | wc -w) $(ls /bin | grep -c .) "
                "$(ps -o pid | grep -c 1); "
                "grep ^Seccomp: /proc/self/status | while read k v; do echo \"@$k $v\"; done")
    result = checked(daemons.docker("run", "--runtime", rt, "--rm",
                                    "-v", "%s:/probe:ro" % probe_dir, IMAGE,
                                    "sh", "-c", script))
    seen = results(result.stdout)
    assert seen["Seccomp"] == "2"
    assert seen["unshare"] == seen["mount"] == seen["keyctl"] == "errno %d" % EPERM
    # Docker allows personality for a few values only.
    assert seen["personality"].startswith("ok ")
    assert seen["personality-other"] == "errno %d" % EPERM
    assert "unshare(0x10000000): Operation not permitted" in result.stdout
    words, applets, pids = seen["ordinary"].split()
    assert words == "2" and int(applets) > 100 and int(pids) > 0

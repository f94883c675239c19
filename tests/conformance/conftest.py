# The real-container fixtures of tests/integration (busybox rootfs, bundles,
# pyoci and runc through their command lines, the host leak check).
from pyoci.tests.integration.conftest import (bundle, cid, host_untouched,  # noqa: F401
                                              pyoci, rootfs, runtime,
                                              state_roots)

import pytest

from .upstream import MISSING_REASON, SPEC_DIR, Upstream


@pytest.fixture(scope="session")
def upstream():
    if not SPEC_DIR.is_dir():
        pytest.skip(MISSING_REASON)
    return Upstream(SPEC_DIR)

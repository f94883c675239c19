"""Shared test settings. Tests marked `root` need root and real kernel
features; they are skipped, with the reason, elsewhere."""
import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: real namespaces, mounts and cgroups")
    for item in items:
        if "root" in item.keywords or "e2e" in item.keywords:
            item.add_marker(skip)

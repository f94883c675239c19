"""Upstream's example documents: pyoci gives each the verdict upstream's
schema gives, names the offending JSON path of every bad one, and for the
good ones reports only what its semantic rules add, by rule name.

No example is skipped: pyoci's schema also covers the FreeBSD, z/OS, Windows,
Solaris and VM sections, exactly as upstream's does."""
import json

import pytest

from pyoci.spec import full, validate
from pyoci.spec.errors import InvalidSpec
from pyoci.spec.load import load_document
from pyoci.spec.paths import format_path

from . import upstream as up
from .upstream import examples

SCHEMAS = {"config": (up.CONFIG, validate.CONFIG_SCHEMA), "state": (up.STATE, validate.STATE_SCHEMA),
           "features": (up.FEATURES, validate.FEATURES_SCHEMA)}

# What pyoci's semantic rules (for a container to be started on Linux) say of
# upstream's good config examples, which its schema accepts.
RULES_ON_GOOD_CONFIGS = {
    "freebsd-example.json": ["hostname-needs-uts-namespace"],
    "freebsd-minimal.json": ["process-required"],
    "linux-netdevice.json": ["process-required", "net-devices-need-network-namespace"],
    "linux-rdma.json": ["process-required"],
    "minimal-for-start.json": [],
    "minimal.json": ["process-required"],
    "spec-example.json": [],
    "zos-example.json": ["hostname-needs-uts-namespace"],
    "zos-minimal.json": ["process-required"],
}


def _load(path):
    try:
        return load_document(path)
    except InvalidSpec as error:
        with pytest.raises(ValueError):
            json.loads(path.read_text())  # upstream's verdict on non-JSON
        assert path.parent.name == "bad"
        assert "%s is not valid JSON: line 1 column 2: " % path in str(error)
        return None


@pytest.mark.parametrize("path", examples())
def test_example_gets_upstreams_verdict(upstream, path):
    doc = _load(path)
    if doc is None:
        return
    upstream_ref, name = SCHEMAS[path.parent.parent.name]
    expected_valid = path.parent.name == "good"
    assert upstream.is_valid(doc, upstream_ref) == expected_valid
    assert (validate.schema_problems(doc, name) == []) == expected_valid
    assert (full.schema_problems(doc, name) == []) == expected_valid


@pytest.mark.parametrize("path", examples(verdict="bad"))
def test_bad_example_problems_name_the_offending_path(upstream, path):
    doc = _load(path)
    if doc is None:
        return
    upstream_ref, name = SCHEMAS[path.parent.parent.name]
    offending = [format_path(tuple(e.absolute_path)) for e in upstream.errors(doc, upstream_ref)]
    assert offending
    reports = [validate.schema_problems(doc, name), full.schema_problems(doc, name)]
    if name == validate.CONFIG_SCHEMA:
        reports += [validate.config_problems(doc), full.full_report(doc)]
    for report in reports:
        for place in offending:
            assert any(problem.startswith(place + ": ") for problem in report), (place, report)


@pytest.mark.parametrize("path", examples(["config"], "good"))
def test_good_config_example_rules(path):
    report = full.full_report(load_document(path))
    assert [problem.rsplit("[", 1)[1].rstrip("]") for problem in report] == RULES_ON_GOOD_CONFIGS[path.name]
    assert report == validate.config_problems(load_document(path))


def test_bad_example_texts(upstream):
    """What `pyoci validate` prints for upstream's bad examples."""
    bad = up.EXAMPLES_DIR / "config" / "bad"
    assert full.full_report(load_document(bad / "linux-hugepage.json"), for_start=False) == [
        "linux.resources.hugepageLimits[0].pageSize: '64kB' does not match '^[1-9][0-9]*[KMG]B$'"]
    assert full.full_report(load_document(bad / "linux-rdma.json"), for_start=False) == [
        "linux.resources.rdma.mlx5_1.hcaHandles: 'not a uint32' is not of type 'integer'"]
    assert full.full_report(load_document(bad / "freebsd-vnet-disable.json"), for_start=False) == [
        "freebsd.jail.vnet: 'disable' is not one of ['new', 'inherit']"]
    features = load_document(up.EXAMPLES_DIR / "features" / "bad" / "missing-ociVersionMax.json")
    assert validate.features_problems(features) == ["(root): 'ociVersionMax' is a required property"]
    with pytest.raises(InvalidSpec, match=r"invalid-json.json is not valid JSON: line 1 column 2: "
                                          r"Expecting property name enclosed in double quotes"):
        load_document(bad / "invalid-json.json")

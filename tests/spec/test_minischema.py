"""The fast interpreter keyword by keyword: for each keyword pyoci's schema
uses, a document that breaks it gets exactly jsonschema's problems, and the
verdict upstream's schema gives."""
import pytest

from pyoci.spec import full, minischema, validate

from . import upstream as up

BASE = {"ociVersion": "1.3.0", "root": {"path": "rootfs"}}

# keyword -> (a config breaking it, the problem pyoci reports)
CASES = {
    "type": ({**BASE, "hostname": 5}, "hostname: 5 is not of type 'string'"),
    "type-integer": ({**BASE, "process": {"cwd": "/", "user": {"uid": 1.0}}},
                     "process.user.uid: 1.0 is not of type 'integer'"),
    "type-boolean-is-no-integer": ({**BASE, "process": {"cwd": "/", "oomScoreAdj": True}},
                                   "process.oomScoreAdj: True is not of type 'integer'"),
    "enum": ({**BASE, "linux": {"rootfsPropagation": "rshared"}},
             "linux.rootfsPropagation: 'rshared' is not one of ['private', 'shared', 'slave', 'unbindable']"),
    "properties": ({**BASE, "root": {"path": "r", "readonly": "yes"}}, "root.readonly: 'yes' is not of type 'boolean'"),
    "patternProperties": ({**BASE, "annotations": {"a": 1}}, "annotations.a: 1 is not of type 'string'"),
    "additionalProperties": ({**BASE, "linux": {"netDevices": {"eth0": []}}},
                             "linux.netDevices.eth0: [] is not of type 'object'"),
    "required": ({"root": {"path": "r"}}, "(root): 'ociVersion' is a required property"),
    "items": ({**BASE, "mounts": [{"destination": "/a"}, 3]}, "mounts[1]: 3 is not of type 'object'"),
    "items-tuple": ({**BASE, "vm": {"kernel": {"path": "k"}, "hwConfig": {"iomems": [{"firstMFN": 1}, 5]}}},
                    "vm.hwConfig.iomems[0]: 'nrMFNs' is a required property"),
    "minItems": ({**BASE, "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                                                "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}}},
                 "linux.seccomp.syscalls[0].names: [] should be non-empty"),
    "minimum": ({**BASE, "process": {"cwd": "/", "rlimits": [{"type": "RLIMIT_AS", "soft": -1, "hard": 0}]}},
                "process.rlimits[0].soft: -1 is less than the minimum of 0"),
    "maximum": ({**BASE, "linux": {"resources": {"blockIO": {"weight": 65536}}}},
                "linux.resources.blockIO.weight: 65536 is greater than the maximum of 65535"),
    "pattern": ({**BASE, "linux": {"devices": [{"type": "x", "path": "/dev/x"}]}},
                "linux.devices[0].type: 'x' does not match '^[cbup]$'"),
    "$ref-across-files": ({**BASE, "linux": {"uidMappings": [{"containerID": 0, "hostID": 0}]}},
                          "linux.uidMappings[0]: 'size' is a required property"),
}


@pytest.mark.parametrize("keyword", CASES)
def test_keyword(upstream, keyword):
    doc, expected = CASES[keyword]
    assert validate.schema_problems(doc, validate.CONFIG_SCHEMA) == [expected]
    assert full.schema_problems(doc, validate.CONFIG_SCHEMA) == [expected]
    assert not upstream.is_valid(doc, up.CONFIG)


def test_every_keyword_has_a_case():
    assert {k.split("-")[0] for k in CASES} == minischema.SUPPORTED


def test_unanchored_patterns_and_newlines_behave_like_jsonschema(upstream):
    # Python's $ also matches before a final newline; upstream's verdicts come from the same engine.
    doc = {**BASE, "process": {"cwd": "/", "args": ["sh"],
                               "rlimits": [{"type": "RLIMIT_AS\n", "soft": 0, "hard": 0}]}}
    assert validate.schema_problems(doc, validate.CONFIG_SCHEMA) == []
    assert upstream.is_valid(doc, up.CONFIG)
    assert validate.config_problems(doc) == [
        "process.rlimits[0].type: 'RLIMIT_AS\\n' is not a Linux resource limit [rlimit-type-known]"]

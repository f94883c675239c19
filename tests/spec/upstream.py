"""Upstream's runtime-spec 1.3.0 schema and examples, evaluated with
jsonschema: the reference the tests compare pyoci against. Test data only;
nothing that pyoci builds, installs or runs reads it."""
import json
import os
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SHARED = Path(os.environ.get("PYOCI_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
SPEC_DIR = SHARED / "oci-runtime-spec-v1.3.0" / "schema"
EXAMPLES_DIR = SPEC_DIR / "test"

CONFIG = "config-schema.json"
PROCESS = "config-schema.json#/properties/process"
STATE = "state-schema.json"
FEATURES = "features-schema.json"

MISSING_REASON = "upstream runtime-spec schema not found at %s (set PYOCI_SHARED)" % SPEC_DIR


class Upstream:
    def __init__(self, schema_dir):
        resources = [(p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
                     for p in schema_dir.glob("*.json")]
        self._registry = Registry().with_resources(resources)
        self._validators = {}

    def _validator(self, ref):
        if ref not in self._validators:
            self._validators[ref] = jsonschema.Draft4Validator({"$ref": ref}, registry=self._registry)
        return self._validators[ref]

    def errors(self, doc, ref):
        return list(self._validator(ref).iter_errors(doc))

    def is_valid(self, doc, ref):
        return self._validator(ref).is_valid(doc)


def examples(kinds=("config", "state", "features"), verdict="*"):
    """Pytest params for upstream's example files of `kinds`, those under
    `verdict` ("good", "bad" or both); one skipped param if the shared folder
    is absent."""
    if not SPEC_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_REASON), id="upstream-missing")]
    files = sorted(f for kind in kinds for f in (EXAMPLES_DIR / kind).glob(verdict + "/*.json"))
    return [pytest.param(f, id="%s/%s/%s" % (f.parent.parent.name, f.parent.name, f.name)) for f in files]

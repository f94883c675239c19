"""The complete report for `pyoci validate`: pyoci's schema files checked by
jsonschema (Draft 4, as upstream's schema is written), then the semantic rules.

This is the only module that imports jsonschema; the hot path uses
pyoci.spec.validate, which gives the same schema problems without it.
"""
import json
import os

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from pyoci.spec import rules
from pyoci.spec.minischema import SCHEMA_DIR
from pyoci.spec.paths import problem
from pyoci.spec.validate import CONFIG_SCHEMA, PROCESS_POINTER

_registry = None
_validators = {}  # "file#pointer" -> Draft4Validator


def _validator(name, pointer):
    global _registry
    if _registry is None:
        resources = []
        for file in sorted(os.listdir(SCHEMA_DIR)):
            with open(os.path.join(SCHEMA_DIR, file), encoding="utf-8") as f:
                resources.append((file, Resource.from_contents(json.load(f), default_specification=DRAFT4)))
        _registry = Registry().with_resources(resources)
    ref = name + "#" + pointer
    validator = _validators.get(ref)
    if validator is None:
        validator = _validators[ref] = jsonschema.Draft4Validator({"$ref": ref}, registry=_registry)
    return validator


def schema_problems(doc, name, pointer=""):
    """What jsonschema finds in `doc` against pyoci's schema file `name`."""
    return [problem(tuple(error.absolute_path), error.message)
            for error in _validator(name, pointer).iter_errors(doc)]


def full_report(doc, bundle_dir=None, for_start=True):
    """Every problem of a config.json document: schema, then semantic rules."""
    context = rules.Context(bundle_dir, for_start)
    return schema_problems(doc, CONFIG_SCHEMA) + rules.findings(rules.CONFIG, doc, context)


def full_process_report(doc):
    return schema_problems(doc, CONFIG_SCHEMA, PROCESS_POINTER) + rules.findings(rules.PROCESS, doc)

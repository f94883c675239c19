"""Validation on the hot path: pyoci's schema (through the small interpreter
in minischema, not jsonschema) followed by the semantic rules.

Every problem is one string starting with its JSON path; semantic problems end
with their rule's name in brackets. `pyoci validate` uses pyoci.spec.full
instead, which checks the same schema files with jsonschema.
"""
from pyoci.spec import minischema, rules
from pyoci.spec.errors import InvalidSpec
from pyoci.spec.paths import problem

CONFIG_SCHEMA = "config.schema.json"
STATE_SCHEMA = "state.schema.json"
FEATURES_SCHEMA = "features.schema.json"
PROCESS_POINTER = "/definitions/process"  # config's process, also `exec --process`


def schema_problems(doc, name, pointer=""):
    return [problem(path, message) for path, message in minischema.problems(doc, name, pointer)]


def config_problems(doc, bundle_dir=None, for_start=True):
    """Problems of a config.json document. With `bundle_dir`, root.path must
    exist (relative to it); with `for_start`, `process` must be present."""
    context = rules.Context(bundle_dir, for_start)
    return schema_problems(doc, CONFIG_SCHEMA) + rules.findings(rules.CONFIG, doc, context)


def check_config(doc, bundle_dir=None, for_start=True):
    found = config_problems(doc, bundle_dir, for_start)
    if found:
        raise InvalidSpec("invalid config.json", found)


def config_warnings(doc):
    """What is allowed but deprecated or ignored (relative mount destinations,
    unknown capabilities); the runtime logs these."""
    return rules.findings(rules.CONFIG, doc, rules.Context(), rules.WARNING)


def process_problems(doc):
    """Problems of a bare `process` object, as `exec --process FILE` reads it."""
    return schema_problems(doc, CONFIG_SCHEMA, PROCESS_POINTER) + rules.findings(rules.PROCESS, doc)


def process_warnings(doc):
    return rules.findings(rules.PROCESS, doc, None, rules.WARNING)


def state_problems(doc):
    return schema_problems(doc, STATE_SCHEMA) + rules.findings(rules.STATE, doc)


def features_problems(doc):
    return schema_problems(doc, FEATURES_SCHEMA)

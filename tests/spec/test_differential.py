"""pyoci's schema against upstream's: the same verdict from upstream's schema
(jsonschema), from pyoci's schema through jsonschema (pyoci.spec.full) and
through the fast interpreter (pyoci.spec.validate), on generated documents
valid by construction and on mutations of them. The fast interpreter must
also give exactly jsonschema's problems."""
import re

from hypothesis import HealthCheck, event, given, settings

from pyoci.spec import full, validate
from pyoci.spec.model import Config
from pyoci.spec.rules import RULES

from . import strategies, upstream as up

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RULE_TAG = re.compile(r" \[([a-z0-9-]+)\]$")


def schema_verdicts(upstream, doc, upstream_ref, name, pointer=""):
    """The three verdicts' problems; asserts fast == jsonschema on pyoci's schema."""
    fast = validate.schema_problems(doc, name, pointer)
    slow = full.schema_problems(doc, name, pointer)
    assert sorted(fast) == sorted(slow)
    # additionalProperties errors come out of jsonschema in set order; all else in schema order
    upstream_valid = upstream.is_valid(doc, upstream_ref)
    event("upstream says " + ("valid" if upstream_valid else "invalid"))
    assert (not fast) == upstream_valid, (fast, [e.message for e in upstream.errors(doc, upstream_ref)])
    return fast


def rule_names(problems):
    names = []
    for problem in problems:
        tag = RULE_TAG.search(problem)
        assert tag and tag.group(1) in RULES, "semantic problem without a registered rule: %s" % problem
        names.append(tag.group(1))
    return names


@settings(max_examples=250, **SETTINGS)
@given(doc=strategies.configs())
def test_generated_configs_are_valid_everywhere(upstream, doc):
    assert schema_verdicts(upstream, doc, up.CONFIG, validate.CONFIG_SCHEMA) == []
    assert validate.config_problems(doc) == []
    assert full.full_report(doc) == []
    assert validate.config_warnings(doc) == []


@settings(max_examples=600, **SETTINGS)
@given(doc=strategies.mutated(strategies.configs()))
def test_mutated_configs_get_upstreams_verdict(upstream, doc):
    schema = schema_verdicts(upstream, doc, up.CONFIG, validate.CONFIG_SCHEMA)
    problems = validate.config_problems(doc)
    assert problems[:len(schema)] == schema
    # Whatever pyoci rejects beyond upstream's schema is rejected by a named rule.
    for name in rule_names(problems[len(schema):]):
        event("rule " + name)
    assert full.full_report(doc) == full.schema_problems(doc, validate.CONFIG_SCHEMA) + problems[len(schema):]
    rule_names(validate.config_warnings(doc))


@settings(max_examples=200, **SETTINGS)
@given(doc=strategies.mutated(strategies.processes, max_mutations=2))
def test_mutated_processes_get_upstreams_verdict(upstream, doc):
    schema = schema_verdicts(upstream, doc, up.PROCESS, validate.CONFIG_SCHEMA, validate.PROCESS_POINTER)
    problems = validate.process_problems(doc)
    assert problems[:len(schema)] == schema
    rule_names(problems[len(schema):])
    assert sorted(full.full_process_report(doc)) == sorted(problems)


@settings(max_examples=120, **SETTINGS)
@given(doc=strategies.states | strategies.mutated(strategies.states, max_mutations=2))
def test_states_get_upstreams_verdict(upstream, doc):
    schema = schema_verdicts(upstream, doc, up.STATE, validate.STATE_SCHEMA)
    rule_names(validate.state_problems(doc)[len(schema):])


@settings(max_examples=120, **SETTINGS)
@given(doc=strategies.features | strategies.mutated(strategies.features, max_mutations=2))
def test_features_get_upstreams_verdict(upstream, doc):
    schema = schema_verdicts(upstream, doc, up.FEATURES, validate.FEATURES_SCHEMA)
    assert validate.features_problems(doc) == schema


@settings(max_examples=100, **SETTINGS)
@given(doc=strategies.configs())
def test_model_round_trip_stays_valid(doc):
    config = Config.from_dict(doc)
    written = config.to_dict()
    assert validate.config_problems(written) == []
    assert Config.from_dict(written).to_dict() == written
    assert [(ns.type, ns.path) for ns in config.linux.namespaces] == [
        (ns["type"], ns.get("path")) for ns in doc.get("linux", {}).get("namespaces", [])]
    assert config.process.args == doc["process"]["args"]
    assert config.process.user.uid == doc["process"].get("user", {}).get("uid", 0)

"""A small interpreter of exactly the JSON-Schema (draft-04) keywords that
pyoci's own schema files (spec/schema/*.json) use.

Why not jsonschema: importing it costs ~100 ms, and `create` and `exec` run on
the hot path of every container start. This module needs only jsonio and os
(`re` is imported when a pattern is first checked, and patterns are compiled
on first use). Its
verdicts and messages are the ones jsonschema's Draft4Validator gives on the
same files; tests/spec checks that on every example and on generated documents.
"""
import os

from pyoci.spec import jsonio

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")

_documents = {}  # schema file name -> its parsed JSON
_regexes = {}  # pattern -> compiled regex


def schema_document(name):
    """The parsed schema file `name` (e.g. "config.schema.json"), read once."""
    document = _documents.get(name)
    if document is None:
        with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
            document = _documents[name] = jsonio.loads(f.read())
    return document


def problems(instance, name, pointer=""):
    """Every schema violation of `instance` against the schema at JSON pointer
    `pointer` inside file `name`, as (path parts, message) pairs in schema
    order."""
    schema, base = _resolve(name + "#" + pointer, name)
    found = []
    _check(instance, schema, base, (), found)
    return found


def _resolve(ref, base):
    """The subschema a `$ref` names, and the file later relative refs resolve
    against. Refs are "file#/json/pointer" or "#/json/pointer" (same file)."""
    file, _, pointer = ref.partition("#")
    file = file or base
    node = schema_document(file)
    for token in pointer.split("/")[1:]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node, file


def _regex(pattern):
    compiled = _regexes.get(pattern)
    if compiled is None:
        import re
        compiled = _regexes[pattern] = re.compile(pattern)
    return compiled


def _check(instance, schema, base, path, found):
    ref = schema.get("$ref")
    if ref is not None:
        # Draft-04: keywords beside $ref are ignored.
        target, target_base = _resolve(ref, base)
        _check(instance, target, target_base, path, found)
        return
    for keyword, value in schema.items():
        check = _KEYWORDS.get(keyword)
        if check is not None:
            check(instance, value, schema, base, path, found)


def _is_number(instance):
    return isinstance(instance, (int, float)) and not isinstance(instance, bool)


# Draft-04 types: an integer is an int (1.0 is a number, not an integer) and
# booleans are neither.
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _is_number,
    "null": lambda v: v is None,
}


def _type(instance, expected, schema, base, path, found):
    if not _TYPES[expected](instance):
        found.append((path, "%r is not of type %r" % (instance, expected)))


def _enum(instance, allowed, schema, base, path, found):
    # The schema's enums hold only strings, so == is JSON equality here.
    if instance not in allowed:
        found.append((path, "%r is not one of %r" % (instance, allowed)))


def _properties(instance, properties, schema, base, path, found):
    if isinstance(instance, dict):
        for key, subschema in properties.items():
            if key in instance:
                _check(instance[key], subschema, base, path + (key,), found)


def _pattern_properties(instance, patterns, schema, base, path, found):
    if isinstance(instance, dict):
        for pattern, subschema in patterns.items():
            regex = _regex(pattern)
            for key, value in instance.items():
                if regex.search(key):
                    _check(value, subschema, base, path + (key,), found)


def _additional_properties(instance, subschema, schema, base, path, found):
    if isinstance(instance, dict):
        named = schema.get("properties", {})
        patterns = [_regex(p) for p in schema.get("patternProperties", ())]
        for key, value in instance.items():
            if key not in named and not any(r.search(key) for r in patterns):
                _check(value, subschema, base, path + (key,), found)


def _required(instance, names, schema, base, path, found):
    if isinstance(instance, dict):
        for name in names:
            if name not in instance:
                found.append((path, "%r is a required property" % name))


def _items(instance, items, schema, base, path, found):
    if isinstance(instance, list):
        if isinstance(items, dict):
            for index, item in enumerate(instance):
                _check(item, items, base, path + (index,), found)
        else:  # draft-04 tuple form: one schema per position
            for index, (item, subschema) in enumerate(zip(instance, items)):
                _check(item, subschema, base, path + (index,), found)


def _min_items(instance, minimum, schema, base, path, found):
    if isinstance(instance, list) and len(instance) < minimum:
        found.append((path, "%r %s" % (instance, "should be non-empty" if minimum == 1 else "is too short")))


def _minimum(instance, minimum, schema, base, path, found):
    if _is_number(instance) and instance < minimum:
        found.append((path, "%r is less than the minimum of %r" % (instance, minimum)))


def _maximum(instance, maximum, schema, base, path, found):
    if _is_number(instance) and instance > maximum:
        found.append((path, "%r is greater than the maximum of %r" % (instance, maximum)))


def _pattern(instance, pattern, schema, base, path, found):
    # search, not match: JSON-Schema patterns are unanchored.
    if isinstance(instance, str) and not _regex(pattern).search(instance):
        found.append((path, "%r does not match %r" % (instance, pattern)))


_KEYWORDS = {
    "type": _type,
    "enum": _enum,
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "required": _required,
    "items": _items,
    "minItems": _min_items,
    "minimum": _minimum,
    "maximum": _maximum,
    "pattern": _pattern,
}
# Keywords that carry no assertion; tests check the schema files use nothing else.
ANNOTATIONS = frozenset(("$schema", "description", "definitions"))
SUPPORTED = frozenset(_KEYWORDS) | {"$ref"}

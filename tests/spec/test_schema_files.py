"""pyoci's own schema files: valid draft-04 schemas, every $ref resolvable,
only the keywords the fast interpreter implements, and no dependency on the
upstream copy in the shared folder."""
import json
from pathlib import Path

import jsonschema
import pytest

from pyoci.spec import minischema

SPEC_PACKAGE = Path(minischema.__file__).parent
SCHEMA_FILES = sorted(Path(minischema.SCHEMA_DIR).glob("*.json"))


def subschemas(node):
    """Every schema object in a schema document."""
    if isinstance(node, dict):
        yield node
        for keyword, value in node.items():
            if keyword in ("properties", "patternProperties", "definitions"):
                for child in value.values():
                    yield from subschemas(child)
            elif keyword in ("items", "additionalProperties"):
                for child in (value if isinstance(value, list) else [value]):
                    yield from subschemas(child)


def test_schema_files_exist():
    assert [f.name for f in SCHEMA_FILES] == ["config.schema.json", "defs.schema.json", "features.schema.json",
                                              "state.schema.json"]


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_file_is_a_draft4_schema(path):
    document = json.loads(path.read_text())
    assert document["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(document)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_file_uses_only_interpreted_keywords(path):
    for schema in subschemas(json.loads(path.read_text())):
        unknown = set(schema) - minischema.SUPPORTED - minischema.ANNOTATIONS
        assert not unknown, (path.name, unknown)
        if "$ref" in schema:
            assert set(schema) == {"$ref"}, "draft-04 ignores keywords beside $ref: %r" % schema
            minischema._resolve(schema["$ref"], path.name)  # raises if it names nothing


def test_nothing_in_the_package_reads_the_shared_folder():
    for source in SPEC_PACKAGE.rglob("*"):
        if source.is_file() and source.suffix in (".py", ".json"):
            text = source.read_text()
            for hint in ("/shared", "PYOCI_SHARED", "oci-runtime-spec-v1", "config-schema.json", "defs-linux.json"):
                assert hint not in text, (source, hint)

"""load_config / load_document: what a user sees for a missing, unreadable
or malformed config.json."""
import pytest

from pyoci.spec.errors import InvalidSpec
from pyoci.spec.load import load_config, load_document


def write(bundle, data):
    path = bundle / "config.json"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_loads_an_object(tmp_path):
    write(tmp_path, '{"ociVersion": "1.3.0", "root": {"path": "rootfs"}}')
    assert load_config(str(tmp_path)) == {"ociVersion": "1.3.0", "root": {"path": "rootfs"}}


def test_missing_file(tmp_path):
    with pytest.raises(InvalidSpec) as error:
        load_config(str(tmp_path))
    assert str(error.value) == "cannot read %s/config.json: No such file or directory" % tmp_path
    assert error.value.problems == []


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "config.json").mkdir()
    with pytest.raises(InvalidSpec, match=r"^cannot read .*/config.json: Is a directory$"):
        load_config(str(tmp_path))


@pytest.mark.parametrize("data, where", [
    ('{"ociVersion": }', "line 1 column 16: Expecting value"),
    ('{"ociVersion": "1.3.0"', "line 1 column 23: Expecting ',' delimiter"),
    ('{\n  "a": 1,\n  oops\n}', "line 3 column 3: Expecting property name enclosed in double quotes"),
    ("", "line 1 column 1: Expecting value"),
    (b'{\n"a": "\xff"}', "line 2 column 7: not UTF-8 text (invalid start byte)"),
])
def test_not_json_names_line_and_column(tmp_path, data, where):
    path = write(tmp_path, data)
    with pytest.raises(InvalidSpec) as error:
        load_config(str(tmp_path))
    assert str(error.value) == "%s is not valid JSON: %s" % (path, where)


def test_python_only_constants_are_not_json(tmp_path):
    path = write(tmp_path, '{"x": NaN}')
    with pytest.raises(InvalidSpec) as error:
        load_document(str(path))
    assert str(error.value) == "%s is not valid JSON: NaN is not a JSON value" % path


@pytest.mark.parametrize("data, kind", [("[]", "an array"), ('"x"', "a string"), ("1", "a number"),
                                        ("null", "null"), ("true", "a boolean")])
def test_top_level_must_be_an_object(tmp_path, data, kind):
    path = write(tmp_path, data)
    with pytest.raises(InvalidSpec) as error:
        load_config(str(tmp_path))
    assert str(error.value) == "%s must hold a JSON object, not %s" % (path, kind)

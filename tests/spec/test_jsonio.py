"""pyoci.spec.jsonio gives what json gives, through its own fast path for
the ordinary cases and through json for the rest."""
import json
import math

import pytest
from hypothesis import given, strategies as st

from pyoci.spec import jsonio

scalars = st.none() | st.booleans() | st.integers() | st.text() | \
    st.floats(allow_nan=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                      max_leaves=30)


@given(values)
def test_output_is_json_s_byte_for_byte(value):
    for kwargs in ({}, {"separators": (",", ":")}, {"indent": 2}, {"indent": 1}):
        assert jsonio.dumps(value, **kwargs) == json.dumps(value, **kwargs)


@given(values)
def test_the_fast_path_reads_what_json_writes(value):
    for text in (json.dumps(value), json.dumps(value, indent=2) + "\n"):
        assert jsonio._fast_loads(text, None) == json.loads(text)
        assert jsonio._fast_loads(text.encode(), None) == json.loads(text)


def test_values_json_converts_or_refuses_go_through_json():
    assert jsonio.dumps({1: (2, 3)}, indent=2) == json.dumps({1: (2, 3)}, indent=2)
    assert jsonio.dumps(float("nan")) == "NaN"
    with pytest.raises(TypeError):
        jsonio.dumps({"a": {1, 2}})
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError):
        jsonio.dumps(cycle)


@pytest.mark.parametrize("text", ['{"a": 1', "", "not json", '{"a": 1} x',
                                  '[1, 2,]', '"\\ud800"'])
def test_errors_and_odd_input_are_json_s(text):
    try:
        expected = json.loads(text)
    except ValueError as e:
        with pytest.raises(type(e), match=str(e).replace("(", r"\(").replace(")", r"\)")):
            jsonio.loads(text)
    else:
        assert jsonio.loads(text) == expected


def test_constants_boms_and_other_encodings():
    def refuse(name):
        raise ValueError("%s refused" % name)
    with pytest.raises(ValueError, match="NaN refused"):
        jsonio.loads("[NaN]", parse_constant=refuse)
    assert math.isinf(jsonio.loads("Infinity"))
    assert jsonio.loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert jsonio.loads('{"a": 1}'.encode("utf-16")) == {"a": 1}

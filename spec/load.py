"""Reading OCI documents from disk, with errors a user can act on: which file,
and for bad JSON the line and column."""
import os

from pyoci.spec import jsonio
from pyoci.spec.errors import InvalidSpec

_JSON_KIND = {list: "an array", str: "a string", int: "a number", float: "a number",
              bool: "a boolean", type(None): "null"}


def _json_error():
    # json is imported only when there is an error to report
    import json
    return json.JSONDecodeError


def _reject_constant(name):
    # Python's json accepts NaN and Infinity; JSON (and runc's Go decoder) does not.
    raise ValueError("%s is not a JSON value" % name)


def load_document(path):
    """The JSON object in file `path`, which must hold one object."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InvalidSpec("cannot read %s: %s" % (path, e.strerror or e)) from None
    try:
        doc = jsonio.loads(data, parse_constant=_reject_constant)
    except _json_error() as e:
        raise InvalidSpec("%s is not valid JSON: line %d column %d: %s" % (path, e.lineno, e.colno, e.msg)) from None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise InvalidSpec("%s is not valid JSON: line %d column %d: not UTF-8 text (%s)"
                          % (path, line, column, e.reason)) from None
    except ValueError as e:  # NaN/Infinity, or an integer too long to convert
        raise InvalidSpec("%s is not valid JSON: %s" % (path, e)) from None
    if not isinstance(doc, dict):
        raise InvalidSpec("%s must hold a JSON object, not %s" % (path, _JSON_KIND[type(doc)]))
    return doc


def load_config(bundle_dir):
    """`<bundle_dir>/config.json`, parsed but not validated."""
    return load_document(os.path.join(bundle_dir, "config.json"))

"""How pyoci names a place in a JSON document: `linux.namespaces[2].type`.

Every problem the spec layer reports starts with such a path, whether it comes
from the fast schema interpreter, from jsonschema or from a semantic rule, so
all three agree on the format."""


def format_path(parts):
    """`parts` are object keys (str) and array indexes (int), outermost first.
    Keys that are not identifiers are quoted (`linux.sysctl["net.core.somaxconn"]`);
    the document itself is `(root)`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += "[%d]" % part
        elif part.isidentifier():
            text += "." + part if text else part
        else:
            import json     # only here: a problem is being reported
            text += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return text or "(root)"


def problem(parts, message):
    return format_path(parts) + ": " + message

"""JSON on the hot path without the json package: json imports re (and
with it enum) and compiles its patterns, about 4 ms of every `state`,
`kill`, `start` and `delete`, whose whole budget is runc's 5 ms. The
work is done by _json, the C accelerator json itself uses, with the
settings json's defaults give it; the output is byte for byte json's.
Anything the fast path does not cover (an error, a BOM, UTF-16, a type
json would refuse or convert) is handed to json itself, so results and
exceptions are always json's."""
import _json

_WHITESPACE = " \t\n\r"
_INFINITY = float("inf")
_CONSTANTS = {"-Infinity": -_INFINITY, "Infinity": _INFINITY,
              "NaN": float("nan")}


class _DecoderSettings:
    """The attributes _json.make_scanner reads from a json.JSONDecoder."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    def __init__(self, parse_constant):
        self.parse_constant = parse_constant


_scanners = {}


def _scanner(parse_constant):
    scanner = _scanners.get(parse_constant)
    if scanner is None:
        settings = _DecoderSettings(parse_constant or _CONSTANTS.__getitem__)
        scanner = _scanners[parse_constant] = _json.make_scanner(settings)
    return scanner


def _fast_loads(data, parse_constant):
    if not isinstance(data, str):
        if data[:3] == b"\xef\xbb\xbf" or b"\x00" in data[:4]:
            raise ValueError("not plain UTF-8: json detects the encoding")
        data = bytes(data).decode("utf-8", "surrogatepass")
    start = len(data) - len(data.lstrip(_WHITESPACE))
    value, end = _scanner(parse_constant)(data, start)
    if data[end:].strip(_WHITESPACE):
        raise ValueError("extra data: json reports where")
    return value


def loads(data, parse_constant=None):
    """json.loads(data, parse_constant=parse_constant)."""
    try:
        return _fast_loads(data, parse_constant)
    except Exception:
        import json
        return json.loads(data, parse_constant=parse_constant)


def _refuse(value):
    raise TypeError("json decides what to do with %r" % type(value))


_encoders = {}


def _encoder(separators):
    encoder = _encoders.get(separators)
    if encoder is None:
        item, key = separators
        encoder = _encoders[separators] = _json.make_encoder(
            {}, _refuse, _json.encode_basestring_ascii, None, key, item,
            False, False, True)
    return encoder


def _pretty(value, indent, level, out):
    """json.dumps(value, indent=...) for the containers; scalars and
    empty containers as the C encoder writes them."""
    if isinstance(value, dict) and value:
        inner = "\n" + indent * (level + 1)
        separator = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("json converts non-string keys")
            out.append(separator)
            out.append(_json.encode_basestring_ascii(key))
            out.append(": ")
            _pretty(item, indent, level + 1, out)
            separator = "," + inner
        out.append("\n" + indent * level + "}")
    elif isinstance(value, (list, tuple)) and value:
        inner = "\n" + indent * (level + 1)
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _pretty(item, indent, level + 1, out)
            separator = "," + inner
        out.append("\n" + indent * level + "]")
    else:
        out.extend(_encoder((",", ": "))(value, 0))


def dumps(value, separators=None, indent=None):
    """json.dumps(value, separators=separators, indent=indent), for
    indent None or a number of spaces."""
    try:
        if indent is None:
            return "".join(_encoder(separators or (", ", ": "))(value, 0))
        if separators is None and isinstance(indent, int) and indent > 0:
            out = []
            _pretty(value, " " * indent, 0, out)
            return "".join(out)
    except (TypeError, ValueError, RecursionError):
        pass
    import json
    return json.dumps(value, separators=separators, indent=indent)

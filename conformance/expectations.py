"""The expectation list: programs pyoci is not expected to pass cleanly here.

expectations.toml holds one table per program, named as the program is
(`linux_cgroups_hugetlb` for validation/linux_cgroups_hugetlb/...t):

    [linux_cgroups_hugetlb]
    reason = "why pyoci does not pass it cleanly on this host"
    evidence = "runc's result, the spec line, pyoci's code path"

Verdicts for each program run against pyoci:

    pass              clean, not listed
    expected-fail     not clean, listed
    unexpected-fail   not clean, not listed    -> the run fails
    stale             clean, but listed        -> the run fails
"""
import dataclasses
import tomllib

RUNTIME = "pyoci"
DEFAULT_FILE = "expectations.toml"

PASS = "pass"
EXPECTED_FAIL = "expected-fail"
UNEXPECTED_FAIL = "unexpected-fail"
STALE = "stale"
BAD = (UNEXPECTED_FAIL, STALE)


class ExpectationsError(Exception):
    """The file cannot be read or an entry is malformed."""


@dataclasses.dataclass
class Expectation:
    program: str
    reason: str
    evidence: str


def parse(text, source="expectations"):
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ExpectationsError("%s: %s" % (source, e)) from None
    found = {}
    for program, entry in data.items():
        if not isinstance(entry, dict):
            raise ExpectationsError("%s: %s must be a table with reason and evidence" % (source, program))
        unknown = set(entry) - {"reason", "evidence"}
        if unknown:
            raise ExpectationsError("%s: %s: unknown keys %s" % (source, program, ", ".join(sorted(unknown))))
        for key in ("reason", "evidence"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ExpectationsError("%s: %s: %s must be a non-empty string" % (source, program, key))
        found[program] = Expectation(program, entry["reason"].strip(), entry["evidence"].strip())
    return found


def load(path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise ExpectationsError("%s: %s" % (path, e)) from None
    return parse(text, path)


def verdict(clean, listed):
    if clean:
        return STALE if listed else PASS
    return EXPECTED_FAIL if listed else UNEXPECTED_FAIL


def judge(clean_by_program, expectations, suite_programs):
    """Verdicts for the programs run, and entries naming no program.

    clean_by_program: {program: bool} for the programs run against pyoci.
    suite_programs: every program the suite has (entries for programs not
    run this time are neither stale nor failing; entries for programs the
    suite does not have are reported as unknown)."""
    verdicts = {p: verdict(c, p in expectations) for p, c in clean_by_program.items()}
    unknown = sorted(set(expectations) - set(suite_programs))
    return verdicts, unknown


def failing(verdicts, unknown):
    """Whether the run must exit non-zero."""
    return bool(unknown) or any(v in BAD for v in verdicts.values())

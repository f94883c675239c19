"""A TAP reader for the runtime-tools validation programs.

What it counts is only what sits at column 0 of the program's stdout:

    TAP version 13          the header (optional)
    1..N [# SKIP reason]    the plan, before or after the test lines
    ok [n] [- desc] [# SKIP|# TODO reason]
    not ok [n] [- desc] [# SKIP|# TODO reason]
    # text                  a diagnostic
    Bail out! [reason]

Everything indented is not a test line. The programs print a YAML (in
practice JSON) block after, and sometimes before, a test line:

      ---
      { "stdout": "...", ... }
      ...

and a block may hold the whole TAP output of `runtimetest` run inside the
container, with its own `ok` / `not ok` / `1..N` lines (one reason `prove`
miscounts these programs). A block ends at its closing `...`, or at the
first non-blank line at column 0 when the output was cut short.

TAP's rules for directives: `not ok # TODO` is not a failure, `ok # SKIP`
is a skip; a plan `1..0 # SKIP reason` skips the whole program.

Three more shapes the programs print:

- a test description with a newline in it, whose rest ("Refer to: URL")
  stands at column 0 after the test line: kept with the test;

- several TAP documents one after the other (linux_cgroups_cpus runs two
  `tap.New()` in turn): a `TAP version` line after a test or plan line
  starts a new document, with its own plan and numbering; the plan is
  complete when every document has exactly one plan matching its tests;
- an error reported outside any assertion: the lifecycle programs (hooks,
  prestart, poststart, ...) print a block `{"error": "..."}` that follows
  no test line, then `1..0`. Such blocks are kept in `stray_errors`.
"""
import dataclasses
import json
import re

_TEST = re.compile(r"^(not ok|ok)\b(?:[ \t]+(\d+))?[ \t]*(.*)$")
_PLAN = re.compile(r"^1\.\.(\d+)[ \t]*(?:#[ \t]*(.*))?$")
_VERSION = re.compile(r"^TAP version (\d+)\s*$", re.IGNORECASE)
_BAIL = re.compile(r"^Bail out!\s*(.*)$")
# An unescaped '#' starts the directive; SKIP and TODO are matched by prefix
# ("# skipped: no hugetlb" is a skip), case-insensitively, as TAP says.
_DIRECTIVE = re.compile(r"(?<!\\)#[ \t]*(skip|todo)\S*[ \t]*(.*)$", re.IGNORECASE)
_YAML_START = re.compile(r"^([ \t]+)---[ \t]*$")


@dataclasses.dataclass
class Assertion:
    ok: bool
    number: int | None
    description: str
    directive: str | None  # "SKIP", "TODO" or None
    reason: str
    line: int  # 1-based line number in the output
    yaml_before: str | None = None  # block right before this line
    yaml_after: str | None = None  # block right after this line

    @property
    def skipped(self):
        return self.directive == "SKIP"

    @property
    def todo(self):
        return self.directive == "TODO"

    @property
    def failed(self):
        """A failure as TAP counts it: `not ok` that is not a TODO (a `not
        ok # SKIP` is odd but still a failure)."""
        return not self.ok and self.directive != "TODO"

    @property
    def passed(self):
        return self.ok and self.directive is None


@dataclasses.dataclass
class TapResult:
    assertions: list
    plan: int | None  # sum of the documents' plans, None when none had one
    plan_skip_reason: str | None  # `1..0 # SKIP reason`
    plan_line: int | None  # where the (first) plan was
    plan_count: int  # how many plan lines there were
    documents: list  # [(plan lines, plan or None, test lines)] per document
    stray_errors: list  # "error" texts of blocks that follow no test line
    version: int | None
    bail_out: str | None
    truncated: bool  # the last line had no newline
    unterminated_yaml: bool  # a block was never closed with `...`
    numbering_errors: list  # "line 7: test 3 numbered 5", duplicates
    diagnostics: list  # top-level `# ...` lines, without the `# `
    junk: list  # other top-level lines (first few)
    junk_count: int

    @property
    def passed(self):
        return sum(a.passed for a in self.assertions)

    @property
    def failed(self):
        return sum(a.failed for a in self.assertions)

    @property
    def skipped(self):
        return sum(a.skipped for a in self.assertions)

    @property
    def todo(self):
        return sum(a.todo for a in self.assertions)

    @property
    def count(self):
        return len(self.assertions)

    @property
    def plan_complete(self):
        """In every document one plan line, and as many test lines as it
        announced."""
        return bool(self.documents) and all(
            lines == 1 and plan == tests for lines, plan, tests in self.documents)

    @property
    def empty(self):
        """No TAP at all: no test line, no plan (some programs say success
        only by their exit status)."""
        return not self.assertions and self.plan_count == 0

    @property
    def failures(self):
        return [a for a in self.assertions if a.failed]


_JUNK_KEPT = 20


def _stray_error(block):
    """The "error" of a block that is a JSON object carrying one."""
    try:
        data = json.loads(block)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"].strip():
        return data["error"].strip()
    return None


def parse(text):
    """Parse TAP output (a str; undecodable bytes already replaced)."""
    truncated = bool(text) and not text.endswith("\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()

    assertions = []
    plan = plan_skip = plan_line = version = bail = None
    plan_count = 0
    documents = []  # [plan lines, plan, test lines] of each document
    numbering = []
    diagnostics = []
    stray_errors = []
    junk = []
    junk_count = 0
    unterminated = False

    pending_block = None  # a block not right after a test line
    last_was_test = False  # no other top-level line since the last test
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip("\r")
        lineno = i + 1
        i += 1

        start = _YAML_START.match(raw)
        if start:
            indent = start.group(1)
            body = []
            closed = False
            while i < len(lines):
                inner = lines[i].rstrip("\r")
                if inner.strip() == "..." and inner.startswith(indent):
                    i += 1
                    closed = True
                    break
                if inner and not inner[0].isspace():
                    break  # column 0 again: the block was cut short
                body.append(inner[len(indent):] if inner.startswith(indent) else inner.lstrip())
                i += 1
            if not closed:
                unterminated = True
            block = "\n".join(body)
            if last_was_test and assertions[-1].yaml_after is None:
                assertions[-1].yaml_after = block
            else:
                error = _stray_error(block)
                if error:
                    stray_errors.append(error)
            pending_block = block
            last_was_test = False
            continue

        if not raw.strip():
            continue

        if raw[0].isspace():
            # Indented but not a block: a subtest or stray output. Not ours.
            continue

        m = _TEST.match(raw)
        if m:
            if not documents:
                documents.append([0, None, 0])
            document = documents[-1]
            ok = m.group(1) == "ok"
            number = int(m.group(2)) if m.group(2) else None
            rest = m.group(3)
            directive = reason = None
            d = _DIRECTIVE.search(rest)
            if d:
                directive = d.group(1).upper()
                reason = d.group(2).strip()
                rest = rest[:d.start()]
            description = rest.strip()
            if description.startswith("-"):
                description = description[1:].strip()
            document[2] += 1
            if number is not None and number != document[2]:
                numbering.append("line %d: test %d numbered %d" % (lineno, document[2], number))
            assertions.append(Assertion(
                ok=ok, number=number, description=description.replace("\\#", "#"),
                directive=directive, reason=reason or "", line=lineno,
                yaml_before=pending_block))
            pending_block = None
            last_was_test = True
            continue

        m = _PLAN.match(raw)
        if m:
            if not documents:
                documents.append([0, None, 0])
            document = documents[-1]
            plan_count += 1
            document[0] += 1
            if document[1] is None:
                document[1] = int(m.group(1))
            if plan is None:
                plan_line = lineno
                if int(m.group(1)) == 0 and m.group(2) and m.group(2).upper().startswith("SKIP"):
                    plan_skip = m.group(2)[4:].strip()
            last_was_test = False
            pending_block = None
            continue

        m = _VERSION.match(raw)
        if m:
            if version is None:
                version = int(m.group(1))
            if not documents or documents[-1][0] or documents[-1][2]:
                documents.append([0, None, 0])
            last_was_test = False
            pending_block = None
            continue

        m = _BAIL.match(raw)
        if m:
            if bail is None:
                bail = m.group(1).strip()
            last_was_test = False
            pending_block = None
            continue

        if raw.startswith("#"):
            diagnostics.append(raw[1:].strip())
            continue  # comments keep a following block with its test

        if last_was_test:
            # tap-go prints a description with a newline as is: the rest
            # of it ("Refer to: ...") follows the test line at column 0.
            assertions[-1].description += "\n" + raw
            continue

        junk_count += 1
        if len(junk) < _JUNK_KEPT:
            junk.append(raw)
        pending_block = None

    planned = [d[1] for d in documents if d[1] is not None]
    if planned:
        plan = sum(planned)
    return TapResult(
        assertions=assertions, plan=plan, plan_skip_reason=plan_skip,
        plan_line=plan_line, plan_count=plan_count,
        documents=[tuple(d) for d in documents if d[0] or d[2]],
        stray_errors=stray_errors, version=version,
        bail_out=bail, truncated=truncated, unterminated_yaml=unterminated,
        numbering_errors=numbering, diagnostics=diagnostics, junk=junk,
        junk_count=junk_count)

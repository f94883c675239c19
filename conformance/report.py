"""The report: a JSON document (everything, including each failed
assertion's description and diagnostic block) and a Markdown rendering of
it (one row per program, one column per runtime)."""
import datetime
import json

from pyoci.conformance import expectations as exp
from pyoci.conformance import tap

FORMAT = "pyoci-conformance/1"
DIAGNOSTIC_KEPT = 6000


def _cut(text, limit):
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "\n[... %d more characters]" % (len(text) - limit)


def _inner_failures(block):
    """Failed assertions of a TAP stream carried in a block's "stdout" (what
    runtimetest printed inside the container)."""
    if not block:
        return []
    try:
        data = json.loads(block)
    except ValueError:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("stdout"), str):
        return []
    inner = tap.parse(data["stdout"])
    return [{"number": a.number, "description": a.description,
             "diagnostic": _cut(a.yaml_after, 2000)} for a in inner.failures]


def result_dict(result):
    t = result.tap
    failures = []
    for a in t.failures:
        entry = {"number": a.number, "line": a.line, "description": a.description,
                 "directive": a.directive, "diagnostic": _cut(a.yaml_after, DIAGNOSTIC_KEPT)}
        if a.yaml_before is not None:
            entry["diagnostic_before"] = _cut(a.yaml_before, DIAGNOSTIC_KEPT)
        inner = _inner_failures(a.yaml_after) or _inner_failures(a.yaml_before)
        if inner:
            entry["inner_failures"] = inner
        failures.append(entry)
    return {
        "clean": result.clean,
        "strictly_clean": result.strictly_clean,
        "stray_errors": [_cut(e, 2000) for e in t.stray_errors],
        "no_tap": t.empty,
        "documents": [list(d) for d in t.documents],
        "exit_status": result.exit_status,
        "signal": result.signal,
        "timed_out": result.timed_out,
        "duration": result.duration,
        "passed": t.passed,
        "failed": t.failed,
        "skipped": t.skipped,
        "todo": t.todo,
        "count": t.count,
        "plan": t.plan,
        "plan_complete": t.plan_complete,
        "plan_lines": t.plan_count,
        "plan_skip_reason": t.plan_skip_reason,
        "bail_out": t.bail_out,
        "truncated": t.truncated,
        "unterminated_yaml": t.unterminated_yaml,
        "numbering_errors": t.numbering_errors,
        "junk": t.junk,
        "failures": failures,
        "stderr": result.stderr,
        "left_behind": result.left_behind,
    }


def build(*, date=None, suite, suite_revision, host_facts, runtimes, programs, results,
          timeout, options, expectations, expectations_file, preexisting_cgroups=(),
          interrupted=False):
    """The JSON-ready report.

    runtimes: [runner.Runtime]; programs: [runner.Program] in the suite;
    results: {(program, runtime name): runner.ProgramResult};
    expectations: {program: Expectation} (for the runtime exp.RUNTIME)."""
    date = date or datetime.datetime.now(datetime.timezone.utc)
    names = [r.name for r in runtimes]
    rows = []
    totals = {n: {"run": 0, "clean": 0, "strictly_clean": 0, "timed_out": 0} for n in names}
    judged = {}
    for p in programs:
        row = {"name": p.name, "path": p.path, "results": {}}
        for n in names:
            r = results.get((p.name, n))
            if r is None:
                continue
            row["results"][n] = result_dict(r)
            totals[n]["run"] += 1
            totals[n]["clean"] += r.clean
            totals[n]["strictly_clean"] += r.strictly_clean
            totals[n]["timed_out"] += r.timed_out
        if p.name in expectations:
            e = expectations[p.name]
            row["expectation"] = {"reason": e.reason, "evidence": e.evidence}
        if exp.RUNTIME in row["results"]:
            judged[p.name] = row["results"][exp.RUNTIME]["clean"]
        rows.append(row)
    verdicts, unknown = exp.judge(judged, expectations, [p.name for p in programs])
    for row in rows:
        if row["name"] in verdicts:
            row["verdict"] = verdicts[row["name"]]
    for n in names:
        totals[n]["programs"] = len(programs)
    return {
        "format": FORMAT,
        "date": date.isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "suite": {"path": suite, "revision": suite_revision, "programs": len(programs)},
        "host": dict(host_facts, preexisting_suite_cgroups=list(preexisting_cgroups)),
        "timeout": timeout,
        "options": options,
        "runtimes": [{"name": r.name, "path": r.path, "version": r.version,
                      "version_output": r.version_output} for r in runtimes],
        "totals": totals,
        "programs": rows,
        "expectations": {
            "runtime": exp.RUNTIME,
            "file": expectations_file,
            "judged": bool(judged),
            "unknown_entries": unknown,
            "failing": exp.failing(verdicts, unknown),
        },
    }


# --- Markdown --------------------------------------------------------------

def _md(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def cell(r):
    """One runtime's result for one program, in a table cell."""
    counts = "%d/%d/%d" % (r["passed"], r["failed"], r["skipped"])
    if r["todo"]:
        counts += " +%d todo" % r["todo"]
    parts = ["yes" if r["clean"] else "**no**", counts]
    if r["no_tap"]:
        parts.append("no TAP")
    elif not r["plan_complete"]:
        if r["plan"] is None:
            parts.append("no plan (%d run)" % r["count"])
        elif len(r["documents"]) < r["plan_lines"]:
            parts.append("%d plans" % r["plan_lines"])
        else:
            parts.append("plan %d of %d" % (r["count"], r["plan"]))
    if r["timed_out"]:
        parts.append("timeout")
    elif r["signal"] is not None:
        parts.append("signal %d" % r["signal"])
    elif r["exit_status"] != 0:
        parts.append("exit %d" % r["exit_status"])
    if r["bail_out"] is not None:
        parts.append("bail out")
    if r["stray_errors"]:
        parts.append("error outside assertions")
    return " · ".join(parts)


def _why(r, limit=4):
    """A few words on why a result is not clean."""
    bits = []
    for f in r["failures"][:limit]:
        text = "not ok %s - %s" % (f["number"] if f["number"] is not None else "?", f["description"])
        inner = f.get("inner_failures") or []
        if inner:
            text += " (inside: %s)" % "; ".join(i["description"] for i in inner[:3])
        bits.append("`%s`" % _md(text)[:300])
    if len(r["failures"]) > limit:
        bits.append("and %d more" % (len(r["failures"]) - limit))
    for e in r["stray_errors"][:2]:
        bits.append("error: `%s`" % _md(e)[:300])
    if not r["failures"] or r["exit_status"] != 0:
        lines = [ln.strip() for ln in (r["stderr"] or "").splitlines() if ln.strip()]
        if lines:
            bits.append("stderr: `%s`" % _md(" / ".join(lines[-3:]))[:400])
    return "; ".join(bits) or "(no failed assertion, no stderr)"


VERDICT_TEXT = {exp.PASS: "pass", exp.EXPECTED_FAIL: "expected failure",
                exp.UNEXPECTED_FAIL: "**UNEXPECTED failure**", exp.STALE: "**STALE entry** (now passes)"}


def markdown(report):
    names = [r["name"] for r in report["runtimes"]]
    host = report["host"]
    cg = host["cgroup"]
    lines = ["# runtime-tools conformance", ""]
    if report["interrupted"]:
        lines += ["**Interrupted: partial results.**", ""]
    lines += [
        "- date: %s" % report["date"],
        "- suite: `%s` at %s, %d programs, timeout %ss each"
        % (report["suite"]["path"], report["suite"]["revision"] or "unknown revision",
           report["suite"]["programs"], report["timeout"]),
        "- kernel: %s (%s), %s" % (host["kernel"], host["machine"], host["os"] or "unknown OS"),
        "- cgroups: %s; v1: %s; cgroup2 at %s: %s"
        % (cg["layout"], ", ".join(cg["v1"]) or "none", cg["v2_mount"] or "-",
           ", ".join(cg.get("v2") or []) or "no controllers"),
        "- LSMs: %s" % (", ".join(host["lsm"]) if host["lsm"] is not None else host["lsm_note"]),
    ]
    if host.get("preexisting_suite_cgroups"):
        lines.append("- cgroups with the suite's names existed before the run: %s"
                     % ", ".join(host["preexisting_suite_cgroups"]))
    for opt, value in sorted((report.get("options") or {}).items()):
        if value:
            lines.append("- option: %s" % opt)
    lines += ["", "| runtime | version | path | clean programs | of which with no error outside assertions |",
              "| --- | --- | --- | --- | --- |"]
    for r in report["runtimes"]:
        t = report["totals"][r["name"]]
        extra = " (%d run)" % t["run"] if t["run"] != t["programs"] else ""
        version = r["version"] or (r["version_output"].splitlines() or ["?"])[0]
        lines.append("| %s | %s | `%s` | **%d of %d**%s | %d |" % (
            r["name"], _md(version), r["path"], t["clean"], t["programs"], extra,
            t["strictly_clean"]))
    judged = report["expectations"]["judged"]
    lines += ["", "Cells: clean? · passed/failed/skipped assertions · what else is wrong "
              "(plan incomplete, exit status, timeout, an error block outside any assertion). "
              "Clean = exit 0, no `not ok`, no bail out, and every TAP document's plan "
              "complete (or no TAP at all: the program's verdict is its exit status).", ""]
    header = ["program"] + names + (["%s expectation" % report["expectations"]["runtime"]] if judged else [])
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + " --- |" * len(header))
    for row in report["programs"]:
        cells = [row["name"]]
        for n in names:
            r = row["results"].get(n)
            cells.append(cell(r) if r else "not run")
        if judged:
            cells.append(VERDICT_TEXT.get(row.get("verdict"), "not run"))
        lines.append("| " + " | ".join(cells) + " |")
    ex = report["expectations"]
    if judged:
        lines += ["", "Expectations (%s): %s." % (
            ex["file"], "the run FAILS: unexpected failures or stale entries" if ex["failing"]
            else "all as expected")]
        if ex["unknown_entries"]:
            lines.append("Entries naming no program of the suite: %s." % ", ".join(ex["unknown_entries"]))
    expectations_by_name = {row["name"]: row["expectation"] for row in report["programs"]
                            if "expectation" in row}
    for n in names:
        bad = [(row["name"], row["results"][n]) for row in report["programs"]
               if n in row["results"] and not row["results"][n]["clean"]]
        lines += ["", "## %s: not clean (%d)" % (n, len(bad)), ""]
        if not bad:
            lines.append("None.")
        for name, r in bad:
            lines.append("- **%s**: %s" % (name, _why(r)))
            entry = expectations_by_name.get(name) if n == ex["runtime"] else None
            if entry:
                lines.append("  - expected: %s" % _md(entry["reason"]))
        stray = [(row["name"], row["results"][n]) for row in report["programs"]
                 if n in row["results"] and row["results"][n]["clean"]
                 and row["results"][n]["stray_errors"]]
        if stray:
            lines += ["", "Clean by their TAP, but reporting an error outside any assertion:", ""]
            for name, r in stray:
                lines.append("- %s: %s" % (name, _why(r)))
        leaks = [(row["name"], row["results"][n]["left_behind"]) for row in report["programs"]
                 if n in row["results"] and row["results"][n]["left_behind"]]
        if leaks:
            lines += ["", "Left behind after the program ended (cleaned by the runner):", ""]
            for name, left in leaks:
                lines.append("- %s: %s" % (name, "; ".join(
                    "%s: %d" % (k, len(v)) for k, v in sorted(left.items()))))
    lines.append("")
    return "\n".join(lines)


def write(report, json_path, md_path):
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=False)
        f.write("\n")
    with open(md_path, "w") as f:
        f.write(markdown(report))

"""python -m pyoci.conformance --suite DIR [--runtime PATH ...]

Runs every validation program of a built runtime-tools checkout against each
runtime, one program at a time, and writes report.json and report.md.

Exit status: 0 when every program run against pyoci is as the expectation
list says (or pyoci was not run), 1 when one is not (an unexpected failure,
a stale entry, an entry naming no program), 2 when the run could not be
made (no suite, no runtime, not root, a malformed expectation list).
"""
import argparse
import os
import shutil
import sys

from pyoci.conformance import expectations as exp
from pyoci.conformance import host, report, runner

HERE = os.path.dirname(os.path.abspath(__file__))


def _default_runtime():
    beside = os.path.join(os.path.dirname(sys.executable), "pyoci")
    return beside if os.access(beside, os.X_OK) else "pyoci"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m pyoci.conformance", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", required=True, metavar="DIR",
                   help="a runtime-tools checkout with runtimetest and validation/*/*.t built")
    p.add_argument("--runtime", action="append", metavar="[NAME=]PATH",
                   help="runtime command, optionally named (repeat for several; "
                        "default: the pyoci beside this Python)")
    p.add_argument("--timeout", type=float, default=120, metavar="S",
                   help="seconds each program may run before its process group is killed (default 120)")
    p.add_argument("--output-dir", default=HERE, metavar="DIR",
                   help="where report.json and report.md go (default: %(default)s)")
    p.add_argument("--expectations", default=os.path.join(HERE, exp.DEFAULT_FILE), metavar="FILE",
                   help="the expectation list for pyoci (default: %(default)s)")
    p.add_argument("--program", action="append", metavar="NAME",
                   help="run only this program (repeatable)")
    p.add_argument("--crun-hybrid-workaround", action="store_true",
                   help="run crun in a mount namespace without /sys/fs/cgroup/unified "
                        "(crun refuses v1 controllers beside a cgroup2 mount there)")
    p.add_argument("--keep-logs", metavar="DIR",
                   help="also keep each program's raw stdout and stderr under DIR/<runtime>/")
    return p.parse_args(argv)


def _say(text):
    print(text, file=sys.stderr, flush=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        programs = runner.discover(args.suite)
        expectations = exp.load(args.expectations)
    except (runner.SuiteError, exp.ExpectationsError) as e:
        _say("error: %s" % e)
        return 2
    if args.program:
        unknown = sorted(set(args.program) - {p.name for p in programs})
        if unknown:
            _say("error: no such program: %s" % ", ".join(unknown))
            return 2
    selected = [p for p in programs if not args.program or p.name in args.program]
    if os.geteuid() != 0:
        _say("error: the validation programs create real containers: run as root")
        return 2

    runtimes = []
    try:
        for path in args.runtime or [_default_runtime()]:
            runtimes.append(runner.identify(path, taken={r.name for r in runtimes}))
    except FileNotFoundError as e:
        _say("error: %s" % e)
        return 2

    suite = os.path.abspath(args.suite)
    facts = host.facts()
    preexisting = runner.suite_cgroups_present()
    if preexisting:
        _say("warning: cgroups with the suite's names exist already: %s" % ", ".join(preexisting))
    _say("suite %s: %d programs; host %s, cgroups %s" % (
        suite, len(selected), facts["kernel"], facts["cgroup"]["layout"]))

    results = {}
    interrupted = False
    workdir = runner.new_workdir()
    try:
        for rt in runtimes:
            _say("runtime %s (%s) %s" % (rt.name, rt.path, rt.version or "?"))
            sandbox = runner.Sandbox(workdir, rt, crun_hybrid_workaround=(
                args.crun_hybrid_workaround and rt.name.startswith("crun")))
            try:
                for prog in selected:
                    r = runner.run_program(suite, prog, sandbox, args.timeout, keep_logs=args.keep_logs)
                    results[(prog.name, rt.name)] = r
                    cell = report.cell(report.result_dict(r))
                    _say("  %-40s %s (%.1fs)" % (prog.name, cell.replace("**", ""), r.duration))
                    if r.left_behind:
                        _say("    left behind: %s" % "; ".join(
                            "%s %s" % (k, ", ".join(v)[:200]) for k, v in sorted(r.left_behind.items())))
            finally:
                sandbox.remove()
    except KeyboardInterrupt:
        interrupted = True
        _say("interrupted: writing partial results")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    doc = report.build(
        suite=suite, suite_revision=runner.suite_revision(suite), host_facts=facts,
        runtimes=runtimes, programs=selected, results=results, timeout=args.timeout,
        options={"crun_hybrid_workaround": args.crun_hybrid_workaround},
        expectations=expectations, expectations_file=args.expectations,
        preexisting_cgroups=preexisting, interrupted=interrupted)
    os.makedirs(args.output_dir, exist_ok=True)
    json_path = os.path.join(args.output_dir, "report.json")
    md_path = os.path.join(args.output_dir, "report.md")
    report.write(doc, json_path, md_path)
    for rt in runtimes:
        t = doc["totals"][rt.name]
        _say("%s: %d of %d programs clean" % (rt.name, t["clean"], t["run"]))
    _say("wrote %s and %s" % (json_path, md_path))

    ex = doc["expectations"]
    if ex["judged"]:
        for row in doc["programs"]:
            if row.get("verdict") in exp.BAD:
                _say("%s: %s" % (row["verdict"], row["name"]))
        for name in ex["unknown_entries"]:
            _say("expectation for a program the suite does not have: %s" % name)
    if interrupted:
        return 130
    return 1 if ex["failing"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""The runner's pieces that need no root: discovery, runtime naming, the
RUNTIME wrapper, the expectation list, the report."""
import os
import subprocess
import sys

import pytest

from pyoci.conformance import expectations as exp
from pyoci.conformance import report, runner, tap
from pyoci.tests.integration.harness import wait_for


def make_suite(tmp_path, names=("create", "state")):
    for name in names:
        d = tmp_path / "validation" / name
        d.mkdir(parents=True)
        (d / (name + ".t")).write_text("#!/bin/sh\n")
        (d / (name + ".t")).chmod(0o755)
        (d / (name + ".go")).write_text("package main\n")
    (tmp_path / "runtimetest").write_text("")
    (tmp_path / "runtimetest").chmod(0o755)
    arch = runner.GO_ARCH.get(os.uname().machine, os.uname().machine)
    (tmp_path / ("rootfs-%s.tar.gz" % arch)).write_text("")
    return tmp_path


def test_discover_finds_built_programs(tmp_path):
    suite = make_suite(tmp_path)
    assert [(p.name, p.path) for p in runner.discover(suite)] == [
        ("create", "validation/create/create.t"), ("state", "validation/state/state.t")]


def test_discover_refuses_an_unbuilt_checkout(tmp_path):
    (tmp_path / "validation" / "create").mkdir(parents=True)
    with pytest.raises(runner.SuiteError, match="no built validation programs"):
        runner.discover(tmp_path)
    with pytest.raises(runner.SuiteError, match="not a runtime-tools checkout"):
        runner.discover(tmp_path / "validation")


def test_discover_wants_runtimetest(tmp_path):
    suite = make_suite(tmp_path)
    (suite / "runtimetest").unlink()
    with pytest.raises(runner.SuiteError, match="lacks runtimetest"):
        runner.discover(suite)


def test_identify_names_and_versions(tmp_path):
    fake = tmp_path / "fakert"
    fake.write_text("#!/bin/sh\necho 'fakert version 1.2.3'\necho 'spec: 1.0.2'\n")
    fake.chmod(0o755)
    r = runner.identify(str(fake))
    assert (r.name, r.version) == ("fakert", "1.2.3")
    named = runner.identify("mine=%s" % fake, taken={"fakert"})
    assert named.name == "mine" and named.path == str(fake)
    assert runner.identify(str(fake), taken={"fakert"}).name == "fakert-2"
    with pytest.raises(FileNotFoundError):
        runner.identify(str(tmp_path / "absent"))


@pytest.mark.parametrize("workaround", [False, True])
def test_wrapper_passes_root_and_arguments(tmp_path, workaround):
    fake = tmp_path / "rt"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    wrapper = tmp_path / "wrapper"
    wrapper.write_text(runner.wrapper_script(str(fake), "/state dir", workaround))
    wrapper.chmod(0o755)
    if workaround and os.geteuid() != 0:
        pytest.skip("unshare -m needs root")
    out = subprocess.run([str(wrapper), "state", "a b"], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["--root", "/state dir", "state", "a b"]


def test_suite_cgroup_names():
    root = "/sys/fs/cgroup"
    assert runner.is_suite_cgroup(root + "/pids/cgrouptest", root)
    assert runner.is_suite_cgroup(root + "/memory/x/testdir/cgrouptest", root)
    assert runner.is_suite_cgroup(root + "/cpu/2dcd65dd-ceac-4797-a28f-073d5b936076", root)
    assert not runner.is_suite_cgroup(root + "/cpu/docker/abc", root)


def test_expectations_parse_and_judge():
    entries = exp.parse('[delete]\nreason = "r"\nevidence = "e"\n')
    assert entries["delete"].reason == "r"
    verdicts, unknown = exp.judge({"delete": False, "state": True, "create": False},
                                  entries, ["delete", "state", "create"])
    assert verdicts == {"delete": exp.EXPECTED_FAIL, "state": exp.PASS,
                        "create": exp.UNEXPECTED_FAIL}
    assert exp.failing(verdicts, unknown)
    assert exp.judge({"delete": True}, entries, ["delete"])[0] == {"delete": exp.STALE}
    assert exp.judge({}, entries, ["state"])[1] == ["delete"]


@pytest.mark.parametrize("text", ['[a]\nreason = "r"\n', '[a]\nreason = ""\nevidence = "e"\n',
                                  '[a]\nreason = "r"\nevidence = "e"\nextra = 1\n', 'a = 1\n', '[a'])
def test_expectations_malformed(text):
    with pytest.raises(exp.ExpectationsError):
        exp.parse(text)


def test_the_committed_expectation_list_is_well_formed():
    here = os.path.dirname(report.__file__)
    entries = exp.load(os.path.join(here, exp.DEFAULT_FILE))
    for entry in entries.values():
        assert entry.reason.lower() not in ("flaky", "unsupported")
        assert len(entry.evidence) > 20


def _result(program, runtime, stdout, rc=0):
    return runner.ProgramResult(program=program, runtime=runtime, exit_status=rc, signal=None,
                                timed_out=False, duration=0.1, tap=tap.parse(stdout),
                                stderr="", left_behind={})


def test_clean_rules():
    assert _result("p", "r", "ok 1\n1..1\n").clean
    assert not _result("p", "r", "ok 1\n1..1\n", rc=1).clean
    assert not _result("p", "r", "not ok 1\n1..1\n").clean
    assert _result("p", "r", "").clean  # silence and exit 0
    assert not _result("p", "r", "", rc=1).clean
    stray = _result("p", "r", 'TAP version 13\n  ---\n  {"error": "x"}\n  ...\n1..0\n')
    assert stray.clean and not stray.strictly_clean


def test_report_rows_totals_and_markdown():
    progs = [runner.Program("create", "validation/create/create.t"),
             runner.Program("delete", "validation/delete/delete.t")]
    rts = [runner.Runtime("pyoci", "/bin/pyoci", "0.1", "pyoci version 0.1"),
           runner.Runtime("runc", "/bin/runc", "1.1.5", "runc version 1.1.5")]
    results = {("create", "pyoci"): _result("create", "pyoci", "ok 1\n1..1\n"),
               ("create", "runc"): _result("create", "runc", "ok 1\n1..1\n"),
               ("delete", "pyoci"): _result("delete", "pyoci", "not ok 1 - MUST fail\n1..1\n"),
               ("delete", "runc"): _result("delete", "runc", "not ok 1 - MUST fail\n1..1\n")}
    entries = exp.parse('[delete]\nreason = "callers delete created containers"\n'
                        'evidence = "runc allows it; containerd relies on it"\n')
    doc = report.build(suite="/s", suite_revision="v1", host_facts={
        "kernel": "6", "machine": "x86_64", "os": "Debian", "lsm": None, "lsm_note": "none",
        "cgroup": {"layout": "hybrid", "v1": ["pids"], "v2_mount": "/sys/fs/cgroup/unified",
                   "v2": []}, "euid": 0},
        runtimes=rts, programs=progs, results=results, timeout=60, options={},
        expectations=entries, expectations_file="e.toml")
    assert doc["totals"]["pyoci"]["clean"] == 1 and doc["totals"]["runc"]["clean"] == 1
    assert [row.get("verdict") for row in doc["programs"]] == [exp.PASS, exp.EXPECTED_FAIL]
    assert not doc["expectations"]["failing"]
    md = report.markdown(doc)
    assert "| create | yes · 1/0/0 | yes · 1/0/0 | pass |" in md
    assert "expected: callers delete created containers" in md


def test_cli_refuses_a_missing_suite(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pyoci.conformance", "--suite", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "not a runtime-tools checkout" in out.stderr



def _state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_zombies_are_not_left_behind():
    child = subprocess.Popen(["true"])
    assert wait_for(lambda: _state(child.pid) == "Z")
    assert runner._zombie(child.pid)
    assert "state Z" in runner._cmdline(child.pid)
    child.wait()
    assert not runner._zombie(os.getpid())

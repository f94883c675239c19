"""The TAP reader on the shapes the runtime-tools programs print."""
import textwrap

from pyoci.conformance import tap


def parse(text):
    return tap.parse(textwrap.dedent(text).lstrip("\n"))


def test_counts_top_level_lines_only():
    r = parse('''
        TAP version 13
        ok 1 - has expected hostname
          ---
          {
            "stdout": "TAP version 13\\nok 1 - inner\\nnot ok 2 - inner\\n1..2\\n"
          }
          ...
        not ok 2 - root propagation
          ---
          {
            "stdout": "not ok 1 - also inner\\n1..9"
          }
          ...
        ok 3 - skipped here # SKIP no hugetlb
        1..3
    ''')
    assert (r.passed, r.failed, r.skipped, r.count) == (1, 1, 1, 3)
    assert r.plan == 3 and r.plan_complete
    assert r.failures[0].description == "root propagation"
    assert '"stdout"' in r.failures[0].yaml_after
    assert r.stray_errors == [] and r.numbering_errors == []


def test_block_lines_at_column_zero_inside_a_json_string_do_not_count():
    # runtimetest's TAP lives in a JSON string: its newlines are escaped, but
    # a raw block whose body has indented TAP lines must not count either.
    r = parse('''
        ok 1 - outer
          ---
          ok 7 - nested
          not ok 8 - nested
          1..40
          ...
        1..1
    ''')
    assert (r.count, r.failed, r.plan) == (1, 0, 1)
    assert r.plan_complete


def test_plan_mismatch_and_missing_plan():
    assert not parse("ok 1\nok 2\n1..3\n").plan_complete
    r = parse("ok 1\n")
    assert r.plan is None and not r.plan_complete and not r.empty


def test_two_plans_in_one_document_are_incomplete():
    r = parse("1..1\nok 1\n1..1\n")
    assert r.plan_count == 2 and not r.plan_complete


def test_documents_printed_one_after_the_other():
    # linux_cgroups_cpus: a TAP document of 112 tests, then one of none.
    r = parse('''
        TAP version 13
        ok 1 - find cpu cgroup
        ok 2 - get cpu cgroup data
        1..2
        TAP version 13
        1..0
    ''')
    assert r.documents == [(1, 2, 2), (1, 0, 0)]
    assert r.plan_complete and r.plan == 2 and r.count == 2


def test_second_document_short_of_its_plan():
    r = parse("TAP version 13\nok 1\n1..1\nTAP version 13\nok 1\n1..2\n")
    assert not r.plan_complete
    assert r.numbering_errors == []


def test_error_block_outside_any_assertion():
    # hooks, prestart, poststart...: the lifecycle failed, no test line.
    r = parse('''
        TAP version 13
          ---
          {
            "error": "Hooks MUST be called in the listed order"
          }
          ...
        1..0
    ''')
    assert r.plan_complete and r.count == 0
    assert r.stray_errors == ["Hooks MUST be called in the listed order"]


def test_block_after_a_test_is_not_stray():
    r = parse('ok 1 - a\n  ---\n  {"error": "exit status 1"}\n  ...\n1..1\n')
    assert r.stray_errors == []
    assert r.assertions[0].yaml_after == '{"error": "exit status 1"}'


def test_no_output_at_all_is_empty():
    r = parse("")
    assert r.empty and not r.plan_complete and r.count == 0


def test_directives():
    r = parse('''
        not ok 1 - later # TODO not yet
        ok 2 - off # skipped: no hugetlb
        not ok 3 - odd # SKIP but failed
        ok 4 - escaped \\# hash
        1..4
    ''')
    assert [a.directive for a in r.assertions] == ["TODO", "SKIP", "SKIP", None]
    assert (r.todo, r.skipped, r.failed, r.passed) == (1, 2, 1, 1)
    assert r.assertions[3].description == "escaped # hash"


def test_skip_all_plan():
    r = parse("1..0 # SKIP linux-specific\n")
    assert r.plan_skip_reason == "linux-specific" and r.plan_complete


def test_numbering_errors():
    r = parse("ok 1\nok 3\n1..2\n")
    assert r.numbering_errors == ["line 2: test 2 numbered 3"]


def test_cut_short_output():
    r = parse('ok 1 - a\n  ---\n  {"stdout": "x"\nnot ok 2 - b\n')
    assert r.unterminated_yaml and r.truncated is False
    assert r.count == 2 and r.failed == 1
    assert tap.parse("ok 1").truncated


def test_bail_out_and_junk():
    r = parse("ok 1\nBail out! no runtime\nsomething else\n1..1\n")
    assert r.bail_out == "no runtime"
    assert r.junk == ["something else"] and r.junk_count == 1


def test_description_continued_on_the_next_line():
    # validation/state: tap-go prints "description\nRefer to: URL" as is.
    r = parse('''
        ok 1 - state MUST generate an error
        Refer to: https://example.org/runtime.md#query-state
          ---
          {"error": "exit status 1"}
          ...
        1..1
    ''')
    assert r.assertions[0].description.endswith("Refer to: https://example.org/runtime.md#query-state")
    assert r.assertions[0].yaml_after == '{"error": "exit status 1"}'
    assert r.stray_errors == [] and r.junk == []

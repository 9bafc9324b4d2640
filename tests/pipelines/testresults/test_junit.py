"""JUnit XML reports of real tools (fixtures by scripts/capture-test-outputs) parsed to the right counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.testresults.junit import ReportError, parse_junit
from pipelines.testresults.model import Outcome, TestCounts, count

FIXTURES = Path(__file__).parent / "fixtures"
TWO_FAILED = TestCounts(passed=3, failed=2, skipped=1)


@pytest.mark.parametrize(
    ("fixture", "failing", "message"),
    [
        ("pytest.xml", ["test_login", "test_logout"], "AssertionError: wrong user logged in"),
        ("jest.xml", ["shop logs in", "shop logs out"], "Error: expect(received).toEqual(expected)"),
        # Written by Maven Surefire 3.2.5 (offline, from this machine's ~/.m2) over JUnit 5 tests.
        ("maven-TEST-shop.ShopTest.xml", ["logout", "login"], "session still open after logout"),
    ],
)
def test_reports_of_real_tools_parse_to_the_right_counts(fixture, failing, message):
    cases = parse_junit((FIXTURES / fixture).read_bytes())

    assert count(cases) == TWO_FAILED
    assert [case.name for case in cases if case.outcome.is_failed] == failing
    first = next(case for case in cases if case.outcome.is_failed)
    assert first.message.startswith(message)
    assert first.text


def test_go_junit_report_and_cargo2junit_dialects():
    go = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="1">
  <testsuite name="example.com/shop" tests="2" failures="1" errors="0" id="0" time="0.003">
    <properties><property name="go.version" value="go1.19.8"></property></properties>
    <testcase name="TestAdd" classname="example.com/shop" time="0.000"></testcase>
    <testcase name="TestLogin" classname="example.com/shop" time="0.000">
      <failure message="Failed" type="">shop_test.go:13: logged in as &#34;ada&#34;</failure>
    </testcase>
  </testsuite>
</testsuites>"""
    cargo = b"""<?xml version="1.0" encoding="utf-8"?><testsuites>
<testsuite id="0" name="shop" package="testsuite/shop" tests="2" errors="0" failures="1"
 hostname="localhost" timestamp="" time="0"><testcase name="tests::add"/>
<testcase name="tests::logout"><failure type="cargo test" message="failed tests::logout">
thread panicked at src/lib.rs:10:19: session still open</failure></testcase>
<testcase name="tests::printer"><skipped/></testcase></testsuite></testsuites>"""

    go_cases, cargo_cases = parse_junit(go), parse_junit(cargo)

    assert count(go_cases) == TestCounts(passed=1, failed=1)
    assert go_cases[1].message == "Failed"
    assert count(cargo_cases) == TestCounts(passed=1, failed=1, skipped=1)
    assert cargo_cases[1].suite == "shop"


def test_a_lone_testsuite_root_nested_suites_and_errors():
    data = b"""<testsuite name="outer"><testsuite name="inner">
<testcase classname="a.B" name="c" time="1,234.5">
<error message="NullPointerException">trace</error></testcase>
</testsuite><testcase classname="a.B" name="d"/></testsuite>"""

    cases = parse_junit(data)

    assert [(case.suite, case.name, case.outcome) for case in cases] == [
        ("outer", "d", Outcome.PASSED),
        ("inner", "c", Outcome.ERROR),
    ]
    assert cases[1].duration == 1234.5


def test_messages_and_texts_are_masked():
    data = b'<testsuite><testcase name="t"><failure message="token s3cret">got s3cret</failure></testcase>'
    data += b"</testsuite>"

    [case] = parse_junit(data, lambda text: text.replace("s3cret", "******"))

    assert (case.message, case.text) == ("token ******", "got ******")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<testsuite><testcase name='x'>", "not well-formed"),
        (b"<html><body>not a report</body></html>", "root element is <html>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<testsuite><testcase name='&b;'/></testsuite>",
            "refused",
        ),
    ],
)
def test_malformed_or_dangerous_reports_are_refused_with_a_reason(data, reason):
    with pytest.raises(ReportError, match=reason):
        parse_junit(data)

"""Failing tests recognised in the real output of each tool (fixtures by scripts/capture-test-outputs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.testresults.model import Outcome, TestCounts
from pipelines.testresults.recognise import Recogniser, recognise

FIXTURES = Path(__file__).parent / "fixtures"
TWO_FAILED = TestCounts(passed=3, failed=2, skipped=1)


def _read(name: str) -> list[tuple[int, str]]:
    return list(enumerate((FIXTURES / name).read_text().splitlines()))


def _line_of(name: str, needle: str) -> int:
    return next(pos for pos, text in _read(name) if needle in text)


@pytest.mark.parametrize(
    ("fixture", "counts", "failing", "message", "where"),
    [
        (
            "pytest.log",
            TWO_FAILED,
            [("tests.test_shop", "test_login"), ("tests.test_shop", "test_logout")],
            "AssertionError: wrong user logged in",
            ("tests/test_shop.py", 10),
        ),
        (
            "pytest-verbose.log",
            TWO_FAILED,
            [("tests.test_shop", "test_login"), ("tests.test_shop", "test_logout")],
            "AssertionError: wrong user logged in",
            ("tests/test_shop.py", 10),
        ),
        (
            "go.log",
            None,
            [("example.com/shop", "TestLogin"), ("example.com/shop", "TestLogout")],
            'logged in as "ada", want "grace"',
            ("shop_test.go", 13),
        ),
        (
            "go-verbose.log",
            TestCounts(passed=4, failed=2, skipped=1),
            [("example.com/shop", "TestLogin"), ("example.com/shop", "TestLogout")],
            'logged in as "ada", want "grace"',
            ("shop_test.go", 13),
        ),
        (
            "go.json.log",
            TestCounts(passed=4, failed=2, skipped=1),
            [("example.com/shop", "TestLogin"), ("example.com/shop", "TestLogout")],
            'logged in as "ada", want "grace"',
            ("shop_test.go", 13),
        ),
        (
            "cargo.log",
            TWO_FAILED,
            [("tests", "login"), ("tests", "logout")],
            "assertion `left == right` failed: wrong user logged in",
            ("src/lib.rs", 7),
        ),
        (
            "jest.log",
            TWO_FAILED,
            [("shop logs in", "shop logs in"), ("shop logs out", "shop logs out")],
            "expect(received).toEqual(expected) // deep equality",
            ("shop.test.js", 3),
        ),
        (
            "vitest.log",
            TWO_FAILED,
            [("shop logs in", "shop logs in"), ("shop logs out", "shop logs out")],
            "AssertionError: expected { name: 'ada' } to deeply equal { name: 'grace' }",
            ("shop.test.js", 5),
        ),
        (
            "maven.log",
            TWO_FAILED,
            [("shop.ShopTest", "logout"), ("shop.ShopTest", "login")],
            "org.opentest4j.AssertionFailedError: session still open after logout",
            ("ShopTest.java", 12),
        ),
    ],
)
def test_each_tool_s_failures_are_recognised(fixture, counts, failing, message, where):
    found = recognise(_read(fixture))

    assert found.counts == counts
    assert [(case.classname, case.name) for case in found.cases] == failing
    first = found.cases[0]
    assert first.outcome == Outcome.FAILED
    assert first.message == message
    assert (first.file, first.line) == where
    assert first.log_line is not None
    assert first.text


def test_the_link_points_at_the_line_that_reports_the_failure():
    found = recognise(_read("pytest.log"))

    assert found.cases[0].log_line == _line_of("pytest.log", "____ test_login ____")


def test_a_log_without_tests_gives_nothing():
    lines = [(0, "+ make"), (1, "gcc -o app app.c"), (2, "FAILED to link"), (3, "ok")]

    assert not recognise(lines)


def test_colours_and_carriage_returns_do_not_hide_a_failure():
    lines = [(0, "\x1b[31mFAILED\x1b[0m tests/test_a.py::test_b - assert 1 == 2"), (1, "50%\r100%")]

    found = recognise(lines)

    assert [(case.name, case.message) for case in found.cases] == [("test_b", "assert 1 == 2")]


def test_feeding_line_by_line_gives_what_the_whole_log_gives():
    recogniser = Recogniser()
    for pos, text in _read("cargo.log"):
        recogniser.feed(pos, text)

    assert recogniser.finish() == recognise(_read("cargo.log"))


def test_a_log_of_endless_failures_keeps_a_bounded_number():
    lines = ((pos, f"FAILED tests/test_x.py::test_{pos} - boom") for pos in range(20_000))

    found = recognise(lines)

    assert len(found.cases) == 5_000

"""JUnit XML reports in their common dialects (pytest, Maven Surefire and Gradle, jest-junit,
go-junit-report, cargo2junit) read into test cases. Pure: the caller hands the bytes.

The XML is read by defusedxml (entity expansion, external entities and DTD tricks are refused), the
suites and cases by junitparser. A root `<testsuites>` or a lone `<testsuite>` both work, nested suites
too; a case's outcome is its first `failure`, `error` or `skipped` child, else passed. Surefire's
`flakyFailure`/`flakyError` children (a rerun that passed) leave the case passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from junitparser import Error, Failure, Skipped, TestSuite
from junitparser import TestCase as JUnitCase

from pipelines.testresults.model import MAX_MESSAGE, MAX_NAME, MAX_TEXT, Outcome, TestCase, clip, first_line

Mask = Callable[[str], str]


class ReportError(ValueError):
    """A report that is not JUnit XML (malformed, or refused as dangerous); the message says why."""


def _keep(text: str) -> str:
    return text


def parse_junit(data: bytes, mask: Mask = _keep) -> list[TestCase]:
    """The test cases of a JUnit XML document, their messages and texts passed through `mask`."""
    try:
        root = fromstring(data)
    except ParseError as exc:
        raise ReportError(f"not well-formed XML ({exc})") from None
    except DefusedXmlException as exc:
        raise ReportError(f"refused: {type(exc).__name__} ({exc})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise ReportError(f"not a JUnit report: its root element is <{root.tag}>, not <testsuites>")
    return [case for suite in _suites(root) for case in _cases(suite, mask)]


def _suites(root: Element) -> Iterator[TestSuite]:
    for element in root.iter("testsuite"):
        yield TestSuite.fromelem(element)  # type: ignore[no-untyped-call]


def _cases(suite: TestSuite, mask: Mask) -> Iterator[TestCase]:
    suite_name = suite.name or ""
    for element in suite._elem.iterfind("testcase"):
        case = JUnitCase.fromelem(element)  # type: ignore[no-untyped-call]
        outcome, message, text = _outcome(case)
        yield TestCase(
            suite=clip(suite_name, MAX_NAME),
            classname=clip(case.classname or "", MAX_NAME),
            name=clip(case.name or "(unnamed)", MAX_NAME),
            file=clip(element.get("file") or "", MAX_NAME),
            line=_integer(element.get("line")),
            outcome=outcome,
            duration=_seconds(element.get("time")),
            message=clip(mask(message), MAX_MESSAGE),
            text=clip(mask(text), MAX_TEXT),
        )


def _outcome(case: JUnitCase) -> tuple[Outcome, str, str]:
    """The case's outcome, message and text from its first result element."""
    for result in case.result:
        if isinstance(result, Failure | Error):
            outcome = Outcome.ERROR if isinstance(result, Error) else Outcome.FAILED
            text = (result.text or "").strip("\n")
            return outcome, (result.message or first_line(text)).strip(), text
        if isinstance(result, Skipped):
            return Outcome.SKIPPED, (result.message or result.text or "").strip(), ""
    return Outcome.PASSED, "", ""


def _integer(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    """A `time` attribute: seconds, some tools writing `1,234.5` or a trailing unit."""
    if not value:
        return None
    try:
        seconds = float(value.replace(",", "").rstrip("s"))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None

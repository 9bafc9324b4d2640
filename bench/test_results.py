"""Test results at size: parsing a 10,000-case JUnit file, and recognising the failures in a 200,000-line
log, each against reading the same bytes (a baseline measured in the same run).

    .venv/bin/python -m bench.test_results [--repeat 5]

The JUnit file is pytest's dialect (every tenth case failed with a message and a trace, every twentieth
skipped); the log is the real pytest, go test and cargo outputs of tests/pipelines/testresults/fixtures
repeated between lines of build noise, so every tool's recogniser is busy the whole time.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from xml.etree import ElementTree

from bench.lint_corpus import best_of
from pipelines.testresults.junit import parse_junit
from pipelines.testresults.recognise import recognise

FIXTURES = Path(__file__).parents[1] / "tests" / "pipelines" / "testresults" / "fixtures"
CASES = 10_000
LINES = 200_000


def junit_document(cases: int = CASES) -> bytes:
    """A pytest-style JUnit report of `cases` cases."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="{cases}">']
    trace = "\n".join(f"    frame {line}: assert value == expected" for line in range(12))
    for number in range(cases):
        module, seconds = number // 100, number % 97
        head = f'<testcase classname="tests.test_mod{module}" name="test_{number}" time="0.{seconds:03d}"'
        if number % 10 == 0:
            failure = f'<failure message="AssertionError: {number} != 0">{trace}</failure>'
            parts.append(f"{head}>{failure}</testcase>")
        elif number % 20 == 5:
            parts.append(f'{head}><skipped message="not here"/></testcase>')
        else:
            parts.append(f"{head}/>")
    parts.append("</testsuite></testsuites>")
    return "\n".join(parts).encode()


def log_text(lines: int = LINES) -> str:
    """A long log: build noise with real test tool outputs spread through it."""
    samples = [(FIXTURES / name).read_text().splitlines() for name in ("pytest.log", "go.log", "cargo.log")]
    out: list[str] = []
    block = 0
    while len(out) < lines:
        out.extend(f"[{block:06d}] compiling module {n} of the project (cached: no)" for n in range(200))
        out.extend(samples[block % len(samples)])
        block += 1
    return "\n".join(out[:lines]) + "\n"


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report, log = Path(folder, "junit.xml"), Path(folder, "build.log")
        report.write_bytes(junit_document())
        log.write_text(log_text())

        read_report = best_of(args.repeat, report.read_bytes)
        parse = best_of(args.repeat, lambda: parse_junit(report.read_bytes()))
        tree = best_of(args.repeat, lambda: ElementTree.fromstring(report.read_bytes()))
        cases = parse_junit(report.read_bytes())
        read_log = best_of(args.repeat, lambda: log.read_text().splitlines())
        found = recognise(enumerate(log.read_text().splitlines()))
        scan = best_of(args.repeat, lambda: recognise(enumerate(log.read_text().splitlines())))

    print(f"JUnit: {len(cases)} cases, {len(junit_document()) / 1e6:.1f} MB")
    print(f"  read the bytes   {read_report * 1000:8.1f} ms")
    print(f"  ElementTree only {tree * 1000:8.1f} ms   ({tree / read_report:.0f}x reading)")
    print(f"  parse            {parse * 1000:8.1f} ms   ({parse / read_report:.0f}x reading)")
    print(f"Log: {LINES} lines, {len(found.cases)} failing tests found, counts {found.counts}")
    print(f"  read the lines   {read_log * 1000:8.1f} ms")
    per_line = scan / LINES * 1e6
    ratio = scan / read_log
    print(f"  recognise        {scan * 1000:8.1f} ms   ({ratio:.0f}x reading, {per_line:.2f} µs a line)")


if __name__ == "__main__":
    main()

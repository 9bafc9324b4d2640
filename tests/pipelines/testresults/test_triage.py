"""New since the last green build: the injected line first, nothing spurious from times or durations."""

from __future__ import annotations

from pathlib import Path

from pipelines.testresults.triage import new_lines, normalise

FIXTURES = Path(__file__).parent / "fixtures"


def test_times_durations_ids_and_temporary_paths_are_no_news():
    green = [
        "2026-12-07T02:05:28.554Z Starting build 6dcb09b5b57875f3 at 02:05:28",
        "==== 3 passed in 0.09s ====",
        "wrote /tmp/pytest-of-root/pytest-3/test_a0/out.txt",
        "thread 'tests::login' (4136) panicked at src/lib.rs:7:18:",
        "container 3f2a9c1b0e77 took 1m 05s",
    ]
    broken = [
        "2026-12-08T11:00:01.100Z Starting build a1b2c3d4e5f60718 at 11:00:01",
        "==== 3 passed in 0.12s ====",
        "wrote /tmp/pytest-of-root/pytest-9/test_a0/out.txt",
        "thread 'tests::login' (9912) panicked at src/lib.rs:7:18:",
        "container 88aa00bb11cc took 2m 10s",
    ]

    assert new_lines(list(enumerate(broken)), green) == []


def test_the_broken_line_of_a_real_log_is_what_is_new():
    green = (FIXTURES / "pytest.log").read_text().splitlines()
    broken = list(green)
    broken.insert(12, "E   ModuleNotFoundError: No module named 'shop.payments'")
    broken = [line.replace("0.09s", "0.31s") for line in broken]

    fresh = new_lines(list(enumerate(broken)), green)

    assert fresh == [(12, "E   ModuleNotFoundError: No module named 'shop.payments'")]


def test_colours_and_spacing_do_not_make_a_line_new():
    assert normalise("\x1b[32mok\x1b[0m   done") == normalise("ok done")


def test_a_repeated_new_line_is_news_once_and_blank_lines_never():
    fresh = new_lines([(0, "boom"), (1, ""), (2, "boom"), (3, "bang")], ["fine"])

    assert fresh == [(0, "boom"), (3, "bang")]

"""What summaries derive for notifications: durations, the commit title and the name of what was built."""

from __future__ import annotations

import pytest

from server.notify.summary import format_duration
from tests.server.notify.builds import failed_build


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (-1, ""), (0, "0s"), (34.4, "34s"), (59.6, "1m 00s"), (125, "2m 05s"), (3725, "1h 02m")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_durations_need_both_ends():
    assert failed_build().duration == 74
    assert failed_build(finished=None).duration is None
    assert failed_build(started=None).duration is None
    assert failed_build().steps[2].duration is None


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({}, "main"),
        ({"event": "tag", "ref": "refs/tags/v1.2.0", "branch": ""}, "v1.2.0"),
        ({"event": "pull_request", "ref": "refs/pull/7/head"}, "PR #7"),
        ({"event": "pull_request", "ref": "refs/pull/7/merge"}, "PR #7"),
        ({"event": "pull_request", "ref": "refs/merge-requests/31/head"}, "PR #31"),
        ({"event": "pull_request", "ref": "refs/heads/feature"}, "PR to main"),
        ({"branch": "", "ref": "refs/heads/feature/x"}, "feature/x"),
    ],
)
def test_ref_label_names_what_was_built(changes, label):
    assert failed_build(**changes).ref_label == label


def test_title_is_the_first_line_of_the_commit_message():
    assert failed_build(message="\n  Fix it  \n\nbody").title == "Fix it"
    assert failed_build(message="").title == ""
    assert failed_build().short_sha == "6dcb09b5"

"""Who gets a build email, and when."""

from __future__ import annotations

import pytest

from pipelines.status import Status
from server.notify.email import EmailPolicy, recipients, should_email

S, F, K, E = Status.SUCCESS, Status.FAILURE, Status.KILLED, Status.ERROR
FAILURE, CHANGE, ALWAYS, NEVER = (
    EmailPolicy.FAILURE,
    EmailPolicy.CHANGE,
    EmailPolicy.ALWAYS,
    EmailPolicy.NEVER,
)

# (policy, previous build, this build, email?)
TABLE = [
    # failure: every failed build, whatever came before
    (FAILURE, None, F, True),
    (FAILURE, S, F, True),
    (FAILURE, F, F, True),
    (FAILURE, S, K, True),
    (FAILURE, S, E, True),
    (FAILURE, F, S, False),
    (FAILURE, None, S, False),
    (FAILURE, S, Status.SKIPPED, False),
    # change: the branch broke (including its first build) or was fixed
    (CHANGE, None, F, True),
    (CHANGE, S, F, True),
    (CHANGE, S, E, True),
    (CHANGE, S, K, True),
    (CHANGE, Status.SKIPPED, F, True),
    (CHANGE, F, S, True),
    (CHANGE, E, S, True),
    (CHANGE, K, S, True),
    (CHANGE, F, F, False),
    (CHANGE, F, E, False),
    (CHANGE, E, K, False),
    (CHANGE, S, S, False),
    (CHANGE, None, S, False),
    (CHANGE, F, Status.SKIPPED, False),
    (CHANGE, F, Status.DECLINED, False),
    # always: every finished build
    (ALWAYS, None, S, True),
    (ALWAYS, S, S, True),
    (ALWAYS, F, F, True),
    (ALWAYS, S, K, True),
    (ALWAYS, None, Status.SKIPPED, True),
    # never
    (NEVER, S, F, False),
    (NEVER, F, S, False),
    (NEVER, None, E, False),
]


@pytest.mark.parametrize(("policy", "previous", "status", "expected"), TABLE)
def test_should_email(policy, previous, status, expected):
    assert should_email(policy, status, previous) is expected


@pytest.mark.parametrize("policy", list(EmailPolicy))
@pytest.mark.parametrize("status", [Status.PENDING, Status.WAITING, Status.BLOCKED, Status.RUNNING])
@pytest.mark.parametrize("previous", [None, S, F])
def test_unfinished_builds_never_email(policy, status, previous):
    assert not should_email(policy, status, previous)


def test_policies_are_read_from_their_names():
    assert [EmailPolicy(name) for name in ("failure", "change", "always", "never")] == list(EmailPolicy)


def test_recipients_start_with_the_author_and_drop_duplicates_whatever_their_case():
    extra = ["ops@example.com", "Jane@Example.com", "OPS@example.com", "team@example.org"]

    assert recipients("jane@example.com", extra) == [
        "jane@example.com",
        "ops@example.com",
        "team@example.org",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "not-an-address",
        "two@@example.com",
        "jane@",
        "@example.com",
        "jane doe@example.com",
        "a@example.com, b@example.com",
        "jane@example.com\nBcc: everyone@example.com",
        "jane@-example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_blank_and_invalid_addresses_are_dropped(bad):
    assert recipients(bad, [bad, "ops@example.com"]) == ["ops@example.com"]


def test_named_addresses_become_bare_addresses_and_whitespace_is_trimmed():
    assert recipients("  jane@example.com ", ["Ops Team <ops@example.com>"]) == [
        "jane@example.com",
        "ops@example.com",
    ]


def test_a_single_string_of_extra_recipients_is_one_address_not_its_characters():
    assert recipients("", "ops@example.com") == ["ops@example.com"]


def test_without_any_valid_address_nobody_gets_email():
    assert recipients("", []) == []

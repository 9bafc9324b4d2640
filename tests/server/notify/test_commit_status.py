"""Commit statuses as GitHub, Gitea, Forgejo and GitLab receive them, from a recording server."""

from __future__ import annotations

import httpx
import pytest

from pipelines.status import Status
from server.notify.commit_status import describe, post_commit_status, status_request
from server.notify.errors import NotifyError
from tests.server.notify.builds import LINK, SHA

TOKEN = "tok-1234567890"


def request_for(forge: str, api_url: str, status: Status = Status.SUCCESS, **changes: str) -> httpx.Request:
    """A commit status request for octo/hello at SHA."""
    arguments = {
        "owner": "octo",
        "name": "hello",
        "description": "Build #12 succeeded in 34s",
        "context": "hangar/push",
        **changes,
    }
    return status_request(
        forge, api_url, TOKEN, arguments["owner"], arguments["name"], SHA, status, LINK,
        arguments["description"], arguments["context"],
    )  # fmt: skip


async def test_github_receives_bearer_token_and_status_at_the_commit(forge, http):
    await post_commit_status(http, request_for("github", forge.url))

    [received] = forge.requests
    assert (received.method, received.path) == ("POST", f"/repos/octo/hello/statuses/{SHA}")
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.headers["accept"] == "application/vnd.github+json"
    assert received.headers["content-type"] == "application/json"
    assert received.body == {
        "state": "success",
        "target_url": LINK,
        "description": "Build #12 succeeded in 34s",
        "context": "hangar/push",
    }


@pytest.mark.parametrize("kind", ["gitea", "forgejo"])
async def test_gitea_and_forgejo_receive_token_auth_under_an_api_url_with_a_trailing_slash(forge, http, kind):
    await post_commit_status(
        http, request_for(kind, f"{forge.url}/api/v1/", Status.FAILURE, context="hangar/pull_request")
    )

    [received] = forge.requests
    assert (received.method, received.path) == ("POST", f"/api/v1/repos/octo/hello/statuses/{SHA}")
    assert received.headers["authorization"] == f"token {TOKEN}"
    assert received.body == {
        "state": "failure",
        "target_url": LINK,
        "description": "Build #12 succeeded in 34s",
        "context": "hangar/pull_request",
    }


async def test_gitlab_receives_the_encoded_project_path_with_subgroups_and_a_bearer_token(forge, http):
    request = request_for("gitlab", f"{forge.url}/api/v4/", Status.RUNNING, owner="group/sub", name="project")
    await post_commit_status(http, request)

    [received] = forge.requests
    assert (received.method, received.path) == (
        "POST",
        f"/api/v4/projects/group%2Fsub%2Fproject/statuses/{SHA}",
    )
    assert received.headers["authorization"] == f"Bearer {TOKEN}"  # OAuth and personal tokens alike
    assert "private-token" not in received.headers
    assert received.body == {
        "state": "running",
        "target_url": LINK,
        "description": "Build #12 succeeded in 34s",
        "name": "hangar/push",
    }


GITHUB_STATES = {
    Status.PENDING: "pending",
    Status.WAITING: "pending",
    Status.BLOCKED: "pending",
    Status.RUNNING: "pending",
    Status.SUCCESS: "success",
    Status.FAILURE: "failure",
    Status.KILLED: "error",
    Status.ERROR: "error",
    Status.SKIPPED: "success",
    Status.DECLINED: "error",
}

GITLAB_STATES = {
    Status.PENDING: "pending",
    Status.WAITING: "pending",
    Status.BLOCKED: "pending",
    Status.RUNNING: "running",
    Status.SUCCESS: "success",
    Status.FAILURE: "failed",
    Status.KILLED: "canceled",
    Status.ERROR: "failed",
    Status.SKIPPED: "success",
    Status.DECLINED: "canceled",
}


def test_the_state_tables_cover_every_status():
    assert set(GITHUB_STATES) == set(Status) == set(GITLAB_STATES)


@pytest.mark.parametrize(
    ("kind", "table"),
    [
        ("github", GITHUB_STATES),
        ("gitea", GITHUB_STATES),
        ("forgejo", GITHUB_STATES),
        ("gitlab", GITLAB_STATES),
    ],
)
async def test_every_status_maps_to_a_state_the_forge_knows(forge, http, kind, table):
    for status in Status:
        await post_commit_status(http, request_for(kind, forge.url, status))

    assert [received.body["state"] for received in forge.requests] == [table[status] for status in Status]


async def test_a_long_description_is_cut_to_what_github_accepts(forge, http):
    await post_commit_status(http, request_for("github", forge.url, description="word " * 60))

    [received] = forge.requests
    assert len(received.body["description"]) == 140
    assert received.body["description"].endswith("…")


@pytest.mark.parametrize("code", [500, 502, 503, 429])
async def test_server_errors_and_rate_limits_can_be_retried(forge, http, code):
    forge.status_code = code

    with pytest.raises(NotifyError) as caught:
        await post_commit_status(http, request_for("github", forge.url))

    assert caught.value.retryable
    assert str(code) in str(caught.value)


@pytest.mark.parametrize("code", [401, 404, 422])
async def test_client_errors_cannot_be_retried_and_say_what_the_forge_answered(forge, http, code):
    forge.status_code = code
    forge.answer = {"message": "Validation Failed"}

    with pytest.raises(NotifyError) as caught:
        await post_commit_status(http, request_for("gitea", forge.url))

    assert not caught.value.retryable
    assert f"HTTP {code}" in str(caught.value)
    assert "Validation Failed" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_a_closed_port_can_be_retried(http, closed_port):
    with pytest.raises(NotifyError) as caught:
        await post_commit_status(http, request_for("github", f"http://127.0.0.1:{closed_port}"))

    assert caught.value.retryable


def test_an_unknown_forge_is_refused():
    with pytest.raises(ValueError, match="bitbucket"):
        request_for("bitbucket", "https://api.bitbucket.org/2.0")


@pytest.mark.parametrize(
    ("status", "duration", "number", "expected"),
    [
        (Status.SUCCESS, 34.2, 12, "Build #12 succeeded in 34s"),
        (Status.SUCCESS, 59.6, 12, "Build #12 succeeded in 59s"),  # whole seconds, as the build page counts
        (Status.FAILURE, 125, 12, "Build #12 failed after 2m 05s"),
        (Status.KILLED, 3725, 3, "Build #3 was cancelled after 1h 02m"),
        (Status.ERROR, None, 4, "Build #4 could not run"),
        (Status.RUNNING, None, None, "The build is running"),
        (Status.PENDING, None, 5, "Build #5 is pending"),
        (Status.BLOCKED, None, 5, "Build #5 is waiting for approval"),
        (Status.SKIPPED, 0, 6, "Build #6 was skipped"),
    ],
)
def test_describe_says_what_happened_in_a_short_sentence(status, duration, number, expected):
    assert describe(status, duration, number) == expected

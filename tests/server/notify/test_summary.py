"""What summaries derive for notifications: durations, the commit title and the name of what was built."""

from __future__ import annotations

import pytest

from server.db.models import Secret
from server.notify.summary import summarise
from server.services import Services
from server.store.secrets import save_secret
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo
from tests.server.notify.builds import failed_build


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


async def test_the_failing_lines_are_masked_by_the_runners_rule_traced_forms_too(hangar: Services) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(
        hangar, repo, "failure", [StageSeed("test", "failure", (("clone", "success"), ("test", "failure")))]
    )
    async with hangar.transaction() as (session, _changes):  # set after the build ran: stored lines show it
        await save_secret(
            session, Secret(repo_id=repo.id or 0, name="pw", value=hangar.cipher.encrypt("it's$ecret"))
        )
    traced = """+ echo 'it'"'"'s$ecret'"""
    await add_lines(
        hangar, seeded.steps[1, 2], ["plain it's$ecret", traced, "+ echo 'it'\\''s$ecret'", "done"]
    )

    async with hangar.reading() as session:
        summary = await summarise(session, hangar.cipher, "https://ci.example.com/", repo, seeded.build)

    assert summary.failing_step == "test/test"
    assert summary.failing_lines == ("plain ******", "+ echo '******'", "+ echo '******'", "done")
    assert summary.link == f"https://ci.example.com/octo/hello/{seeded.build.number}"

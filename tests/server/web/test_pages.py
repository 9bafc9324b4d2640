"""The reading pages, as a browser without JavaScript gets them: dashboard, repository, build, log, badge."""

from __future__ import annotations

import re

import httpx

from server.services import Services
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo
from tests.server.web.conftest import add_person, sign_in

FAILING = StageSeed("backend", "failure", steps=(("clone", "success"), ("test", "failure")))


async def test_the_dashboard_shows_each_branchs_latest_build_with_icon_and_word(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "failure", branch="main", finished=1_700_000_100.0)
    await add_build(hangar, repo, "success", branch="main", finished=1_700_000_200.0)
    await add_build(hangar, repo, "failure", branch="feature/x", finished=1_700_000_300.0)
    html = (await client.get("/")).text
    assert 'href="/octo/hello"' in html
    main_row = _row(html, "?branch=main")
    assert "#2" in main_row and "success" in main_row and "✓" in main_row
    assert "#1" not in html  # only the latest of each branch
    feature_row = _row(html, "?branch=feature/x")
    assert "#3" in feature_row and "failure" in feature_row and "✗" in feature_row
    assert html.index("?branch=main") < html.index("?branch=feature")  # the default branch first


async def test_private_repositories_appear_only_to_signed_in_people(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    secret_repo = await add_repo(hangar, "acme", "secret-plans", private=True)
    await add_build(hangar, secret_repo, "success", message="launch codes")
    await add_repo(hangar, "octo", "public")
    anonymous = (await client.get("/")).text
    assert "octo/public" in anonymous
    assert "secret-plans" not in anonymous and "launch codes" not in anonymous
    await add_person(hangar, "ann")
    await sign_in(client, "ann")
    assert "acme/secret-plans" in (await client.get("/")).text


async def test_an_anonymous_visitor_gets_nothing_of_a_private_repository(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar, "acme", "secret-plans", private=True)
    seeded = await add_build(hangar, repo, "running", [FAILING], message="launch codes")
    await add_lines(hangar, seeded.steps[(1, 2)], ["the launch code is 0000"])
    base = "/acme/secret-plans"
    api = "/api/repos/acme/secret-plans/builds/1"
    for path in (
        base, f"{base}/1", f"{base}/1/1/2", f"{base}/1/1/2?q=launch", f"{base}/badge.svg", f"{base}/settings",
        f"{api}", f"{api}/events", f"{api}/logs/1/2", f"{api}/logs/1/2?format=text",
        f"{api}/logs/1/2/stream", f"{api}/logs/1/2/search?q=launch",
    ):  # fmt: skip
        answer = await client.get(path)
        assert answer.status_code in (303, 404), path
        assert "launch codes" not in answer.text and "0000" not in answer.text, path
        assert "commit 1" not in answer.text and "backend" not in answer.text, path
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/login")


async def test_the_repository_page_lists_builds_charts_them_and_offers_the_badge(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "success", finished=1_700_000_063.0, message="Add the parser\n\nlong text")
    await add_build(hangar, repo, "failure", finished=1_700_000_200.0, event="pull_request")
    html = (await client.get("/octo/hello")).text
    assert "Add the parser" in html and "long text" not in html
    assert "1m 03s" in html  # the first build's duration
    assert "pull_request" in html and "Jane Doe" in html
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in chart and "#1 success" in chart and "#2 failure" in chart
    assert "[![build status](http://hangar.test/octo/hello/badge.svg)](http://hangar.test/octo/hello)" in html
    assert "Settings" not in html  # for administrators only


async def test_the_build_page_shows_the_tree_and_the_failing_steps_log_with_colours(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_100.0)
    await add_lines(
        hangar, seeded.steps[(1, 2)], ["collected 3 items", "\x1b[31mFAILED\x1b[0m test_add", "<b>"]
    )
    html = (await client.get("/octo/hello/1")).text
    tree = html[html.index('class="tree"') : html.index('id="log"')]
    assert "backend" in tree and "clone" in tree and "test" in tree
    assert tree.count("✓") >= 1 and tree.count("✗") >= 2  # icons, with the words beside them
    assert re.search(
        r'status-failure"[^>]*><span class="icon"[^>]*>✗</span> <span class="label">failure', tree
    )
    assert 'aria-current="page"' in html.split('id="step-1-2"')[1].split("</li>")[0]  # the failing step
    assert '<span class="ansi-fg-1">FAILED</span> test_add' in html
    assert "&lt;b&gt;" in html and "<b>" not in html.split('id="log"')[1]
    assert 'id="L2"' in html and "#L2" in html
    assert 'href="/api/repos/octo/hello/builds/1/logs/1/2?format=text"' in html
    assert "Cancel" not in html  # anonymous visitors get no buttons
    clone = (await client.get("/octo/hello/1/1/1")).text
    assert 'aria-current="page"' in clone.split('id="step-1-1"')[1].split("</li>")[0]
    assert (await client.get("/octo/hello/1/1/9")).status_code == 404
    assert (await client.get("/octo/hello/7")).status_code == 404


async def test_a_long_log_is_read_page_by_page_and_searched_without_javascript(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "success", [StageSeed("s", "success", (("big", "success"),))])
    await add_lines(hangar, seeded.steps[(1, 1)], [f"line {n}" for n in range(1, 2501)])
    first = (await client.get("/octo/hello/1/1/1")).text
    assert "line 1000<" in first and "line 1001<" not in first
    assert "Lines 1–1000 of 2500" in first and "?start=1000" in first and "?start=2000" in first
    last = (await client.get("/octo/hello/1/1/1?start=2000")).text
    assert "line 2001<" in last and "line 2500<" in last and "line 2000<" not in last
    found = (await client.get("/octo/hello/1/1/1?q=LINE 24")).text
    assert found.count('class="line"') == 11 + 100  # "line 24" and "line 240".."line 2499"
    assert 'href="/octo/hello/1/1/1?start=2000#L2401"' in found


async def test_a_broken_pipeline_shows_which_line_is_wrong(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    error = ".ci.yml:7:17: error: steps.test.image: expected a string (hint: quote it)"
    await add_build(hangar, repo, "error", finished=1_700_000_001.0, error=error)
    html = (await client.get("/octo/hello/1")).text
    assert ".ci.yml:7:17: error: steps.test.image: expected a string" in html
    assert "could not be compiled" in html


async def test_page_text_from_commits_is_escaped(client: httpx.AsyncClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "success", message="<script>alert(1)</script>", author_name="<img src=x>")
    for path in ("/", "/octo/hello", "/octo/hello/1"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html and "<img src=x>" not in html, path
    answer = await client.get("/octo/hello/1")
    assert "script-src 'self'" in answer.headers["content-security-policy"]


async def test_the_badge_names_the_default_branchs_latest_status(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    assert ">no builds<" in (await client.get("/octo/hello/badge.svg")).text
    await add_build(hangar, repo, "failure", branch="main")
    await add_build(hangar, repo, "success", branch="dev")
    answer = await client.get("/octo/hello/badge.svg")
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert ">failing<" in answer.text
    assert ">passing<" in (await client.get("/octo/hello/badge.svg?branch=dev")).text


def _row(html: str, marker: str) -> str:
    at = html.index(marker)
    return html[html.rindex("<tr>", 0, at) : html.index("</tr>", at)]


async def test_only_web_links_are_linked(client: httpx.AsyncClient, hangar: Services) -> None:
    repo = await add_repo(hangar, link="javascript:alert(1)")
    await add_build(hangar, repo, "success", commit_link="javascript:alert(2)")
    for path in ("/octo/hello", "/octo/hello/1"):
        assert "javascript:" not in (await client.get(path)).text


async def test_owners_whose_names_begin_like_hangars_paths_get_pages(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_repo(hangar, "metrics-team", "app")
    answer = await client.get("/metrics-team/app/99")
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert (await client.get("/metrics-team/app/settings")).status_code == 303  # sign in first


async def test_owner_names_that_hangars_own_paths_take_are_refused(client: httpx.AsyncClient) -> None:
    from tests.server.conftest import admin_headers

    for owner in ("api", "static", "Login"):
        body = {"owner": owner, "name": "app", "clone_url": "https://example.com/x.git"}
        answer = await client.post("/api/repos", json=body, headers=admin_headers())
        assert answer.status_code == 400 and "own pages" in answer.text


async def test_a_bearer_token_opens_the_pages_of_a_private_repository(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    from tests.server.api.seed import add_user

    repo = await add_repo(hangar, "acme", "secret-plans", private=True)
    await add_build(hangar, repo, "success", message="launch codes")
    headers = await add_user(hangar, "robot")
    assert "launch codes" in (await client.get("/acme/secret-plans/1", headers=headers)).text
    assert (await client.get("/acme/secret-plans/badge.svg", headers=headers)).status_code == 200
    wrong = await client.get("/acme/secret-plans/1", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 303 and "launch codes" not in wrong.text  # to the sign-in page


async def test_the_dashboard_shows_a_branch_however_long_ago_it_last_built(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "failure", branch="old-feature")
    for _ in range(60):
        await add_build(hangar, repo, "success", branch="main")
    html = (await client.get("/")).text
    assert "#1<" in _row(html, "?branch=old-feature") and "#61<" in _row(html, "?branch=main")

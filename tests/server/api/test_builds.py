"""Builds through the REST API: list and detail (both databases), logs, who may see what, cancel, restart."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from pipelines import BuildCause, BuildContext, cause_of
from server.api.openapi_schemas import ANSWERS
from server.db.models import Build, LogChunk, Stage
from server.services import Services
from server.store.builds import create_build
from server.store.repos import next_build_number
from tests.pipelines.causes import every_field_set
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo, add_user
from tests.server.conftest import admin_headers

BUILDS = "/api/repos/octo/hello/builds"


async def add_history(hangar: Services, repo_id: int, count: int) -> None:
    """`count` finished builds without stages, every third one on branch `dev`."""
    async with hangar.transaction() as (session, _changes):
        for _ in range(count):
            number = await next_build_number(session, repo_id)
            branch = "dev" if number % 3 == 0 else "main"
            build = Build(repo_id=repo_id, number=number, status="success", branch=branch, finished=2.0)
            await create_build(session, build, [])


async def test_the_build_list_pages_newest_first(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    await add_history(hangar_each_db, repo.id or 0, 110)

    first_page = (await api_each_db.get(BUILDS)).json()
    assert [build["number"] for build in first_page] == list(range(110, 85, -1))
    shown_before = {
        "number", "status", "event", "ref", "branch", "sha", "message", "author_login", "author_name",
        "author_email", "author_avatar", "link", "error", "parent", "created", "started", "finished",
    }  # fmt: skip
    assert set(first_page[0]) == shown_before | set(BuildCause.model_fields), "a key older clients read went"
    older = (await api_each_db.get(BUILDS, params={"limit": 5, "before": 20})).json()
    assert [build["number"] for build in older] == [19, 18, 17, 16, 15]
    dev = (await api_each_db.get(BUILDS, params={"branch": "dev", "limit": 3})).json()
    assert [build["number"] for build in dev] == [108, 105, 102]
    assert len((await api_each_db.get(BUILDS, params={"limit": 1000})).json()) == 100
    for bad in ({"limit": "ten"}, {"limit": 0}, {"before": "x"}):
        refused = await api_each_db.get(BUILDS, params=bad)
        assert refused.status_code == 400
        assert next(iter(bad)) in refused.json()["error"]


async def test_a_build_shows_its_stages_and_steps(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    await add_build(
        hangar_each_db,
        repo,
        "running",
        [
            StageSeed("test", "running", [("clone", "success"), ("unit", "running")], runner="r1"),
            StageSeed("deploy", "waiting_on_dependencies", [("ship", "pending")], depends_on=["test"]),
        ],
    )
    shown = await api_each_db.get(f"{BUILDS}/1")
    assert shown.status_code == 200, shown.text
    build = shown.json()
    assert (build["number"], build["status"], build["author_name"]) == (1, "running", "Jane Doe")
    test, deploy = build["stages"]
    assert (test["number"], test["name"], test["status"], test["runner"]) == (1, "test", "running", "r1")
    assert [(step["number"], step["name"], step["status"]) for step in test["steps"]] == [
        (1, "clone", "success"),
        (2, "unit", "running"),
    ]
    assert set(test["steps"][0]) == {
        "number",
        "name",
        "status",
        "exit_code",
        "error",
        "started",
        "finished",
        "log_lines",
    }
    assert (deploy["depends_on"], [step["name"] for step in deploy["steps"]]) == (["test"], ["ship"])
    assert (await api_each_db.get(f"{BUILDS}/2")).status_code == 404
    assert (await api_each_db.get(f"{BUILDS}/latest")).status_code == 404


async def test_logs_page_and_download_as_text(api: RecordingClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "success", [StageSeed("test", "success")], finished=5.0)
    await add_lines(hangar, seeded.steps[1, 2], [f"line {n}" for n in range(10)])
    logs = f"{BUILDS}/1/logs/1/2"

    every = (await api.get(logs)).json()
    assert every[0] == {"pos": 0, "time": 0.0, "out": "line 0"}
    assert [line["out"] for line in every] == [f"line {n}" for n in range(10)]
    page = (await api.get(logs, params={"start": 3, "limit": 4})).json()
    assert [line["pos"] for line in page] == [3, 4, 5, 6]
    text = await api.get(logs, params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert "attachment" in text.headers["content-disposition"]
    assert text.text == "".join(f"line {n}\n" for n in range(10))
    assert (await api.get(f"{BUILDS}/1/logs/1/1")).json() == []
    for missing in ("1/9", "9/1", "x/1"):
        assert (await api.get(f"{BUILDS}/1/logs/{missing}")).status_code == 404
    assert (await api.get(logs, params={"limit": 0})).status_code == 400


async def test_a_private_repository_is_invisible_everywhere(api: RecordingClient, hangar: Services) -> None:
    repo = await add_repo(hangar, private=True)
    seeded = await add_build(hangar, repo, "success", [StageSeed("test", "success")], finished=5.0)
    await add_lines(hangar, seeded.steps[1, 1], ["cloned"])
    jane = await add_user(hangar, "jane")
    paths = [
        "/api/repos/octo/hello",
        BUILDS,
        f"{BUILDS}/1",
        f"{BUILDS}/1/logs/1/1",
        f"{BUILDS}/1/logs/1/1?format=text",
        f"{BUILDS}/1/events",
        f"{BUILDS}/1/logs/1/1/stream",
    ]
    for path in paths:
        hidden = await api.get(path)
        assert hidden.status_code == 404, path
        assert "cloned" not in hidden.text
    for path in paths[:5]:
        assert (await api.get(path, headers=jane)).status_code == 200, path
    assert (await api.post(f"{BUILDS}/1")).status_code == 401
    assert (await api.delete(f"{BUILDS}/1")).status_code == 401


async def test_cancelling_stops_running_stages_and_skips_pending_ones(
    api: RecordingClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(
        hangar,
        repo,
        "running",
        [
            StageSeed("test", "running", [("clone", "success"), ("unit", "running")], runner="r1"),
            StageSeed("lint", "pending"),
            StageSeed("deploy", "waiting_on_dependencies", depends_on=["test"]),
        ],
    )
    cancelled = await api.delete(f"{BUILDS}/1", headers=await add_user(hangar, "jane"))
    assert cancelled.status_code == 200, cancelled.text
    stages = {stage["name"]: stage for stage in cancelled.json()["stages"]}
    assert stages["lint"]["status"] == stages["deploy"]["status"] == "skipped"
    assert {step["status"] for step in stages["lint"]["steps"]} == {"skipped"}
    assert stages["test"]["status"] == "running"  # until its runner reports it stopped
    async with hangar.reading() as session:
        running = (await session.exec(select(Stage).where(Stage.name == "test"))).one()
    assert running.cancel_requested


async def test_the_answer_to_a_cancel_is_the_build_as_the_cancel_left_it(
    api: RecordingClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "pending", [StageSeed("test", "pending")])
    cancelled = await api.delete(f"{BUILDS}/1", headers=await add_user(hangar, "jane"))
    assert (cancelled.json()["status"], cancelled.json()["finished"] is not None) == ("killed", True)


async def test_cancelling_a_finished_build_is_a_conflict(api: RecordingClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "success", [StageSeed("test", "success")], finished=5.0)
    refused = await api.delete(f"{BUILDS}/1", headers=admin_headers())
    assert refused.status_code == 409
    assert "already finished" in refused.json()["error"]
    assert (await api.get(f"{BUILDS}/1")).json()["status"] == "success"


async def test_restarting_a_stage_resets_it_and_its_dependents(
    api: RecordingClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    done = [("clone", "success"), ("work", "success")]
    seeded = await add_build(
        hangar,
        repo,
        "failure",
        [
            StageSeed("build", "success", done),
            StageSeed("test", "failure", [("clone", "success"), ("work", "failure")], depends_on=["build"]),
            StageSeed("deploy", "skipped", [("clone", "skipped")], depends_on=["test"]),
            StageSeed("docs", "success", done),
        ],
        finished=9.0,
    )
    test_log = seeded.steps[2, 2]
    await add_lines(hangar, test_log, ["assert 1 == 2"])
    await add_lines(hangar, seeded.steps[1, 2], ["built"])
    jane = await add_user(hangar, "jane")

    assert (await api.post(f"{BUILDS}/1", params={"stage": 9}, headers=jane)).status_code == 404
    restarted = await api.post(f"{BUILDS}/1", params={"stage": 2}, headers=jane)
    assert restarted.status_code == 200, restarted.text
    build = restarted.json()
    assert (build["number"], build["status"], build["finished"]) == (1, "running", None)
    stages = {stage["name"]: stage for stage in build["stages"]}
    assert stages["test"]["status"] == "pending"
    assert stages["deploy"]["status"] == "waiting_on_dependencies"
    assert {step["status"] for name in ("test", "deploy") for step in stages[name]["steps"]} == {"pending"}
    assert stages["build"]["status"] == stages["docs"]["status"] == "success"
    assert (await api.get(f"{BUILDS}/1/logs/2/2")).json() == []
    assert [line["out"] for line in (await api.get(f"{BUILDS}/1/logs/1/2")).json()] == ["built"]
    async with hangar.reading() as session:
        chunks = await session.exec(select(LogChunk).where(col(LogChunk.step_id) == test_log.id))
        assert chunks.all() == []
    assert len((await api.get(BUILDS)).json()) == 1

    again = await api.post(f"{BUILDS}/1", params={"stage": 2}, headers=jane)
    assert again.status_code == 409  # it is pending now
    assert (await api.post(f"{BUILDS}/1", params={"stage": 2})).status_code == 401


PIPELINES = """\
kind: pipeline
type: docker
name: test
steps:
  - name: unit
    image: busybox
    commands: [echo unit]
---
kind: pipeline
type: docker
name: deploy
depends_on: [test]
steps:
  - name: ship
    image: busybox
    commands: [echo ship]
"""


def commit_pipelines(folder: Path) -> str:
    """A git repository whose `main` has a `.ci.yml`; the commit's sha."""
    identity = ["-c", "user.name=Jane Doe", "-c", "user.email=jane@example.com"]

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *identity, *args], cwd=folder, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    folder.mkdir()
    git("init", "--quiet", "--initial-branch=main")
    (folder / ".ci.yml").write_text(PIPELINES)
    git("add", ".ci.yml")
    git("commit", "--quiet", "-m", "add pipelines")
    return git("rev-parse", "HEAD")


async def test_restarting_a_build_creates_a_new_one_of_the_same_commit(
    api: RecordingClient, hangar: Services, tmp_path: Path
) -> None:
    sha = commit_pipelines(tmp_path / "hello")
    repo = await add_repo(hangar, clone_url=str(tmp_path / "hello"))
    cause = every_field_set(event="push", ref="refs/heads/main", branch="main", sha=sha, before=sha)
    seeds = [StageSeed("test", "failure")]
    await add_build(hangar, repo, "failure", seeds, finished=9.0, **cause.model_dump())

    restarted = await api.post(f"{BUILDS}/1", headers=await add_user(hangar, "jane"))
    assert restarted.status_code == 201, restarted.text
    build = restarted.json()
    assert (build["number"], build["parent"], build["error"]) == (2, 1, "")
    assert {name: build[name] for name in BuildCause.model_fields} == cause.model_dump(mode="json")
    stages = {stage["name"]: stage for stage in build["stages"]}
    assert stages["test"]["status"] == "pending"
    assert stages["deploy"]["status"] == "waiting_on_dependencies"
    assert "unit" in [step["name"] for step in stages["test"]["steps"]]
    assert [listed["number"] for listed in (await api.get(BUILDS)).json()] == [2, 1]
    assert (await api.get(f"{BUILDS}/1")).json()["status"] == "failure"
    async with hangar.reading() as session:
        compiled = (await session.exec(select(Build).where(Build.number == 2))).one()
    assert cause_of(BuildContext.model_validate(compiled.context)) == cause, "compiled with all it is about"


async def test_a_build_shows_every_field_of_its_cause_as_its_schema_says(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    cause = every_field_set()
    await add_build(hangar_each_db, repo, "success", **cause.model_dump())

    listed = (await api_each_db.get(BUILDS)).json()[0]
    shown = (await api_each_db.get(f"{BUILDS}/1")).json()
    for build in (listed, shown):
        assert {name: build[name] for name in BuildCause.model_fields} == cause.model_dump(mode="json")
        assert build["link"] == cause.commit_link, "older clients read the commit's page as `link`"
    assert set(listed) == set(ANSWERS["Build"]["properties"])


PIECES = ["ok", "\x1b[31mFAIL\x1b[0m", "fa\x1b[1mil", "x\rfail", "FaIl", "a\x07il", "é", "\x1b]8;;u\x07f"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(PIECES), max_size=4).map("".join), max_size=12),
    st.sampled_from(["fail", "ail", "ok", "é", "xf", "\x1b"]),
)
def test_a_search_finds_exactly_the_lines_whose_shown_text_holds_the_words(
    texts: list[str], needle: str
) -> None:
    from server.log_search import matching_lines
    from webui.ansi import strip_ansi

    lines = [(position, 0.0, text) for position, text in enumerate(texts)]
    expected = [line for line in lines if needle.casefold() in strip_ansi(line[2]).casefold()]
    assert matching_lines(lines, needle.casefold()) == expected

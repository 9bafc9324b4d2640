"""Woodpecker's `CI_*` variables for a build: what steps see, what `${VAR}` substitutes and what `evaluate`
expressions read (only the variables that are not empty, as Woodpecker sets them)."""

from __future__ import annotations

import json

from pipelines.plan import BuildContext

_EVENTS = {"custom": "manual", "promote": "deployment", "rollback": "deployment"}


def woodpecker_event(context: BuildContext) -> str:
    """The build's event in Woodpecker's words (a custom build is `manual`, a promotion a `deployment`)."""
    if context.event == "pull_request" and context.action == "closed":
        return "pull_request_closed"
    return _EVENTS.get(context.event, context.event)


def host_of(url: str) -> str:
    """`ci.example.com:8080` of `https://ci.example.com:8080/path`."""
    return url.split("://", 1)[-1].split("/", 1)[0]


def woodpecker_environ(
    context: BuildContext, workflow: str = "", number: int = 0, platform: str = "linux/amd64"
) -> dict[str, str]:
    """The `CI_*` variables of a build's workflow (empty ones left out)."""
    repo = context.repo
    event = woodpecker_event(context)
    pull = event.startswith("pull_request")
    values = {
        "CI": "woodpecker",
        "CI_SYSTEM_NAME": "woodpecker",
        "CI_SYSTEM_URL": context.server_url,
        "CI_SYSTEM_HOST": host_of(context.server_url),
        "CI_SYSTEM_PLATFORM": platform,
        "CI_REPO": repo.slug,
        "CI_REPO_NAME": repo.name,
        "CI_REPO_OWNER": repo.owner,
        "CI_REPO_URL": repo.link,
        "CI_REPO_CLONE_URL": repo.remote_url,
        "CI_REPO_DEFAULT_BRANCH": repo.default_branch,
        "CI_REPO_PRIVATE": _bool(repo.private),
        "CI_REPO_TRUSTED": _bool(context.trusted),
        "CI_REPO_TRUSTED_NETWORK": _bool(context.trusted),
        "CI_REPO_TRUSTED_VOLUMES": _bool(context.trusted),
        "CI_REPO_TRUSTED_SECURITY": _bool(context.trusted),
        "CI_PIPELINE_NUMBER": str(context.number),
        "CI_PIPELINE_PARENT": str(context.parent),
        "CI_PIPELINE_EVENT": event,
        "CI_PIPELINE_URL": context.build_link,
        "CI_PIPELINE_FORGE_URL": context.commit_link,
        "CI_PIPELINE_DEPLOY_TARGET": context.deploy_to,
        "CI_PIPELINE_CREATED": str(context.created),
        "CI_PIPELINE_STARTED": str(context.started),
        "CI_PIPELINE_AUTHOR": context.author_login,
        "CI_PIPELINE_AVATAR": context.author_avatar,
        "CI_WORKFLOW_NAME": workflow,
        "CI_WORKFLOW_NUMBER": str(number) if number else "",
        "CI_COMMIT_SHA": context.sha,
        "CI_COMMIT_REF": context.ref,
        "CI_COMMIT_REFSPEC": f"{context.source_branch}:{context.target_branch}" if pull else "",
        "CI_COMMIT_MESSAGE": context.message,
        "CI_COMMIT_BRANCH": context.branch,
        "CI_COMMIT_AUTHOR": context.author_name or context.author_login,
        "CI_COMMIT_AUTHOR_EMAIL": context.author_email,
        "CI_COMMIT_AUTHOR_AVATAR": context.author_avatar,
        "CI_COMMIT_TAG": context.tag,
        "CI_COMMIT_SOURCE_BRANCH": context.source_branch if pull else "",
        "CI_COMMIT_TARGET_BRANCH": context.target_branch if pull else "",
        "CI_COMMIT_PULL_REQUEST": str(context.pull_request) if pull and context.pull_request else "",
        "CI_CRON": context.cron,
    }
    environ = {name: value for name, value in values.items() if value}
    files = context.changed_files or []
    if len(files) <= 500:
        environ["CI_PIPELINE_FILES"] = json.dumps(files, separators=(",", ":"))
    return environ


def _bool(value: bool) -> str:
    return "true" if value else "false"

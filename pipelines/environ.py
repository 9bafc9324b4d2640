"""The DRONE_* and CI_* variables every step sees, from the build context."""

from __future__ import annotations

from pipelines.plan import BuildContext, Platform, Workspace
from pipelines.semver import semver_environ


def build_environ(context: BuildContext) -> dict[str, str]:
    """Variables describing the repository, commit and build; also what `${VAR}` substitution sees."""
    repo = context.repo
    env = {
        "CI": "true",
        "DRONE": "true",
        "HANGAR": "true",
        "DRONE_SYSTEM_HOST": _host(context.server_url),
        "DRONE_SYSTEM_HOSTNAME": _host(context.server_url).rsplit(":", 1)[0],
        "DRONE_SYSTEM_PROTO": context.server_url.split("://", 1)[0]
        if "://" in context.server_url
        else "http",
        "DRONE_REPO": repo.slug,
        "DRONE_REPO_OWNER": repo.owner,
        "DRONE_REPO_NAMESPACE": repo.owner,
        "DRONE_REPO_NAME": repo.name,
        "DRONE_REPO_LINK": repo.link,
        "DRONE_REPO_BRANCH": repo.default_branch,
        "DRONE_REPO_SCM": repo.scm,
        "DRONE_REPO_PRIVATE": _bool(repo.private),
        "DRONE_REPO_VISIBILITY": "private" if repo.private else "public",
        "DRONE_REMOTE_URL": repo.remote_url,
        "DRONE_GIT_HTTP_URL": repo.remote_url,
        "DRONE_BRANCH": context.branch,
        "DRONE_SOURCE_BRANCH": context.source_branch or context.branch,
        "DRONE_TARGET_BRANCH": context.target_branch or context.branch,
        "DRONE_COMMIT": context.sha,
        "DRONE_COMMIT_SHA": context.sha,
        "DRONE_COMMIT_BEFORE": context.before,
        "DRONE_COMMIT_AFTER": context.sha,
        "DRONE_COMMIT_REF": context.ref,
        "DRONE_COMMIT_BRANCH": context.branch,
        "DRONE_COMMIT_LINK": context.commit_link,
        "DRONE_COMMIT_MESSAGE": context.message,
        "DRONE_COMMIT_AUTHOR": context.author_login,
        "DRONE_COMMIT_AUTHOR_NAME": context.author_name,
        "DRONE_COMMIT_AUTHOR_EMAIL": context.author_email,
        "DRONE_COMMIT_AUTHOR_AVATAR": context.author_avatar,
        "DRONE_BUILD_NUMBER": str(context.number),
        "DRONE_BUILD_PARENT": str(context.parent),
        "DRONE_BUILD_EVENT": context.event,
        "DRONE_BUILD_ACTION": context.action,
        "DRONE_BUILD_TRIGGER": context.trigger,
        "DRONE_BUILD_STATUS": "success",
        "DRONE_BUILD_CREATED": str(context.created),
        "DRONE_BUILD_STARTED": str(context.started),
        "DRONE_BUILD_FINISHED": "",
        "DRONE_BUILD_LINK": context.build_link,
        "DRONE_DEPLOY_TO": context.deploy_to,
        "DRONE_FAILED_STAGES": "",
        "DRONE_FAILED_STEPS": "",
    }
    if context.tag:
        env["DRONE_TAG"] = context.tag
        env.update(semver_environ(context.tag))
    if context.pull_request:
        env["DRONE_PULL_REQUEST"] = str(context.pull_request)
        env["DRONE_PULL_REQUEST_TITLE"] = context.pull_request_title
    if context.cron:
        env["DRONE_CRON"] = env["CI_CRON"] = context.cron
    if context.deploy_to:
        env["CI_PIPELINE_DEPLOY_TARGET"] = context.deploy_to  # Woodpecker's name
    env.update(_legacy_aliases(env))
    return {**context.parameters, **env}  # a custom or promoted build's parameters, never over ours


def stage_environ(
    number: int, name: str, platform: Platform, workspace: Workspace, depends_on: list[str]
) -> dict[str, str]:
    """Variables describing the stage and its workspace."""
    return {
        "DRONE_STAGE_KIND": "pipeline",
        "DRONE_STAGE_TYPE": "docker",
        "DRONE_STAGE_NAME": name,
        "DRONE_STAGE_NUMBER": str(number),
        "DRONE_STAGE_OS": platform.os,
        "DRONE_STAGE_ARCH": platform.arch,
        "DRONE_STAGE_VARIANT": platform.variant,
        "DRONE_STAGE_STATUS": "success",
        "DRONE_STAGE_DEPENDS_ON": ",".join(depends_on),
        "DRONE_WORKSPACE": workspace.full,
        "DRONE_WORKSPACE_BASE": workspace.base,
        "DRONE_WORKSPACE_PATH": workspace.path,
        "CI_WORKSPACE": workspace.full,
    }


def step_environ(number: int, name: str) -> dict[str, str]:
    """Variables naming the step."""
    return {"DRONE_STEP_NAME": name, "DRONE_STEP_NUMBER": str(number)}


_ALIASES = {
    "CI_REPO": "DRONE_REPO",
    "CI_REPO_NAME": "DRONE_REPO",
    "CI_REPO_LINK": "DRONE_REPO_LINK",
    "CI_REPO_REMOTE": "DRONE_REMOTE_URL",
    "CI_REMOTE_URL": "DRONE_REMOTE_URL",
    "CI_REPO_PRIVATE": "DRONE_REPO_PRIVATE",
    "CI_BUILD_NUMBER": "DRONE_BUILD_NUMBER",
    "CI_PARENT_BUILD_NUMBER": "DRONE_BUILD_PARENT",
    "CI_BUILD_CREATED": "DRONE_BUILD_CREATED",
    "CI_BUILD_STARTED": "DRONE_BUILD_STARTED",
    "CI_BUILD_FINISHED": "DRONE_BUILD_FINISHED",
    "CI_BUILD_STATUS": "DRONE_BUILD_STATUS",
    "CI_BUILD_EVENT": "DRONE_BUILD_EVENT",
    "CI_BUILD_LINK": "DRONE_BUILD_LINK",
    "CI_BUILD_TARGET": "DRONE_DEPLOY_TO",
    "CI_COMMIT_SHA": "DRONE_COMMIT_SHA",
    "CI_COMMIT_REF": "DRONE_COMMIT_REF",
    "CI_COMMIT_BRANCH": "DRONE_COMMIT_BRANCH",
    "CI_COMMIT_MESSAGE": "DRONE_COMMIT_MESSAGE",
    "CI_COMMIT_AUTHOR": "DRONE_COMMIT_AUTHOR",
    "CI_COMMIT_AUTHOR_NAME": "DRONE_COMMIT_AUTHOR_NAME",
    "CI_COMMIT_AUTHOR_EMAIL": "DRONE_COMMIT_AUTHOR_EMAIL",
    "CI_COMMIT_AUTHOR_AVATAR": "DRONE_COMMIT_AUTHOR_AVATAR",
}


def _legacy_aliases(env: dict[str, str]) -> dict[str, str]:
    """Drone's legacy CI_* names for the same values."""
    return {alias: env[source] for alias, source in _ALIASES.items()}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]

"""What Drone tells a Jsonnet or Starlark configuration about the build and repository (its converters)."""

from __future__ import annotations

from pipelines.plan import BuildContext

Value = str | bool


def build_values(context: BuildContext) -> dict[str, Value]:
    """`ctx.build.*` (Starlark) and `build.*` (Jsonnet), named and filled as Drone does."""
    target = context.target_branch or context.branch
    return {
        "event": context.event,
        "action": context.action,
        "cron": context.cron,
        "environment": context.deploy_to,
        "link": context.commit_link,
        "branch": context.branch,
        "source": context.source_branch or context.branch,
        "before": context.before,
        "after": context.sha,
        "target": target,
        "ref": context.ref,
        "commit": context.sha,
        "title": context.pull_request_title,
        "message": context.message,
        # Drone fills this with the pull request's head repository; Hangar's hooks keep no fork slug
        "source_repo": context.repo.slug if context.event == "pull_request" else "",
        "author_login": context.author_login,
        "author_name": context.author_name,
        "author_email": context.author_email,
        "author_avatar": context.author_avatar,
        "sender": context.author_login,
        "debug": False,
    }


def repo_values(context: BuildContext, config_path: str) -> dict[str, Value]:
    """`ctx.repo.*` (Starlark) and `repo.*` (Jsonnet), named and filled as Drone does."""
    repo = context.repo
    return {
        "uid": "",
        "name": repo.name,
        "namespace": repo.owner,
        "slug": repo.slug,
        "git_http_url": repo.remote_url,
        "git_ssh_url": "",
        "link": repo.link,
        "branch": repo.default_branch,
        "config": config_path,
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "active": True,
        "trusted": context.trusted,
        "protected": False,
        "ignore_forks": False,
        "ignore_pull_requests": False,
    }


def external_variables(context: BuildContext, config_path: str) -> dict[str, str]:
    """Jsonnet's external variables (`std.extVar('build.branch')`): strings only, booleans as true/false."""
    variables: dict[str, str] = {}
    for prefix, values in (("build.", build_values(context)), ("repo.", repo_values(context, config_path))):
        for name, value in values.items():
            if prefix == "build." and name in ("debug", "cron"):
                continue  # Drone's Jsonnet converter passes neither
            variables[prefix + name] = ("true" if value else "false") if isinstance(value, bool) else value
    return variables

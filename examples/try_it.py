"""Try Hangar with a local "forge": a bare repository whose post-receive hook sends GitHub-style webhooks.

    .venv/bin/python examples/try_it.py [python-app|service-app]     (with `hangar up` running)

It creates `<state>/try-it/<example>.git`, registers it with Hangar (HANGAR_URL, default http://localhost:8080;
the admin token from HANGAR_ADMIN_TOKEN or the data folder), installs the hook, pushes the example and prints
the build's address. Later pushes to that repository build too, like pushes to a real forge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
STATE = Path.home() / ".local" / "state" / "hangar"
OWNER = "examples"


def main() -> None:
    """Create, register, push, and print the build page."""
    if sys.argv[1:2] == ["--hook"]:
        post_receive(sys.argv[2], sys.argv[3], Path(sys.argv[4]))
        return
    example = sys.argv[1] if len(sys.argv) > 1 else "python-app"
    source = HERE / example
    if not (source / ".ci.yml").is_file():
        sys.exit(f"no example called {example!r} in {HERE}")
    url = os.environ.get("HANGAR_URL", "http://localhost:8080").rstrip("/")
    token = os.environ.get("HANGAR_ADMIN_TOKEN") or (STATE / "data" / "admin.token").read_text().strip()
    bare = STATE / "try-it" / f"{example}.git"
    if not bare.exists():
        run("git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    secret = register(url, token, example, bare)
    install_hook(bare, url, f"{OWNER}/{example}", secret)
    build = push(source, bare)
    print(f"pushed {build[:12]} to {bare}")
    print(wait_for_build(url, token, example, build))


def register(url: str, token: str, name: str, bare: Path) -> str:
    """Register the repository (or give it a fresh webhook secret); the secret."""
    secret = uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {token}"}
    body = {"owner": OWNER, "name": name, "clone_url": str(bare), "forge": "github", "webhook_secret": secret}
    answer = httpx.post(f"{url}/api/repos", json=body, headers=headers)
    if answer.status_code == 409:
        answer = httpx.patch(
            f"{url}/api/repos/{OWNER}/{name}", json={"webhook_secret": secret}, headers=headers
        )
    answer.raise_for_status()
    return secret


def install_hook(bare: Path, url: str, slug: str, secret: str) -> None:
    """A post-receive hook that runs this file with --hook."""
    (bare / "hangar-webhook-secret").write_text(secret)
    hook = bare / "hooks" / "post-receive"
    hook.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" --hook "{url}" "{slug}" "{bare}"\n'
    )
    hook.chmod(0o755)


def push(source: Path, bare: Path) -> str:
    """Commit the example's files on top of the repository and push; the new commit."""
    with tempfile.TemporaryDirectory(prefix="hangar-try-") as folder:
        work = Path(folder) / "work"
        run("git", "clone", "--quiet", str(bare), str(work))
        shutil.copytree(source, work, dirs_exist_ok=True)
        run("git", "-C", str(work), "add", "-A")
        run("git", "-C", str(work), "commit", "--quiet", "--allow-empty", "-m", f"try {source.name}")
        run("git", "-C", str(work), "push", "--quiet", "origin", "HEAD:main")
        return run("git", "-C", str(work), "rev-parse", "HEAD").strip()


def post_receive(url: str, slug: str, bare: Path) -> None:
    """Send a signed GitHub push webhook for every ref git says was updated (stdin: `old new ref`)."""
    secret = (bare / "hangar-webhook-secret").read_text().strip()
    owner, name = slug.split("/", 1)
    for line in sys.stdin:
        before, after, ref = line.split()
        message = (
            run("git", f"--git-dir={bare}", "log", "-1", "--format=%B", after) if set(after) != {"0"} else ""
        )
        author = (
            run("git", f"--git-dir={bare}", "log", "-1", "--format=%an%n%ae", after).split("\n")
            if message
            else ["", ""]
        )
        payload = {
            "ref": ref, "before": before, "after": after, "deleted": set(after) == {"0"},
            "repository": {"full_name": slug, "name": name, "owner": {"login": owner},
                           "clone_url": f"https://forge.invalid/{slug}.git", "default_branch": "main"},
            "head_commit": {"id": after, "message": message.strip(),
                            "author": {"name": author[0], "email": author[1]}},
            "sender": {"login": os.environ.get("USER", "you")},
        }  # fmt: skip
        body = json.dumps(payload).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json", "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": f"sha256={signature}",
        }  # fmt: skip
        answer = httpx.post(f"{url}/hook", content=body, headers=headers)
        print(f"hangar: {ref} -> {answer.status_code} {answer.text}")


def wait_for_build(url: str, token: str, name: str, sha: str) -> str:
    """The build page of the commit's build, once the trigger has made it."""
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(100):
        builds = httpx.get(f"{url}/api/repos/{OWNER}/{name}/builds", headers=headers).json()
        for build in builds:
            if build["sha"] == sha:
                return (
                    f"build #{build['number']}: {url}/{OWNER}/{name}/{build['number']}\n"
                    f"  status and logs: {url}/api/repos/{OWNER}/{name}/builds/{build['number']}"
                )
        time.sleep(0.1)
    return f"no build yet for {sha[:12]}; see {url}/api/repos/{OWNER}/{name}/builds"


def run(*command: str) -> str:
    """Run a command; its output (it fails loudly)."""
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


if __name__ == "__main__":
    main()

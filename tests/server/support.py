"""Test helpers for the server: real git repositories pushed to a bare remote, signed forge webhooks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from server.db.models import Repo
from server.services import Services
from server.store.repos import create_repo

WEBHOOK_SECRET = "hook-secret-for-tests"
AUTHOR_EMAIL = "dev@example.com"


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`; its output."""
    env = {
        "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL, "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL, "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin",
    }  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@dataclass
class PushedRepo:
    """A work tree that pushes to a local bare repository (the forge's copy)."""

    root: Path
    bare: Path = field(init=False)
    work: Path = field(init=False)
    head: str = ""

    def __post_init__(self) -> None:
        self.bare, self.work = self.root / "remote.git", self.root / "work"
        self.work.mkdir(parents=True)
        git(self.root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git(self.work, "init", "--quiet", "--initial-branch=main")
        git(self.work, "remote", "add", "origin", str(self.bare))

    def push(self, files: dict[str, str], message: str = "change") -> tuple[str, str]:
        """Commit `files` and push to main; (before, after) shas."""
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "-m", message)
        git(self.work, "push", "--quiet", "origin", "main")
        before, self.head = self.head, git(self.work, "rev-parse", "HEAD").strip()
        return before, self.head

    def push_each(self, messages: list[str], files: dict[str, str]) -> list[tuple[str, str]]:
        """One commit per message (`files` and `change.txt` holding the message), pushed together at the
        end: (before, after) shas of each."""
        shas: list[tuple[str, str]] = []
        for message in messages:
            for name, text in (files | {"change.txt": message}).items():
                self.work.joinpath(name).write_text(text)
            git(self.work, "add", "-A")
            git(self.work, "commit", "--quiet", "-m", message)
            before, self.head = self.head, git(self.work, "rev-parse", "HEAD").strip()
            shas.append((before, self.head))
        git(self.work, "push", "--quiet", "origin", "main")
        return shas


def github_push(owner: str, name: str, before: str, after: str, message: str, branch: str = "main") -> bytes:
    """A GitHub `push` payload, as GitHub sends it."""
    payload = {
        "ref": f"refs/heads/{branch}", "before": before or "0" * 40, "after": after, "created": not before,
        "deleted": False, "compare": f"https://github.example/{owner}/{name}/compare/{after[:12]}",
        "repository": {
            "full_name": f"{owner}/{name}", "name": name, "owner": {"login": owner},
            "clone_url": f"https://github.example/{owner}/{name}.git", "html_url": f"https://github.example/{owner}/{name}",
            "private": False, "default_branch": "main",
        },
        "head_commit": {
            "id": after, "message": message, "url": f"https://github.example/{owner}/{name}/commit/{after}",
            "author": {"name": "Dev", "email": AUTHOR_EMAIL, "username": "dev"},
        },
        "pusher": {"name": "dev", "email": AUTHOR_EMAIL}, "sender": {"login": "dev", "avatar_url": ""},
    }  # fmt: skip
    return json.dumps(payload).encode()


def github_headers(body: bytes, secret: str = WEBHOOK_SECRET, event: str = "push") -> dict[str, str]:
    """The headers GitHub sends with `body`, signed with `secret`."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={signature}", "User-Agent": "GitHub-Hookshot/test",
    }  # fmt: skip


async def register_repo(hangar: Services, owner: str, name: str, clone_url: str, **fields: object) -> Repo:
    """Register a repository directly in the store, its webhook secret WEBHOOK_SECRET."""
    async with hangar.transaction() as (session, _changes):
        repo = Repo(
            owner=owner, name=name, clone_url=clone_url, webhook_secret=hangar.cipher.encrypt(WEBHOOK_SECRET)
        )
        for key, value in fields.items():
            setattr(
                repo,
                key,
                hangar.cipher.encrypt(str(value)) if key in ("api_token", "clone_password") else value,
            )
        return await create_repo(session, repo)


async def send_push(
    client: httpx.AsyncClient, owner: str, name: str, before: str, after: str, message: str
) -> httpx.Response:
    """Send a signed GitHub push webhook for that commit."""
    body = github_push(owner, name, before, after, message)
    return await client.post("/hook", content=body, headers=github_headers(body))


def github_pull_request(owner: str, name: str, number: int, head: str, base: str, branch: str) -> bytes:
    """A GitHub `pull_request` (opened) payload from branch `branch` of the same repository into main."""
    repo = {"full_name": f"{owner}/{name}", "name": name, "owner": {"login": owner},
            "clone_url": f"https://github.example/{owner}/{name}.git", "default_branch": "main"}  # fmt: skip
    payload = {
        "action": "opened", "number": number, "repository": repo, "sender": {"login": "dev"},
        "pull_request": {
            "number": number, "title": f"PR {number}", "user": {"login": "dev"},
            "head": {"sha": head, "ref": branch, "repo": repo},
            "base": {"sha": base, "ref": "main", "repo": repo},
        },
    }  # fmt: skip
    return json.dumps(payload).encode()


class SilentGitServer:
    """Accepts connections and never answers: a forge that hangs, so a fetch from it runs until killed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.listener.accept()
                self.accepted.append(connection)

    def close(self) -> None:
        for connection in [self.listener, *self.accepted]:
            connection.close()


@contextlib.contextmanager
def silent_git_server() -> Iterator[SilentGitServer]:
    server = SilentGitServer()
    try:
        yield server
    finally:
        server.close()

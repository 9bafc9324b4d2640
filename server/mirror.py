"""A bare mirror per repository (gitpython): fetch the commit to build, read its pipeline file and changes."""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import git

from pipelines.git_env import git_environment

_ZERO = re.compile(r"^0*$")


class MirrorError(Exception):
    """The commit could not be fetched; the message says why."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """HTTP(S) credentials for the forge (empty: anonymous)."""

    login: str = ""
    password: str = ""


@dataclass(frozen=True)
class Commit:
    """A commit as builds describe it."""

    sha: str
    message: str
    author_name: str
    author_email: str


class Mirror:
    """`<data>/mirrors/<repo id>.git`, fetched from the repository's clone URL. Blocking: run in a thread."""

    def __init__(self, folder: Path, clone_url: str, credentials: Credentials | None = None) -> None:
        self.folder = folder
        self.clone_url = clone_url
        creds = credentials or Credentials()
        machine = urlsplit(clone_url).hostname or ""
        secret = (machine, creds.login, creds.password) if creds.login or creds.password else None
        self._env = git_environment((), secret)

    def fetch(self, ref: str, sha: str, *more_refs: str) -> None:
        """Make sure commit `sha` (and `ref`, and `more_refs`) are in the mirror."""
        with _locked(self.folder):
            repo = self._open()
            if self._has(repo, sha) and not more_refs:
                return
            refs = [name for name in (ref, *more_refs) if name.startswith("refs/")]
            refspecs = [f"+{name}:{name}" for name in refs]
            try:
                if refspecs:
                    repo.git.fetch("--quiet", "--no-tags", self.clone_url, *refspecs, env=self._env)
                if not self._has(repo, sha):
                    repo.git.fetch("--quiet", "--no-tags", self.clone_url, sha, env=self._env)
            except git.GitCommandError as exc:
                raise MirrorError(
                    f"cannot fetch {sha[:12]} from {_safe(self.clone_url)}: {_last_words(exc)}"
                ) from None
            if not self._has(repo, sha):
                raise MirrorError(f"{_safe(self.clone_url)} has no commit {sha}")

    def head(self, branch: str) -> Commit:
        """The commit at the head of `branch` on the forge, fetched into the mirror."""
        ref = f"refs/heads/{branch}"
        with _locked(self.folder):
            repo = self._open()
            try:
                repo.git.fetch("--quiet", "--no-tags", self.clone_url, f"+{ref}:{ref}", env=self._env)
            except git.GitCommandError as exc:
                raise MirrorError(
                    f"cannot fetch branch {branch!r} from {_safe(self.clone_url)}: {_last_words(exc)}"
                ) from None
            return self.commit(repo.git.rev_parse(ref))

    def commit(self, sha: str) -> Commit:
        """What the mirror knows of a commit it has (its message and author)."""
        with git.Repo(self.folder) as repo:  # closed: its `git cat-file` processes end now, not at a GC
            found = repo.commit(sha)
            message = (
                found.message if isinstance(found.message, str) else found.message.decode(errors="replace")
            )
            author = found.author
            return Commit(found.hexsha, message.strip(), author.name or "", author.email or "")

    def read_file(self, sha: str, path: str) -> str | None:
        """The text of `path` at `sha`, or None when the commit has no such file."""
        with git.Repo(self.folder) as repo:  # closing it ends its `git cat-file` helpers at once
            try:
                blob = repo.commit(sha).tree / path
            except KeyError:
                return None
            if blob.type != "blob":  # a folder of that name
                return None
            data: bytes = blob.data_stream.read()
        return data.decode("utf-8", errors="replace")

    def list_folder(self, sha: str, path: str) -> list[str] | None:
        """The names of the files right in folder `path` at `sha`; None when the commit has no such folder."""
        with git.Repo(self.folder) as repo:
            try:
                tree = repo.commit(sha).tree / path.strip("/")
            except KeyError:
                return None
            if tree.type != "tree":
                return None
            return sorted(str(blob.name) for blob in tree.blobs)

    def changed_files(self, before: str, sha: str, *, merge_base: bool = False) -> list[str] | None:
        """Files changed from `before` to `sha` (the commit's own files when `before` is unknown); with
        `merge_base`, from where `sha` branched off `before` (a pull request against its target)."""
        repo = git.Repo(self.folder)
        try:
            if before and not _ZERO.match(before) and self._has(repo, before):
                span = f"{before}...{sha}" if merge_base else f"{before}..{sha}"
                output = repo.git.diff("--name-only", "--no-renames", span)
            else:
                output = repo.git.show("--name-only", "--no-renames", "--format=", "--no-commit-id", sha)
        except git.GitCommandError:
            return None
        return sorted({line for line in output.splitlines() if line})

    def _open(self) -> git.Repo:
        if (self.folder / "HEAD").exists():
            return git.Repo(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        return git.Repo.init(self.folder, bare=True)

    @staticmethod
    def _has(repo: git.Repo, sha: str) -> bool:
        try:
            repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except git.GitCommandError:
            return False
        return True


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One fetch at a time per mirror, across threads and processes (several workers on one host)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _safe(url: str) -> str:
    """The URL without any user or password in it."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    return parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()


def _last_words(exc: git.GitCommandError) -> str:
    lines = [line.strip() for line in str(exc.stderr or "").splitlines() if line.strip()]
    return lines[-1].removeprefix("stderr: ").strip("'") if lines else f"git exited with {exc.status}"

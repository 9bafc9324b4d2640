"""A bare mirror per repository (gitpython): fetch the commit to build, read its pipeline file and changes."""

from __future__ import annotations

import contextlib
import fcntl
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import git

from pipelines.git_env import git_environment
from pipelines.git_objects import has_object

_ZERO = re.compile(r"^0*$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


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
        """Make sure commit `sha` (and `ref`, and `more_refs`) are in the mirror.

        A push's new commit is fetched straight away and found in FETCH_HEAD: one git process. A commit the
        mirror's own ref already names, or one stored here unpacked, needs none; any other case asks git
        whether the commit is there."""
        with _locked(self.folder):
            repo = self._open()
            if not more_refs and (self._ref_names(ref, sha) or self._loose(sha)):
                return
            refs = [name for name in (ref, *more_refs) if name.startswith("refs/")]
            refspecs = [f"+{name}:{name}" for name in refs]
            failure: git.GitCommandError | None = None
            try:
                if refspecs:
                    repo.git.fetch("--quiet", "--no-tags", self.clone_url, *refspecs, env=self._env)
                    if self._fetched(sha):
                        return
                if not self._has(repo, sha):
                    repo.git.fetch("--quiet", "--no-tags", self.clone_url, sha, env=self._env)
            except git.GitCommandError as exc:
                failure = exc
            if self._has(repo, sha) and not (failure and more_refs):
                return  # (a forge away: the commit, already here, is all a push's build needs)
            if failure is not None:
                raise MirrorError(
                    f"cannot fetch {sha[:12]} from {_safe(self.clone_url)}: {_last_words(failure)}"
                ) from None
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
        """The text of `path` at `sha`, or None when the commit has no such file (one git process)."""
        if "\n" in path:
            return None
        done = subprocess.run(
            ["git", f"--git-dir={self.folder}", "cat-file", "--batch"],
            input=f"{sha}:{path.lstrip('/')}\n".encode(),
            capture_output=True,
            check=False,
        )
        head, _, body = done.stdout.partition(b"\n")
        fields = head.split()
        if done.returncode != 0 or len(fields) != 3 or fields[1] != b"blob":  # missing, or a folder
            return None
        return body[: int(fields[2])].decode("utf-8", errors="replace")

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
        output: str | None = None
        if before and not _ZERO.match(before):
            span = f"{before}...{sha}" if merge_base else f"{before}..{sha}"
            with contextlib.suppress(git.GitCommandError):  # `before` is not here (a force push): as unknown
                output = repo.git.diff("--name-only", "--no-renames", "-z", span)
        try:
            if output is None:
                output = repo.git.show(
                    "--name-only", "--no-renames", "-z", "--format=", "--no-commit-id", sha
                )
        except git.GitCommandError:
            return None
        return sorted({name for name in output.split("\0") if name})  # -z: names as they are, unquoted

    def _open(self) -> git.Repo:
        if (self.folder / "HEAD").exists():
            return git.Repo(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        return git.Repo.init(self.folder, bare=True)

    def _ref_names(self, ref: str, sha: str) -> bool:
        """Whether the mirror's (loose) ref already names the commit: then it is here."""
        if not ref.startswith("refs/") or ".." in ref:
            return False
        try:
            return (self.folder / ref).read_text().strip() == sha
        except (OSError, UnicodeDecodeError):
            return False

    def _loose(self, sha: str) -> bool:
        """Whether the object is here, loose or in a pack (read from the files, no git process): the hooks of
        a burst of pushes name commits the first one's fetch brought."""
        return bool(_SHA.match(sha)) and has_object(self.folder / "objects", sha)

    def _fetched(self, sha: str) -> bool:
        """Whether the fetch just made brought the commit (FETCH_HEAD names it)."""
        try:
            lines = (self.folder / "FETCH_HEAD").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return False
        return any(line.split("\t", 1)[0] == sha for line in lines)

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

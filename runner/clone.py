"""Fill a folder with the repository at the exact commit, as Drone's clone step does (git via gitpython)."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from git import Git
from git.exc import GitCommandNotFound

from pipelines.git_env import git_environment
from pipelines.git_objects import has_commit
from pipelines.plan import ClonePlan
from runner.git_files import add_origin, fetched_first, init_repository

RETRY_BACKOFF = 0.5
"""Seconds before the first fetch retry; doubled before each further one."""

_TAIL_LINES = 3
_MIN_SECRET = 2
_BRANCH = "main"
_SHA = re.compile(r"[0-9a-fA-F]{4,64}")
_TRACE = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \S+:\d+ ")  # GIT_TRACE lines stay out of error messages
_NOISE = re.compile(r"^(fatal|error|warning): ")


_FETCH_SETTINGS = (
    ("fetch.unpackLimit", "1"),  # keep the fetched pack (index-pack) as `git clone` does: unpacking a small
    # fetch into loose objects costs more CPU than the whole rest of the clone
    ("maintenance.auto", "false"),  # a fresh repository has nothing to maintain: no `git maintenance` process
    ("gc.auto", "0"),  # the same for git before 2.29, which runs `git gc --auto` instead
)
"""Settings for the clone's own git processes only (environment variables: nothing lands in .git/config);
git before 2.31 ignores them and clones as before."""


class CloneError(Exception):
    """The checkout failed; the message says what, in plain words, ending with git's last words."""


@dataclass(frozen=True)
class Netrc:
    """HTTP(S) credentials for one machine, like the netrc Drone hands its clone step."""

    machine: str
    login: str
    password: str = field(repr=False)


def clone_repository(
    plan: ClonePlan, dest: Path, *, log: Callable[[str], None], netrc: Netrc | None = None
) -> None:
    """Fetch plan.ref from plan.remote_url into dest and check out plan.sha exactly (like Drone's clone step).

    Credentials go to git through an inline credential helper set with GIT_CONFIG_COUNT/KEY/VALUE
    environment variables (the helper's shell code reads the login and password from its own environment):
    nothing is written to disk, nothing reaches argv or the log, git asks only when the server answers 401
    and the helper answers only for the netrc machine. Helpers from the system and user configuration are
    switched off for that clone so none of them stores the password.
    """
    if plan.disable:
        log("clone disabled, skipping")
        return
    _check_plan(plan)
    if netrc is not None:
        _check_netrc(netrc)
    _prepare(dest)
    secrets = [s for s in (netrc.password if netrc else "", *_url_credentials(plan.remote_url)) if s]
    git = _Git(dest, _environment(plan, netrc), log, secrets)
    if netrc is not None:
        host = urlsplit(plan.remote_url).hostname or ""
        if netrc.machine.partition(":")[0] != host:
            log(f"netrc machine {netrc.machine} is not the remote's host {host}: its credentials stay unused")
    url = git.scrub(_redact_url(plan.remote_url))

    log("+ git init --template=")  # written by hand, as git writes it: one git process less
    try:
        init_repository(dest, _BRANCH)
    except OSError as err:
        raise CloneError(f"could not create a git repository in {dest}: {err.strerror or err}") from err
    log(f"Initialized empty Git repository in {dest.resolve() / '.git'}/")
    log(f"+ git remote add origin {url}")
    try:
        add_origin(dest, plan.remote_url)
    except OSError as err:
        raise CloneError(f"could not add the remote {url}: {err.strerror or err}") from err

    depth = ["--depth", str(plan.depth)] if plan.depth > 0 else []

    def fetch(source: str, what: str) -> None:
        git.fetch([*depth, "origin", source], what=f"{what} from {url}", retries=plan.retries)

    present = False
    if plan.ref:
        fetch(_refspec(plan.ref), plan.ref)
        present = not plan.sha or git.has_commit(plan.sha)
        if not present:
            shallow = f" (depth {plan.depth})" if depth else ""
            log(f"commit {plan.sha} is not in the fetched {plan.ref}{shallow}; fetching the commit itself")
            fetch(plan.sha, f"commit {plan.sha}")
    elif plan.sha:
        fetch(plan.sha, f"commit {plan.sha}")
    else:
        fetch("HEAD", "the default branch")
    if plan.sha and not present and not git.has_commit(plan.sha):
        raise CloneError(f"commit {plan.sha} is not in what was fetched from {url}")

    target = plan.sha or "FETCH_HEAD"
    status, tail = git.run("checkout", "-qf", target)
    if status:
        raise CloneError(f"could not check out {target}: {tail}")


class _Git:
    """Runs git in one folder with one environment, copying what it says to the log, secrets masked."""

    def __init__(
        self, dest: Path, env: dict[str, str], log: Callable[[str], None], secrets: list[str]
    ) -> None:
        self._dest = dest
        self._git = Git(dest)
        self._env = env
        self._log = log
        self._secrets = secrets

    def scrub(self, text: str) -> str:
        """Text with every known secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, "******")
        return text

    def run(self, *args: str, show: str | None = None, quiet: bool = False) -> tuple[int, str]:
        """Run `git args`, logging the command and each output line; returns the status and stderr's tail."""
        if not quiet:
            self._log(f"+ git {show or ' '.join(args)}")
        try:
            handle = self._git.execute(["git", *args], as_process=True, env=self._env)
        except GitCommandNotFound as err:
            raise CloneError("git is not installed (or not on PATH)") from err
        proc = handle.proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        stdout: list[bytes] = []
        reader = threading.Thread(target=stdout.extend, args=(proc.stdout,), daemon=True)
        reader.start()
        tail: deque[str] = deque(maxlen=_TAIL_LINES)
        for line in self._lines(proc.stderr):
            if not quiet:
                self._log(line)
            if not _TRACE.match(line):
                tail.append(_NOISE.sub("", line))
        reader.join()
        status = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        if not quiet:
            for line in self._lines(stdout):
                self._log(line)
        return status, "; ".join(tail) or f"git exited with status {status}"

    def fetch(self, args: list[str], *, what: str, retries: int) -> None:
        """`git fetch args`, tried 1 + retries times with a doubling pause; CloneError when all fail."""
        attempts = 1 + max(retries, 0)
        pause = RETRY_BACKOFF
        for attempt in range(1, attempts + 1):
            status, tail = self.run("fetch", *args)
            if not status:
                return
            if attempt == attempts:
                tries = f" after {attempts} attempts" if attempts > 1 else ""
                raise CloneError(f"could not fetch {what}{tries}: {tail}")
            self._log(f"fetch failed (attempt {attempt} of {attempts}), retrying in {pause:g} s")
            time.sleep(pause)
            pause *= 2

    def has_commit(self, sha: str) -> bool:
        """Whether the commit is in the repository (not merely beyond a shallow boundary); git is asked only
        when the files cannot tell."""
        if fetched_first(self._dest, sha) or has_commit(self._dest / ".git" / "objects", sha):
            return True
        status, _ = self.run("cat-file", "-e", f"{sha}^{{commit}}", quiet=True)
        return status == 0

    def _lines(self, chunks: Iterable[bytes]) -> Iterable[str]:
        for chunk in chunks:
            for piece in chunk.decode("utf-8", "replace").replace("\r\n", "\n").split("\r"):
                line = piece.rstrip("\n")
                if line.strip():
                    yield self.scrub(line)


def _check_plan(plan: ClonePlan) -> None:
    if not plan.remote_url:
        raise CloneError("nothing to clone: the plan has no remote URL")
    if plan.remote_url.startswith("-") or any(c in plan.remote_url for c in "\n\r\0"):
        raise CloneError(f"not a remote URL: {plan.remote_url!r}")
    if plan.ref.startswith("-") or any(c.isspace() or c in ":\\" for c in plan.ref):
        raise CloneError(f"not a git ref: {plan.ref!r}")
    if plan.sha and not _SHA.fullmatch(plan.sha):
        raise CloneError(f"not a commit sha: {plan.sha!r}")


def _check_netrc(netrc: Netrc) -> None:
    if any("\n" in value or "\0" in value for value in (netrc.machine, netrc.login, netrc.password)):
        raise CloneError("the netrc credentials contain a line break, which git cannot take")


def _prepare(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CloneError(f"could not create {dest}: {err.strerror or err}") from err
    if any(dest.iterdir()):
        raise CloneError(f"{dest} is not empty: the clone needs an empty folder")


def _environment(plan: ClonePlan, netrc: Netrc | None) -> dict[str, str]:
    credentials = (netrc.machine, netrc.login, netrc.password) if netrc is not None else None
    env = git_environment(_FETCH_SETTINGS, credentials)
    if plan.skip_verify:
        env["GIT_SSL_NO_VERIFY"] = "true"
    if plan.trace:
        env["GIT_TRACE"] = "1"
    return env


def _refspec(ref: str) -> str:
    # Tags land under their own name so `git describe` works; everything else only in FETCH_HEAD.
    return f"+{ref}:{ref}" if ref.startswith("refs/tags/") else f"+{ref}:"


def _redact_url(url: str) -> str:
    """The URL with its password masked, or its user when there is no password (a token as user name)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:******@{host}" if parts.password is not None else f"******@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _url_credentials(url: str) -> tuple[str, ...]:
    """What of the URL's user part is secret: the password, or the user name when it stands alone."""
    parts = urlsplit(url)
    if parts.password is not None:
        return (parts.password,)
    return (parts.username,) if parts.username and len(parts.username) >= _MIN_SECRET else ()

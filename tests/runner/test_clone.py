"""clone_repository against real repositories: a bare remote on disk, and one behind git-over-HTTP auth."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.plan import ClonePlan
from runner.clone import CloneError, Netrc, clone_repository
from tests.runner.git_support import git, isolated_home

pytestmark = pytest.mark.usefixtures(isolated_home.__name__)


@dataclass(frozen=True)
class Remote:
    """A bare repository and the commits in it."""

    path: Path
    first: str
    second: str
    feature: str
    pull: str

    @property
    def url(self) -> str:
        return self.path.as_uri()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Remote:
    """main has two commits (v1 tags the first), feature one more, and refs/pull/7/head another."""
    base = tmp_path_factory.mktemp("remote")
    bare, work = base / "origin.git", base / "work"
    git("init", "--bare", str(bare))
    git("init", str(work))
    readme = work / "README"

    def commit(text: str, message: str) -> str:
        readme.write_text(text)
        git("add", "README", cwd=work)
        git("commit", "-qm", message, cwd=work)
        return git("rev-parse", "HEAD", cwd=work)

    first = commit("one\n", "first")
    git("tag", "-a", "v1", "-m", "release one", cwd=work)
    second = commit("two\n", "second")
    git("checkout", "-qb", "feature", cwd=work)
    feature = commit("feature\n", "feature")
    git("checkout", "-qb", "pr", "main", cwd=work)
    pull = commit("pull\n", "pull request")
    git("push", "-q", str(bare), "main", "feature", "v1", "pr:refs/pull/7/head", cwd=work)
    return Remote(bare, first, second, feature, pull)


def clone(plan: ClonePlan, dest: Path, netrc: Netrc | None = None) -> list[str]:
    """Clone, returning the log lines."""
    lines: list[str] = []
    clone_repository(plan, dest, log=lines.append, netrc=netrc)
    return lines


def head(dest: Path) -> str:
    return git("rev-parse", "HEAD", cwd=dest)


def test_checks_out_an_older_commit_of_the_branch(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    lines = clone(ClonePlan(remote_url=remote.url, ref="refs/heads/main", sha=remote.first), dest)
    assert head(dest) == remote.first
    assert (dest / "README").read_text() == "one\n"
    assert lines[0] == "+ git init --template="
    assert lines[1] == f"Initialized empty Git repository in {dest.resolve() / '.git'}/"
    assert f"+ git remote add origin {remote.url}" in lines
    assert "+ git fetch origin +refs/heads/main:" in lines
    assert f"+ git checkout -qf {remote.first}" in lines
    assert any("FETCH_HEAD" in line for line in lines)  # git's own output is in the log
    assert git("status", "--porcelain", cwd=dest) == ""
    assert git("fsck", "--strict", cwd=dest) == ""
    assert git("log", "--format=%s", cwd=dest) == "first"
    assert git("describe", "--always", cwd=dest) == remote.first[:7]
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=dest) == "HEAD"  # detached


def test_origin_is_the_remote_git_would_have_added(remote: Remote, tmp_path: Path) -> None:
    odd = tmp_path / 'odd "quoted" \\ name'
    subprocess.run(["git", "clone", "-q", "--bare", remote.url, str(odd)], check=True)
    dest = tmp_path / "src"
    clone(ClonePlan(remote_url=str(odd), ref="refs/heads/main", sha=remote.second), dest)
    assert git("remote", "get-url", "origin", cwd=dest) == str(odd)
    assert git("config", "--get", "remote.origin.fetch", cwd=dest) == "+refs/heads/*:refs/remotes/origin/*"
    git("fetch", "-q", "origin", cwd=dest)  # a step can fetch the rest, as after Drone's clone
    assert git("rev-parse", "refs/remotes/origin/main", cwd=dest) == remote.second


def test_depth_one_gives_a_shallow_repository(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    lines = clone(ClonePlan(remote_url=remote.url, ref="refs/heads/main", sha=remote.second, depth=1), dest)
    assert "+ git fetch --depth 1 origin +refs/heads/main:" in lines
    assert head(dest) == remote.second
    assert git("rev-parse", "--is-shallow-repository", cwd=dest) == "true"
    assert git("rev-list", "--count", "HEAD", cwd=dest) == "1"


def test_tag(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    lines = clone(ClonePlan(remote_url=remote.url, ref="refs/tags/v1", sha=remote.first), dest)
    assert "+ git fetch origin +refs/tags/v1:refs/tags/v1" in lines
    assert head(dest) == remote.first
    assert git("describe", cwd=dest) == "v1"


def test_pull_request_ref(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    clone(ClonePlan(remote_url=remote.url, ref="refs/pull/7/head", sha=remote.pull, depth=5), dest)
    assert head(dest) == remote.pull
    assert (dest / "README").read_text() == "pull\n"


def test_without_a_sha_the_fetched_tip_is_checked_out(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    lines = clone(ClonePlan(remote_url=remote.url, ref="refs/heads/feature"), dest)
    assert "+ git checkout -qf FETCH_HEAD" in lines
    assert head(dest) == remote.feature


def test_sha_beyond_a_shallow_fetch_is_fetched_itself(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    lines = clone(ClonePlan(remote_url=remote.url, ref="refs/heads/main", sha=remote.first, depth=1), dest)
    assert any(f"commit {remote.first} is not in the fetched refs/heads/main" in line for line in lines)
    assert f"+ git fetch --depth 1 origin {remote.first}" in lines
    assert head(dest) == remote.first
    assert (dest / "README").read_text() == "one\n"


def test_wrong_ref_says_which(remote: Remote, tmp_path: Path) -> None:
    with pytest.raises(CloneError) as caught:
        clone(ClonePlan(remote_url=remote.url, ref="refs/heads/nope", sha=remote.first), tmp_path / "src")
    message = str(caught.value)
    assert message.startswith(f"could not fetch refs/heads/nope from {remote.url}: ")
    assert "couldn't find remote ref refs/heads/nope" in message


def test_unknown_sha_is_an_error(remote: Remote, tmp_path: Path) -> None:
    with pytest.raises(CloneError, match="could not fetch commit 0123456789abcdef"):
        clone(
            ClonePlan(remote_url=remote.url, ref="refs/heads/main", sha="0123456789abcdef" * 2 + "01234567"),
            tmp_path / "src",
        )


def test_unreachable_remote_is_retried_then_fails(tmp_path: Path) -> None:
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(CloneError, match="after 3 attempts") as caught:
        clone_repository(
            ClonePlan(remote_url="file:///nonexistent/x.git", ref="refs/heads/main", retries=2),
            tmp_path / "src",
            log=lines.append,
        )
    assert time.monotonic() - started >= 1.5  # 0.5 s then 1 s
    assert "could not fetch refs/heads/main from file:///nonexistent/x.git" in str(caught.value)
    assert sum(line.startswith("+ git fetch") for line in lines) == 3
    assert "fetch failed (attempt 1 of 3), retrying in 0.5 s" in lines
    assert "fetch failed (attempt 2 of 3), retrying in 1 s" in lines


def test_a_token_given_as_the_user_name_never_reaches_the_log_or_the_error(tmp_path: Path) -> None:
    lines: list[str] = []
    with pytest.raises(CloneError) as caught:
        clone_repository(
            ClonePlan(remote_url="http://ghp_T0KEN1234@127.0.0.1:9/octo/x.git", ref="refs/heads/main"),
            tmp_path / "src",
            log=lines.append,
        )
    assert "ghp_T0KEN1234" not in str(caught.value)
    assert not [line for line in lines if "ghp_T0KEN1234" in line]
    assert "+ git remote add origin http://******@127.0.0.1:9/octo/x.git" in lines


def test_refuses_a_folder_that_is_not_empty(remote: Remote, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "stray").write_text("x")
    with pytest.raises(CloneError, match="is not empty"):
        clone(ClonePlan(remote_url=remote.url, ref="refs/heads/main"), tmp_path / "src")


@pytest.mark.parametrize(
    ("ref", "sha"), [("--upload-pack=touch /tmp/x", ""), ("refs/heads/main", "--help"), ("a:b", "")]
)
def test_refuses_refs_and_shas_that_are_not(remote: Remote, tmp_path: Path, ref: str, sha: str) -> None:
    with pytest.raises(CloneError, match="not a"):
        clone(ClonePlan(remote_url=remote.url, ref=ref, sha=sha), tmp_path / "src")
    assert not (tmp_path / "src").exists()


def test_disabled_does_nothing(tmp_path: Path) -> None:
    assert clone(ClonePlan(disable=True, remote_url="file:///nonexistent"), tmp_path / "src") == [
        "clone disabled, skipping"
    ]
    assert not (tmp_path / "src").exists()


# --- git over HTTP with basic auth --------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A git-over-HTTP server in front of the remote that wants `ci` and `password`."""

    url: str
    password: str


def _handler(project_root: Path, expected: str) -> type[BaseHTTPRequestHandler]:
    class GitHTTP(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="hangar"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            env = {
                "PATH": os.environ["PATH"],
                "GIT_PROJECT_ROOT": str(project_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GIT_CONFIG_NOSYSTEM": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": "ci",
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            }
            out = subprocess.run(
                ["git", "http-backend"], check=False, input=body, env=env, capture_output=True
            ).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode().split("\r\n"):
                name, _, value = line.partition(": ")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return GitHTTP


@pytest.fixture
def server(remote: Remote) -> Iterator[Server]:
    """Serve the remote's folder over smart HTTP on 127.0.0.1, behind basic auth."""
    if not (Path(git("--exec-path")) / "git-http-backend").is_file():
        pytest.skip("git http-backend is not installed")
    password = secrets.token_urlsafe(16) + " $'\"\\%s`!"
    expected = "Basic " + base64.b64encode(f"ci:{password}".encode()).decode()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(remote.path.parent, expected))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}/{remote.path.name}", password)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def files_containing(top: Path, needle: bytes, since: float) -> list[Path]:
    """Readable files under top changed since `since` that contain needle."""
    found: list[Path] = []
    for folder, _, names in os.walk(top, onerror=lambda _: None):
        for name in names:
            path = Path(folder, name)
            try:
                info = path.lstat()
                if (
                    not path.is_file()
                    or path.is_symlink()
                    or info.st_mtime < since
                    or info.st_size > 50_000_000
                ):
                    continue
                if needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def test_http_clone_with_netrc_keeps_the_password_out_of_sight(
    remote: Remote, server: Server, tmp_path: Path
) -> None:
    started = time.time() - 1
    dest = tmp_path / "src"
    plan = ClonePlan(remote_url=server.url, ref="refs/heads/main", sha=remote.first, trace=True)
    lines = clone(plan, dest, Netrc(machine="127.0.0.1", login="ci", password=server.password))
    assert head(dest) == remote.first
    assert any("trace:" in line for line in lines)
    assert not [line for line in lines if server.password in line]
    needle = server.password.encode()
    assert files_containing(dest, needle, 0) == []
    assert files_containing(Path(os.environ["HOME"]), needle, 0) == []
    assert files_containing(Path(tempfile.gettempdir()), needle, started) == []
    assert server.password not in (dest / ".git" / "config").read_text()


def test_http_clone_with_a_wrong_password_fails_without_telling_it(server: Server, tmp_path: Path) -> None:
    lines: list[str] = []
    wrong = server.password + "-wrong"
    with pytest.raises(CloneError) as caught:
        clone_repository(
            ClonePlan(remote_url=server.url, ref="refs/heads/main"),
            tmp_path / "src",
            log=lines.append,
            netrc=Netrc(machine="127.0.0.1", login="ci", password=wrong),
        )
    assert "Authentication failed" in str(caught.value)
    assert wrong not in str(caught.value)
    assert not [line for line in lines if wrong in line]


def test_http_clone_without_credentials_fails_instead_of_prompting(server: Server, tmp_path: Path) -> None:
    with pytest.raises(CloneError, match="terminal prompts disabled"):
        clone(ClonePlan(remote_url=server.url, ref="refs/heads/main"), tmp_path / "src")


def test_netrc_for_another_machine_is_not_used(server: Server, tmp_path: Path) -> None:
    lines: list[str] = []
    with pytest.raises(CloneError, match="could not fetch"):
        clone_repository(
            ClonePlan(remote_url=server.url, ref="refs/heads/main"),
            tmp_path / "src",
            log=lines.append,
            netrc=Netrc(machine="git.example.com", login="ci", password=server.password),
        )
    assert (
        "netrc machine git.example.com is not the remote's host 127.0.0.1: its credentials stay unused"
        in lines
    )

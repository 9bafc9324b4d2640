"""Benchmark: how many signed GitHub push webhooks per second the server takes in, and their p50/p99 latency.

Run: `.venv/bin/python -m bench.webhook_ingest [--seconds 10] [--connections 32]` (installs `wrk` with
apt-get when it is missing, as root). What it measures is ingest alone, as in production: `hangar server`
runs by itself (SQLite in a temporary folder, an embedded Redis), with no `hangar worker`, so each webhook
costs exactly what a forge waits for: the repository looked up, the HMAC checked, the delivery recorded once
(de-duplicated by X-GitHub-Delivery, which the wrk Lua script makes unique per request) and its trigger job
queued in Redis. Turning the queued jobs into builds (git fetch, compile) is the worker's work, not measured
here. The body is fixed, its signature computed once. The baseline, in the same run and with the same wrk
settings: `GET /healthz` of the same server (which reads the database and pings Redis). Reported: requests/s,
p50 and p99 (wrk --latency), their ratios to the baseline, non-2xx answers and socket errors, and the
deliveries recorded in the database against the requests wrk counted.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from bench.server_support import NAME, OWNER, console, cpu_times, ratio
from server.embedded import embedded_redis
from tests.e2e.processes import Hangar, hangar_parts
from tests.server.support import WEBHOOK_SECRET, github_headers, github_push

THREADS = 2
SCRIPT = """\
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = "{signature}"
wrk.headers["User-Agent"] = "GitHub-Hookshot/wrk"
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end
function init(args)
  sent, accepted, other = 0, 0, 0
end
function request()
  sent = sent + 1
  wrk.headers["X-GitHub-Delivery"] = "{run}-" .. thread_id .. "-" .. sent
  return wrk.format()
end
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local accepted_all, other_all = 0, 0
  for _, thread in ipairs(threads) do
    accepted_all = accepted_all + thread:get("accepted")
    other_all = other_all + thread:get("other")
  end
  io.write(string.format("answered 202: %d, other: %d\\n", accepted_all, other_all))
end
"""


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get (as root) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: install it (apt-get install wrk) or run this benchmark as root")
    with console.status("installing wrk (apt-get install -y wrk)…"):
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


@contextlib.contextmanager
def hangar_server(folder: Path) -> Iterator[Hangar]:
    """`hangar server` alone (no worker): SQLite in `folder`, an embedded Redis; stopped at the end."""
    with embedded_redis(folder) as redis_url:
        env = {"HANGAR_REDIS_URL": redis_url, "HANGAR_DATABASE_URL": ""}
        with hangar_parts(folder / "data", env, worker=False) as hangar:
            yield hangar


@dataclass(frozen=True)
class WrkRun:
    """What wrk reported."""

    requests: int
    per_second: float
    p50: float
    p99: float
    non_2xx: int
    socket_errors: int
    output: str
    server_cpu: float = 0.0
    """CPU seconds (user + system) the server process used over the run."""

    @property
    def cpu_per_request(self) -> float:
        """The server's CPU seconds per answered request."""
        return self.server_cpu / max(self.requests, 1)


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def seconds_of(text: str) -> float:
    """A wrk duration (`812.00us`, `1.23ms`, `2.01s`) in seconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkRun:
    """The figures of wrk's report (with --latency)."""

    def number(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    errors = sum(int(value) for value in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return WrkRun(
        requests=int(number(r"(\d+) requests in")),
        per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50=seconds_of(number(r"\n\s+50%\s+(\S+)")),
        p99=seconds_of(number(r"\n\s+99%\s+(\S+)")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=errors,
        output=output,
    )


def run_wrk(
    wrk: str, hangar: Hangar, path: str, seconds: int, connections: int, script: Path | None = None
) -> WrkRun:
    """wrk against the server's `path` (with the Lua script, if any); the server's CPU seconds over it."""
    before = cpu_times(hangar.process.pid).own
    command = [wrk, f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    command += ["-s", str(script)] if script else []
    done = subprocess.run([*command, hangar.url + path], capture_output=True, text=True, check=True)
    return dataclasses.replace(parse_wrk(done.stdout), server_cpu=cpu_times(hangar.process.pid).own - before)


def hook_script(folder: Path, run: str) -> Path:
    """The Lua script sending one signed push webhook body, each with its own delivery id."""
    body = github_push(OWNER, NAME, "", "1" * 40, "ingest")
    signature = github_headers(body)["X-Hub-Signature-256"]
    path = folder / "hook.lua"
    path.write_text(SCRIPT.format(body=body.decode(), signature=signature, run=run))
    return path


def deliveries_recorded(data: Path) -> int:
    """Rows in the server's deliveries table."""
    with contextlib.closing(sqlite3.connect(data / "hangar.db")) as connection:
        return int(connection.execute("SELECT count(*) FROM deliveries").fetchone()[0])


def report(hooks: WrkRun, baseline: WrkRun, recorded: int, connections: int) -> Table:
    """The figures as a table."""
    table = Table(title=f"wrk -t{THREADS} -c{connections}: `hangar server` alone, SQLite")
    for column in ("", "req/s", "p50", "p99", "server CPU/req", "non-2xx", "socket errors"):
        table.add_column(column, justify="left" if not column else "right")
    for name, run in (("POST /hook", hooks), ("GET /healthz", baseline)):
        table.add_row(
            name, f"{run.per_second:,.0f}", f"{run.p50 * 1000:.1f} ms", f"{run.p99 * 1000:.1f} ms",
            f"{run.cpu_per_request * 1000:.2f} ms", str(run.non_2xx), str(run.socket_errors),
        )  # fmt: skip
    table.add_row(
        "[bold]hook / healthz[/]", ratio(hooks.per_second, baseline.per_second),
        ratio(hooks.p50, baseline.p50), ratio(hooks.p99, baseline.p99),
        ratio(hooks.cpu_per_request, baseline.cpu_per_request), "", "",
    )  # fmt: skip
    table.caption = (
        f"deliveries recorded: {recorded:,} for {hooks.requests:,} webhooks wrk counted as answered"
    )
    return table


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as name:
        folder = Path(name)
        with hangar_server(folder) as hangar, hangar.api() as api:
            body = {"owner": OWNER, "name": NAME, "clone_url": "https://github.example/octo/app.git",
                    "forge": "github", "webhook_secret": WEBHOOK_SECRET}  # fmt: skip
            api.post("/api/repos", json=body).raise_for_status()
            script = hook_script(folder, os.urandom(4).hex())
            with console.status("warming up…"):
                run_wrk(wrk, hangar, "/healthz", 2, args.connections)
            with console.status(f"baseline: wrk on GET /healthz for {args.seconds} s…"):
                baseline = run_wrk(wrk, hangar, "/healthz", args.seconds, args.connections)
            with console.status(f"wrk on POST /hook for {args.seconds} s…"):
                hooks = run_wrk(wrk, hangar, "/hook", args.seconds, args.connections, script)
            recorded = deliveries_recorded(hangar.data)
            status = re.search(r"answered 202: \d+, other: \d+", hooks.output)
    console.print(report(hooks, baseline, recorded, args.connections))
    if status:
        console.print(f"hook answers by status: {status.group(0)}")


if __name__ == "__main__":
    main()

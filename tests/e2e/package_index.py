"""A local package index for the cache tests: a folder of wheels made here, served by http.server with
PyPI's `Cache-Control` header, with its access log (no outside network)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.processes import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python-app"


def requirement() -> tuple[str, str]:
    """The example's one dependency: (name, version)."""
    text = (EXAMPLE / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    name, version = lines[0].split("==")
    return name, version


def build_wheel(folder: Path, name: str, version: str) -> Path:
    """A tiny pure-Python wheel of that name and version, made here (no network, no build backend)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'"""A stand-in for {name}, served by the test\'s package index."""\n',
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hangar-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


_SERVER = """
import functools, http.server, sys

class Files(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        if self.path.endswith(".whl"):
            self.send_header("Cache-Control", "max-age=365000000, immutable, public")
        super().end_headers()

handler = functools.partial(Files, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), handler).serve_forever()
"""


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge: where containers reach a server on the host.

    The bridge's IPAM config names it, except when the engine found its bridge interface already there at
    start-up (seen once here: the config held only the subnet); the bridge then has its subnet's first host.
    """
    inspect = ["docker", "network", "inspect", "bridge", "-f", "{{json .IPAM.Config}}"]
    configs = json.loads(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout)
    for config in configs:
        if config.get("Gateway"):
            return str(config["Gateway"])
    ipv4 = [ipaddress.ip_network(c["Subnet"]) for c in configs if ":" not in c.get("Subnet", ":")]
    assert ipv4, f"Docker's default bridge has no IPv4 subnet: {configs}"
    return str(ipv4[0][1])


@contextlib.contextmanager
def served_index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A folder of wheels as a simple index, served by Python's http.server: its URL and access log.

    Files get PyPI's `Cache-Control` header (without one pip keeps no copy of a download, on any CI)."""
    name, version = requirement()
    root = tmp_path / "index"
    project = root / "simple" / name
    project.mkdir(parents=True)
    wheel = build_wheel(project, name, version)
    (project / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>')
    port = free_port()
    log = tmp_path / "access.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(port), str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://{bridge_gateway()}:{port}/simple", log
    finally:
        server.terminate()
        server.wait(10)

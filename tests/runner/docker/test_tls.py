"""aiohttp imported through runner.docker reads the CA certificates at first use: HTTPS verified as before."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[3]
CLIENT = """
import asyncio, sys
assert "aiohttp" not in sys.modules
import runner.docker
import aiohttp

async def get(url):
    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(url) as response:
                return str(response.status)
        except aiohttp.ClientConnectorCertificateError:
            return "untrusted"

print(" ".join([asyncio.run(get(url)) for url in sys.argv[1:]]))
"""


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey] | None
) -> x509.Certificate:
    """A CA certificate (no issuer: self-signed) or a 127.0.0.1 server certificate signed by the issuer."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer[0] if issuer else subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """The trusted CA's file; two HTTPS servers, one with a certificate it signed, one another CA signed."""
    urls = []
    running = []
    for authority in ("trusted CA", "other CA"):
        ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        (tmp_path / f"{authority}.pem").write_bytes(_pem(_certificate(authority, ca_key, None)))
        server_pem = tmp_path / f"server of {authority}.pem"
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        server_pem.write_bytes(pem + _pem(_certificate("127.0.0.1", key, (authority, ca_key))))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(server_pem)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append(server)
        urls.append(f"https://127.0.0.1:{server.server_address[1]}/")
    try:
        yield tmp_path / "trusted CA.pem", urls[0], urls[1]
    finally:
        for server in running:
            server.shutdown()
            server.server_close()


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_https_is_verified_against_the_default_certificates(servers: tuple[Path, str, str]) -> None:
    ca_file, trusted_url, other_url = servers
    empty = ca_file.parent / "no-certificates"
    empty.mkdir()
    environment = {**os.environ, "SSL_CERT_FILE": str(ca_file), "SSL_CERT_DIR": str(empty)}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, trusted_url, other_url, trusted_url],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "untrusted", "200"]

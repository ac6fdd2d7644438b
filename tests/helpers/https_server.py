"""A real HTTPS server on 127.0.0.1 for NIP-05 and profile-picture tests.

It holds a certificate for the test domains, signed by a throwaway CA made here; clients
trust that CA and map the domains to this server through `app.http.HttpSettings` (the
``BURROW_HTTP_CA`` / ``BURROW_HTTP_HOSTS`` variables for CLI processes). It records each
request's headers so tests can check what a fetch gives away.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.http import HttpSettings

DOMAINS = ("example.test", "pictures.test", "elsewhere.test")


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpsServer:
    port: int
    ca_file: Path
    routes: dict[str, Route] = field(default_factory=dict)
    """``"domain/path?query"`` -> the answer (anything else: 404)."""
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def settings(self) -> HttpSettings:
        address = f"127.0.0.1:{self.port}"
        return HttpSettings(
            timeout=5.0, ca_file=str(self.ca_file), hosts=tuple((d, address) for d in DOMAINS)
        )

    @property
    def env(self) -> dict[str, str]:
        hosts = ",".join(f"{d}=127.0.0.1:{self.port}" for d in DOMAINS)
        return {"BURROW_HTTP_CA": str(self.ca_file), "BURROW_HTTP_HOSTS": hosts}


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Burrow test CA"))
        .issuer_name(_name("Burrow test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(DOMAINS[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    *(x509.DNSName(d) for d in DOMAINS),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),  # a Blossom store
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file


@pytest.fixture
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    ca_file, cert_file, key_file = _certificates(tmp_path_factory.mktemp("https"))
    state = HttpsServer(0, ca_file)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = self.headers.get("Host", "").split(":")[0]
            state.requests.append({"path": f"{host}{self.path}", **dict(self.headers)})
            route = state.routes.get(f"{host}{self.path}", Route(404, b"not here"))
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

"""A small HTTPS GET for NIP-05 documents and profile pictures (standard library only).

It leaks no more than the URL's host sees anyway: no cookies, no referrer, a generic user
agent, ``Accept-Encoding: identity``, one request per connection. Only ``https`` (with
certificate checks); redirects only when asked for and only to ``https``; bodies are capped
while they are read. Under ``BURROW_LOOPBACK_ONLY=1`` only loopback addresses are dialled.
Tests map a domain to a local server (`HttpSettings.hosts`) and trust their own CA
(`HttpSettings.ca_file`).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from app.errors import NetworkError
from nostr.relay.guard import refusal

USER_AGENT = "Mozilla/5.0"
"""The commonest prefix there is: it says nothing about Burrow or this machine."""
_HEAD_MAX = 32 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HttpError(NetworkError):
    """The fetch failed, or the answer was refused (too large, wrong type, not https)."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    timeout: float = 10.0
    ca_file: str | None = None
    """Extra certificates to trust (tests only: their self-signed local server)."""
    hosts: tuple[tuple[str, str], ...] = field(default=())
    """``(domain, "127.0.0.1:port")``: where to connect for a domain (tests only)."""


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status: int
    content_type: str
    body: bytes


class HttpClient:
    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._context = ssl.create_default_context()
        if self.settings.ca_file:
            self._context.load_verify_locations(self.settings.ca_file)
        self._hosts = dict(self.settings.hosts)

    async def get(self, url: str, *, max_bytes: int, accept: str, redirects: int = 0) -> Response:
        """GET ``url``; follows up to ``redirects`` redirects (to https only)."""
        for _ in range(redirects + 1):
            try:
                async with asyncio.timeout(self.settings.timeout):
                    response, location = await self._once(url, max_bytes, accept)
            except TimeoutError:
                raise HttpError(f"{_host(url)} did not answer in time") from None
            except (OSError, ssl.SSLError) as exc:
                raise HttpError(f"could not reach {_host(url)}: {exc.strerror or exc}") from None
            if location is None:
                return response
            url = urljoin(url, location)
        raise HttpError(f"{_host(url)} redirects too often")

    async def _once(self, url: str, max_bytes: int, accept: str) -> tuple[Response, str | None]:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise HttpError(f"only https addresses are fetched, not {url[:60]!r}")
        host = parts.hostname
        address, port = self._address(host, parts.port or 443)
        why = refusal(f"https://{address}:{port}")
        if why is not None:
            raise HttpError(why)
        reader, writer = await asyncio.open_connection(
            address, port, ssl=self._context, server_hostname=host
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            head = (
                f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: {USER_AGENT}\r\n"
                f"Accept: {accept}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii"))
            await writer.drain()
            status, headers = await _read_head(reader)
            if status in _REDIRECTS:
                return Response(url, status, "", b""), headers.get("location", "")
            if status != 200:
                raise HttpError(f"{host} answered {status}")
            body = await _read_body(reader, headers, max_bytes, host)
        finally:
            writer.close()
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        return Response(url, status, content_type, body), None

    def _address(self, host: str, port: int) -> tuple[str, int]:
        mapped = self._hosts.get(host)
        if mapped is None:
            return host, port
        address, _, mapped_port = mapped.rpartition(":")
        return address, int(mapped_port)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the server"


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise HttpError("the server's answer is not HTTP") from None
    if len(raw) > _HEAD_MAX:
        raise HttpError("the server's headers are too long")
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise HttpError("the server's answer is not HTTP")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(code), headers


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], max_bytes: int, host: str
) -> bytes:
    too_large = HttpError(f"{host} sent more than {max_bytes} bytes")
    try:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return await _read_chunked(reader, max_bytes, too_large)
        if "content-length" in headers:
            length = int(headers["content-length"])
            if length > max_bytes or length < 0:
                raise too_large
            return await reader.readexactly(length)
        body = await reader.read(max_bytes + 1)
        while len(body) <= max_bytes and (more := await reader.read(max_bytes + 1 - len(body))):
            body += more
    except (ValueError, asyncio.IncompleteReadError):
        raise HttpError(f"{host} sent a broken answer") from None
    if len(body) > max_bytes:
        raise too_large
    return body


async def _read_chunked(
    reader: asyncio.StreamReader, max_bytes: int, too_large: HttpError
) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"x", 16)
        if size == 0:
            return bytes(body)
        if len(body) + size > max_bytes:
            raise too_large
        body += await reader.readexactly(size)
        await reader.readexactly(2)

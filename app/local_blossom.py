"""The embedded Blossom store: BUD-01/02 on 127.0.0.1 beside the embedded relay.

With only the embedded relay (the offline default) a file still needs somewhere to wait for
the other Burrow processes of this machine, so Burrow serves a minimal Blossom server of
its own at `AppConfig.local_blossom` (``http://127.0.0.1:4870``): ``GET``/``HEAD
/<sha256>`` (with ``Range``), and ``PUT /upload`` authorized by a kind 24242 event that
covers the blob. It holds MIP-04 blobs, which are ciphertext: nothing it stores can be read
without the group's keys. Like the relay it is shared by every Burrow process of this user
(`SharedBlossom`: one store under ``$XDG_STATE_HOME/burrow/blossom/<port>``, one process at
a time serving it, the next taking over when that one exits).

It is deliberately small, one request per connection: it serves this machine only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit

from app.errors import InvalidInput
from app.shared_server import TAKEOVER_POLL, SharedServer
from nostr.blossom import check_authorization
from nostr.errors import DecodeError

log = logging.getLogger(__name__)

MAX_BLOB = 100 * 1024 * 1024 + 4096
HEAD_LIMIT = 32 * 1024
CHUNK = 64 * 1024
IDLE_TIMEOUT = 30.0
_BLOB_PATH = re.compile(r"/([0-9a-f]{64})(?:\.[A-Za-z0-9]{1,10})?")
_REASONS = {
    200: "OK",
    206: "Partial Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    416: "Range Not Satisfiable",
}


def blossom_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost"):
        raise InvalidInput(f"the local Blossom store must be http://127.0.0.1:<port>, not {url}")
    if parts.port is None:
        raise InvalidInput(f"the local Blossom store needs a port: {url}")
    return "127.0.0.1", parts.port


def default_blossom_store(url: str, state_home: str | None = None) -> Path:
    base = state_home or os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(base) / "burrow" / "blossom" / str(blossom_address(url)[1])


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BlossomStore:
    """The HTTP server over a folder of blobs named by their SHA-256."""

    def __init__(
        self,
        url: str,
        folder: Path,
        *,
        max_size: int = MAX_BLOB,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.host, self.port = blossom_address(url)
        self.folder = folder
        self.max_size = max_size
        self._tls = tls  # tests: an https server (the embedded store is plain http)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self._tls)
        log.info("embedded Blossom store serving %s (blobs in %s)", self.url, self.folder)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(IDLE_TIMEOUT):
                await self._one(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except _Refused as exc:
            with contextlib.suppress(ConnectionError):
                await _answer(writer, exc.status, {"X-Reason": exc.reason})
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method, path, headers = await _read_head(reader)
        if method in ("GET", "HEAD"):
            await self._get(writer, method, path, headers)
        elif method == "PUT" and path == "/upload":
            await self._put(reader, writer, headers)
        else:
            raise _Refused(405, f"{method} {path} is not served here")

    def _blob(self, path: str) -> Path:
        match = _BLOB_PATH.fullmatch(path)
        if match is None:
            raise _Refused(404, "not a blob address")
        blob = self.folder / match[1]
        if not blob.is_file():
            raise _Refused(404, "blob not found")
        return blob

    async def _get(
        self, writer: asyncio.StreamWriter, method: str, path: str, headers: dict[str, str]
    ) -> None:
        blob = self._blob(path)
        size = blob.stat().st_size
        start = _range_start(headers.get("range", ""), size)
        extra = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        if start:
            extra["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        await _answer(writer, 206 if start else 200, extra, length=size - start)
        if method == "HEAD":
            return
        with blob.open("rb") as source:
            source.seek(start)
            while chunk := source.read(CHUNK):
                writer.write(chunk)
                await writer.drain()

    async def _put(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> None:
        length = headers.get("content-length", "")
        if not length.isdigit():
            raise _Refused(411, "Content-Length is required")
        if int(length) > self.max_size:
            raise _Refused(413, f"blobs are limited to {self.max_size} bytes")
        claimed = headers.get("x-sha-256")
        try:
            auth = check_authorization(
                headers.get("authorization", ""), "upload", claimed, now=int(time.time())
            )
        except DecodeError as exc:
            raise _Refused(401, str(exc)) from None
        temp = self.folder / f".incoming-{os.getpid()}-{id(reader)}"
        try:
            sha = await _receive(reader, int(length), temp)
            if sha not in auth.tag_values("x"):  # only what the signer named is kept
                raise _Refused(401, "authorization does not cover this blob")
            temp.replace(self.folder / sha)
        finally:
            temp.unlink(missing_ok=True)
        descriptor = {
            "url": f"{self.url}/{sha}",
            "sha256": sha,
            "size": int(length),
            "type": headers.get("content-type") or "application/octet-stream",
            "uploaded": int(time.time()),
        }
        body = json.dumps(descriptor).encode()
        await _answer(writer, 200, {"Content-Type": "application/json"}, length=len(body))
        writer.write(body)
        await writer.drain()


async def _receive(reader: asyncio.StreamReader, length: int, temp: Path) -> str:
    """The body into ``temp``; its SHA-256."""
    digest = hashlib.sha256()
    with temp.open("wb") as out:
        remaining = length
        while remaining:
            chunk = await reader.read(min(CHUNK, remaining))
            if not chunk:
                raise _Refused(400, "the upload ended early")
            digest.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def _range_start(header: str, size: int) -> int:
    if not header:
        return 0
    match = re.fullmatch(r"bytes=(\d+)-", header.strip())
    if match is None or int(match[1]) >= max(size, 1):
        raise _Refused(416, "only an open range inside the blob is served")
    return int(match[1])


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise _Refused(400, "request head too long") from None
    if len(raw) > HEAD_LIMIT:
        raise _Refused(400, "request head too long")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _Refused(400, "not an HTTP/1.x request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1].split("?", 1)[0], headers


async def _answer(
    writer: asyncio.StreamWriter, status: int, headers: dict[str, str], *, length: int = 0
) -> None:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {length}", "Connection: close", "", ""]
    writer.write("\r\n".join(lines).encode("latin-1"))
    await writer.drain()


class SharedBlossom(SharedServer["BlossomStore"]):
    """Serves ``url`` from the shared ``store`` whenever no other Burrow process does."""

    def __init__(self, url: str, store: Path, poll: float = TAKEOVER_POLL) -> None:
        make = lambda: BlossomStore(url, store / "blobs")  # noqa: E731
        super().__init__("embedded Blossom store", blossom_address(url), store, make, poll)

"""The Blossom HTTP client (BUD-01 GET/HEAD, BUD-02 PUT /upload and DELETE), async on httpx.

    client = BlossomClient(signer, now=clock.now)
    descriptor = await client.upload(servers, blob, progress=cb)   # first server that takes
                                                                  # it; the rest mirror it
    data = await client.download(sha256, urls=[url], servers=servers, progress=cb)
    await client.close()

Uploads are retried with backoff per server, and a blob a server already has is not sent
again (``HEAD /<sha256>``), so a retry after a crash or a dropped connection costs nothing
when the first attempt had in fact arrived. Downloads resume an interrupted transfer with a
``Range`` request, stop at ``max_size`` and check the SHA-256 before returning anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

import httpx

from nostr.backoff import Backoff
from nostr.blossom import (
    BlobDescriptor,
    authorization,
    authorization_header,
    hash_of_url,
    normalize_server_url,
)
from nostr.errors import BlobMismatch, BlobTooLarge, BlossomError, DecodeError
from nostr.relay.guard import refusal
from nostr.signer import Signer

Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``, called as a transfer advances."""

CHUNK = 64 * 1024
DEFAULT_MAX_SIZE = 100 * 1024 * 1024 + 4096
RETRY = Backoff(base=0.5, factor=2.0, cap=8.0, jitter=0.25)
_PERMANENT = frozenset({400, 401, 403, 411, 413, 415})


class BlossomClient:
    def __init__(
        self,
        signer: Signer,
        *,
        now: Callable[[], int],
        timeout: float = 30.0,
        max_size: int = DEFAULT_MAX_SIZE,
        attempts: int = 3,
        retry: Backoff = RETRY,
        transport: httpx.AsyncBaseTransport | None = None,
        ca_file: str | None = None,
    ) -> None:
        self._signer = signer
        self._now = now
        self.max_size = max_size
        self._attempts = max(1, attempts)
        self._retry = retry
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=True,
            # Extra certificates to trust (tests: their own CA), on top of the system's.
            verify=_context(ca_file) if ca_file else True,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> BlossomClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- upload ----------------------------------------------------------------------

    async def upload(
        self,
        servers: Sequence[str],
        blob: bytes,
        *,
        content_type: str = "application/octet-stream",
        progress: Progress | None = None,
        mirror: bool = True,
    ) -> BlobDescriptor:
        """Store ``blob`` on the first server that takes it and (``mirror``) on the others
        too, best effort; the descriptor of the first. Raises the last server's error when
        none took it."""
        if len(blob) > self.max_size:
            raise BlobTooLarge(servers[0] if servers else "-", "blob is over the size cap")
        if not servers:
            raise BlossomError("-", "no Blossom server configured")
        sha = hashlib.sha256(blob).hexdigest()
        last: BlossomError | None = None
        for i, server in enumerate(servers):
            try:
                first = await self.upload_to(server, blob, sha, content_type, progress)
            except BlossomError as exc:
                last = exc
                continue
            if mirror:
                others = [s for s in servers[i + 1 :] if s != server]
                await asyncio.gather(
                    *(self._mirror(s, blob, sha, content_type) for s in others),
                    return_exceptions=True,
                )
            return first
        assert last is not None
        raise last

    async def _mirror(self, server: str, blob: bytes, sha: str, content_type: str) -> None:
        await self.upload_to(server, blob, sha, content_type, None)

    async def upload_to(
        self,
        server: str,
        blob: bytes,
        sha: str,
        content_type: str,
        progress: Progress | None,
    ) -> BlobDescriptor:
        """One server, retried with backoff on network faults and 5xx answers."""
        base = _server(server)
        for attempt in range(self._attempts):
            try:
                if await self._has(base, sha):
                    if progress is not None:
                        progress(len(blob), len(blob))
                    return BlobDescriptor(f"{base}/{sha}", sha, len(blob), content_type)
                return await self._put(base, blob, sha, content_type, progress)
            except BlossomError as exc:
                if exc.status in _PERMANENT or attempt == self._attempts - 1:
                    raise
            await asyncio.sleep(self._retry.delay(attempt, random.random()))  # noqa: S311
        raise AssertionError("unreachable")

    async def _has(self, base: str, sha: str) -> bool:
        response = await self._request("HEAD", base, f"{base}/{sha}")
        return response.status_code == 200

    async def _put(
        self, base: str, blob: bytes, sha: str, content_type: str, progress: Progress | None
    ) -> BlobDescriptor:
        auth = await self._auth("upload", [sha], base)
        headers = {
            "Authorization": auth,
            "Content-Type": content_type,
            "Content-Length": str(len(blob)),
            "X-SHA-256": sha,
        }
        response = await self._request(
            "PUT", base, f"{base}/upload", content=_chunks(blob, progress), headers=headers
        )
        _check(base, response)
        try:
            descriptor = BlobDescriptor.from_json(response.json())
        except (ValueError, DecodeError) as exc:
            raise BlossomError(base, f"bad blob descriptor: {exc}") from None
        if descriptor.sha256 != sha:
            raise BlobMismatch(base, "the server stored different bytes than we sent")
        return descriptor

    async def delete(self, server: str, sha: str) -> None:
        base = _server(server)
        auth = await self._auth("delete", [sha], base)
        response = await self._request(
            "DELETE", base, f"{base}/{sha}", headers={"Authorization": auth}
        )
        _check(base, response)

    async def exists(self, server: str, sha: str) -> bool:
        return await self._has(_server(server), sha)

    # --- download --------------------------------------------------------------------

    async def download(
        self,
        sha256: str,
        *,
        urls: Iterable[str] = (),
        servers: Iterable[str] = (),
        progress: Progress | None = None,
        max_size: int | None = None,
    ) -> bytes:
        """The blob ``sha256`` from the first of ``urls``, then ``<server>/<sha256>`` of each
        server (BUD-01 fallback), checked against its hash; a corrupt copy is skipped for
        the next one. Raises `BlobMismatch` when only corrupt copies were found, else the
        last error."""
        cap = self.max_size if max_size is None else max_size
        candidates = [u for u in urls if hash_of_url(u) in (sha256, None)]
        for server in servers:
            try:
                candidates.append(f"{_server(server)}/{sha256}")
            except BlossomError:
                continue
        errors: list[BlossomError] = []
        for url in dict.fromkeys(candidates):
            try:
                return await self._fetch(url, sha256, cap, progress)
            except BlossomError as exc:
                errors.append(exc)
        if not errors:
            raise BlossomError("-", f"no server to download {sha256} from")
        mismatch = next((e for e in errors if isinstance(e, BlobMismatch)), None)
        raise mismatch or errors[-1]

    async def _fetch(self, url: str, sha: str, cap: int, progress: Progress | None) -> bytes:
        """GET with resume: a transfer cut short continues from where it stopped."""
        data = bytearray()
        for attempt in range(self._attempts):
            try:
                await self._stream_into(url, data, cap, progress)
                break
            except BlossomError as exc:
                if exc.status is not None or attempt == self._attempts - 1:
                    raise
            await asyncio.sleep(self._retry.delay(attempt, random.random()))  # noqa: S311
        if hashlib.sha256(data).hexdigest() != sha:
            raise BlobMismatch(url, f"served bytes do not hash to {sha}")
        return bytes(data)

    async def _stream_into(
        self, url: str, data: bytearray, cap: int, progress: Progress | None
    ) -> None:
        headers = {"Range": f"bytes={len(data)}-"} if data else {}
        why = refusal(url)
        if why is not None:
            raise BlossomError(url, why, status=403)
        try:
            async with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code == 200 and data:
                    data.clear()  # the server ignored the range: start over
                elif response.status_code not in (200, 206):
                    await response.aread()
                    _check(url, response)
                total = len(data) + int(response.headers.get("Content-Length", "0") or 0)
                if total > cap:
                    raise BlobTooLarge(url, f"blob is larger than {cap} bytes", status=413)
                async for chunk in response.aiter_bytes(CHUNK):
                    data += chunk
                    if len(data) > cap:
                        raise BlobTooLarge(url, f"blob is larger than {cap} bytes", status=413)
                    if progress is not None:
                        progress(len(data), max(total, len(data)))
        except httpx.HTTPError as exc:
            raise BlossomError(url, f"transfer failed: {type(exc).__name__}") from None

    # --- plumbing --------------------------------------------------------------------

    async def _auth(self, verb: str, hashes: list[str], server: str) -> str:
        unsigned = authorization(
            self._signer.public_key, verb, created_at=self._now(), hashes=hashes
        )
        return authorization_header(await self._signer.sign_event(unsigned))

    async def _request(self, method: str, base: str, url: str, **kwargs: object) -> httpx.Response:
        why = refusal(url)
        if why is not None:
            raise BlossomError(base, why, status=403)
        try:
            return await self._http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise BlossomError(base, f"{method} failed: {type(exc).__name__} {exc}") from None


def _context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(ca_file)
    return context


def _server(url: str) -> str:
    try:
        return normalize_server_url(url)
    except DecodeError as exc:
        raise BlossomError(url, str(exc), status=400) from None


def _check(server: str, response: httpx.Response) -> None:
    if response.is_success:
        return
    reason = response.headers.get("X-Reason") or response.reason_phrase
    status = response.status_code
    if status == 413:
        raise BlobTooLarge(server, f"{status} {reason}", status=status)
    raise BlossomError(server, f"{status} {reason}", status=status)


async def _chunks(blob: bytes, progress: Progress | None) -> AsyncIterator[bytes]:
    for start in range(0, len(blob), CHUNK):
        yield blob[start : start + CHUNK]
        if progress is not None:
            progress(min(start + CHUNK, len(blob)), len(blob))

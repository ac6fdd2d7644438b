"""Sending a 5 MB image as MIP-04 media (encrypt + upload) against a plain upload of the same
file to the same Blossom server, in the same run.

    .venv/bin/python bench/media_bench.py [--size 5000000] [--rounds 5]

The server is the test one (npm blossom-server-sdk under tests/helpers/blossom/server.mjs,
installed into the cache on first use). Every round uses fresh bytes, so neither side finds
its blob already stored. Ratio = encrypted send / plain upload (1.0 is free encryption).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marmot.media import encrypt_media  # imported after the path fix above
from nostr.keys import SecretKey
from nostr.relay.blossom import BlossomClient
from nostr.signer import KeySigner
from tests.helpers.blossom import BlossomProcess


def _image(size: int) -> bytes:
    # A JPEG signature (MIP-04 sniffs images) followed by incompressible bytes.
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


async def _run(url: str, size: int, rounds: int) -> tuple[list[float], list[float]]:
    exporter = os.urandom(32)
    client = BlossomClient(KeySigner(SecretKey.generate()), now=lambda: int(time.time()))
    encrypted: list[float] = []
    plain: list[float] = []
    try:
        await client.upload([url], b"warm-up")
        for _ in range(rounds):
            data = _image(size)
            start = time.perf_counter()
            media = encrypt_media(exporter, data, "image/jpeg", "photo.jpg")
            await client.upload([url], media.blob)
            encrypted.append(time.perf_counter() - start)
            data = _image(size)
            start = time.perf_counter()
            await client.upload([url], data, content_type="image/jpeg")
            plain.append(time.perf_counter() - start)
    finally:
        await client.close()
    return encrypted, plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = BlossomProcess(Path(tmp)).start()
        try:
            encrypted, plain = asyncio.run(_run(server.url, args.size, args.rounds))
        finally:
            server.stop()
    enc, raw = statistics.median(encrypted), statistics.median(plain)
    print(f"{args.size / 1e6:.1f} MB image, median of {args.rounds} rounds")
    print(f"  encrypt + upload (MIP-04): {enc * 1000:8.1f} ms")
    print(f"  plain upload             : {raw * 1000:8.1f} ms")
    print(f"  ratio encrypted / plain  : {enc / raw:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

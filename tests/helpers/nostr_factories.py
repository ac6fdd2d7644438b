"""Deterministic keys, randomness and events for Nostr tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey

NOW = 1_750_000_000


class CountingRng:
    """A deterministic ``rng``: SHA-256 in counter mode over a seed."""

    def __init__(self, seed: bytes | str = b"burrow") -> None:
        self._seed = seed.encode() if isinstance(seed, str) else seed
        self._counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            self._counter += 1
            out += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
        return out[:n]


def secret(label: str) -> SecretKey:
    """A fixed secret key per label."""
    return SecretKey(hashlib.sha256(label.encode()).digest())


def make_event(
    key: SecretKey | str = "alice",
    *,
    kind: int = 1,
    content: str = "hello",
    tags: Iterable[Iterable[str]] = (),
    created_at: int = NOW,
) -> Event:
    signer = secret(key) if isinstance(key, str) else key
    unsigned = UnsignedEvent.create(signer.public_key(), created_at, kind, content, tags)
    return unsigned.sign(signer, rng=CountingRng(content))

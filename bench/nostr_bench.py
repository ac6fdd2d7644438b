"""Nostr layer throughput, ours against rust-nostr (PyPI ``nostr-sdk``) in the same run.

    .venv/bin/python bench/nostr_bench.py [--seconds 0.5]

Each row does the same work on both sides: parse + verify an event from JSON; NIP-44 with
the conversation key derived per message (what ``nip44_encrypt`` does) and, for us, also
with a cached key; NIP-59 gift wrap and unwrap. Ratio = ours / nostr-sdk (higher is better).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nostr_sdk as sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nostr import nip44, nip59  # imported after the path fix above
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey

NOW = 1_750_000_000
AUTHORS = [SecretKey.generate() for _ in range(50)]
MESSAGE = "A typical chat message with some emoji 🦄 and a link https://example.com/x " * 3


def _rate(fn: Callable[[int], object], seconds: float) -> float:
    """Operations per second of ``fn(i)``, run for about ``seconds``."""
    fn(0)  # warm up caches and lazy imports
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn(count)
            count += 1
    return count / elapsed


def _events() -> list[str]:
    texts = []
    for i in range(2000):
        key = AUTHORS[i % len(AUTHORS)]
        tags = [["h", "ab" * 16], ["p", AUTHORS[(i + 1) % 50].public_key().hex]]
        event = UnsignedEvent.create(key.public_key(), NOW + i, 445, f"{MESSAGE}{i}", tags)
        texts.append(event.sign(key).to_json())
    return texts


def _bench_verify(seconds: float) -> list[tuple[str, float, float]]:
    texts = _events()
    parsed = [Event.from_json(t) for t in texts]
    their_parsed = [sdk.Event.from_json(t) for t in texts]

    def ours(i: int) -> None:
        Event.from_json(texts[i % len(texts)]).verify()

    def ours_verify_only(i: int) -> None:
        parsed[i % len(parsed)].verify()

    def theirs(i: int) -> None:
        assert sdk.Event.from_json(texts[i % len(texts)]).verify()

    def theirs_verify_only(i: int) -> None:
        assert their_parsed[i % len(their_parsed)].verify()

    return [
        ("event parse + verify", _rate(ours, seconds), _rate(theirs, seconds)),
        (
            "event verify (parsed)",
            _rate(ours_verify_only, seconds),
            _rate(theirs_verify_only, seconds),
        ),
    ]


def _bench_nip44(seconds: float) -> list[tuple[str, float, float]]:
    alice, bob = AUTHORS[0], AUTHORS[1]
    their_alice = sdk.SecretKey.from_bytes(alice.data)
    their_bob = sdk.SecretKey.from_bytes(bob.data)
    their_alice_pub = sdk.PublicKey.parse(alice.public_key().hex)
    their_bob_pub = sdk.PublicKey.parse(bob.public_key().hex)
    v2 = sdk.Nip44Version.V2
    key = nip44.conversation_key(alice, bob.public_key())
    payload = nip44.encrypt(MESSAGE, key)

    def ours_enc(_: int) -> None:
        nip44.encrypt(MESSAGE, nip44.conversation_key(alice, bob.public_key()))

    def ours_dec(_: int) -> None:
        nip44.decrypt(payload, nip44.conversation_key(bob, alice.public_key()))

    their_enc = _rate(lambda _: sdk.nip44_encrypt(their_alice, their_bob_pub, MESSAGE, v2), seconds)
    their_dec = _rate(lambda _: sdk.nip44_decrypt(their_bob, their_alice_pub, payload), seconds)
    return [
        ("NIP-44 encrypt", _rate(ours_enc, seconds), their_enc),
        ("NIP-44 decrypt", _rate(ours_dec, seconds), their_dec),
        (
            "NIP-44 encrypt (cached key)",
            _rate(lambda _: nip44.encrypt(MESSAGE, key), seconds),
            their_enc,
        ),
        (
            "NIP-44 decrypt (cached key)",
            _rate(lambda _: nip44.decrypt(payload, key), seconds),
            their_dec,
        ),
    ]


def _bench_gift_wrap(seconds: float) -> list[tuple[str, float, float]]:
    alice, bob = AUTHORS[0], AUTHORS[1]
    rumor = UnsignedEvent.create(alice.public_key(), NOW, 444, MESSAGE, [["e", "00" * 32]])
    their_alice = sdk.Keys(sdk.SecretKey.from_bytes(alice.data))
    their_bob = sdk.Keys(sdk.SecretKey.from_bytes(bob.data))
    their_rumor = sdk.UnsignedEvent.from_json(rumor.to_json())
    bob_pub = sdk.PublicKey.parse(bob.public_key().hex)
    wraps = [nip59.gift_wrap(rumor, alice, bob.public_key(), now=NOW) for _ in range(200)]
    their_wraps = [sdk.Event.from_json(w.to_json()) for w in wraps]

    def ours_wrap(_: int) -> None:
        nip59.gift_wrap(rumor, alice, bob.public_key(), now=NOW)

    def ours_unwrap(i: int) -> None:
        nip59.unwrap(wraps[i % len(wraps)], bob)

    def theirs_unwrap(i: int) -> None:
        sdk.UnwrappedGift.from_gift_wrap(their_bob, their_wraps[i % len(their_wraps)])

    return [
        (
            "NIP-59 gift wrap",
            _rate(ours_wrap, seconds),
            _rate(lambda _: sdk.nip59_make_gift_wrap(their_alice, bob_pub, their_rumor), seconds),
        ),
        ("NIP-59 unwrap", _rate(ours_unwrap, seconds), _rate(theirs_unwrap, seconds)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    seconds = parser.parse_args().seconds
    rows = _bench_verify(seconds) + _bench_nip44(seconds) + _bench_gift_wrap(seconds)
    print(f"{'operation':<30} {'burrow ops/s':>13} {'nostr-sdk ops/s':>16} {'ratio':>7}")
    for name, ours, theirs in rows:
        print(f"{name:<30} {ours:>13,.0f} {theirs:>16,.0f} {ours / theirs:>7.2f}")
    print("(cached key): ours reuses the conversation key; nostr-sdk offers only per-message")
    return 0


if __name__ == "__main__":
    sys.exit(main())

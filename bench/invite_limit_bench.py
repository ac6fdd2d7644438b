"""How large a group can still invite someone through Nostr relays (issue 19).

A Marmot Welcome carries the whole ratchet tree (Profile A, as MDK does it; Dark Matter
requires the same), as base64 in a kind 444 rumor, sealed (NIP-44) and gift-wrapped
(NIP-44 again, NIP-59). Two limits meet:

* the relay's event cap (64 KiB: strfry's default and rust-nostr's LocalRelay; some take
  128 KiB or 512 KiB), on the gift wrap's JSON;
* NIP-44 encrypts at most 65,535 bytes, so the seal (the gift wrap's plaintext) can never
  exceed that, whatever the relay takes.

For each group size N (the creator adds N-1 members in one commit, as `burrow` does), the
table gives the sizes of the first Welcome's layers; then the largest N that fits each cap.
Run with ``make bench`` or ``.venv/bin/python bench/invite_limit_bench.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marmot.group import GroupConfig, create_group
from marmot.key_package_event import (
    MarmotKeyPackage,
    create_marmot_key_package,
    key_package_event_data,
    parse_key_package_event,
)
from nostr.errors import UsageError
from nostr.keys import SecretKey

CAPS = (64 * 1024, 128 * 1024, 512 * 1024)
RELAYS = ("wss://relay.damus.io", "wss://nos.lol")  # only their length matters here


def _key(label: str) -> SecretKey:
    return SecretKey(hashlib.sha256(label.encode()).digest())


def key_packages(count: int, now: int) -> list[MarmotKeyPackage]:
    out = []
    for i in range(count):
        key = _key(f"member{i}")
        bundle = create_marmot_key_package(key.public_key(), now=now)
        data = key_package_event_data(bundle.key_package, relays=list(RELAYS))
        out.append(parse_key_package_event(data.unsigned(key.public_key(), now).sign(key), now=now))
    return out


def welcome_sizes(n: int, kps: list[MarmotKeyPackage], now: int) -> tuple[int, int | None]:
    """(rumor JSON bytes, gift wrap JSON bytes or None when NIP-44 cannot encrypt it)."""
    creator = _key("creator")
    config = GroupConfig(name="A group of friends", relays=RELAYS)
    created = create_group(creator.public_key(), config, kps[: n - 1], now=now)
    welcome = created.welcomes[0]
    rumor = len(welcome.rumor.to_json().encode())
    try:
        wrap = welcome.wrap(creator, now=now)
    except UsageError:
        return rumor, None
    return rumor, len(wrap.to_json().encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=160)
    args = parser.parse_args()
    now = int(time.time())
    kps = key_packages(args.max, now)
    started = time.perf_counter()
    sizes = {n: welcome_sizes(n, kps, now) for n in range(2, args.max + 1)}
    took = time.perf_counter() - started
    print("members  rumor B  gift wrap B")
    for n in (2, 10, 25, 50, 75, 100, 125, 150):
        if n in sizes:
            rumor, wrap = sizes[n]
            print(f"{n:7}  {rumor:7}  {wrap if wrap is not None else 'NIP-44 limit':>11}")
    per_member = (sizes[100][0] - sizes[50][0]) / 50
    print(f"\nthe rumor grows by {per_member:.0f} B per member (the tree's leaf and parent)")
    print("\nrelay cap   largest group that can invite   limited by")
    nip44 = max(n for n, (_, w) in sizes.items() if w is not None)
    for cap in CAPS:
        fits = max(n for n, (_, w) in sizes.items() if w is not None and w <= cap)
        print(f"{cap // 1024:5} KiB   {fits:29}   {'NIP-44' if fits == nip44 else 'relay cap'}")
    print(f"\n({len(sizes)} groups built in {took:.1f} s)")


if __name__ == "__main__":
    main()

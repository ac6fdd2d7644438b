"""The service layer end to end, against the real local relay (rust-nostr LocalRelay).

    .venv/bin/python bench/app_bench.py [--sends 40] [--groups 50] [--messages 20000]

1. Send -> stored: from ``messages.send`` on Alice's client to the message being stored on
   Bob's, who runs as his own process (``cli listen``; its ``MessageReceived`` line is
   printed once the message is stored), both live on one relay. The floor it is compared
   with, measured in the same run: the raw relay round trip of one event published by one
   nostr-sdk client and delivered to another nostr-sdk client's live subscription. The
   ratio says what Burrow adds (MLS, outer encryption, durable outbox, atomic storage,
   verification) on top of the relay itself.
2. Startup to caught up: Bob's client holding ``--groups`` groups and ``--messages``
   stored messages (plus ``--away`` new ones waiting on the relay) is opened from scratch:
   unlock (SQLCipher key derivation, pinned production profile), connect, catch up every
   group, process what is new. No meaningful peer exists for this one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nostr_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import AccountSession, AppConfig, Services, Timeouts  # after the path fix
from storage.repos import messages as messages_repo
from storage.rows import DeliveryStatus, NewMessage
from tests.helpers.relay import RelayProcess

PASSPHRASE = "benchmark passphrase"
ROOT = Path(__file__).resolve().parents[1]
PACE = 0.05
"""Seconds between sends (not timed): people type; back to back measures queueing too."""
TIMEOUTS = Timeouts(publish=10.0, fetch=10.0, connect=5.0, reconnect_max=1.0)


def _config(folder: Path, relay: str) -> AppConfig:
    return AppConfig(folder, local_relay=relay, embedded_relay=False, timeouts=TIMEOUTS)


async def _client(folder: Path, relay: str, name: str) -> tuple[Services, AccountSession]:
    services = Services(_config(folder / name, relay))
    session = await services.create_account(name, PASSPHRASE)
    await session.start(live=True)
    await session.flush(10)
    return services, session


async def _befriend(alice: AccountSession, bob: AccountSession, groups: int) -> list[str]:
    ids = []
    bob_npub = bob.ctx.public_key.to_bech32()
    for n in range(groups):
        info = await alice.groups.create(f"group {n}", [bob_npub])
        ids.append(info.id)
    await alice.flush(30)
    deadline = time.monotonic() + 120
    while len(await bob.invites.list_invites()) < groups and time.monotonic() < deadline:
        await bob.sync_engine.catch_up_all()
    for invite in await bob.invites.list_invites():
        await bob.invites.accept(invite.id)
    await alice.sync_engine.idle(30)
    return ids


async def _listen(folder: Path, relay: str) -> asyncio.subprocess.Process:
    """Bob as his own process: ``cli listen`` prints one JSON line per app event."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(BURROW_PASSPHRASE=PASSPHRASE, BURROW_EMBEDDED_RELAY="0", BURROW_LOCAL_RELAY=relay)
    argv = [sys.executable, str(ROOT / "main.py"), "cli", "--data-dir", str(folder), "--json"]
    proc = await asyncio.create_subprocess_exec(
        *argv, "listen", stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT
    )
    while True:  # caught up once the start-up catch-up reports done == total
        event = await _next_line(proc)
        if event["type"] == "SyncProgressed" and event["done"] == event["total"]:
            return proc


async def _next_line(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if not line:
        raise RuntimeError("the listening client exited")
    return dict(json.loads(line))


async def _send_to_stored(
    alice: AccountSession, bob: asyncio.subprocess.Process, gid: str, n: int
) -> list[float]:
    samples = []
    for i in range(n + 1):  # the first one warms the path up
        text = f"ping {i}"
        started = time.perf_counter()
        await alice.messages.send(gid, text)
        while True:
            event = await _next_line(bob)
            if event["type"] == "MessageReceived" and event["message"]["content"] == text:
                break
        if i:
            samples.append(time.perf_counter() - started)
        await asyncio.sleep(PACE)
    return samples


async def _raw_round_trip(relay: str, n: int) -> list[float]:
    """nostr-sdk publishing to nostr-sdk, through the same relay: the floor."""
    url = nostr_sdk.RelayUrl.parse(relay)
    sender, receiver = nostr_sdk.ClientBuilder().build(), nostr_sdk.ClientBuilder().build()
    for client in (sender, receiver):
        await client.add_relay(url)
        await client.connect()
    keys, target = nostr_sdk.Keys.generate(), nostr_sdk.Keys.generate().public_key()
    stream = receiver.notifications()
    flt = nostr_sdk.Filter().kind(nostr_sdk.Kind(1)).pubkey(target)
    await receiver.subscribe(nostr_sdk.ReqTarget.auto([flt]))
    samples = []
    try:
        for i in range(n + 1):  # the first one warms the connections up
            builder = nostr_sdk.EventBuilder(nostr_sdk.Kind(1), f"ping {i}")
            event = builder.tags([nostr_sdk.Tag.public_key(target)]).finalize(keys)
            want = event.id().to_hex()
            started = time.perf_counter()
            await sender.send_event(event)
            while True:
                note = await stream.next()
                if note is not None and note.is_new_event() and note.event.id().to_hex() == want:
                    break
            if i:
                samples.append(time.perf_counter() - started)
    finally:
        await sender.disconnect()
        await receiver.disconnect()
    return samples


async def _fill(bob: AccountSession, ids: list[str], total: int) -> None:
    """Stored history: ``total`` chat messages spread over the groups (written directly,
    as if received over months)."""
    per_group = total // len(ids)
    now = bob.ctx.now()
    for gid_hex in ids:
        group = await bob.groups.store.resolve(gid_hex)
        rows = [
            NewMessage(
                group.mls_group_id,
                f"{hash((gid_hex, i)) & (2**256 - 1):064x}",
                9,
                bob.pubkey,
                f"stored message {i} of {gid_hex[:6]}",
                now - 86400 + i,
                DeliveryStatus.RECEIVED,
                is_read=True,
            )
            for i in range(per_group)
        ]
        await bob.account.db.transact(messages_repo.insert_many, rows, now=now)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, RelayProcess() as relay:
        folder = Path(tmp)
        a_services, alice = await _client(folder, relay.url, "alice")
        b_services, bob = await _client(folder, relay.url, "bob")
        ids = await _befriend(alice, bob, args.groups)
        await bob.sync_engine.idle(30)
        pubkey = bob.pubkey
        await b_services.close()

        listener = await _listen(folder / "bob", relay.url)
        try:
            ours = await _send_to_stored(alice, listener, ids[0], args.sends)
        finally:
            listener.terminate()
            await listener.wait()
        floor = await _raw_round_trip(relay.url, args.sends)
        burrow_ms, floor_ms = statistics.median(ours) * 1000, statistics.median(floor) * 1000
        print(
            f"send -> stored on the other client (own process): median {burrow_ms:.1f} ms, "
            f"p90 {sorted(ours)[int(len(ours) * 0.9)] * 1000:.1f} ms ({args.sends} sends)"
        )
        print(f"  floor, nostr-sdk -> relay -> nostr-sdk: median {floor_ms:.1f} ms")
        print(f"  ratio Burrow / floor: {burrow_ms / floor_ms:.1f}x")

        b_services = Services(_config(folder / "bob", relay.url))
        bob = await b_services.unlock(pubkey, PASSPHRASE)
        await _fill(bob, ids, args.messages)
        await b_services.close()
        for n in range(args.away):  # what happened while Bob was away
            await alice.messages.send(ids[n % len(ids)], f"while you were away {n}")
        await alice.flush(60)

        started = time.perf_counter()
        services = Services(_config(folder / "bob", relay.url))
        session = await services.unlock(pubkey, PASSPHRASE)
        unlocked = time.perf_counter()
        await session.start(live=True)
        caught_up = await session.sync_engine.idle(120)
        done = time.perf_counter()
        stored = await session.account.db.run(messages_repo.count)
        print(
            f"startup to caught up, {args.groups} groups / {stored} messages "
            f"({args.away} of them new): {(done - started) * 1000:.0f} ms "
            f"(unlock {(unlocked - started) * 1000:.0f} ms, connect + catch up "
            f"{(done - unlocked) * 1000:.0f} ms, caught up: {caught_up})"
        )
        await services.close()
        await a_services.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=40)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--away", type=int, default=100, help="new messages to catch up on")
    asyncio.run(main(parser.parse_args()))

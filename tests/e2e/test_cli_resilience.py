"""End to end, each client a separate CLI process: restarts, a dying relay, an offline
member, a commit race, an AUTH relay, and forged, replayed and removed-member events."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from app import AppConfig, Services
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.relay import RelayPool
from tests.e2e.cli_client import PASSPHRASE, CliClient, parallel, stop, until
from tests.e2e.conftest import People
from tests.helpers.relay import RelayFactory, RelayProcess

pytestmark = pytest.mark.e2e


def _group(owner: CliClient, *guests: CliClient, name: str = "G") -> str:
    members = [arg for g in guests for arg in ("--member", g.npub)]
    gid = str(owner.run("group", "create", name, *members)["group"]["id"])
    parallel(*(lambda g=g: g.accept_invite(gid) for g in guests))
    return gid


def _agree(clients: list[CliClient], gid: str) -> dict[str, object]:
    """Everyone catches up until all share one epoch and epoch authenticator."""
    groups = until(
        lambda: parallel(*(lambda c=c: c.group(gid, sync=True) for c in clients)),
        lambda gs: len({(g["epoch"], g["epoch_authenticator"]) for g in gs}) == 1,
    )
    return dict(groups[0])


def _received(log: Path) -> list[str]:
    if not log.exists():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [e["message"]["content"] for e in lines if e["type"] == "MessageReceived"]


async def _raw(url: str, publish: Event | None = None, ids: list[str] | None = None) -> list[Event]:
    async with RelayPool() as pool:
        await pool.add_relay(url)
        await pool.wait_connected(timeout=5)
        if publish is not None:
            (await pool.publish(publish)).raise_for_failure()
        return await pool.fetch([Filter(ids=ids)]) if ids else []


async def _send_without_catching_up(data_dir: Path, relay_url: str, gid: str, text: str) -> None:
    env = {"BURROW_LOCAL_RELAY": relay_url, "BURROW_EMBEDDED_RELAY": "0"}
    services = Services(AppConfig.from_env(data_dir, env))
    try:
        session = await services.unlock(None, PASSPHRASE)
        await session.messages.send(gid, text)
        assert await session.flush(10) == 1
    finally:
        await services.close()


def test_restart_mid_conversation_loses_and_duplicates_nothing(
    relay: RelayProcess, people: People, tmp_path: Path
) -> None:
    alice, bob = people(relay, "alice", "bob")
    gid = _group(alice, bob)
    first_log, second_log = tmp_path / "listen-1.jsonl", tmp_path / "listen-2.jsonl"
    listener = bob.listen(first_log)
    try:
        for text in ("m1", "m2", "m3"):
            alice.run("send", gid, text)
        until(lambda: _received(first_log), lambda r: r == ["m1", "m2", "m3"])
    finally:
        stop(listener, kill=True)  # a crash, mid-conversation
    for text in ("m4", "m5"):
        alice.run("send", gid, text)
    listener = bob.listen(second_log)
    try:
        alice.run("send", gid, "m6")
        until(lambda: _received(second_log), lambda r: r == ["m4", "m5", "m6"])
    finally:
        stop(listener)
    assert bob.texts(gid) == ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert bob.sync()["events"] >= 0  # a later catch-up stores nothing twice
    assert bob.texts(gid) == ["m1", "m2", "m3", "m4", "m5", "m6"]


def test_relay_killed_and_restarted_everyone_catches_up(
    relay_factory: RelayFactory, people: People, tmp_path: Path
) -> None:
    relay = relay_factory(persist=True)
    alice, bob, carol = people(relay, "alice", "bob", "carol")
    gid = _group(alice, bob, carol)
    log = tmp_path / "bob.jsonl"
    listener = bob.listen(log)
    try:
        alice.run("send", gid, "before")
        until(lambda: _received(log), lambda r: r == ["before"])
        relay.kill()
        queued = alice.run("send", gid, "while the relay was down")["message"]
        assert queued["status"] in ("sending", "failed")  # stored, not lost
        relay.start()
        assert alice.sync()["outbox_pending"] == 0  # the outbox delivered it now
        alice.run("send", gid, "after")
        until(
            lambda: _received(log), lambda r: r == ["before", "while the relay was down", "after"]
        )
    finally:
        stop(listener)
    expected = ["before", "while the relay was down", "after"]
    assert bob.texts(gid) == expected
    carol.wait_texts(gid, expected)
    sent = {m["content"]: m["status"] for m in alice.messages(gid)}
    assert sent == dict.fromkeys(expected, "sent")


def test_an_offline_member_catches_up_over_three_epochs_in_order(
    relay: RelayProcess, people: People
) -> None:
    alice, bob, carol, dave = people(relay, "alice", "bob", "carol", "dave")
    gid = _group(alice, bob, carol)
    start = int(str(_agree([alice, bob, carol], gid)["epoch"]))
    # Carol is offline while the group moves on three epochs.
    alice.run("send", gid, "one")
    alice.run("group", "add", gid, dave.npub)
    alice.run("send", gid, "two")
    alice.run("group", "rename", gid, "Renamed")
    alice.run("send", gid, "three")
    alice.run("group", "remove", gid, dave.npub)
    alice.run("send", gid, "four")
    assert alice.group(gid)["epoch"] == start + 3
    assert carol.texts(gid, sync=True) == ["one", "two", "three", "four"]
    settled = _agree([alice, bob, carol], gid)
    assert settled["epoch"] == start + 3 and settled["name"] == "Renamed"


def test_two_admins_commit_in_the_same_epoch_and_everyone_converges(
    relay: RelayProcess, people: People
) -> None:
    alice, bob, carol = people(relay, "alice", "bob", "carol")
    gid = _group(alice, bob, carol)
    alice.run("group", "promote", gid, bob.npub)
    before = _agree([alice, bob, carol], gid)
    # Both admins commit at once, each from the epoch it knows.
    parallel(
        lambda: alice.run("group", "rename", gid, "by alice", ok=False),
        lambda: bob.run("group", "describe", gid, "by bob", ok=False),
    )
    after = _agree([alice, bob, carol], gid)
    assert int(str(after["epoch"])) > int(str(before["epoch"]))
    # The group still works for everyone on the winning branch.
    carol.run("send", gid, "still here")
    parallel(*(lambda c=c: c.wait_texts(gid, ["still here"]) for c in (alice, bob)))


def test_a_relay_requiring_nip42_auth_works(auth_relay: RelayProcess, people: People) -> None:
    alice, bob = people(auth_relay, "alice", "bob")
    gid = _group(alice, bob)
    alice.run("send", gid, "authenticated hello")
    bob.wait_texts(gid, ["authenticated hello"])


def test_forged_replayed_and_removed_member_events_are_rejected(
    relay: RelayProcess, people: People, tmp_path: Path
) -> None:
    alice, bob, carol = people(relay, "alice", "bob", "carol")
    gid = _group(alice, bob, carol)
    sent = alice.run("send", gid, "genuine")["message"]
    bob.wait_texts(gid, ["genuine"])
    before = _agree([alice, bob, carol], gid)

    # A forged 445 (valid signature, nothing any epoch key opens) and a replay: the same
    # ciphertext in a new wrapper from a new key.
    key = SecretKey.generate()
    tags = (("h", gid), ("encoding", "base64"))
    forged = UnsignedEvent(key.public_key().hex, sent["created_at"], 445, tags, "QUJD" * 30)
    asyncio.run(_raw(relay.url, publish=forged.sign(key)))
    [original] = asyncio.run(_raw(relay.url, ids=[sent["event_id"]]))
    other = SecretKey.generate()
    replay = UnsignedEvent(
        other.public_key().hex, original.created_at + 1, 445, original.tags, original.content
    )
    asyncio.run(_raw(relay.url, publish=replay.sign(other)))

    # A copy of Carol's folder from before her removal, driven by a client that never
    # catches up, keeps writing with the keys of the epoch she was still in.
    stale = tmp_path / "carol-old"
    shutil.copytree(carol.data_dir, stale)
    alice.run("group", "remove", gid, carol.npub)
    asyncio.run(_send_without_catching_up(stale, relay.url, gid, "written after my removal"))

    after = _agree([alice, bob], gid)
    assert after["epoch"] == int(str(before["epoch"])) + 1  # only the removal moved it
    assert bob.texts(gid, sync=True) == ["genuine"]
    assert alice.texts(gid) == ["genuine"]

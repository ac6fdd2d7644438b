"""Key-package upkeep, blocking, out-of-order commits, devices, relay status and the
embedded relay, through `app.Services` and the real relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nostr_sdk  # the oracle writes the old store, as the old Burrow did
import pytest

from app import AppConfig, FixedClock, Services
from app.events import RelayStatusChanged
from app.key_packages import QUIET_PERIOD, ROTATE_AFTER
from app.local_relay import is_served
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.kinds import Kind
from storage import Connection
from storage.repos import key_packages as kp_repo
from storage.repos import outbox as outbox_repo
from storage.repos import processed
from storage.rows import Outcome
from tests.helpers.app_clients import PASSPHRASE, Client, config_for, eventually, make_client
from tests.helpers.relay import RelayProcess, free_port
from tests.helpers.storage_factories import FAST

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _live_refs(client: Client) -> list[str]:
    return [k.ref for k in await client.session.key_packages.list_local() if k.live]


async def test_a_consumed_key_package_is_replaced_then_deleted(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        [used] = await _live_refs(bob)
        group = await alice.session.groups.create("KP", [bob.npub], profile="mip")
        invites = await eventually(bob.session.invites.list_invites, bool)
        assert invites[0].group_id == group.id
        await bob.session.flush(10)
        fresh = await eventually(lambda: _live_refs(bob), lambda refs: refs and refs != [used])
        assert used not in fresh
        record = await eventually(
            lambda: bob.session.account.db.run(kp_repo.by_ref, bytes.fromhex(used)),
            lambda r: r is not None and r.relay_deleted_at is not None,
        )  # NIP-09 deletion accepted, after the fresh one went out
        assert record is not None and record.consumed_at is not None
        on_relay = await bob.session.relays.fetch(
            [Filter(authors=[bob.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])], [relay.url]
        )
        assert [e.id for e in on_relay] != [record.event_id]
        assert record.private_material is not None  # kept through the quiet period
        bob.services.clock = clock = FixedClock(bob.session.ctx.now() + QUIET_PERIOD + 1)
        bob.session.ctx.clock = clock
        await bob.session.key_packages.upkeep()
        record = await bob.session.account.db.run(kp_repo.by_ref, bytes.fromhex(used))
        assert record is not None and record.private_material is None
    finally:
        await alice.close()
        await bob.close()


async def test_old_key_packages_are_rotated(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        [old] = await _live_refs(alice)
        alice.session.ctx.clock = FixedClock(alice.session.ctx.now() + ROTATE_AFTER + 60)
        await alice.session.key_packages.upkeep()
        await alice.session.flush(10)
        now_live = await _live_refs(alice)
        assert len(now_live) == 1 and now_live != [old]
        record = await alice.session.account.db.run(kp_repo.by_ref, bytes.fromhex(old))
        assert record is not None and record.relay_deleted_at is not None
    finally:
        await alice.close()


async def test_a_blocked_inviter_is_ignored(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        await bob.session.contacts.set_blocked(alice.npub, True)
        await alice.session.groups.create("Spam", [bob.npub], profile="mip")
        await alice.session.flush(10)
        await bob.session.sync_engine.catch_up_all()
        assert await bob.session.invites.list_invites() == []
        assert [c.blocked for c in await bob.session.contacts.list_contacts()] == [True]
    finally:
        await alice.close()
        await bob.close()


async def test_a_commit_from_a_future_epoch_waits_for_the_missing_one(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await alice.session.groups.create("Order", [bob.npub], profile="mip")
        await alice.session.flush(10)  # the Welcome is on the relay before Bob asks
        await bob.session.sync_engine.catch_up_all()
        invite = (await bob.session.invites.list_invites())[0]
        await bob.session.invites.accept(invite.id)
        await eventually(lambda: alice.session.groups.info(group.id), lambda i: i.epoch == 2)
        await alice.session.groups.rename(group.id, name="first")
        await alice.session.groups.rename(group.id, name="second")
        sent = await alice.session.account.db.run(outbox_repo.pending)
        assert sent == []  # both renames were accepted; their events, in order:
        rows = await alice.session.account.db.run(_commit_events)
        earlier, later = (Event.from_json(j) for j in rows[-2:])
        await bob.session.group_inbox.receive(later)  # epoch 3 -> 4 before 2 -> 3
        mark = await bob.session.account.db.run(processed.get, later.id)
        assert mark is not None and mark.outcome is Outcome.RETRYABLE
        await bob.session.group_inbox.receive(earlier)
        info = await bob.session.groups.info(group.id)
        assert (info.name, info.epoch) == ("second", 4)
        mark = await bob.session.account.db.run(processed.get, later.id)
        assert mark is not None and mark.outcome is Outcome.PROCESSED
    finally:
        await alice.close()
        await bob.close()


def _commit_events(conn: Connection) -> list[str]:
    return [
        e.event_json
        for e in (outbox_repo.get(conn, i) for i in range(1, 200))
        if e is not None and e.purpose == "commit"
    ]


async def test_relay_status_is_reported_per_relay(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    try:
        statuses = await alice.wait_for(RelayStatusChanged)
        assert any(s.url == relay.url and s.status == "connected" for s in statuses)
        [info] = alice.session.relays.info()
        assert info.status == "connected" and set(info.lists) == {"nip65", "inbox", "key_packages"}
        relay.stop()
        await eventually(
            lambda: _status(alice, relay.url), lambda s: s in ("disconnected", "connecting")
        )
    finally:
        await alice.close()


async def _status(client: Client, url: str) -> str:
    return next(i.status for i in client.session.relays.info() if i.url == url)


async def test_the_embedded_relay_serves_when_nothing_else_does(tmp_path: Path) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    first = Services(AppConfig(tmp_path / "a", local_relay=url, cipher=FAST))
    await first.start()
    assert first.local_relay is not None and await is_served(url)
    second = Services(AppConfig(tmp_path / "b", local_relay=url, cipher=FAST))
    await second.start()
    assert second.local_relay is None  # already served: the first instance's relay is used
    try:
        a = await first.create_account("a", PASSPHRASE)
        b = await second.create_account("b", PASSPHRASE)
        await a.start(live=False)
        await b.start(live=False)
        await a.flush(10)
        found = await b.relays.fetch([Filter(authors=[a.pubkey])], [url])
        assert {e.kind for e in found} >= {0, 10002, 30443}
    finally:
        await second.close()
        await first.close()
    assert not await is_served(url)
    # Persistent: a restarted embedded relay still has the events (the shared LMDB store).
    again = Services(AppConfig(tmp_path / "a", local_relay=url, cipher=FAST))
    await again.start()
    try:
        session = await again.unlock(None, PASSPHRASE)
        found = await session.relays.fetch([Filter(authors=[session.pubkey])], [url])
        assert found
    finally:
        await again.close()


async def test_a_lost_device_is_removed_from_groups_and_its_key_packages_deleted(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    phone = await make_client(tmp_path, relay.url, "bob")
    nsec = phone.services.export_nsec(phone.pubkey, PASSPHRASE)
    laptop_services = Services(config_for(tmp_path / "laptop", relay.url))
    laptop = await laptop_services.import_account(nsec, PASSPHRASE, "bob")
    await laptop.start(live=True)
    await laptop.flush(10)
    try:
        group = await alice.session.groups.create("Devices", [phone.npub], profile="mip")
        bob = next(m for m in group.members if m.pubkey == phone.pubkey)
        assert len(bob.leaves) == 2  # both devices were invited
        for device in (phone.session, laptop):
            invites = await eventually(device.invites.list_invites, bool)
            await device.invites.accept(invites[0].id)
        await alice.session.groups.promote(group.id, phone.npub)
        await eventually(lambda: phone.session.groups.info(group.id), lambda i: i.i_am_admin)

        devices = await phone.session.devices.list_devices()
        [other] = [d for d in devices if not d.current]
        assert other.id == await laptop.key_packages.device_slot()
        assert other.groups == 1 and len(other.leaves) == 1

        await laptop.flush(10)
        await laptop_services.close()  # the laptop is lost: it publishes nothing more
        await phone.session.devices.remove(other.id[:12])
        await phone.session.flush(10)
        info = await eventually(
            lambda: alice.session.groups.info(group.id),
            lambda i: len(next(m for m in i.members if m.pubkey == phone.pubkey).leaves) == 1,
        )
        assert info.epoch > group.epoch
        on_relay = await alice.session.relays.fetch(
            [Filter(authors=[phone.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])], [relay.url]
        )
        assert other.id not in {e.first_tag_value("d") for e in on_relay}
    finally:
        await alice.close()
        await phone.close()
        await laptop_services.close()


async def test_the_shared_relay_store_moves_to_the_next_process(tmp_path: Path) -> None:
    """One store for every data folder: when the serving instance leaves, a running one
    takes over serving the same events (it watches the store's lock), no restart needed."""
    url = f"ws://127.0.0.1:{free_port()}"
    store = tmp_path / "store"
    first = Services(AppConfig(tmp_path / "a", local_relay=url, cipher=FAST, relay_store=store))
    second = Services(AppConfig(tmp_path / "b", local_relay=url, cipher=FAST, relay_store=store))
    await first.start()
    await second.start()
    try:
        assert first.local_relay is not None and second.local_relay is None
        a = await first.create_account("a", PASSPHRASE)
        await a.start(live=False)
        await a.flush(10)
        await first.close()  # the server leaves; its events stay in the store
        await eventually(lambda: _serving(second), bool, timeout=10)
        b = await second.create_account("b", PASSPHRASE)
        found = await b.relays.fetch([Filter(authors=[a.pubkey])], [url])
        assert {e.kind for e in found} >= {0, 10002, 30443}
    finally:
        await second.close()
    assert not await is_served(url)


async def _serving(services: Services) -> bool:
    return services.local_relay is not None and await is_served(services.config.local_relay)


async def test_an_older_burrows_own_relay_store_moves_into_the_shared_one(tmp_path: Path) -> None:
    """Before the shared store, each data folder had ``relay/``: what waits there (someone's
    invite, say) is served from the shared store after the upgrade, once."""
    old = tmp_path / "a" / "relay"
    old.mkdir(parents=True)
    secret = SecretKey.from_hex("44" * 32)
    note = UnsignedEvent.create(secret.public_key(), 1_700_000_000, 1, "waiting for you")
    signed = note.sign(secret)
    nostr_sdk.uniffi_set_event_loop(asyncio.get_running_loop())
    legacy = await nostr_sdk.NostrLmdb.open(str(old))
    await legacy.save_event(nostr_sdk.Event.from_json(signed.to_json()))
    del legacy

    url = f"ws://127.0.0.1:{free_port()}"
    config = AppConfig(tmp_path / "a", local_relay=url, cipher=FAST, relay_store=tmp_path / "s")
    services = Services(config)
    await services.start()
    try:
        session = await services.create_account("a", PASSPHRASE)
        found = await session.relays.fetch([Filter(ids=[signed.id])], [url])
        assert [e.content for e in found] == ["waiting for you"]
    finally:
        await services.close()
    assert not old.exists() and (tmp_path / "a" / "relay.imported").is_dir()

"""Accounts, relay lists, contacts and key packages through `app.Services` and the real relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import AccountExists, InvalidInput, Services, WrongPassphrase
from app.events import AccountUnlocked, ContactUpdated
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.metadata import parse_follow_list
from storage.rows import RelayListKind
from tests.helpers.app_clients import PASSPHRASE, config_for, make_client
from tests.helpers.relay import RelayFactory, RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_new_account_publishes_profile_relay_lists_and_a_key_package(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        found = await alice.session.relays.fetch([Filter(authors=[alice.pubkey])], [relay.url])
        kinds = sorted(e.kind for e in found)
        # One per Marmot profile: A as a 443, B as the only 30443.
        assert kinds == [0, 443, 10002, 10050, 10051, 30443]
        local = await alice.session.key_packages.list_local()
        assert len(local) == 2 and all(k.live for k in local)
        assert alice.of(AccountUnlocked)
    finally:
        await alice.close()


async def test_unlock_export_and_change_passphrase(relay: RelayProcess, tmp_path: Path) -> None:
    services = Services(config_for(tmp_path / "a", relay.url))
    session = await services.create_account("Alice", PASSPHRASE)
    pubkey = session.pubkey
    nsec = services.export_nsec(pubkey, PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        services.export_nsec(pubkey, "nope")
    await services.change_passphrase(pubkey, PASSPHRASE, "new secret words")
    await services.close()

    again = Services(config_for(tmp_path / "a", relay.url))
    with pytest.raises(WrongPassphrase):
        await again.unlock(pubkey, PASSPHRASE)
    session = await again.unlock(None, "new secret words")
    assert session.pubkey == pubkey
    assert again.export_nsec(pubkey, "new secret words") == nsec
    with pytest.raises(AccountExists):
        await again.import_account(nsec, "x")
    await again.close()

    other = Services(config_for(tmp_path / "b", relay.url))
    imported = await other.import_account(nsec, "pw")
    assert imported.pubkey == pubkey
    with pytest.raises(InvalidInput):
        await other.import_account("nsec1notakey", "pw")
    await other.close()


async def test_ncryptsec_export_and_import_beside_the_nsec(
    relay: RelayProcess, tmp_path: Path
) -> None:
    services = Services(config_for(tmp_path / "a", relay.url))
    session = await services.create_account("Alice", PASSPHRASE)
    nsec = services.export_nsec(session.pubkey, PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        await services.export_ncryptsec(session.pubkey, "nope", "key words")
    encrypted = await services.export_ncryptsec(session.pubkey, PASSPHRASE, "key words")
    assert encrypted.startswith("ncryptsec1") and nsec not in encrypted
    await services.close()

    other = Services(config_for(tmp_path / "b", relay.url))
    with pytest.raises(WrongPassphrase):
        await other.import_account(encrypted, "pw", key_passphrase="other words")
    with pytest.raises(InvalidInput):
        await other.import_account(encrypted[:-3] + "qqq", "pw", key_passphrase="key words")
    assert other.list_accounts() == []  # nothing half-stored by the failures
    imported = await other.import_account(encrypted, "pw", key_passphrase="key words")
    assert imported.pubkey == session.pubkey
    assert other.export_nsec(imported.pubkey, "pw") == nsec
    await other.close()

    # Without a separate key passphrase, the account passphrase opens the ncryptsec.
    third = Services(config_for(tmp_path / "c", relay.url))
    assert (await third.import_account(encrypted, "key words")).pubkey == session.pubkey
    await third.close()


async def test_two_accounts_side_by_side_each_with_its_own_database(
    relay: RelayProcess, tmp_path: Path
) -> None:
    services = Services(config_for(tmp_path, relay.url))
    a = await services.create_account("A", "pa")
    b = await services.create_account("B", "pb")
    assert a.account.db.path != b.account.db.path
    listed = {acc.name: acc.unlocked for acc in services.list_accounts()}
    assert listed == {"A": True, "B": True}
    await services.lock(a.pubkey)
    with pytest.raises(WrongPassphrase):
        await services.unlock(a.pubkey, "pb")
    await services.delete_account(b.pubkey)
    assert [acc.name for acc in services.list_accounts()] == ["A"]
    await services.close()


async def test_relays_set_publishes_all_three_lists(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    first, second = relay_factory(), relay_factory()
    alice = await make_client(tmp_path, first.url, "alice", live=False)
    try:
        urls = await alice.session.relays.set_relays([first.url, second.url])
        assert urls == (first.url, second.url)
        await alice.session.flush(10)
        for kind in (Kind.RELAY_LIST, Kind.INBOX_RELAYS, Kind.KEY_PACKAGE_RELAYS):
            found = await alice.session.relays.fetch(
                [Filter(authors=[alice.pubkey], kinds=[kind])], [second.url]
            )
            assert len(found) == 1
            assert second.url in str(found[0].tags)
    finally:
        await alice.close()


async def test_missing_relay_lists_are_repaired(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    first = relay_factory()
    alice = await make_client(tmp_path, first.url, "alice", live=False)
    fresh = relay_factory()
    try:
        # Point the account at a relay that has never seen its lists: repair publishes them.
        await alice.session.relays.set_relays([fresh.url])
        await alice.session.flush(10)
        lists = await alice.session.relays.lists_of(alice.pubkey, refresh=True)
        assert lists[RelayListKind.INBOX] == (fresh.url,)
        assert await alice.session.relays.repair() == 0
    finally:
        await alice.close()


async def test_contacts_follow_list_keeps_entries_we_never_showed(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        # Another client of Alice's published a follow list with a tag Burrow ignores.
        other = "ab" * 32
        from nostr.event import UnsignedEvent

        foreign = UnsignedEvent(
            alice.pubkey, 1000, Kind.FOLLOW_LIST, (("p", other), ("t", "nostr")), "{}"
        )
        await alice.session.pool.publish(await alice.session.ctx.sign(foreign))
        contact = await alice.session.contacts.add(bob.npub, "Bobby")
        assert contact.name == "Bobby" and contact.pubkey == bob.pubkey
        await alice.session.flush(10)
        found = await alice.session.relays.fetch(
            [Filter(authors=[alice.pubkey], kinds=[Kind.FOLLOW_LIST])], [relay.url]
        )
        newest = max(found, key=lambda e: e.created_at)
        assert [c.public_key for c in parse_follow_list(newest)] == [other, bob.pubkey]
        assert ("t", "nostr") in newest.tags and newest.content == "{}"
        listed = {c.pubkey for c in await alice.session.contacts.list_contacts()}
        assert listed == {other, bob.pubkey}
        assert alice.of(ContactUpdated)
        profile = await alice.session.contacts.profile(bob.pubkey)
        assert profile.name == "bob"
    finally:
        await alice.close()
        await bob.close()


async def test_key_packages_of_another_account_are_found(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        found = await alice.session.key_packages.for_invitee(bob.pubkey)
        assert len(found) == 1
        assert found[0].d_tag == await bob.session.key_packages.device_slot()
    finally:
        await alice.close()
        await bob.close()

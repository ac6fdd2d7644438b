"""Dual key packages (issue 16): every account publishes one key package per Marmot
profile (A as a slotted 443, B as its only 30443) and keeps both up, and a new group's
profile follows the invitees' key packages. Real sessions, real SQLCipher files, real
relay processes on 127.0.0.1; every event is read back by filter and parsed by its own
profile's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import FixedClock, InvalidInput, Services
from app.key_packages import QUIET_PERIOD, bundle_of, record_profile
from app.outbox import MAX_AGE as OUTBOX_MAX_AGE
from app.profile_choice import invitee_key_packages
from marmot.errors import InvalidKeyPackageEvent
from marmot.key_package_event import parse_key_package_event
from marmot.profile_b.errors import InvalidKeyPackage
from marmot.profile_b.key_package_event import parse_key_package_event_b, select_key_packages_b
from marmot.profiles import Profile, key_package_profile
from nostr.event import Event
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.kinds import Kind
from storage import Connection
from storage.repos import key_packages as kp_repo
from storage.rows import KeyPackageRecord, RelayListKind
from tests.helpers.app_clients import PASSPHRASE, Client, config_for, eventually, join, make_client
from tests.helpers.bunker import BunkerFactory
from tests.helpers.relay import RelayFactory, RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio, pytest.mark.darkmatter]


async def _on_relay(client: Client, author: str, url: str) -> list[Event]:
    kinds = [Kind.MLS_KEY_PACKAGE, Kind.MLS_KEY_PACKAGE_LEGACY]
    return await client.session.relays.fetch([Filter(authors=[author], kinds=kinds)], [url])


async def _by_profile(client: Client, url: str) -> dict[Profile | None, list[Event]]:
    out: dict[Profile | None, list[Event]] = {}
    for event in await _on_relay(client, client.pubkey, url):
        out.setdefault(key_package_profile(event), []).append(event)
    return out


async def _records(client: Client) -> list[KeyPackageRecord]:
    return await client.session.account.db.run(kp_repo.all_records)


async def _live(client: Client, slot: str) -> list[KeyPackageRecord]:
    return await client.session.account.db.run(kp_repo.live, slot)


async def test_a_new_account_publishes_a_key_package_of_each_profile(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        kps = alice.session.key_packages
        slot_a, slot_b = await kps.device_slot(), await kps.device_slot_b()
        assert slot_a != slot_b and len(slot_b) == 64
        now = alice.session.ctx.now()
        found = await _by_profile(alice, relay.url)
        assert set(found) == {Profile.A, Profile.B}
        [event_a], [event_b] = found[Profile.A], found[Profile.B]
        parsed_a = parse_key_package_event(event_a, now=now)
        parsed_b = parse_key_package_event_b(event_b, now=now)
        assert (parsed_a.d_tag, parsed_b.d_tag) == (slot_a, slot_b)
        # A as a slotted 443, B the only 30443: what both White Noise generations read.
        assert (event_a.kind, event_b.kind) == (Kind.MLS_KEY_PACKAGE_LEGACY, Kind.MLS_KEY_PACKAGE)
        with pytest.raises(InvalidKeyPackageEvent):  # each parser refuses the other's
            parse_key_package_event(event_b, now=now)
        with pytest.raises(InvalidKeyPackage):
            parse_key_package_event_b(event_a, now=now)
        # Stored before publishing, marked published by the relay's OK, one per slot.
        records = {r.d_slot: r for r in await _records(alice)}
        assert set(records) == {slot_a, slot_b}
        rec_a, rec_b = records[slot_a], records[slot_b]
        assert (record_profile(rec_a), record_profile(rec_b)) == (Profile.A, Profile.B)
        assert (rec_a.event_id, rec_b.event_id) == (event_a.id, event_b.id)
        assert rec_a.is_live and rec_b.is_live
        # A Profile B Welcome finds its bundle by the KeyPackageRef, as Profile A's does.
        stored = await alice.session.account.db.run(kp_repo.by_ref, parsed_b.ref)
        assert stored is not None
        bundle = bundle_of(stored)
        assert bundle.key_package == parsed_b.key_package and bundle.ref == parsed_b.ref
        suite_pub = bundle.key_package.leaf_node.signature_key
        assert len(bundle.private.signature_priv) == 32 and len(suite_pub) == 32
    finally:
        await alice.close()


async def test_profile_b_goes_to_the_nip65_relays_as_well_as_the_10051_ones(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    home, keys = relay_factory(), relay_factory()
    alice = await make_client(tmp_path, home.url, "alice", live=False)
    try:
        relays = alice.session.relays
        await relays.set_relays([keys.url], RelayListKind.KEY_PACKAGES)
        assert alice.session.key_packages.profile_b_relays == (home.url, keys.url)
        await alice.session.key_packages.publish()
        await alice.session.key_packages.publish_b()
        await alice.session.flush(10)
        on_home, on_keys = await _by_profile(alice, home.url), await _by_profile(alice, keys.url)
        assert len(on_keys[Profile.A]) == 1 and len(on_keys[Profile.B]) == 1
        # Home had both from onboarding (all lists were home); the new A went only to keys.
        [newest_a] = on_keys[Profile.A]
        assert newest_a.id not in {e.id for e in on_home[Profile.A]}
        [b_home], [b_keys] = on_home[Profile.B], on_keys[Profile.B]
        assert b_home.id == b_keys.id  # the same event, replaced in place on both
    finally:
        await alice.close()


def _published_days_ago(conn: Connection, days: int) -> None:
    """As if every key package went out ``days`` ago (the outbox stamps with its own clock)."""
    conn.execute("UPDATE key_packages SET published_at = published_at - ?", (days * 86_400,))


async def test_rotation_keeps_both_slots_live(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        kps = alice.session.key_packages
        slots = (await kps.device_slot(), await kps.device_slot_b())
        old = {s: [r.ref for r in await _live(alice, s)] for s in slots}
        assert all(len(refs) == 1 for refs in old.values())
        await alice.session.account.db.run(_published_days_ago, 31)
        await kps.upkeep()
        await alice.session.flush(10)
        for slot in slots:
            [fresh] = await _live(alice, slot)
            assert fresh.ref not in old[slot]
            gone = await alice.session.account.db.run(kp_repo.by_ref, old[slot][0])
            assert gone is not None and gone.relay_deleted_at is not None
        # On the relay: exactly the fresh one in each slot, each valid for its profile.
        now = alice.session.ctx.now()
        found = await _by_profile(alice, relay.url)
        [a] = found[Profile.A]
        assert parse_key_package_event(a, now=now).d_tag == slots[0]
        [b] = select_key_packages_b(found[Profile.B], now=now)
        assert (b.d_tag, b.ref) == (slots[1], (await _live(alice, slots[1]))[0].ref)
        assert len(found[Profile.B]) == 1
        await kps.upkeep()  # nothing due: no third package
        assert len(await _records(alice)) == 4
    finally:
        await alice.close()


async def test_a_used_profile_b_key_package_is_replaced_then_forgotten(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """What the Profile B join does after a 444 Welcome (dmapp): replace the used one in
    its slot, mark it consumed; upkeep forgets its keys after the quiet period."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        kps = alice.session.key_packages
        slot_b = await kps.device_slot_b()
        [used] = await _live(alice, slot_b)
        await kps.replace_consumed(used)
        db = alice.session.account.db
        await db.run(kp_repo.mark_consumed, used.ref, now=alice.session.ctx.now())
        await alice.session.flush(10)
        [fresh] = await _live(alice, slot_b)
        assert fresh.ref != used.ref and record_profile(fresh) is Profile.B
        record = await eventually(
            lambda: db.run(kp_repo.by_ref, used.ref),
            lambda r: r is not None and r.relay_deleted_at is not None,
        )
        assert record is not None and record.private_material is not None
        [b] = (await _by_profile(alice, relay.url))[Profile.B]
        assert b.id == fresh.event_id
        assert len((await _by_profile(alice, relay.url))[Profile.A]) == 1  # A untouched
        alice.session.ctx.clock = FixedClock(alice.session.ctx.now() + QUIET_PERIOD + 1)
        await kps.upkeep()
        record = await db.run(kp_repo.by_ref, used.ref)
        assert record is not None and record.private_material is None
        assert [r.ref for r in await _live(alice, slot_b)] == [fresh.ref]
    finally:
        await alice.close()


async def test_the_invitees_key_packages_choose_the_profile(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Bob publishes both: Profile A is chosen (it carries every device of both). Once
    only his Profile B key package is left (as for today's White Noise apps), Profile B
    is, and his Profile B group works."""
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        ctx, kps = alice.session.ctx, alice.session.key_packages
        chosen = await invitee_key_packages(ctx, [bob.pubkey], None, key_packages=kps)
        assert chosen.profile == "mip" and [p.author.hex for p in chosen.a_packages] == [bob.pubkey]
        assert await alice.session.groups.profile_for([bob.npub]) == "mip"  # the window's hint
        forced = await invitee_key_packages(ctx, [bob.pubkey], "darkmatter", key_packages=kps)
        [bob_b] = (await _by_profile(bob, relay.url))[Profile.B]
        assert forced.profile == "darkmatter" and forced.events == (bob_b,)

        # Bob's Profile A package leaves the relays (NIP-09), as if he never had one.
        slot_a = await bob.session.key_packages.device_slot()
        await bob.session.key_packages.delete_from_relays(await _live(bob, slot_a))
        await bob.session.flush(10)
        assert Profile.A not in await _by_profile(bob, relay.url)
        chosen = await invitee_key_packages(ctx, [bob.pubkey], None, key_packages=kps)
        assert chosen.profile == "darkmatter" and chosen.events == (bob_b,)
        assert await alice.session.groups.profile_for([bob.npub]) == "darkmatter"
        with pytest.raises(InvalidInput, match=r"cannot join a Marmot v1"):
            await invitee_key_packages(ctx, [bob.pubkey], "mip", key_packages=kps)

        group = await alice.session.groups.create("Only B", [bob.npub])
        assert group.profile == "darkmatter"
        joined = await join(bob, group)
        assert joined.id == group.id and len(joined.members) == 2
        await alice.session.messages.send(group.id, "now Marmot v2")
        await eventually(
            lambda: bob.session.messages.list_messages(group.id),
            lambda ms: [m.content for m in ms] == ["now Marmot v2"],
        )
    finally:
        await alice.close()
        await bob.close()


async def test_a_bunker_accounts_profile_b_proof_is_signed_remotely_and_waits_for_it(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    """The 0x8009 proof needs the account's signature before the KeyPackage exists: with
    the bunker away, Profile B upkeep waits (nothing stored) and Profile A goes on."""
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    services = Services(config_for(tmp_path / "alice", relay.url))
    session = await services.import_account(bunker.uri, PASSPHRASE, "alice")
    alice = Client("alice", services, session)
    await session.start(live=False)
    await session.flush(10)
    try:
        kps, db = session.key_packages, session.account.db
        slot_a, slot_b = await kps.device_slot(), await kps.device_slot_b()
        [b] = (await _by_profile(alice, relay.url))[Profile.B]
        parsed = parse_key_package_event_b(b, now=session.ctx.now())  # proof included
        assert parsed.key_package.leaf_node.credential.identity == user.public_key().data
        [old_a], [old_b] = await _live(alice, slot_a), await _live(alice, slot_b)

        bunker.stop()
        await db.run(_published_days_ago, 31)
        await kps.upkeep()  # no error: Profile B waits for the signer
        by_slot = [r.d_slot for r in await _records(alice)]
        assert by_slot.count(slot_a) == 2 and by_slot.count(slot_b) == 1
        bunker.start()
        await kps.upkeep()
        await session.flush(10)
        # The outbox signs what waited (the new A, then the deletion of the old one).
        [new_a] = await eventually(lambda: _live(alice, slot_a), lambda r: len(r) == 1, 40)
        [new_b] = await _live(alice, slot_b)
        assert {new_a.ref, new_b.ref}.isdisjoint({old_a.ref, old_b.ref})
        [b] = (await _by_profile(alice, relay.url))[Profile.B]
        assert parse_key_package_event_b(b, now=session.ctx.now()).ref == new_b.ref
    finally:
        await services.close()


async def test_a_package_the_outbox_gave_up_on_does_not_block_its_slot(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Stored but never queued (a crash in between) or given up by the outbox: older than
    the outbox's week it no longer counts as on its way, and the slot gets a fresh one."""
    alice = await make_client(tmp_path, relay.url, "alice", start=False)
    try:
        kps, db = alice.session.key_packages, alice.session.account.db
        slot_a, slot_b = await kps.device_slot(), await kps.device_slot_b()
        week_ago = alice.session.ctx.now() - OUTBOX_MAX_AGE - 60
        await db.run(kp_repo.add, b"\x01" * 32, slot_a, b"kp", b"\x01", now=week_ago)
        await db.run(kp_repo.add, b"\x02" * 32, slot_b, b"kp", b"\x01", now=week_ago - 120)
        await alice.session.start(live=False)
        await alice.session.flush(10)
        assert len(await _live(alice, slot_a)) == 1 and len(await _live(alice, slot_b)) == 1
        assert set(await _by_profile(alice, relay.url)) == {Profile.A, Profile.B}
    finally:
        await alice.close()

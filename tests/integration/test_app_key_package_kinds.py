"""Which kind each profile's key package goes out as, read back the way both White Noise
generations look for an invitee's key package (real session, real relay on 127.0.0.1):

* today's White Noise (MDK master) takes every 30443 of the invitee and parses each as a
  Profile B KeyPackage: one that fails fails the whole lookup; 443 is not looked at;
* the older line (whitenoise-rs on MDK 0.8) fetches 30443 and 443, keeps the events that
  pass its baseline (an ``encoding`` tag, suite 0x0001, extension 0xf2ee) and takes the
  newest 30443, else the newest 443.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.key_packages import A_KIND_SETTING, PURPOSE, encode_private, select_key_packages
from marmot.key_package_event import (
    create_marmot_key_package,
    key_package_event_data,
    parse_key_package_event,
)
from marmot.profile_b.errors import InvalidKeyPackage
from marmot.profile_b.key_package_event import parse_key_package_event_b
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from storage.repos import accounts as accounts_repo
from storage.repos import key_packages as kp_repo
from tests.helpers.app_clients import Client, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio, pytest.mark.darkmatter]


async def _events(client: Client, url: str, kinds: list[Kind]) -> list[Event]:
    flt = Filter(authors=[client.pubkey], kinds=kinds)
    return await client.session.relays.fetch([flt], [url])


def current_white_noise_lookup(events: list[Event], *, now: int) -> Event:
    """MDK master's directory lookup: every 30443 must parse as Profile B; the last wins."""
    found = [e for e in events if e.kind == Kind.MLS_KEY_PACKAGE]
    for event in found:
        parse_key_package_event_b(event, now=now)  # raises: the invitee cannot be added
    if not found:
        raise LookupError("no 30443")
    return max(found, key=lambda e: (e.created_at, e.id))


def _values(event: Event, name: str) -> set[str]:
    return {
        part.lower()
        for tag in event.tags
        if tag[:1] == (name,)
        for value in tag[1:]
        for part in value.replace(",", " ").split()
    }


def _baseline(event: Event) -> bool:
    encoded = any(t[:1] == ("encoding",) and t[1:2] == ("base64",) for t in event.tags)
    suite = "0x0001" in _values(event, "mls_ciphersuite")
    return encoded and suite and "0xf2ee" in _values(event, "mls_extensions")


def older_white_noise_lookup(events: list[Event]) -> Event | None:
    """whitenoise-rs: baseline-valid events only; the newest 30443, else the newest 443."""
    valid = [e for e in events if _baseline(e)]
    for kind in (Kind.MLS_KEY_PACKAGE, Kind.MLS_KEY_PACKAGE_LEGACY):
        of_kind = [e for e in valid if e.kind == kind]
        if of_kind:
            return max(of_kind, key=lambda e: (e.created_at, e.id))
    return None


BOTH = [Kind.MLS_KEY_PACKAGE, Kind.MLS_KEY_PACKAGE_LEGACY]


async def test_both_white_noise_generations_find_a_fresh_burrow_account(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        now = alice.session.ctx.now()
        kps = alice.session.key_packages
        current = await _events(alice, relay.url, [Kind.MLS_KEY_PACKAGE])
        assert len(current) == 1  # Profile B is our only 30443
        found_b = current_white_noise_lookup(current, now=now)
        assert parse_key_package_event_b(found_b, now=now).d_tag == await kps.device_slot_b()
        older = older_white_noise_lookup(await _events(alice, relay.url, BOTH))
        assert older is not None and older.kind == Kind.MLS_KEY_PACKAGE_LEGACY
        parsed = parse_key_package_event(older, now=now)
        assert parsed.d_tag == await kps.device_slot()  # the slot rides along on the 443
        # And Burrow finds its own device by that slot.
        mine = await kps.fetch_published(alice.pubkey)
        assert [kp.event_id for kp in mine] == [older.id]
    finally:
        await alice.close()


async def test_an_older_burrows_profile_a_30443_is_replaced_by_a_443(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """An account whose Profile A went out as 30443 (Burrow before this change) cannot be
    invited from today's White Noise; the next upkeep moves it to 443, once."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        ctx, kps, db = alice.session.ctx, alice.session.key_packages, alice.session.account.db
        slot = await kps.device_slot()
        [ours] = await db.run(kp_repo.live, slot)
        await kps.delete_from_relays([ours])
        # What an older Burrow published: Profile A as an addressable 30443 in our slot.
        bundle = create_marmot_key_package(ctx.public_key, now=ctx.now(), rng=ctx.rng)
        relays = alice.session.relays.key_package_relays
        data = key_package_event_data(bundle.key_package, relays=relays, d_tag=slot)
        kp = bundle.key_package.to_bytes()
        await db.run(kp_repo.add, data.ref, slot, kp, encode_private(bundle.private), now=ctx.now())
        old = await ctx.prepare(data.unsigned(ctx.pubkey, ctx.now() + 1))
        await ctx.enqueue(old, relays, PURPOSE)
        await db.run(accounts_repo.set_setting, A_KIND_SETTING, None)
        await alice.session.flush(10)
        before = await _events(alice, relay.url, [Kind.MLS_KEY_PACKAGE])
        assert old.id in {e.id for e in before}
        with pytest.raises(InvalidKeyPackage):
            current_white_noise_lookup(before, now=ctx.now())

        await kps.upkeep()
        await alice.session.flush(10)
        after = await _events(alice, relay.url, BOTH)
        current_white_noise_lookup(after, now=ctx.now())  # every 30443 is Profile B again
        [a] = [e for e in after if e.kind == Kind.MLS_KEY_PACKAGE_LEGACY]
        assert parse_key_package_event(a, now=ctx.now()).d_tag == slot
        gone = await db.run(kp_repo.by_ref, data.ref)
        assert gone is not None and gone.relay_deleted_at is not None
        await kps.upkeep()  # nothing more to move: the 443 stays the live one
        await alice.session.flush(10)
        assert [r.event_id for r in await db.run(kp_repo.live, slot)] == [a.id]
    finally:
        await alice.close()


async def test_a_newer_443_of_a_slot_hides_the_older_one_still_on_a_relay(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """443 is never replaced: until the deletion lands, both are up; readers offer the
    newest per slot only."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        kps = alice.session.key_packages
        await kps.publish()  # a second 443 in the same slot, no deletion of the first
        await alice.session.flush(10)
        on_relay = await _events(alice, relay.url, [Kind.MLS_KEY_PACKAGE_LEGACY])
        assert len(on_relay) == 2
        newest = max(on_relay, key=lambda e: e.created_at)
        chosen = select_key_packages(on_relay, now=alice.session.ctx.now())
        assert [kp.event_id for kp in chosen] == [newest.id]
        assert [kp.event_id for kp in await kps.fetch_published(alice.pubkey)] == [newest.id]
    finally:
        await alice.close()

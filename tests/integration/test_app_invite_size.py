"""Issue 19: a Welcome carries the whole ratchet tree, so a large group's invitation can
outgrow what a relay takes. Burrow says so before changing anything, instead of a Welcome
no relay accepts (the invitee would be in the tree and never get in)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app import InviteTooLarge, Services
from marmot.key_package_event import key_package_event_data
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from nostr.relay import PublishOutcome
from storage.repos import outbox as outbox_repo
from tests.helpers.app_clients import PASSPHRASE, Client, config_for, make_client
from tests.helpers.bunker import BunkerFactory
from tests.helpers.marmot_factories import key_package
from tests.helpers.nostr_factories import CountingRng, secret
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

FITS = 80
"""Invitees whose group's Welcome still fits in 64 KiB (bench/invite_limit_bench.py: a
group of 94 is the largest)."""
MORE = 20


def _key_package_events(labels: list[str], relay: str) -> list[Event]:
    now = int(time.time())
    events = []
    for label in labels:
        key = secret(label)
        data = key_package_event_data(
            key_package(label, now=now).key_package, relays=[relay], rng=CountingRng(label)
        )
        events.append(data.unsigned(key.public_key(), now).sign(key, rng=CountingRng(label)))
    return events


async def _publish(client: Client, events: list[Event], relay: str) -> None:
    pool = client.session.ctx.pool
    await asyncio.gather(*(pool.publish(e, relays=[relay], timeout=10) for e in events))


def _npubs(labels: list[str]) -> list[str]:
    return [secret(label).public_key().to_bech32() for label in labels]


async def _own_events(client: Client) -> int:
    return len(await client.session.ctx.db.run(outbox_repo.pending))


async def test_an_invitation_that_no_relay_would_take_is_refused_before_anything_changes(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        labels = [f"member{i}" for i in range(FITS + MORE)]
        await _publish(alice, _key_package_events(labels, relay.url), relay.url)

        with pytest.raises(InviteTooLarge) as refused:
            await alice.session.groups.create("Too big", _npubs(labels), profile="mip")
        size = refused.value.size  # None: beyond what NIP-44 encrypts at all
        assert size is None or size > alice.services.config.max_event_size
        assert "too many members" in str(refused.value)
        assert await alice.session.groups.list_groups() == []
        assert await _own_events(alice) == 0

        group = await alice.session.groups.create("Big", _npubs(labels[: FITS - 3]), profile="mip")
        await alice.session.groups.add_members(group.id, _npubs(labels[FITS - 3 : FITS]))
        await alice.session.flush(30)  # every Welcome taken by the relay (64 KiB cap)
        assert await _own_events(alice) == 0
        before = await alice.session.groups.info(group.id)
        with pytest.raises(InviteTooLarge):
            await alice.session.groups.add_members(group.id, _npubs(labels[FITS:]))
        after = await alice.session.groups.info(group.id)
        assert (after.epoch, len(after.members)) == (before.epoch, FITS + 1)
        assert await _own_events(alice) == 0
    finally:
        await alice.close()


async def test_the_default_limit_is_what_the_relay_takes(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """An event of exactly ``max_event_size`` bytes of JSON is taken, one byte more is not
    (rust-nostr's LocalRelay, which is also the embedded relay)."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        limit = alice.services.config.max_event_size
        key = secret("sizer")

        def sized(length: int) -> Event:
            empty = UnsignedEvent.create(key.public_key(), int(time.time()), 1, "", [])
            pad = length - len(empty.sign(key).to_json().encode())
            return UnsignedEvent.create(key.public_key(), empty.created_at, 1, "x" * pad, [])

        pool = alice.session.ctx.pool
        at_limit, over = sized(limit).sign(key), sized(limit + 1).sign(key)
        assert len(at_limit.to_json().encode()) == limit
        assert (await pool.publish(at_limit, relays=[relay.url])).accepted == (relay.url,)
        refused = (await pool.publish(over, relays=[relay.url])).responses[relay.url]
        assert refused.outcome is PublishOutcome.REJECTED and "size" in refused.message
    finally:
        await alice.close()


async def test_a_remote_signers_invitation_is_measured_before_the_signer_seals_it(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    """A bunker account's Welcomes wait unsealed in the outbox; their size is checked on a
    stand-in wrap of the same size, so a too-large one is refused at once here too."""
    bunker = bunker_factory(relay.url, SecretKey.generate())
    services = Services(config_for(tmp_path / "alice", relay.url))
    alice = Client("alice", services, await services.import_account(bunker.uri, PASSPHRASE))
    try:
        await alice.session.start(live=False)
        assert alice.session.ctx.deferred_signing
        labels = [f"member{i}" for i in range(FITS + MORE)]
        await _publish(alice, _key_package_events(labels, relay.url), relay.url)
        with pytest.raises(InviteTooLarge):
            await alice.session.groups.create("Too big", _npubs(labels), profile="mip")
        assert await alice.session.groups.list_groups() == []
        group = await alice.session.groups.create("Fits", _npubs(labels[:FITS]), profile="mip")
        assert len((await alice.session.groups.info(group.id)).members) == FITS + 1
    finally:
        await alice.close()

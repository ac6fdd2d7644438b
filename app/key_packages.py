"""Key packages (MIP-00) and their upkeep (marmot.md section 2.4).

Each install of an identity is a device with its own slot (a ``d`` tag), chosen once and
kept in the account's settings. Upkeep:

* publish one when this device has none live;
* rotate after 30 days: a new one into the same slot first, then a NIP-09 deletion of
  the old event, so the account is never un-invitable;
* after a Welcome consumed one: publish a fresh one, then delete the used one;
* delete consumed private material after a quiet period (more Welcomes for the same
  last-resort package may still be on their way).

Both Marmot generations are kept up, each in its own slot: Profile A (MIP-00, bare
KeyPackage, on our 10051 relays) and Profile B (Dark Matter: MLSMessage-framed, its
proof signed by the account, on our NIP-65 relays, which is where Profile B clients look,
and on our 10051 relays too). A Profile B record lives in the same table with its own
``d`` slot; `record_profile` tells the two apart, and `bundle_of` serves both (a Welcome
finds its bundle by ``storage.repos.key_packages.by_ref`` or ``by_event_id``).

Profile A goes out as kind 443 (with its ``d`` slot), Profile B as the only 30443:
today's White Noise (MDK master) parses every 30443 of an invitee as Profile B and fails
the whole lookup on one it cannot, and ignores 443; the older line (whitenoise-rs, MDK
0.8) skips a 30443 without an ``encoding`` tag (ours of Profile B) and falls back to the
newest 443. 443 is a regular event: nothing replaces it, so every rotation deletes the
old one, and readers take the newest per slot. An account set up by an older Burrow,
whose Profile A went out as 30443, has it replaced by a 443 on the first upkeep.

The private keys are stored before anything is published, and every event goes through
the outbox, so a crash at any point leaves a state the next upkeep completes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from app.context import Context
from app.errors import InvalidInput, NoKeyPackage
from app.models import KeyPackageInfo
from app.outbox import MAX_AGE as OUTBOX_MAX_AGE
from app.outbox import Attempt
from app.relays import Relays
from marmot.errors import InvalidKeyPackageEvent, MarmotError
from marmot.key_package_event import (
    CLIENT,
    MarmotKeyPackage,
    create_marmot_key_package,
    key_package_event_data,
    parse_key_package_event,
)
from marmot.profile_b.key_package_event import key_package_event
from marmot.profile_b.signed_key_package import begin_key_package_b, finish_key_package_b
from marmot.profiles import Profile
from mls.key_package import KeyPackageBundle, KeyPackagePrivate
from mls.messages import ExtensionType, KeyPackage
from nostr.errors import NostrError
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.nip09 import deletion_event
from storage import Connection
from storage.repos import accounts as accounts_repo
from storage.repos import key_packages as kp_repo
from storage.rows import KeyPackageRecord, OutboxEntry, RelayListKind

log = logging.getLogger(__name__)

DEVICE_SETTING = "device_slot"
DEVICE_SETTING_B = "device_slot_b"
"""This install's Profile B slot: a second ``d``, so neither generation replaces the other."""
LAST_CREATED_SETTING = "key_package_created_at"
A_KIND_SETTING = "key_package_a_kind"
"""The kind our Profile A packages go out as (443); absent: an older Burrow's 30443."""
ROTATE_AFTER = 30 * 24 * 3600
QUIET_PERIOD = 30
ROTATED_GRACE = 7 * 24 * 3600
"""Private keys of a rotated package stay this long: a Welcome may still be in flight."""
PURPOSE = "key_package"
DELETE_PURPOSE = "key_package_deletion"
_FORMAT = 1


def encode_private(private: KeyPackagePrivate) -> bytes:
    parts = (private.init_priv, private.encryption_priv, private.signature_priv)
    return bytes([_FORMAT]) + b"".join(bytes([len(p)]) + p for p in parts)


def decode_private(blob: bytes) -> KeyPackagePrivate:
    if not blob or blob[0] != _FORMAT:
        raise ValueError("unknown key-package private material format")
    parts, pos = [], 1
    for _ in range(3):
        size = blob[pos]
        parts.append(blob[pos + 1 : pos + 1 + size])
        pos += 1 + size
    return KeyPackagePrivate(parts[0], parts[1], parts[2])


def bundle_of(record: KeyPackageRecord) -> KeyPackageBundle:
    """The full bundle of one of our stored packages (its private material must remain)."""
    if record.private_material is None:
        raise InvalidInput("the private keys of this key package were deleted")
    kp = KeyPackage.from_bytes(record.key_package)
    return KeyPackageBundle(kp, decode_private(record.private_material), record.ref)


def record_profile(record: KeyPackageRecord) -> Profile:
    """Which generation one of our stored packages is for: only a Profile B leaf
    advertises the app_data_dictionary extension (it carries the 0x8009 proof)."""
    leaf = KeyPackage.from_bytes(record.key_package).leaf_node
    if ExtensionType.APP_DATA_DICTIONARY in leaf.capabilities.extensions:
        return Profile.B
    return Profile.A


class KeyPackages:
    def __init__(self, ctx: Context, relays: Relays) -> None:
        self._ctx = ctx
        self._relays = relays
        self._slots: dict[str, str] = {}
        ctx.outbox.register(PURPOSE, _PublishHook())
        ctx.outbox.register(DELETE_PURPOSE, _DeleteHook())

    async def device_slot(self) -> str:
        """This install's Profile A ``d`` slot (created once, kept in the account settings)."""
        return await self._slot(DEVICE_SETTING)

    async def device_slot_b(self) -> str:
        """This install's Profile B ``d`` slot."""
        return await self._slot(DEVICE_SETTING_B)

    async def _slot(self, setting: str) -> str:
        if setting not in self._slots:
            ctx = self._ctx
            slot = await ctx.db.run(accounts_repo.get_setting, setting)
            if not isinstance(slot, str):
                slot = ctx.rng(32).hex()
                await ctx.db.run(accounts_repo.set_setting, setting, slot)
            self._slots[setting] = slot
        return self._slots[setting]

    @property
    def profile_b_relays(self) -> tuple[str, ...]:
        """Where our Profile B packages go: the NIP-65 relays Profile B clients read them
        from (MDK retired 10051), then our 10051 relays, where Burrow looks first."""
        relays = self._relays
        nip65 = relays.of_kind(RelayListKind.NIP65)
        return tuple(dict.fromkeys((*nip65, *relays.key_package_relays)))

    async def publish(self) -> tuple[KeyPackageInfo, int]:
        """Create, store and queue a new key package in our slot; returns it and its entry."""
        ctx = self._ctx
        slot = await self.device_slot()
        now = ctx.now()
        bundle = create_marmot_key_package(ctx.public_key, now=now, rng=ctx.rng)
        relays = self._relays.key_package_relays
        data = key_package_event_data(bundle.key_package, relays=relays, d_tag=slot, rng=ctx.rng)
        record = await ctx.db.run(
            kp_repo.add,
            data.ref,
            slot,
            bundle.key_package.to_bytes(),
            encode_private(bundle.private),
            now=now,
        )
        stamp = await self._created_at()
        event = await ctx.prepare(data.unsigned(ctx.pubkey, stamp, legacy=True, slotted=True))
        entry_id = await ctx.enqueue(event, relays, PURPOSE)
        await ctx.db.run(accounts_repo.set_setting, A_KIND_SETTING, int(event.kind))
        return _info(record, event.id), entry_id

    async def publish_b(self) -> tuple[KeyPackageInfo, int]:
        """The same for Profile B. Its leaf carries the account's proof, so the signer
        is asked now, even a remote one (`SignerUnavailable` then: nothing is stored)."""
        ctx = self._ctx
        slot = await self.device_slot_b()
        now = ctx.now()
        draft = begin_key_package_b(ctx.public_key, now=now, rng=ctx.rng)
        signed = await ctx.sign(draft.proof_event)
        bundle = finish_key_package_b(draft, signed.sig, rng=ctx.rng)
        kp = bundle.key_package
        record = await ctx.db.run(
            kp_repo.add, bundle.ref, slot, kp.to_bytes(), encode_private(bundle.private), now=now
        )
        unsigned = key_package_event(
            kp, ctx.public_key, created_at=await self._created_at(), d_tag=slot
        )
        event = await ctx.prepare(unsigned)
        entry_id = await ctx.enqueue(event, self.profile_b_relays, PURPOSE)
        return _info(record, event.id), entry_id

    async def _created_at(self) -> int:
        # Strictly newer than the last one: relays keep an addressable 30443 (or refuse a
        # new one) of an equal stamp, and readers take the newest 443 of a slot.
        ctx = self._ctx
        last = await ctx.db.run(accounts_repo.get_setting, LAST_CREATED_SETTING, 0)
        stamp = max(ctx.now(), (last if isinstance(last, int) else 0) + 1)
        await ctx.db.run(accounts_repo.set_setting, LAST_CREATED_SETTING, stamp)
        return stamp

    async def delete_from_relays(
        self, records: Sequence[KeyPackageRecord], *, after_id: int | None = None
    ) -> int | None:
        """Queue a NIP-09 deletion of published packages (``e`` tags: never the new one
        sharing the slot); returns the entry id."""
        ids = [r.event_id for r in records if r.event_id and r.relay_deleted_at is None]
        if not ids:
            return None
        ctx = self._ctx
        # Not older than what it deletes: relays (rust-nostr's among them) keep an event
        # newer than the request, and our stamps may run ahead of the clock (`_created_at`).
        last = await ctx.db.run(accounts_repo.get_setting, LAST_CREATED_SETTING, 0)
        stamp = max(ctx.now(), last if isinstance(last, int) else 0)
        unsigned = deletion_event(
            ctx.pubkey, created_at=stamp, event_ids=ids, kinds=_kinds(records)
        )
        relays = (
            tuple(dict.fromkeys(u for r in records for u in r.relays))
            or self._relays.key_package_relays
        )
        return await ctx.enqueue(
            await ctx.prepare(unsigned), relays, DELETE_PURPOSE, after_id=after_id
        )

    async def replace_consumed(self, record: KeyPackageRecord) -> None:
        """A Welcome used ``record`` (as it was before being marked consumed, in the same
        transaction that stored the invite): a fresh one first, then delete the used one."""
        if record.consumed_at is not None:
            return
        if record.d_slot == await self.device_slot():
            _, entry_id = await self.publish()
        elif record.d_slot == await self.device_slot_b():
            try:
                _, entry_id = await self.publish_b()
            except (NostrError, MarmotError) as exc:
                # The used one stays up until then: it is last-resort, still joinable.
                log.info("replacing the used Profile B key package waits: %s", exc)
                return
        else:
            return
        await self.delete_from_relays([record], after_id=entry_id)

    async def upkeep(self) -> None:
        """For each profile's slot: publish when none is live, rotate old ones; then
        forget consumed private keys. Profile B waits when the signer does not answer
        (its proof needs a signature now); Profile A never does.

        Profile A's slot first moves off kind 30443 when an older Burrow put it there."""
        try:
            await self._keep_slot(await self.device_slot_b(), self.publish_b)
        except (NostrError, MarmotError) as exc:
            log.info("Profile B key package upkeep waits for the next round: %s", exc)
        if not await self._moved_to_443():
            await self._keep_slot(await self.device_slot(), self.publish)
        await self._ctx.db.transact(_forget_material, self._ctx.now())

    async def _moved_to_443(self) -> bool:
        """Republish Profile A as 443 and delete its 30443s, once; True when it did."""
        ctx = self._ctx
        kind = await ctx.db.run(accounts_repo.get_setting, A_KIND_SETTING)
        if kind == Kind.MLS_KEY_PACKAGE_LEGACY:
            return False
        slot = await self.device_slot()
        old = [r for r in await ctx.db.run(kp_repo.live, slot) if r.event_id is not None]
        _, entry_id = await self.publish()
        await self.delete_from_relays(old, after_id=entry_id)
        return True

    async def _keep_slot(
        self, slot: str, publish: Callable[[], Awaitable[tuple[KeyPackageInfo, int]]]
    ) -> None:
        ctx = self._ctx
        now = ctx.now()
        live = await ctx.db.run(kp_repo.live, slot)
        # Still on its way out; one older than the outbox keeps trying was given up.
        pending = [
            r
            for r in await ctx.db.run(kp_repo.unpublished)
            if r.d_slot == slot and r.created_at > now - OUTBOX_MAX_AGE
        ]
        old = await ctx.db.run(kp_repo.due_for_rotation, older_than=now - ROTATE_AFTER)
        old = [r for r in old if r.d_slot == slot]
        # A package still waiting in the outbox (a remote signer away) is the rotation
        # already under way: another one would pile up behind it.
        if not pending and (not live or (old and len(old) == len(live))):
            _, entry_id = await publish()
            if old:
                await self.delete_from_relays(old, after_id=entry_id)
        # Consumed ones still on the relays (a crash between the invite and its clean-up).
        stale = [
            r
            for r in await ctx.db.run(kp_repo.all_records)
            if r.d_slot == slot
            and r.consumed_at is not None
            and r.consumed_at < now - 600
            and r.relay_deleted_at is None
            and r.event_id is not None
        ]
        if stale:
            await self.delete_from_relays(stale)

    async def list_local(self) -> list[KeyPackageInfo]:
        records = await self._ctx.db.run(kp_repo.all_records)
        return [_info(r, r.event_id) for r in records]

    async def fetch_published(
        self, pubkey: str, *, hints: Sequence[str] = ()
    ) -> list[MarmotKeyPackage]:
        """The valid key packages of ``pubkey`` on their 10051 / 10002 / our relays: the
        newest per device slot (an unslotted 443 only when there is no slotted one)."""
        return (await self._fetch(pubkey, hints))[1]

    async def _fetch(
        self, pubkey: str, hints: Sequence[str]
    ) -> tuple[tuple[str, ...], list[MarmotKeyPackage]]:
        relays, events = await self.fetch_events(pubkey, hints=hints)
        return relays, select_key_packages(events, now=self._ctx.now())

    async def fetch_events(
        self, pubkey: str, *, hints: Sequence[str] = ()
    ) -> tuple[tuple[str, ...], list[Event]]:
        """Where we looked and every key package event of ``pubkey`` found there, of
        either profile, unchecked: their 10051, their NIP-65 (write relays first, where
        Profile B publishes), the hints, ours and the discovery relays."""
        relays = await self._relays.key_package_relays_of(pubkey, hints=hints)
        kinds = [Kind.MLS_KEY_PACKAGE, Kind.MLS_KEY_PACKAGE_LEGACY]
        events = await self._relays.fetch([Filter(authors=[pubkey], kinds=kinds)], relays)
        return relays, events

    async def for_invitee(
        self, pubkey: str, *, hints: Sequence[str] = ()
    ) -> list[MarmotKeyPackage]:
        relays, found = await self._fetch(pubkey, hints)
        if not found:
            raise NoKeyPackage(pubkey, relays)
        return found


def select_key_packages(events: Sequence[Event], *, now: int) -> list[MarmotKeyPackage]:
    """Valid packages, newest per ``d`` slot whichever the kind (Burrow's Profile A is a
    slotted 443, an older Burrow's a 30443); unslotted 443s only when no slotted one is
    valid, and then only the newest."""
    newest: dict[str, tuple[Event, MarmotKeyPackage]] = {}
    legacy: list[tuple[Event, MarmotKeyPackage]] = []
    for event in sorted(events, key=lambda e: (e.created_at, e.id)):
        try:
            parsed = parse_key_package_event(event, now=now)
        except InvalidKeyPackageEvent as exc:
            log.debug("skipping key package %s: %s", event.id, exc.reason)
            continue
        if parsed.d_tag is None:
            legacy.append((event, parsed))
        else:
            newest[parsed.d_tag] = (event, parsed)
    if newest:
        return _live_devices(newest.values())
    return [legacy[-1][1]] if legacy else []


BURROW_CLIENT = CLIENT.split("/")[0]


def _client(event: Event) -> str:
    """The publishing app's name from the ``client`` tag, without its version."""
    for tag in event.tags:
        if tag[:1] == ("client",):
            return tag[1].split("/")[0].strip().lower() if len(tag) > 1 else ""
    return ""


def _live_devices(slots: Iterable[tuple[Event, MarmotKeyPackage]]) -> list[MarmotKeyPackage]:
    """One device per slot for Burrow, which keeps its slot across rotations; for any
    other client only its newest slot: older White Noise wrote a fresh ``d`` on every
    publish and left the old ones behind, devices that would never join."""
    devices: dict[str, MarmotKeyPackage] = {}
    for event, parsed in sorted(slots, key=lambda s: (s[0].created_at, s[0].id)):
        client = _client(event)
        key = f"d:{parsed.d_tag}" if client == BURROW_CLIENT else f"client:{client}"
        devices[key] = parsed
    return list(devices.values())


def _kinds(records: Sequence[KeyPackageRecord]) -> list[Kind]:
    """The ``k`` tags of a deletion: Profile B is 30443; Profile A is 443, or 30443 when
    an older Burrow published it."""
    kinds = {Kind.MLS_KEY_PACKAGE}
    if any(record_profile(r) is Profile.A for r in records):
        kinds.add(Kind.MLS_KEY_PACKAGE_LEGACY)
    return sorted(kinds)


def _forget_material(conn: Connection, now: int) -> None:
    for record in kp_repo.consumed_with_material(conn, consumed_before=now - QUIET_PERIOD):
        kp_repo.delete_material(conn, record.ref, now=now)
    for record in kp_repo.all_records(conn):
        deleted_at = record.relay_deleted_at
        if deleted_at is None or record.consumed_at is not None or not record.private_material:
            continue
        if deleted_at < now - ROTATED_GRACE:
            kp_repo.delete_material(conn, record.ref, now=now)


def _info(record: KeyPackageRecord, event_id: str | None) -> KeyPackageInfo:
    return KeyPackageInfo(
        event_id,
        record.ref.hex(),
        record.d_slot,
        record.created_at,
        record.published_at,
        record.consumed_at,
        record.relays,
        record.is_live,
    )


def _ref_tag(entry: OutboxEntry) -> bytes | None:
    event = Event.from_json(entry.event_json)
    value = event.first_tag_value("i")
    return bytes.fromhex(value) if value else None


class _PublishHook:
    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        ref = _ref_tag(entry)
        if ref is not None and kp_repo.by_ref(conn, ref) is not None:
            kp_repo.mark_published(conn, ref, entry.event_id, entry.relays, now=now)
        return None

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        return None

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        return None


class _DeleteHook:
    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        for event_id in Event.from_json(entry.event_json).tag_values("e"):
            record = kp_repo.by_event_id(conn, event_id)
            if record is not None:
                kp_repo.mark_relay_deleted(conn, record.ref, now=now)
        return None

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        return None

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        return None

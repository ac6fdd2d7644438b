"""What sync asks each relay for, and fetching it completely or not at all.

Purposes and where they run:

* ``inbox``: kind 1059 gift wraps ``#p`` us, on our inbox (10050) relays; the pool's signer
  answers NIP-42 AUTH. Gift wraps are back-dated up to two days, so their window is widened
  by that much.
* ``groups``: kind 445 ``#h`` each active group's id, on that group's relays.
* ``discovery``: profiles, follow lists and relay lists of the people we know, and our own
  key packages, on our and the discovery relays (replaceable: fetched whole, no cursor).

`Planner` turns the account's targets (its inbox relays, its active groups, the people it
knows) into filters per (relay, purpose), starting at the stored cursors for a catch-up or
at "now" for live subscriptions, and says which cursors a catch-up of a relay covers.

`fetch_all` returns every stored event matching a filter, or raises `IncompleteFetch`: a
relay that timed out, closed the request or dropped the connection before its EOSE has not
said what it stores, and a catch-up that took its partial answer for the whole would move
the cursor past events it never saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from app.context import Context
from app.errors import NetworkError
from app.relays import Relays
from nostr.errors import NostrError
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.nip59 import TIMESTAMP_TWEAK
from nostr.relay import EndOfStoredEvents, ReceivedEvent, SubscriptionItem
from storage.repos import relays as relays_repo
from storage.rows import ProcessedEvent

MARGIN = 120
"""Seconds re-fetched before a cursor: clock skew and relays that store late."""
INBOX_MARGIN = TIMESTAMP_TWEAK + 600
"""Gift wraps are back-dated up to two days: their window is widened by that much."""
INBOX_KEY = "inbox"
PAGE = 500
SHORT_PAGE = 100
AUTHORS_PER_FILTER = 60
DISCOVERY_KINDS = (
    Kind.METADATA,
    Kind.FOLLOW_LIST,
    Kind.RELAY_LIST,
    Kind.INBOX_RELAYS,
    Kind.KEY_PACKAGE_RELAYS,
)


class Purpose(StrEnum):
    INBOX = "inbox"
    GROUPS = "groups"
    DISCOVERY = "discovery"


@dataclass(frozen=True, slots=True)
class GroupTarget:
    """A group to follow: its ``h`` value, relays, and where to start without a cursor."""

    key: str
    nostr_group_id: str
    relays: tuple[str, ...]
    since: int


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event fetched or received, and why we asked for it."""

    purpose: Purpose
    relay: str
    event: Event


Router = Callable[[Incoming], Awaitable[None]]

_PURPOSES: dict[int, Purpose] = {
    Kind.MLS_GROUP_MESSAGE: Purpose.GROUPS,
    Kind.GIFT_WRAP: Purpose.INBOX,
}


def replayable(records: Iterable[ProcessedEvent]) -> list[Incoming]:
    """Stored events waiting for a retry, to process again (unreadable ones are skipped)."""
    items = []
    for record in records:
        try:
            event = Event.from_json(record.event_json or "")
        except NostrError:
            continue
        items.append(Incoming(_PURPOSES.get(event.kind, Purpose.DISCOVERY), "", event))
    return items


@dataclass(slots=True)
class Plan:
    filters: dict[tuple[str, Purpose], list[Filter]] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    """Per relay, the cursors whose events the filters fetch (only those may advance)."""
    group_keys: dict[str, str] = field(default_factory=dict)
    """nostr_group_id -> cursor key."""

    def covered(self, purpose: Purpose, flt: Filter) -> list[str]:
        """The cursors a filter's events belong to."""
        if purpose is Purpose.INBOX:
            return [INBOX_KEY]
        if purpose is Purpose.GROUPS:
            return [self.group_keys[h] for h in flt.tags.get("h", ()) if h in self.group_keys]
        return []


class IncompleteFetch(NetworkError):
    """A relay did not answer a request up to its EOSE."""


class Planner:
    def __init__(
        self,
        ctx: Context,
        relays: Relays,
        groups: Callable[[], Awaitable[list[GroupTarget]]],
        authors: Callable[[], Awaitable[list[str]]],
    ) -> None:
        self._ctx = ctx
        self._relays = relays
        self._groups = groups
        self._authors = authors

    async def plan(self, *, live: bool, relay: str | None = None) -> Plan:
        """Filters per (relay, purpose); ``live`` ones start now, catch-up ones at cursors."""
        ctx = self._ctx
        now = ctx.now()
        urls = [relay] if relay is not None else list(ctx.pool.relays)
        targets = await self._groups()
        authors = await self._authors()
        plan = Plan(group_keys={t.nostr_group_id: t.key for t in targets})
        for url in urls:
            inbox = url in self._relays.inbox
            mine = [t for t in targets if url in t.relays]
            plan.keys[url] = [INBOX_KEY] * inbox + [t.key for t in mine]
            since = now - INBOX_MARGIN if live else await self._since(INBOX_KEY, url)
            gift_wraps = Filter(kinds=[Kind.GIFT_WRAP], tags={"p": [ctx.pubkey]}, since=since)
            plan.filters[(url, Purpose.INBOX)] = [gift_wraps] if inbox else []
            plan.filters[(url, Purpose.GROUPS)] = await self._group_filters(
                mine, url, now if live else None
            )
            discovery = url in self._relays.lookup and authors
            since = now - MARGIN if live else None
            plan.filters[(url, Purpose.DISCOVERY)] = (
                [*author_filters(authors, since=since), own_key_packages(ctx.pubkey, since)]
                if discovery
                else []
            )
        return plan

    async def _since(self, key: str, url: str) -> int | None:
        cursor = await self._ctx.db.run(relays_repo.cursor, key, url)
        return None if cursor is None else max(0, cursor - INBOX_MARGIN)

    async def _group_filters(
        self, targets: Sequence[GroupTarget], url: str, live_from: int | None
    ) -> list[Filter]:
        buckets: dict[int, list[str]] = {}
        for target in targets:
            if live_from is not None:
                since = live_from - MARGIN
            else:
                cursor = await self._ctx.db.run(relays_repo.cursor, target.key, url)
                since = max(0, (cursor if cursor is not None else target.since) - MARGIN)
            buckets.setdefault(since, []).append(target.nostr_group_id)
        return [
            Filter(kinds=[Kind.MLS_GROUP_MESSAGE], tags={"h": ids}, since=since)
            for since, ids in sorted(buckets.items())
        ]


def subscription_id(purpose: Purpose, url: str) -> str:
    """The live subscription of one purpose on one relay (reused: a resubscribe replaces)."""
    return f"{purpose.value}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def own_key_packages(pubkey: str, since: int | None) -> Filter:
    """Our own devices' key packages (Profile A is a 443; an older Burrow's a 30443):
    which device holds which leaf (see app.devices)."""
    kinds = [Kind.MLS_KEY_PACKAGE_LEGACY, Kind.MLS_KEY_PACKAGE]
    return Filter(authors=[pubkey], kinds=kinds, since=since)


def author_filters(authors: Sequence[str], *, since: int | None) -> list[Filter]:
    kinds = [int(k) for k in DISCOVERY_KINDS]
    return [
        Filter(authors=authors[i : i + AUTHORS_PER_FILTER], kinds=kinds, since=since)
        for i in range(0, len(authors), AUTHORS_PER_FILTER)
    ]


async def fetch_all(ctx: Context, flt: Filter, url: str) -> list[Event]:
    """Every stored event matching ``flt`` on ``url``, paging back with ``until``."""
    out: dict[str, Event] = {}
    until = flt.until
    while True:
        batch = await fetch_complete(ctx, replace(flt, until=until, limit=PAGE), url)
        fresh = [e for e in batch if e.id not in out]
        out.update((e.id, e) for e in fresh)
        # Relays cap answers at a limit of their own, possibly below ours: a short page
        # (below any cap seen in practice) or one with nothing new proves the end.
        # ``until`` is inclusive, for events sharing the last page's oldest second.
        if not fresh or len(batch) < SHORT_PAGE:
            return list(out.values())
        until = min(e.created_at for e in batch)


async def fetch_complete(ctx: Context, flt: Filter, url: str) -> list[Event]:
    """One request answered up to the relay's EOSE; `IncompleteFetch` otherwise."""
    found: list[Event] = []
    ended: list[SubscriptionItem] = []

    def collect(item: SubscriptionItem) -> None:
        if isinstance(item, ReceivedEvent):
            found.append(item.event)
        else:
            ended.append(item)

    sub = await ctx.pool.subscribe([flt], relays=[url], on_item=collect)
    try:
        await sub.wait_eose(ctx.config.timeouts.fetch)
    finally:
        await sub.close()
    if not any(isinstance(item, EndOfStoredEvents) for item in ended):
        raise IncompleteFetch(f"{url} did not answer the whole request")
    return found

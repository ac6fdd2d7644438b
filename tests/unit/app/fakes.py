"""An in-memory stand-in for `nostr.relay.RelayPool`, for tests of one `app` layer alone.

It stores published events per relay, answers `fetch` and subscriptions like a relay
(newest first, capped at ``cap`` events per filter, so paging is exercised; then EOSE,
unless the relay is in ``no_eose``: a relay that never finishes answering) and lets a test
decide how each relay answers a publish. Integration tests use the real pool against the
real relay instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType

from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import MachineReadablePrefix
from nostr.relay import (
    EndOfStoredEvents,
    PublishOutcome,
    PublishResult,
    ReceivedEvent,
    RelayResponse,
    RelayStatus,
    SubscriptionItem,
)
from nostr.relay_url import normalize_relay_url

Answer = Callable[[str, Event], RelayResponse]


def accept(url: str, event: Event) -> RelayResponse:
    return RelayResponse(PublishOutcome.ACCEPTED)


def time_out(url: str, event: Event) -> RelayResponse:
    return RelayResponse(PublishOutcome.TIMED_OUT)


def reject_invalid(url: str, event: Event) -> RelayResponse:
    return RelayResponse(PublishOutcome.REJECTED, "invalid: nope", MachineReadablePrefix.INVALID)


class FakePool:
    def __init__(self, *, cap: int = 500) -> None:
        self.cap = cap
        self.stored: dict[str, dict[str, Event]] = {}
        self.answer: Answer = accept
        self.published: list[tuple[str, Event]] = []
        self.fetches: list[tuple[str, Filter]] = []
        self._relays: list[str] = []
        self.subscriptions: dict[str, tuple[tuple[Filter, ...], tuple[str, ...]]] = {}
        self.no_eose: set[str] = set()
        self.no_eose_kinds: set[int] = set()
        """Requests for these kinds are never answered in full (an AUTH refusal, say)."""

    @property
    def relays(self) -> tuple[str, ...]:
        return tuple(self._relays)

    async def add_relay(self, url: str) -> str:
        url = normalize_relay_url(url)
        if url not in self._relays:
            self._relays.append(url)
            self.stored.setdefault(url, {})
        return url

    async def remove_relay(self, url: str) -> None:
        self._relays.remove(normalize_relay_url(url))

    def status(self, url: str) -> RelayStatus:
        return RelayStatus.CONNECTED

    async def wait_connected(
        self, relays: Iterable[str] | None = None, timeout: float = 10
    ) -> bool:
        return True

    def add_status_listener(self, listener: object) -> Callable[[], None]:
        return lambda: None

    async def publish(
        self,
        event: Event,
        *,
        relays: Iterable[str] | None = None,
        timeout: float | None = None,
        wait_all: bool = False,
    ) -> PublishResult:
        targets = list(relays) if relays is not None else self.relays
        responses = {}
        for url in targets:
            response = self.answer(url, event)
            responses[url] = response
            if response.outcome is PublishOutcome.ACCEPTED:
                self.stored.setdefault(url, {})[event.id] = event
                self.published.append((url, event))
        return PublishResult(event.id, MappingProxyType(responses))

    async def fetch(
        self, filters: Iterable[Filter], *, relays: Iterable[str] | None = None, timeout: float = 10
    ) -> list[Event]:
        out: dict[str, Event] = {}
        for url in relays if relays is not None else self.relays:
            for flt in filters:
                out.update((e.id, e) for e in self._stored(url, flt))
        return list(out.values())

    def _stored(self, url: str, flt: Filter) -> list[Event]:
        self.fetches.append((url, flt))
        matching = [e for e in self.stored.get(url, {}).values() if flt.matches(e)]
        matching.sort(key=lambda e: (e.created_at, e.id), reverse=True)
        limit = min(self.cap, flt.limit if flt.limit is not None else self.cap)
        return matching[:limit]

    async def subscribe(
        self,
        filters: Iterable[Filter],
        *,
        relays: Iterable[str] | None = None,
        id: str | None = None,
        since_margin: int | None = None,
        on_item: Callable[[SubscriptionItem], None] | None = None,
    ) -> FakeSubscription:
        """Stored events, then EOSE (per relay), to ``on_item`` at once."""
        sub_id = id or f"sub-{len(self.subscriptions)}-{len(self.fetches)}"
        filters = tuple(filters)
        targets = tuple(relays or ())
        self.subscriptions[sub_id] = (filters, targets)
        done = True
        for url in targets:
            for flt in filters:
                for event in self._stored(url, flt):
                    if on_item is not None:
                        on_item(ReceivedEvent(url, event))
            kinds = {k for f in filters for k in f.kinds or ()}
            if url in self.no_eose or kinds & self.no_eose_kinds:
                done = False
            elif on_item is not None:
                on_item(EndOfStoredEvents(url))
        return FakeSubscription(self, sub_id, done)

    async def unsubscribe(self, subscription_id: str) -> None:
        self.subscriptions.pop(subscription_id, None)

    async def close(self) -> None:
        return None


class FakeSubscription:
    def __init__(self, pool: FakePool, sub_id: str, eose: bool) -> None:
        self._pool = pool
        self.id = sub_id
        self._eose = eose

    async def wait_eose(self, timeout: float | None = None) -> bool:
        return self._eose

    async def close(self) -> None:
        await self._pool.unsubscribe(self.id)

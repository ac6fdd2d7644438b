"""The event bus: listeners, typed subscriptions, streams, and a failing listener."""

from __future__ import annotations

import pytest

from app.bus import EventBus
from app.events import AccountLocked, AccountUnlocked, AppEvent, ErrorRaised


def test_listeners_get_every_event_in_order_until_unsubscribed() -> None:
    bus = EventBus()
    seen: list[AppEvent] = []
    stop = bus.subscribe(seen.append)
    bus.publish(AccountUnlocked("a" * 64, "alice"))
    bus.publish(AccountLocked("a" * 64))
    stop()
    bus.publish(AccountLocked("b" * 64))
    assert [type(e) for e in seen] == [AccountUnlocked, AccountLocked]


def test_on_filters_by_event_class() -> None:
    bus = EventBus()
    locked: list[AccountLocked] = []
    bus.on(AccountLocked, locked.append)
    bus.publish(AccountUnlocked("a" * 64, "alice"))
    bus.publish(AccountLocked("a" * 64))
    assert locked == [AccountLocked("a" * 64)]


def test_a_failing_listener_does_not_stop_the_others() -> None:
    bus = EventBus()
    seen: list[AppEvent] = []

    def broken(event: AppEvent) -> None:
        raise RuntimeError("bug in a front end")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    bus.publish(AccountLocked("a" * 64))
    assert len(seen) == 1


@pytest.mark.asyncio
async def test_a_stream_sees_what_is_published_after_it_was_opened() -> None:
    bus = EventBus()
    bus.publish(AccountLocked("a" * 64))  # before: not seen
    stream = bus.stream()
    bus.publish(ErrorRaised("a" * 64, "boom", "sync"))
    event = await stream.next(1.0)
    assert isinstance(event, ErrorRaised) and event.message == "boom"
    assert await stream.next(0.01) is None
    stream.close()
    assert await stream.next(0.01) is None


def test_events_serialise_to_plain_json() -> None:
    event = ErrorRaised("a" * 64, "boom", "sync")
    assert event.to_dict() == {
        "type": "ErrorRaised",
        "account": "a" * 64,
        "message": "boom",
        "where": "sync",
    }

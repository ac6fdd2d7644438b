"""A RelaySession against a simulated capped relay loses no stored event.

Whatever the cap (at or above the page threshold, and at least the events of any one
second, which ``until`` cannot split), the order the relay sends its answer in, the
filter's ``since``, the clock, and wherever the connection drops, every stored event
matching the filter is reported, EOSE comes last, and the exchange ends.
"""

from __future__ import annotations

import json
import random
from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import RelayEose, RelayEvent
from nostr.session import RelaySession, VerifiedEvents
from nostr.session_events import EoseReceived, EventReceived
from tests.helpers.nostr_factories import NOW, make_event

SECONDS, PER_SECOND = 30, 4
STORE = {
    (s, k): make_event(content=f"{s}.{k}", created_at=NOW + s)
    for s in range(SECONDS)
    for k in range(PER_SECOND)
}
VERIFIED = VerifiedEvents(len(STORE))  # each event's signature is checked once per run
MAX_FRAMES = 20_000


class CappedRelay:
    """Answers REQ with the newest ``cap`` matching events per filter, then EOSE."""

    def __init__(self, stored: list[Event], cap: int, order: random.Random | None) -> None:
        self.stored = sorted(stored, key=lambda e: (e.created_at, e.id), reverse=True)
        self.cap = cap
        self.order = order

    def answer(self, frame: str) -> list[str]:
        message = json.loads(frame)
        if message[0] != "REQ":
            return []
        found: dict[str, Event] = {}
        for raw in message[2:]:
            flt = Filter.from_dict(raw)
            cap = self.cap if flt.limit is None else min(self.cap, flt.limit)
            found.update((e.id, e) for e in [e for e in self.stored if flt.matches(e)][:cap])
        events = list(found.values())
        if self.order is not None:
            self.order.shuffle(events)
        sub_id = message[1]
        return [RelayEvent(sub_id, e).to_json() for e in events] + [RelayEose(sub_id).to_json()]


@given(
    counts=st.lists(st.integers(0, PER_SECOND), min_size=SECONDS, max_size=SECONDS),
    cap=st.integers(PER_SECOND, 12),
    threshold_below_cap=st.integers(0, 8),
    since=st.none() | st.integers(0, SECONDS),
    clock=st.integers(0, SECONDS + 10),
    drops=st.sets(st.integers(1, 150), max_size=3),
    order=st.none() | st.randoms(use_true_random=False),
)
def test_paging_a_capped_relay_loses_nothing(
    *,
    counts: list[int],
    cap: int,
    threshold_below_cap: int,
    since: int | None,
    clock: int,
    drops: set[int],
    order: random.Random | None,
) -> None:
    stored = [STORE[s, k] for s, n in enumerate(counts) for k in range(n)]
    flt = Filter(kinds={1}, since=None if since is None else NOW + since)
    threshold = max(1, cap - threshold_below_cap)
    session = RelaySession("ws://127.0.0.1:1", verified=VERIFIED, page_threshold=threshold)
    session.subscribe("s", [flt], since_margin=5)
    session.connection_made()
    relay = CappedRelay(stored, cap, order)
    inbox: deque[str] = deque()
    got: set[str] = set()
    last = None
    for frame_number in range(1, MAX_FRAMES):
        for frame in session.data_to_send():
            inbox.extend(relay.answer(frame))
        if not inbox:
            break
        for item in session.receive(inbox.popleft(), NOW + clock):
            last = item
            if isinstance(item, EventReceived):
                got.add(item.event.id)
        if frame_number in drops:
            session.connection_lost()
            inbox.clear()
            session.connection_made()
            last = None
    else:
        raise AssertionError("paging did not end")
    assert got == {e.id for e in stored if flt.matches(e)}
    assert last == EoseReceived("s")
    assert session.has_eose("s")

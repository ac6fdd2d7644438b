"""Paging past a relay's per-filter cap: the decision (nostr.paging) and the session flow."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from nostr.errors import UsageError
from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import RelayClosed, RelayEose, RelayEvent
from nostr.paging import Page
from nostr.session import RelaySession
from nostr.session_events import DropReason, EoseReceived, EventReceived, MessageDropped
from tests.helpers.nostr_factories import NOW, make_event

URL = "ws://127.0.0.1:1"
SINCE = Filter(kinds={1}, since=NOW - 1000)


def _page(flt: Filter, *created_at: int) -> Page:
    page = Page(flt)
    for t in created_at:
        page.add(t)
    return page


def _session(threshold: int) -> RelaySession:
    session = RelaySession(URL, page_threshold=threshold)
    session.connection_made()
    return session


def _sent(session: RelaySession) -> list[list[object]]:
    return [json.loads(t) for t in session.data_to_send()]


def _notes(*created_at: int) -> list[Event]:
    return [make_event(content=f"n{t}", created_at=t) for t in created_at]


def _feed(session: RelaySession, sub: str, events: list[Event]) -> None:
    for event in events:
        assert session.receive(RelayEvent(sub, event).to_json(), NOW) != []


# --- the decision ---------------------------------------------------------------------


def test_a_short_page_is_complete() -> None:
    assert _page(SINCE, NOW, NOW - 1).next_page(3) is None
    assert _page(SINCE).next_page(1) is None  # nothing at all


def test_a_full_page_asks_for_the_older_rest_down_to_since() -> None:
    page = _page(SINCE, NOW, NOW - 5, NOW - 2)
    assert page.next_page(3) == replace(SINCE, until=NOW - 5)  # inclusive: same-second events
    assert page.next_page(4) is None


def test_a_limit_is_honoured_and_paged_up_to() -> None:
    wanted = Filter(kinds={1}, limit=10)
    # The relay capped at 3, below the 10 asked for: the next page asks for the other 7.
    assert _page(wanted, NOW, NOW - 1, NOW - 2).next_page(3) == replace(
        wanted, until=NOW - 2, limit=7
    )
    assert _page(Filter(kinds={1}, limit=3), NOW, NOW - 1, NOW - 2).next_page(3) is None


def test_a_full_page_within_its_until_second_steps_past_it() -> None:
    page_filter = replace(SINCE, until=NOW - 5)
    assert _page(page_filter, NOW - 5, NOW - 5, NOW - 5).next_page(3) == replace(
        SINCE, until=NOW - 6
    )
    assert _page(page_filter, NOW - 5, NOW - 6, NOW - 5).next_page(3) == replace(
        SINCE, until=NOW - 6
    )
    floor = replace(page_filter, since=NOW - 5)  # nothing is left below ``since``
    assert _page(floor, NOW - 5, NOW - 5, NOW - 5).next_page(3) is None


def test_search_filters_are_not_paged() -> None:
    search = Filter(kinds={1}, search="cats")
    assert _page(search, NOW, NOW - 1).next_page(1) is None


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(UsageError):
        RelaySession(URL, page_threshold=0)


# --- the session ----------------------------------------------------------------------


def test_a_full_stored_phase_is_paged_before_eose_while_live_events_flow() -> None:
    session = _session(threshold=3)
    session.subscribe("s", [SINCE])
    session.data_to_send()
    stored = _notes(NOW - 1, NOW - 2, NOW - 3)
    _feed(session, "s", stored)
    assert session.receive(RelayEose("s").to_json(), NOW) == []  # withheld: a page is owed
    assert not session.has_eose("s")
    assert _sent(session) == [
        ["REQ", "s~page1", {"kinds": [1], "since": NOW - 1000, "until": NOW - 3}]
    ]
    live = make_event(content="live", created_at=NOW)
    assert session.receive(RelayEvent("s", live).to_json(), NOW) == [EventReceived("s", live)]
    # A page's events must respect its ``until``; they are reported under "s".
    newer = session.receive(RelayEvent("s~page1", live).to_json(), NOW)
    assert isinstance(newer[0], MessageDropped)
    assert newer[0].reason is DropReason.FILTER_MISMATCH
    older = make_event(content="older", created_at=NOW - 4)
    for event in (stored[2], older):  # the boundary copy comes again; the pool drops it
        frame = RelayEvent("s~page1", event).to_json()
        assert session.receive(frame, NOW) == [EventReceived("s", event)]
    assert session.receive(RelayEose("s~page1").to_json(), NOW) == [EoseReceived("s")]
    assert _sent(session) == [["CLOSE", "s~page1"]]
    assert session.has_eose("s")
    assert session.stats.pages == 1
    late = session.receive(RelayEvent("s~page1", older).to_json(), NOW)
    assert isinstance(late[0], MessageDropped)
    assert late[0].reason is DropReason.UNKNOWN_SUBSCRIPTION


def test_pages_follow_each_other_until_the_limit() -> None:
    session = _session(threshold=3)
    wanted = Filter(kinds={1}, limit=7)
    session.subscribe("s", [wanted])
    session.data_to_send()
    _feed(session, "s", _notes(NOW, NOW - 1, NOW - 2))
    assert session.receive(RelayEose("s").to_json(), NOW) == []
    assert _sent(session)[0] == ["REQ", "s~page1", {"kinds": [1], "until": NOW - 2, "limit": 4}]
    _feed(session, "s~page1", _notes(NOW - 2, NOW - 3, NOW - 4))
    assert session.receive(RelayEose("s~page1").to_json(), NOW) == []
    assert _sent(session) == [
        ["CLOSE", "s~page1"],
        ["REQ", "s~page2", {"kinds": [1], "until": NOW - 4, "limit": 1}],
    ]
    _feed(session, "s~page2", _notes(NOW - 5))
    assert session.receive(RelayEose("s~page2").to_json(), NOW) == [EoseReceived("s")]
    assert session.stats.pages == 2


def test_a_met_limit_or_a_small_answer_needs_no_page() -> None:
    session = _session(threshold=3)
    session.subscribe("a", [Filter(kinds={1}, limit=2)])
    session.subscribe("b", [SINCE])
    session.data_to_send()
    _feed(session, "a", _notes(NOW, NOW - 1))
    _feed(session, "b", _notes(NOW, NOW - 1))
    assert session.receive(RelayEose("a").to_json(), NOW) == [EoseReceived("a")]
    assert session.receive(RelayEose("b").to_json(), NOW) == [EoseReceived("b")]
    assert session.data_to_send() == []


def test_a_reconnect_resumes_the_page_after_the_new_eose() -> None:
    session = _session(threshold=2)
    session.subscribe("s", [Filter(kinds={1})], since_margin=10)
    session.data_to_send()
    _feed(session, "s", _notes(NOW - 1, NOW - 2))
    session.receive(RelayEose("s").to_json(), NOW)
    assert _sent(session)[0][:2] == ["REQ", "s~page1"]
    _feed(session, "s~page1", _notes(NOW - 4))  # the page is cut off here
    session.connection_lost()
    session.connection_made()
    # Only the subscription is replayed at first, so AUTH and limits see one REQ.
    assert _sent(session) == [["REQ", "s", {"kinds": [1], "since": NOW - 10}]]
    assert session.receive(RelayEose("s").to_json(), NOW) == []
    # No order is promised, so NOW - 3 may still be missing: the page is asked again whole.
    assert _sent(session) == [["REQ", "s~page2", {"kinds": [1], "until": NOW - 2}]]
    assert session.receive(RelayEose("s~page2").to_json(), NOW) == [EoseReceived("s")]


def test_a_stored_phase_cut_short_is_finished_after_the_reconnect() -> None:
    session = _session(threshold=100)
    session.subscribe("s", [SINCE, Filter(kinds={2})], since_margin=10)
    session.subscribe("t", [SINCE], since_margin=10)
    session.data_to_send()
    _feed(session, "s", _notes(NOW - 1))  # then the socket drops before EOSE
    session.connection_lost()
    session.connection_made()
    assert _sent(session) == [
        ["REQ", "s", {"kinds": [1], "since": NOW - 11}, {"kinds": [2], "since": NOW - 11}],
        ["REQ", "t", {"kinds": [1], "since": NOW - 1000}],  # nothing came, nothing moved
    ]
    assert session.receive(RelayEose("t").to_json(), NOW) == [EoseReceived("t")]
    assert session.receive(RelayEose("s").to_json(), NOW) == []
    # The event moved the cursor, so the replay starts later: the first answer, filters it
    # never reached included, is asked for again, however far below the threshold.
    assert _sent(session) == [
        ["REQ", "s~page1", {"kinds": [1], "since": NOW - 1000}, {"kinds": [2]}]
    ]


def test_a_refused_page_ends_this_connection_and_is_retried_on_the_next() -> None:
    session = _session(threshold=1)
    session.subscribe("s", [Filter(kinds={1})])
    session.data_to_send()
    _feed(session, "s", _notes(NOW - 1))
    session.receive(RelayEose("s").to_json(), NOW)
    session.data_to_send()
    refused = RelayClosed("s~page1", "error: too many subscriptions").to_json()
    assert session.receive(refused, NOW) == [EoseReceived("s")]
    assert session.subscription_ids == ("s",)  # the subscription itself lives on
    assert session.data_to_send() == []
    session.connection_lost()
    session.connection_made()
    session.data_to_send()
    session.receive(RelayEose("s").to_json(), NOW)
    assert _sent(session) == [["REQ", "s~page2", {"kinds": [1], "until": NOW - 1}]]


def test_closing_or_replacing_a_subscription_closes_its_page() -> None:
    session = _session(threshold=1)
    session.subscribe("s~page1", [Filter(kinds={2})])  # a page id must not collide with it
    session.subscribe("s", [Filter(kinds={1})])
    session.data_to_send()
    _feed(session, "s", _notes(NOW - 1))
    session.receive(RelayEose("s").to_json(), NOW)
    assert _sent(session)[0][:2] == ["REQ", "s~page2"]
    session.subscribe("s", [Filter(kinds={1})])
    assert _sent(session) == [["CLOSE", "s~page2"], ["REQ", "s", {"kinds": [1]}]]
    _feed(session, "s", _notes(NOW - 1))
    session.receive(RelayEose("s").to_json(), NOW)
    assert _sent(session)[0][:2] == ["REQ", "s~page3"]
    session.unsubscribe("s")
    assert _sent(session) == [["CLOSE", "s~page3"], ["CLOSE", "s"]]
    assert session.subscription_ids == ("s~page1",)

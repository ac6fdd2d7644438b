"""RelaySession driven directly: no sockets, text in, events and text out."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from nostr.errors import RelayUnavailable, UsageError
from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import MachineReadablePrefix, RelayClosed, RelayEose, RelayEvent, RelayOk
from nostr.nip42 import auth_event
from nostr.session import AuthState, RelaySession, VerifiedEvents
from nostr.session_events import (
    AuthChallenged,
    AuthFailed,
    AuthSucceeded,
    DropReason,
    EoseReceived,
    EventReceived,
    MessageDropped,
    NoticeReceived,
    OkReceived,
    SubscriptionClosed,
)
from tests.helpers.nostr_factories import NOW, make_event, secret

URL = "ws://127.0.0.1:1"
KIND1 = Filter(kinds={1})


def _session(**kwargs: object) -> RelaySession:
    session = RelaySession(URL, **kwargs)  # type: ignore[arg-type]
    session.connection_made()
    return session


def _sent(session: RelaySession) -> list[list[object]]:
    return [json.loads(t) for t in session.data_to_send()]


def _event_frame(sub: str, event: Event) -> str:
    return RelayEvent(sub, event).to_json()


def _auth(challenge: str) -> Event:
    return auth_event(secret("alice").public_key(), URL, challenge, created_at=NOW).sign(
        secret("alice")
    )


def test_subscribe_sends_req_now_or_on_connect() -> None:
    session = RelaySession(URL)
    session.subscribe("s", [KIND1])
    assert session.data_to_send() == []
    session.connection_made()
    assert _sent(session) == [["REQ", "s", {"kinds": [1]}]]
    session.subscribe("t", [Filter(authors={secret("a").public_key().hex})])
    assert _sent(session)[0][:2] == ["REQ", "t"]
    session.unsubscribe("t")
    assert _sent(session) == [["CLOSE", "t"]]
    session.unsubscribe("unknown")
    assert session.data_to_send() == []
    with pytest.raises(UsageError):
        session.subscribe("", [KIND1])


def test_valid_event_is_reported_and_moves_the_cursor() -> None:
    session = _session()
    session.subscribe("s", [KIND1])
    event = make_event(created_at=NOW)
    assert session.receive(_event_frame("s", event), NOW) == [EventReceived("s", event)]
    assert session.stats.events == 1


@pytest.mark.parametrize(
    ("frame_for", "reason"),
    [
        (lambda e: _event_frame("s", replace(e, content="forged")), DropReason.INVALID_EVENT),
        (
            lambda e: _event_frame("s", replace(e, sig=make_event("bob").sig)),
            DropReason.INVALID_EVENT,
        ),
        (lambda e: _event_frame("other", e), DropReason.UNKNOWN_SUBSCRIPTION),
        (lambda e: _event_frame("s", make_event(kind=2)), DropReason.FILTER_MISMATCH),
        (lambda e: "garbage", DropReason.MALFORMED),
        (lambda e: '["EVENT","s",{"id":1}]', DropReason.MALFORMED),
        (lambda e: '["EVENT","s",' + "[" * 900, DropReason.MALFORMED),
        (lambda e: '["NOTICE","' + "x" * 2000 + '"]', DropReason.OVERSIZED),
    ],
)
def test_bad_input_is_dropped_and_counted(frame_for: object, reason: DropReason) -> None:
    session = _session(max_message_size=1000)
    session.subscribe("s", [KIND1])
    frame = frame_for(make_event())  # type: ignore[operator]
    events = session.receive(frame, NOW)
    assert len(events) == 1
    assert isinstance(events[0], MessageDropped)
    assert events[0].reason is reason
    assert session.stats.dropped == 1
    assert session.stats.events == 0
    # The session keeps working afterwards.
    good = make_event(content="after")
    assert session.receive(_event_frame("s", good), NOW) == [EventReceived("s", good)]


def test_search_filters_are_not_matched_locally() -> None:
    session = _session()
    session.subscribe("s", [Filter(kinds={7}, search="x")])
    event = make_event(kind=1)
    assert session.receive(_event_frame("s", event), NOW) == [EventReceived("s", event)]


def test_verified_cache_is_shared_but_not_fooled() -> None:
    cache = VerifiedEvents(capacity=2)
    a, b = _session(verified=cache), _session(verified=cache)
    for session in (a, b):
        session.subscribe("s", [KIND1])
    event = make_event()
    assert a.receive(_event_frame("s", event), NOW) == [EventReceived("s", event)]
    # Same id and signature, different content: must not ride on the cached verdict.
    forged = replace(event, content="changed")
    dropped = b.receive(_event_frame("s", forged), NOW)
    assert isinstance(dropped[0], MessageDropped)
    assert b.receive(_event_frame("s", event), NOW) == [EventReceived("s", event)]
    # Same id, another (valid-looking) signature: verified in full, and refused.
    other_sig = replace(event, sig=make_event(content="other").sig)
    assert isinstance(b.receive(_event_frame("s", other_sig), NOW)[0], MessageDropped)
    for n in range(3):  # eviction keeps the cache bounded
        e = make_event(content=f"n{n}")
        a.receive(_event_frame("s", e), NOW)
    assert b.stats.invalid_events == 2


def test_eose_once_per_connection_and_resubscribe_from_cursor() -> None:
    session = _session()
    session.subscribe("s", [Filter(kinds={1}, limit=20)], since_margin=60)
    session.data_to_send()
    session.receive(_event_frame("s", make_event(created_at=NOW - 500)), NOW)
    assert session.receive(RelayEose("s").to_json(), NOW - 100) == [EoseReceived("s")]
    assert session.receive(RelayEose("s").to_json(), NOW - 100) == []
    assert session.has_eose("s")
    session.receive(_event_frame("s", make_event(created_at=NOW, content="live")), NOW)
    session.connection_lost()
    assert not session.has_eose("s")
    session.connection_made()
    # Resumed 60 s before the newest event seen; the limit is dropped on resume.
    assert _sent(session) == [["REQ", "s", {"kinds": [1], "since": NOW - 60}]]


def test_a_future_dated_event_cannot_push_the_resume_point_past_our_clock() -> None:
    """Anyone can sign a matching event dated years ahead; the resume window stays ours."""
    session = _session()
    session.subscribe("s", [KIND1], since_margin=60)
    session.data_to_send()
    session.receive(RelayEose("s").to_json(), NOW)
    future = make_event(created_at=NOW + 10**8, content="from the future")
    assert session.receive(_event_frame("s", future), NOW + 5) == [EventReceived("s", future)]
    session.connection_lost()
    session.connection_made()
    assert _sent(session) == [["REQ", "s", {"kinds": [1], "since": NOW + 5 - 60}]]


def test_cursor_uses_eose_time_without_events_and_keeps_a_later_since() -> None:
    session = _session()
    session.subscribe("a", [KIND1], since_margin=10)
    session.subscribe("b", [Filter(kinds={1}, since=NOW + 1000)], since_margin=10)
    session.data_to_send()
    session.receive(RelayEose("a").to_json(), NOW)
    session.receive(RelayEose("b").to_json(), NOW)
    session.connection_lost()
    session.connection_made()
    sent = {m[1]: m[2] for m in _sent(session)}
    assert sent["a"] == {"kinds": [1], "since": NOW - 10}
    assert sent["b"] == {"kinds": [1], "since": NOW + 1000}


def test_unanswered_frames_are_discarded_on_disconnect() -> None:
    session = _session()
    session.subscribe("s", [KIND1])
    session.connection_lost()
    assert session.data_to_send() == []
    with pytest.raises(RelayUnavailable):
        session.publish(make_event())
    with pytest.raises(RelayUnavailable):
        session.authenticate(_auth("c"))


def test_ok_and_notice_and_closed() -> None:
    session = _session()
    event = make_event()
    session.publish(event)
    assert _sent(session) == [["EVENT", json.loads(event.to_json())]]
    ok = RelayOk(event.id, False, "rate-limited: slow down")
    assert session.receive(ok.to_json(), NOW) == [
        OkReceived(event.id, False, ok.message, MachineReadablePrefix.RATE_LIMITED)
    ]
    assert session.stats.rate_limited == 1
    assert session.receive('["NOTICE","hi"]', NOW) == [NoticeReceived("hi")]
    session.subscribe("s", [KIND1])
    closed = session.receive(RelayClosed("s", "error: shutting down").to_json(), NOW)
    assert closed == [SubscriptionClosed("s", "error: shutting down", MachineReadablePrefix.ERROR)]
    assert session.subscription_ids == ()
    assert session.receive(RelayClosed("s", "again").to_json(), NOW) == []


def test_auth_required_without_a_signer_closes_for_good() -> None:
    session = _session(can_authenticate=False)
    session.subscribe("s", [KIND1])
    assert session.receive('["AUTH","c1"]', NOW) == []
    closed = session.receive(RelayClosed("s", "auth-required: sign in").to_json(), NOW)
    assert closed == [
        SubscriptionClosed("s", "auth-required: sign in", MachineReadablePrefix.AUTH_REQUIRED)
    ]


def test_auth_flow_resends_waiting_subscriptions() -> None:
    session = _session(can_authenticate=True)
    session.subscribe("s", [KIND1])
    session.subscribe("t", [KIND1])
    session.data_to_send()
    assert session.receive('["AUTH","c1"]', NOW) == []  # no sign-in until it is required
    closed = session.receive(RelayClosed("s", "auth-required: x").to_json(), NOW)
    assert closed == [AuthChallenged("c1")]
    assert session.receive('["AUTH","c2"]', NOW) == []  # one answer at a time
    auth = _auth("c1")
    session.authenticate(auth)
    assert session.auth_state is AuthState.PENDING
    assert _sent(session) == [["AUTH", json.loads(auth.to_json())]]
    assert session.receive(RelayOk(auth.id, True, "").to_json(), NOW) == [AuthSucceeded()]
    assert session.auth_state is AuthState.AUTHENTICATED
    assert _sent(session) == [["REQ", "s", {"kinds": [1]}]]  # only the one that waited
    # Once authenticated, auth-required is final.
    closed = session.receive(RelayClosed("t", "auth-required: not you").to_json(), NOW)
    assert isinstance(closed[0], SubscriptionClosed)
    with pytest.raises(UsageError):
        session.authenticate(make_event())


def test_auth_retries_once_with_a_fresher_challenge_then_fails() -> None:
    session = _session(can_authenticate=True)
    session.subscribe("s", [KIND1])
    session.receive('["AUTH","c1"]', NOW)
    session.receive(RelayClosed("s", "auth-required: x").to_json(), NOW)
    first = _auth("c1")
    session.authenticate(first)
    session.receive('["AUTH","c2"]', NOW)
    retry = session.receive(RelayOk(first.id, False, "restricted: stale").to_json(), NOW)
    assert retry == [AuthChallenged("c2")]
    second = _auth("c2")
    session.authenticate(second)
    failed = session.receive(RelayOk(second.id, False, "restricted: no").to_json(), NOW)
    assert failed == [
        AuthFailed("restricted: no"),
        SubscriptionClosed("s", "restricted: no", MachineReadablePrefix.AUTH_REQUIRED),
    ]
    assert session.auth_state is AuthState.FAILED


def test_auth_state_resets_on_reconnect() -> None:
    session = _session(can_authenticate=True)
    session.subscribe("s", [KIND1])
    session.receive('["AUTH","c1"]', NOW)
    session.receive(RelayClosed("s", "auth-required: x").to_json(), NOW)
    session.connection_lost()
    assert session.auth_state is AuthState.NONE
    assert session.challenge is None
    session.connection_made()
    assert session.receive('["AUTH","c9"]', NOW) == []
    closed = session.receive(RelayClosed("s", "auth-required: x").to_json(), NOW)
    assert closed == [AuthChallenged("c9")]


def test_auth_required_before_the_challenge_and_on_publish() -> None:
    session = _session(can_authenticate=True)
    session.subscribe("s", [KIND1])
    assert session.receive(RelayClosed("s", "auth-required: x").to_json(), NOW) == []
    assert session.receive('["AUTH","late"]', NOW) == [AuthChallenged("late")]
    other = _session(can_authenticate=True)
    other.receive('["AUTH","c"]', NOW)
    event = make_event()
    refused = other.receive(RelayOk(event.id, False, "auth-required: who?").to_json(), NOW)
    assert refused == [
        AuthChallenged("c"),
        OkReceived(event.id, False, "auth-required: who?", MachineReadablePrefix.AUTH_REQUIRED),
    ]


def test_fail_auth_closes_waiting_subscriptions() -> None:
    session = _session(can_authenticate=True)
    session.subscribe("s", [KIND1])
    session.receive('["AUTH","c1"]', NOW)
    session.receive(RelayClosed("s", "auth-required: x").to_json(), NOW)
    events = session.fail_auth("no signer")
    assert events[0] == AuthFailed("no signer")
    assert isinstance(events[1], SubscriptionClosed)
    assert session.subscription_ids == ()


def test_verified_cache_skips_the_second_schnorr_check(monkeypatch: pytest.MonkeyPatch) -> None:
    import nostr.event

    calls: list[bytes] = []
    real = nostr.event.verify_schnorr

    def counting(public_key: bytes, signature: bytes, message: bytes) -> None:
        calls.append(message)
        real(public_key, signature, message)

    monkeypatch.setattr(nostr.event, "verify_schnorr", counting)
    cache = VerifiedEvents()
    a, b = _session(verified=cache), _session(verified=cache)
    for session in (a, b):
        session.subscribe("s", [KIND1])
    event = make_event(content="shared")
    assert a.receive(_event_frame("s", event), NOW) == [EventReceived("s", event)]
    assert b.receive(_event_frame("s", event), NOW) == [EventReceived("s", event)]
    assert len(calls) == 1

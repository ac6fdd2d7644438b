"""RelaySession fed arbitrary interleavings of relay frames never raises, never trusts junk."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import RelayClosed, RelayEose, RelayEvent, RelayOk
from nostr.session import RelaySession
from nostr.session_events import EventReceived
from tests.helpers.nostr_factories import NOW, make_event

GOOD = [make_event(content=f"m{i}", created_at=NOW + i) for i in range(3)]
FORGED = [replace(e, content=e.content + "!") for e in GOOD]
SUBS = ["a", "b", "zz"]
# The ids the session gives its page REQs (one counter per session), so pages get answers.
PAGE_IDS = ["a~page1", "b~page1", "a~page2", "b~page2", "zz~page3"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def _frames() -> st.SearchStrategy[str]:
    sub = st.sampled_from(SUBS + PAGE_IDS)
    good = st.sampled_from(GOOD)
    return st.one_of(
        st.builds(lambda s, e: RelayEvent(s, e).to_json(), sub, good),
        st.builds(lambda s, e: RelayEvent(s, e).to_json(), sub, st.sampled_from(FORGED)),
        st.builds(lambda s: RelayEose(s).to_json(), sub),
        st.builds(
            lambda s, m: RelayClosed(s, m).to_json(),
            sub,
            st.sampled_from(["auth-required: x", "error: y", ""]),
        ),
        st.builds(
            lambda e, a, m: RelayOk(e.id, a, m).to_json(), good, st.booleans(), st.text(max_size=20)
        ),
        st.builds(lambda c: json.dumps(["AUTH", c]), st.text(max_size=10)),
        st.builds(lambda v: json.dumps(["EVENT", "a", v]), json_values),
        st.builds(json.dumps, json_values),
        st.text(max_size=40),
    )


actions = st.lists(
    st.one_of(
        st.tuples(st.just("frame"), _frames()),
        st.tuples(st.just("subscribe"), st.sampled_from(SUBS)),
        st.tuples(st.just("unsubscribe"), st.sampled_from(SUBS)),
        st.tuples(st.just("drop"), st.none()),
        st.tuples(st.just("connect"), st.none()),
    ),
    max_size=40,
)


@given(actions, st.booleans())
def test_session_survives_anything(steps: list[tuple[str, str | None]], can_auth: bool) -> None:
    session = RelaySession(
        "ws://127.0.0.1:1", can_authenticate=can_auth, max_message_size=4000, page_threshold=1
    )
    session.connection_made()
    for sub_id in SUBS:
        session.subscribe(sub_id, [Filter(kinds={1})])
    trusted: set[str] = {e.id for e in GOOD}
    for action, arg in steps:
        if action == "frame":
            assert arg is not None
            for event in session.receive(arg, NOW) if session.connected else []:
                if isinstance(event, EventReceived):
                    assert isinstance(event.event, Event)
                    assert event.event in GOOD and event.event.id in trusted
                    assert event.subscription_id in session.subscription_ids
        elif action == "subscribe":
            assert arg is not None
            session.subscribe(arg, [Filter(kinds={1})])
        elif action == "unsubscribe":
            assert arg is not None
            session.unsubscribe(arg)
        elif action == "drop":
            if session.connected:
                session.connection_lost()
        elif not session.connected:
            session.connection_made()
        for text in session.data_to_send():
            assert json.loads(text)[0] in ("REQ", "CLOSE", "EVENT", "AUTH")
    stats = session.stats
    assert stats.events + stats.dropped + stats.notices <= stats.messages

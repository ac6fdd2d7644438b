"""Random interleavings of concurrent renames, an invite, messages and partial deliveries
among Profile B members: once everything is delivered, every member is on the same state.

Runs our whole Profile B stack through the conformance executor: each generated run is a
scenario like MDK's vectors, with forks from members committing on stale states."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.darkmatter_sim import Simulation

pytestmark = pytest.mark.darkmatter

CLIENTS = ["alice", "bob", "carol"]
EVERYONE = [*CLIENTS, "dave"]  # dave may be invited once, by anyone, at any point

rename = st.builds(
    lambda who, n: [
        {
            "type": "update_group_data",
            "client": who,
            "name": f"{who}-{n}",
            "pending": f"p-{who}-{n}",
        },
        {
            "type": "acknowledge_outbound",
            "client": who,
            "publication": f"p-{who}-{n}",
            "outcome": "accepted",
        },
    ],
    st.sampled_from(CLIENTS),
    st.integers(0, 10**6),
)
send = st.builds(
    lambda who, n: [{"type": "send_app_message", "sender": who, "payload": f"{who}:{n}"}],
    st.sampled_from(CLIENTS),
    st.integers(0, 10**6),
)
deliver = st.just([{"type": "deliver_all"}])
tick = st.builds(
    lambda who: [{"type": "tick", "clients": who}],
    st.lists(st.sampled_from(EVERYONE), min_size=1, max_size=4, unique=True),
)
invite = st.builds(
    lambda who: [
        {"type": "invite_members", "inviter": who, "invitees": ["dave"], "pending": "dave"},
        {
            "type": "acknowledge_outbound",
            "client": who,
            "publication": "dave",
            "outcome": "accepted",
        },
    ],
    st.sampled_from(CLIENTS),
)
op = st.one_of(rename, send, deliver, tick, invite)


def scenario(ops: list[list[dict[str, Any]]]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {
            "type": "create_group",
            "creator": "alice",
            "name": "machine",
            "invitees": ["bob", "carol"],
            "initial_admins": ["bob", "carol"],
            "pending": "create",
        },
        {
            "type": "acknowledge_outbound",
            "client": "alice",
            "publication": "create",
            "outcome": "accepted",
        },
        {"type": "deliver_all"},
        {"type": "tick", "clients": CLIENTS},
    ]
    for chunk in ops:
        steps += chunk
    settle = [{"type": "deliver_all"}, {"type": "tick", "clients": EVERYONE}]
    steps += settle * 4 + [{"type": "observe_exact", "clients": EVERYONE}]
    return {"scenario": {"clients": EVERYONE, "steps": steps}}


def _commits(ops: list[list[dict[str, Any]]]) -> int:
    return sum(chunk[0]["type"] in ("update_group_data", "invite_members") for chunk in ops)


def _one_invite(ops: list[list[dict[str, Any]]]) -> bool:
    return sum(chunk[0]["type"] == "invite_members" for chunk in ops) <= 1


# At most max_rewind_commits (5) commits in a run: a fork deeper than that is outside the
# rollback horizon and is, by the spec, never repaired (a random run with 7 unsynced
# commits on two branches did leave one member behind, as designed).
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(op, min_size=1, max_size=10).filter(lambda o: _commits(o) <= 5 and _one_invite(o)),
    st.integers(0, 3),
)
def test_members_converge_after_everything_is_delivered(
    ops: list[list[dict[str, Any]]], seed: int
) -> None:
    sim = Simulation(scenario(ops), shuffle=seed)
    sim.run()
    alice = sim.clients["alice"].track("default").canonical.state
    members = {m.credential.identity for m in alice.members()}
    # dave counts once the winning branch holds him (a losing invite leaves him outside)
    judged = [n for n in EVERYONE if n in CLIENTS or sim.clients[n].account in members]
    states = {name: sim.observations[name]["exact"] for name in judged}
    assert len(set(states.values())) == 1, {n: s[0] for n, s in states.items()}
    assert len({sim.observations[n]["group_name"] for n in judged}) == 1


def _rename(who: str, name: str) -> list[dict[str, Any]]:
    return [
        {"type": "update_group_data", "client": who, "name": name, "pending": name},
        {"type": "acknowledge_outbound", "client": who, "publication": name, "outcome": "accepted"},
    ]


def test_a_late_witness_is_counted_by_everyone() -> None:
    """Found by a random run: two renames race; carol then speaks on her branch. Alice
    had already decided by committer, before carol's message reached her; the message
    alone (a witness, rule 4) must make her decide again, or she stays on a branch the
    others left."""
    ops = [
        _rename("carol", "carol-branch"),
        _rename("bob", "bob-branch"),
        [{"type": "send_app_message", "sender": "alice", "payload": "a"}],
        [{"type": "deliver_all"}],
        [{"type": "tick", "clients": ["alice"]}],
        [{"type": "send_app_message", "sender": "carol", "payload": "c"}],
        [{"type": "tick", "clients": ["alice"]}],
    ]
    sim = Simulation(scenario(ops), shuffle=2)
    sim.run()
    assert {sim.observations[n]["group_name"] for n in CLIENTS} == {"carol-branch"}
    assert len({sim.observations[n]["exact"] for n in CLIENTS}) == 1

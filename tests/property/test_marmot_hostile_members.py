"""What a member (who holds the group-event key) or anyone publishing KeyPackages can
send: arbitrary or mangled MLS bytes inside a well-formed 445, arbitrary KeyPackage event
tags. Processing returns a typed outcome and never raises; a mangled message is never
accepted as something else."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from marmot.errors import InvalidKeyPackageEvent
from marmot.group import GroupConfig, MarmotGroup, create_group, join_group
from marmot.group_event import build_group_event, trial_decrypt
from marmot.inbound import ApplicationReceived, CommitApplied, Rejected, process_event
from marmot.key_package_event import parse_key_package_event
from marmot.operations import create_message, self_update
from marmot.welcome import parse_welcome_rumor
from nostr.event import UnsignedEvent
from tests.helpers.marmot_factories import RELAY, key_package, key_package_event
from tests.helpers.nostr_factories import NOW, CountingRng, secret

ALICE, BOB = secret("alice"), secret("bob")


def _pair() -> tuple[MarmotGroup, MarmotGroup]:
    bob_kp = parse_key_package_event(key_package_event("bob"), now=NOW)
    created = create_group(
        ALICE.public_key(), GroupConfig("p", (RELAY,)), [bob_kp], now=NOW, rng=CountingRng("p")
    )
    invite = parse_welcome_rumor(created.welcomes[0].rumor)
    return created.group, join_group(invite, key_package("bob")).group


ALICE_GROUP, BOB_GROUP = _pair()
RUMOR = UnsignedEvent.create(BOB.public_key(), NOW, 9, "the real text")
MESSAGE = create_message(BOB_GROUP, RUMOR, now=NOW, rng=CountingRng("m")).event
COMMIT = self_update(BOB_GROUP, now=NOW, rng=CountingRng("c")).event
KEY = BOB_GROUP.group_event_key()


def _inner(event_bytes: bytes) -> object:
    """Process ``event_bytes`` as the MLS message of a correctly encrypted 445."""
    event = build_group_event(
        ALICE_GROUP.nostr_group_id, event_bytes, KEY, now=NOW, rng=CountingRng(event_bytes)
    )
    return process_event(ALICE_GROUP, event, now=NOW)


MESSAGE_BYTES = trial_decrypt(MESSAGE, [(1, KEY)]).mls_message
COMMIT_BYTES = trial_decrypt(COMMIT, [(1, KEY)]).mls_message


def test_the_unmangled_messages_are_accepted() -> None:
    outcome = _inner(MESSAGE_BYTES)
    assert isinstance(outcome, ApplicationReceived) and outcome.rumor == RUMOR
    assert isinstance(_inner(COMMIT_BYTES), CommitApplied)


@given(st.binary(max_size=400))
def test_arbitrary_mls_bytes(data: bytes) -> None:
    assert isinstance(_inner(data), Rejected)


@given(st.sampled_from([MESSAGE_BYTES, COMMIT_BYTES]), st.data())
def test_mangled_messages(original: bytes, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(original) - 1))
    how = data.draw(st.sampled_from(["flip", "cut", "grow"]))
    if how == "flip":
        bit = 1 << data.draw(st.integers(0, 7))
        mangled = original[:at] + bytes((original[at] ^ bit,)) + original[at + 1 :]
    elif how == "cut":
        mangled = original[:at]
    else:
        mangled = original + data.draw(st.binary(min_size=1, max_size=8))
    outcome = _inner(mangled)
    assert isinstance(outcome, Rejected | ApplicationReceived | CommitApplied)
    if isinstance(outcome, ApplicationReceived):  # only an unchanged plaintext survives
        assert outcome.rumor == RUMOR


GOOD_KP = key_package_event("bob")
tag_names = st.sampled_from(
    [
        "d",
        "mls_protocol_version",
        "mls_ciphersuite",
        "mls_extensions",
        "mls_proposals",
        "relays",
        "i",
        "encoding",
        "client",
        "-",
    ]
)
values = st.one_of(
    st.sampled_from([*(v for t in GOOD_KP.tags for v in t[1:]), "0x000A", "", "wss://x"]),
    st.text(max_size=8),
)


@given(
    st.lists(st.tuples(tag_names, st.lists(values, max_size=3)), max_size=12),
    st.sampled_from([30443, 443]),
)
def test_key_package_event_tags(raw: list[tuple[str, list[str]]], kind: int) -> None:
    tags = [[name, *vals] for name, vals in raw]
    event = UnsignedEvent.create(BOB.public_key(), NOW, kind, GOOD_KP.content, tags).sign(
        BOB, rng=CountingRng("kp")
    )
    with contextlib.suppress(InvalidKeyPackageEvent):
        parsed = parse_key_package_event(event, now=NOW)
        assert parsed.author == BOB.public_key()

"""Invites, push registration and tokens, drafts."""

from __future__ import annotations

import pytest

from storage import Connection, NotFound
from storage.repos import drafts, groups, invites, push
from storage.rows import GroupPushToken, Invite, InviteState, PushPlatform, PushRegistration
from tests.helpers.storage_factories import ALICE, BOB, CAROL, hexid, new_group


def _invite(label: str, received_at: int) -> Invite:
    return Invite(
        wrapper_event_id=hexid("wrap " + label),
        rumor_id=hexid("rumor " + label),
        inviter=BOB,
        welcome=b"welcome bytes " + label.encode(),
        received_at=received_at,
        mls_group_id=b"\x07" * 32,
        nostr_group_id=hexid("ng"),
        group_name="Book club",
        key_package_ref=b"\x01" * 32,
        relays=("wss://g",),
    )


def test_invites_pending_then_decided(conn: Connection) -> None:
    late, early = _invite("late", 20), _invite("early", 10)
    assert invites.add(conn, late) and invites.add(conn, early)
    assert not invites.add(conn, late)  # the same gift wrap from another relay
    assert invites.list_invites(conn) == [early, late]
    assert "welcome bytes" not in repr(early)
    invites.decide(conn, early.wrapper_event_id, InviteState.ACCEPTED, now=30)
    with pytest.raises(NotFound):
        invites.decide(conn, early.wrapper_event_id, InviteState.DECLINED, now=31)
    assert invites.list_invites(conn) == [late]
    accepted = invites.get(conn, early.wrapper_event_id)
    assert accepted is not None and (accepted.state, accepted.decided_at) == (
        InviteState.ACCEPTED,
        30,
    )
    assert len(invites.list_invites(conn, None)) == 2
    assert (
        invites.delete(conn, late.wrapper_event_id)
        and invites.get(conn, late.wrapper_event_id) is None
    )


def test_push_registration(conn: Connection) -> None:
    assert push.registration(conn) is None
    reg = PushRegistration(PushPlatform.FCM, b"device-token", ALICE, "wss://hint", 5)
    push.set_registration(conn, reg)
    assert push.registration(conn) == reg
    assert "device-token" not in repr(reg)
    changed = PushRegistration(PushPlatform.APNS, b"\x01\x02", ALICE, None, 6)
    push.set_registration(conn, changed)
    assert push.registration(conn) == changed
    push.set_registration(conn, None)
    assert push.registration(conn) is None


def test_group_tokens_follow_leaves(conn: Connection, group: bytes) -> None:
    def token(leaf: int, owner: str) -> GroupPushToken:
        return GroupPushToken(group, leaf, owner, bytes([leaf]) * 1084, CAROL, "wss://hint", 1)

    for leaf, owner in [(1, BOB), (2, CAROL), (3, ALICE)]:
        push.put_token(conn, token(leaf, owner))
    push.put_token(conn, token(1, BOB))  # a new 447 replaces the leaf's token
    assert [t.leaf_index for t in push.tokens(conn, group)] == [1, 2, 3]
    assert push.groups_with_tokens(conn) == {group: 3}
    # After a commit: leaf 2 left, leaf 3 now belongs to someone else.
    assert push.drop_stale(conn, group, {0: ALICE, 1: BOB, 3: hexid("newcomer")}) == 2
    assert [t.leaf_index for t in push.tokens(conn, group)] == [1]
    assert push.remove_token(conn, group, 1) and not push.remove_token(conn, group, 1)
    assert push.tokens(conn, group) == []


def test_drafts(conn: Connection, group: bytes) -> None:
    assert drafts.get(conn, group) is None
    drafts.save(conn, group, "half a thought", now=1)
    drafts.save(conn, group, "half a thought, finished", now=2, reply_to=hexid("m"))
    draft = drafts.get(conn, group)
    assert draft is not None and (draft.content, draft.reply_to, draft.updated_at) == (
        "half a thought, finished",
        hexid("m"),
        2,
    )
    other = new_group("other")
    groups.create(conn, other, now=1)
    drafts.save(
        conn, other.mls_group_id, "", now=3, reply_to=hexid("n")
    )  # a reply with no text yet
    assert [d.mls_group_id for d in drafts.all_drafts(conn)] == [group, other.mls_group_id]
    drafts.save(conn, group, "", now=4)  # emptied: removed
    assert drafts.get(conn, group) is None
    groups.delete(conn, other.mls_group_id)
    assert drafts.all_drafts(conn) == []

"""Messages: dedupe, timeline paging, status, read state, reactions, deletions, edits."""

from __future__ import annotations

import dataclasses

import pytest

from storage import Connection, StorageBug
from storage.connection import translate_errors
from storage.repos import groups, messages
from storage.rows import Deletion, DeliveryStatus, PageCursor, Reaction
from tests.helpers.storage_factories import ALICE, BOB, CAROL, chat, hexid, new_group, rumor


def test_insert_is_idempotent_by_rumor_and_by_event(conn: Connection, group: bytes) -> None:
    first = chat(group, 1)
    seq = messages.insert(conn, first, now=5)
    assert seq is not None
    assert messages.insert(conn, first, now=6) is None
    same_event = dataclasses.replace(chat(group, 2), event_id=first.event_id)
    assert messages.insert(conn, same_event, now=6) is None
    stored = messages.by_seq(conn, seq)
    assert stored is not None
    assert (stored.content, stored.tags, stored.received_at, stored.status) == (
        "message 1",
        (("client", "burrow-test"),),
        5,
        DeliveryStatus.RECEIVED,
    )
    assert messages.by_rumor_id(conn, group, first.rumor_id) == stored
    assert messages.by_event_id(conn, first.event_id or "") == stored
    assert messages.count(conn, group) == messages.count(conn) == 1


def test_pages_walk_the_timeline_in_both_directions(conn: Connection, group: bytes) -> None:
    # 120 messages, three per second, inserted out of order: created_at then arrival decides.
    order = list(range(120))
    order = order[60:] + order[:60]
    for n in order:
        messages.insert(conn, chat(group, n, created_at=1000 + n // 3), now=1)
    newest = messages.page(conn, group, limit=50)
    assert len(newest) == 50
    timeline = [m.cursor for m in newest]
    assert timeline == sorted(timeline)
    collected = list(newest)
    while older := messages.page(conn, group, before=collected[0].cursor, limit=50):
        collected = older + collected
    assert len(collected) == 120
    cursors = [(m.created_at, m.seq) for m in collected]
    assert cursors == sorted(cursors) and len(set(cursors)) == 120
    forward = messages.page(conn, group, after=collected[9].cursor, limit=5)
    assert forward == collected[10:15]
    assert messages.page(conn, group, after=collected[-1].cursor) == []
    assert messages.latest(conn, group) == collected[-1]


def test_pages_are_per_group(conn: Connection, group: bytes) -> None:
    other = new_group("other")
    groups.create(conn, other, now=1)
    messages.insert(conn, chat(group, 1), now=1)
    messages.insert(conn, chat(other.mls_group_id, 1), now=1)
    assert [m.mls_group_id for m in messages.page(conn, group)] == [group]
    assert messages.latest(conn, new_group("empty").mls_group_id) is None
    assert messages.page(conn, group, before=PageCursor(0, 0)) == []


def test_delivery_status_and_resend(conn: Connection, group: bytes) -> None:
    own = chat(group, 1, author=ALICE, status=DeliveryStatus.SENDING, is_read=True)
    messages.insert(conn, own, now=1)
    assert messages.set_status(conn, group, own.rumor_id, DeliveryStatus.FAILED)
    resent = hexid("re-encrypted in a later epoch")
    assert messages.set_status(conn, group, own.rumor_id, DeliveryStatus.SENT, event_id=resent)
    stored = messages.by_event_id(conn, resent)
    assert stored is not None and stored.status is DeliveryStatus.SENT
    assert not messages.set_status(conn, group, "00" * 32, DeliveryStatus.SENT)


def test_read_state_and_unread_counts(conn: Connection, group: bytes) -> None:
    other = new_group("other")
    groups.create(conn, other, now=1)
    seqs = [messages.insert(conn, chat(group, n), now=1) for n in range(5)]
    messages.insert(conn, chat(group, 9, author=ALICE, is_read=True), now=1)  # our own
    messages.insert(conn, chat(other.mls_group_id, 1), now=1)
    assert messages.unread_counts(conn) == {group: 5, other.mls_group_id: 1}
    assert messages.mark_read(conn, group, up_to_seq=seqs[2]) == 3
    assert messages.unread_count(conn, group) == 2
    assert messages.mark_read(conn, group) == 2
    assert messages.unread_counts(conn) == {other.mls_group_id: 1}


def test_reactions_and_their_deletion(conn: Connection, group: bytes) -> None:
    messages.insert(conn, chat(group, 1), now=1)
    target = rumor(group, 1)
    like = Reaction(hexid("like"), target, ALICE, "+", 10)
    heart = Reaction(hexid("heart"), target, CAROL, "❤", 11)
    assert messages.add_reaction(conn, group, like)
    assert not messages.add_reaction(conn, group, like)
    assert messages.add_reaction(conn, group, heart)
    assert messages.reactions(conn, group, [target, "ff" * 32]) == {target: [like, heart]}
    # Only the author can take a reaction back.
    assert (
        messages.apply_deletion(conn, group, Deletion(like.rumor_id, CAROL, hexid("d1"), 12)) == 0
    )
    assert (
        messages.apply_deletion(conn, group, Deletion(like.rumor_id, ALICE, hexid("d2"), 12)) == 1
    )
    assert messages.reactions(conn, group, [target]) == {target: [heart]}
    # A deleted reaction that arrives again (replay from another relay) stays deleted.
    assert not messages.add_reaction(conn, group, like)


def test_deletion_by_author_only_and_before_arrival(conn: Connection, group: bytes) -> None:
    messages.insert(conn, chat(group, 1, content="secret plans"), now=1)
    assert (
        messages.apply_deletion(conn, group, Deletion(rumor(group, 1), CAROL, hexid("x"), 5)) == 0
    )
    assert messages.by_rumor_id(conn, group, rumor(group, 1)).content == "secret plans"  # type: ignore[union-attr]
    assert messages.apply_deletion(conn, group, Deletion(rumor(group, 1), BOB, hexid("y"), 6)) == 1
    deleted = messages.by_rumor_id(conn, group, rumor(group, 1))
    assert deleted is not None
    assert (deleted.content, deleted.tags, deleted.deleted_at) == ("", (), 6)
    # The deletion of message 2 arrives before message 2 itself.
    messages.apply_deletion(conn, group, Deletion(rumor(group, 2), BOB, hexid("z"), 7))
    messages.insert(conn, chat(group, 2, content="never shown"), now=8)
    late = messages.by_rumor_id(conn, group, rumor(group, 2))
    assert late is not None and (late.content, late.deleted_at) == ("", 7)
    # ... but a deletion by someone else does not hide a later-arriving message.
    messages.apply_deletion(conn, group, Deletion(rumor(group, 3), CAROL, hexid("w"), 7))
    messages.insert(conn, chat(group, 3, content="still here"), now=8)
    assert messages.by_rumor_id(conn, group, rumor(group, 3)).content == "still here"  # type: ignore[union-attr]


def test_edits_by_author_newest_wins(conn: Connection, group: bytes) -> None:
    messages.insert(conn, chat(group, 1, content="helo"), now=1)
    target = rumor(group, 1)
    assert not messages.apply_edit(conn, group, target, CAROL, "hijack", edited_at=5)
    assert messages.apply_edit(conn, group, target, BOB, "hello", edited_at=5)
    assert not messages.apply_edit(conn, group, target, BOB, "older edit", edited_at=4)
    edited = messages.by_rumor_id(conn, group, target)
    assert edited is not None and (edited.content, edited.edited_at) == ("hello", 5)


def test_invalidating_a_discarded_branch(conn: Connection, group: bytes) -> None:
    for n, epoch in enumerate([3, 4, 4, 5]):
        messages.insert(conn, chat(group, n, epoch=epoch), now=1)
    assert messages.mark_invalidated(conn, group, after_epoch=3) == 3
    statuses = [m.status for m in messages.page(conn, group)]
    assert statuses == [DeliveryStatus.RECEIVED] + [DeliveryStatus.INVALIDATED] * 3


def test_insert_many_skips_duplicates(conn: Connection, group: bytes) -> None:
    batch = [chat(group, n) for n in range(10)]
    assert messages.insert_many(conn, batch, now=1) == 10
    assert messages.insert_many(conn, [*batch[5:], chat(group, 10)], now=2) == 1


def test_invalid_rows_raise_instead_of_vanishing_as_duplicates(
    conn: Connection, group: bytes
) -> None:
    bad = dataclasses.replace(chat(group, 1), author="not a pubkey")
    with pytest.raises(StorageBug), translate_errors():
        messages.insert(conn, bad, now=1)
    assert messages.count(conn) == 0

"""One event, one transaction: everything an event produced lands together or not at all."""

from __future__ import annotations

import pytest

from storage import (
    Conflict,
    Connection,
    Database,
    IncomingChange,
    OutgoingEvent,
    StorageBug,
    apply_incoming,
    record_outgoing,
)
from storage.repos import groups, messages, outbox, processed
from storage.rows import (
    Deletion,
    DeliveryStatus,
    ExporterSecret,
    MlsState,
    Outcome,
    Reaction,
    StateWrite,
)
from tests.helpers.storage_factories import ALICE, BOB, chat, gid, hexid, new_group, rumor


def _change(group: bytes, n: int, *, revision: int, **kw: object) -> IncomingChange:
    return IncomingChange(
        event_id=hexid(f"445 #{n}"),
        kind=445,
        created_at=1000 + n,
        outcome=Outcome.PROCESSED,
        mls_group_id=group,
        epoch=0,
        state=StateWrite(group, revision, MlsState(1, b"after %d" % n), 0, 0),
        messages=(chat(group, n),),
        **kw,  # type: ignore[arg-type]
    )


def test_apply_incoming_writes_state_message_and_mark(conn: Connection, group: bytes) -> None:
    conn.execute("BEGIN")
    applied = apply_incoming(conn, _change(group, 1, revision=0), now=5)
    conn.execute("COMMIT")
    assert applied.duplicate is False and applied.revision == 1 and len(applied.message_seqs) == 1
    assert groups.load_state(conn, group).state.data == b"after 1"
    assert messages.by_seq(conn, applied.message_seqs[0]).content == "message 1"  # type: ignore[union-attr]
    assert processed.is_done(conn, hexid("445 #1"))
    conn.execute("BEGIN")
    again = apply_incoming(conn, _change(group, 1, revision=1), now=6)
    conn.execute("COMMIT")
    assert again.duplicate and groups.load_state(conn, group).revision == 1


def test_annotations_and_retryable_outcomes(conn: Connection, group: bytes) -> None:
    messages.insert(conn, chat(group, 1), now=1)
    conn.execute("BEGIN")
    apply_incoming(
        conn,
        IncomingChange(
            event_id=hexid("reaction event"),
            kind=445,
            created_at=5,
            outcome=Outcome.PROCESSED,
            mls_group_id=group,
            reactions=(Reaction(hexid("r"), rumor(group, 1), ALICE, "+", 5),),
            deletions=(Deletion(rumor(group, 1), BOB, hexid("d"), 5),),
        ),
        now=5,
    )
    waiting = IncomingChange(
        hexid("future"), 445, 6, Outcome.RETRYABLE, "epoch 9 not yet", group, event_json="{}"
    )
    assert apply_incoming(conn, waiting, now=6).duplicate is False
    assert apply_incoming(conn, waiting, now=7).duplicate is False  # retryable is not final
    conn.execute("COMMIT")
    assert messages.reactions(conn, group, [rumor(group, 1)])[rumor(group, 1)][0].content == "+"
    assert messages.by_rumor_id(conn, group, rumor(group, 1)).deleted_at == 5  # type: ignore[union-attr]
    assert processed.get(conn, hexid("future")).attempts == 2  # type: ignore[union-attr]
    conn.execute("BEGIN")
    with pytest.raises(StorageBug, match="group"):
        apply_incoming(
            conn,
            IncomingChange("ab" * 32, 445, 1, Outcome.PROCESSED, reactions=waiting_reaction()),
            now=1,
        )
    conn.execute("ROLLBACK")


def waiting_reaction() -> tuple[Reaction, ...]:
    return (Reaction(hexid("x"), hexid("y"), ALICE, "+", 1),)


def test_units_refuse_to_run_outside_a_transaction(conn: Connection, group: bytes) -> None:
    with pytest.raises(StorageBug, match="transaction"):
        apply_incoming(conn, _change(group, 1, revision=0), now=1)
    with pytest.raises(StorageBug, match="transaction"):
        record_outgoing(conn, (), now=1)


@pytest.mark.asyncio
async def test_a_failure_midway_leaves_nothing_behind(db: Database) -> None:
    await db.transact(groups.create, new_group(), now=1)
    group = gid("g")
    # The message insert fails (its group does not exist) after the state was written.
    bad = IncomingChange(
        event_id=hexid("bad"),
        kind=445,
        created_at=1,
        outcome=Outcome.PROCESSED,
        mls_group_id=group,
        state=StateWrite(
            group, 0, MlsState(1, b"half"), 1, 0, exporter_secrets=(ExporterSecret(1, "x", b"k"),)
        ),
        messages=(chat(gid("missing"), 1),),
    )
    with pytest.raises(StorageBug):
        await db.transact(apply_incoming, bad, now=2)
    stored = await db.run(groups.load_state, group)
    assert (stored.state.data, stored.epoch, stored.revision) == (b"state-0", 0, 0)
    assert await db.run(processed.get, hexid("bad")) is None
    assert await db.run(groups.exporter_secrets, group, "x") == []


@pytest.mark.asyncio
async def test_concurrent_writers_from_one_base_conflict(db: Database) -> None:
    await db.transact(groups.create, new_group(), now=1)
    group = gid("g")
    await db.transact(apply_incoming, _change(group, 1, revision=0), now=2)
    with pytest.raises(Conflict):
        await db.transact(apply_incoming, _change(group, 2, revision=0), now=3)
    assert await db.run(processed.get, hexid("445 #2")) is None
    assert await db.run(messages.count, group) == 1


@pytest.mark.asyncio
async def test_record_outgoing_stores_state_message_and_outbox(db: Database) -> None:
    await db.transact(groups.create, new_group(), now=1)
    group = gid("g")
    commit = OutgoingEvent(hexid("commit"), "{}", ("wss://g",), "commit")
    recorded = await db.transact(
        record_outgoing,
        (commit,),
        now=5,
        state=StateWrite(group, 0, MlsState(1, b"ratchet advanced"), 0, 0),
        new_messages=(chat(group, 1, author=ALICE, status=DeliveryStatus.SENDING, is_read=True),),
        mls_group_id=group,
    )
    (commit_id,) = recorded.outbox_ids
    welcome = OutgoingEvent(hexid("welcome"), "{}", ("wss://inbox",), "welcome", after_id=commit_id)
    await db.transact(record_outgoing, (welcome,), now=6)
    due = await db.run(outbox.due, now=10)
    assert [e.purpose for e in due] == ["commit"]
    assert due[0].mls_group_id == group
    assert (await db.run(groups.load_state, group)).state.data == b"ratchet advanced"
    assert recorded.revision == 1 and len(recorded.message_seqs) == 1


@pytest.mark.asyncio
async def test_a_commit_and_its_welcomes_in_one_call(db: Database) -> None:
    await db.transact(groups.create, new_group(), now=1)
    events = (
        OutgoingEvent(hexid("commit"), "{}", ("wss://g",), "commit"),
        OutgoingEvent(hexid("w1"), "{}", ("wss://a",), "welcome", after_index=0),
        OutgoingEvent(hexid("w2"), "{}", ("wss://b",), "welcome", after_index=0),
    )
    recorded = await db.transact(record_outgoing, events, now=5, mls_group_id=gid("g"))
    commit_id, *welcome_ids = recorded.outbox_ids
    assert [e.id for e in await db.run(outbox.due, now=5)] == [commit_id]
    await db.transact(outbox.mark_sent, commit_id, ["wss://g"], now=6)
    assert [e.id for e in await db.run(outbox.due, now=6)] == welcome_ids
    bad = (OutgoingEvent(hexid("x"), "{}", (), "welcome", after_index=0),)
    with pytest.raises(StorageBug, match="after_index"):
        await db.transact(record_outgoing, bad, now=7)

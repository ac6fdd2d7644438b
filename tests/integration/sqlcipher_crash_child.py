"""Child process of the SIGKILL crash test: applies group events to a database in a loop.

    python tests/integration/sqlcipher_crash_child.py DB_PATH SEED

Event k of a group is fully determined by (group, k): whether it is incoming (a processed
mark) or outgoing (an outbox entry), whether it is a commit (epoch + 1 with a snapshot,
members and exporter secret), its ids and its message. The group's state blob records how
many events were applied, so after any crash `check` can tell exactly what must be stored
and find anything half-applied. The parent imports this module for `check`.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage import (
    LATEST_VERSION,
    CipherProfile,
    Connection,
    IncomingChange,
    OutgoingEvent,
    apply_incoming,
    connect,
    integrity_errors,
    record_outgoing,
)
from storage.migrations import schema_version
from storage.repos import groups, messages, outbox, processed, snapshots
from storage.rows import (
    CommitKey,
    DeliveryStatus,
    ExporterSecret,
    GroupMetadata,
    GroupState,
    Member,
    MlsState,
    NewGroup,
    NewMessage,
    Outcome,
    StateWrite,
)

PROFILE = CipherProfile(kdf_iter=1000)  # the test is about atomicity, not key derivation
PASSPHRASE = "crash test passphrase"
GROUPS = ("alpha", "beta", "gamma")
# Tables that exist from each schema version on: a crash mid-migration must leave a
# database whose tables match its user_version exactly.
TABLES_BY_VERSION = {
    1: "messages",
    2: "messages_fts",
    3: "drafts",
    4: "pictures",
    5: "unopened_drops",
}


def _h(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def gid(group: str) -> bytes:
    return bytes.fromhex(_h("group", group))


def event_id(group: str, k: int) -> str:
    return _h("event", group, k)


def rumor_id(group: str, k: int) -> str:
    return _h("rumor", group, k)


def is_commit(group: str, k: int) -> bool:
    return int(_h("commit?", group, k), 16) % 4 == 0


def is_outgoing(group: str, k: int) -> bool:
    return int(_h("out?", group, k), 16) % 3 == 0


def epochs(group: str, applied: int) -> list[int]:
    """The group's epoch after each of its events 1..applied."""
    out, epoch = [], 0
    for k in range(1, applied + 1):
        epoch += is_commit(group, k)
        out.append(epoch)
    return out


def state_blob(group: str, applied: int, epoch: int) -> bytes:
    # Sizes vary up to ~48 KB so a transaction spans many pages and a kill can land mid-way.
    header = json.dumps({"group": group, "applied": applied, "epoch": epoch}).encode()
    size = int(_h("size", group, applied), 16) % 48_000
    return header + b"\n" + hashlib.shake_256(header).digest(size)


def members_at(epoch: int) -> tuple[Member, ...]:
    return tuple(Member(leaf, _h("member", leaf)) for leaf in range(2 + epoch % 5))


def _create_groups(conn: Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    for name in GROUPS:
        if groups.get(conn, gid(name)) is None:
            groups.create(
                conn,
                NewGroup(
                    mls_group_id=gid(name),
                    metadata=GroupMetadata(_h("nostr", name), name, marmot_data=b"\xf2\xee"),
                    state=GroupState.ACTIVE,
                    epoch=0,
                    our_leaf=0,
                    mls_state=MlsState(1, state_blob(name, 0, 0)),
                    members=members_at(0),
                    exporter_secrets=(ExporterSecret(0, "group-event", bytes(32)),),
                ),
                now=0,
            )
    conn.execute("COMMIT")


def _state_write(name: str, k: int, base_revision: int, epoch: int) -> StateWrite:
    """The state write of event k, which moves the group from ``epoch``."""
    commit = is_commit(name, k)
    new_epoch = epoch + 1 if commit else epoch
    secret = ExporterSecret(new_epoch, "group-event", bytes([new_epoch % 256]) * 32)
    return StateWrite(
        mls_group_id=gid(name),
        base_revision=base_revision,
        state=MlsState(1, state_blob(name, k, new_epoch)),
        epoch=new_epoch,
        our_leaf=0,
        members=members_at(new_epoch) if commit else None,
        exporter_secrets=(secret,) if commit else (),
        snapshot=CommitKey(1000 + k, event_id(name, k), b"") if commit else None,
    )


def _message(name: str, k: int, epoch: int, outgoing: bool) -> NewMessage:
    return NewMessage(
        mls_group_id=gid(name),
        rumor_id=rumor_id(name, k),
        kind=9,
        author=_h("member", 0 if outgoing else 1),
        content=f"{name} message {k} in epoch {epoch}",
        created_at=1000 + k,
        status=DeliveryStatus.SENDING if outgoing else DeliveryStatus.RECEIVED,
        event_id=event_id(name, k),
        epoch=epoch,
    )


def _next(conn: Connection, name: str) -> None:
    """Apply the group's next event in one transaction, as the app would."""
    stored = groups.load_state(conn, gid(name))
    info = json.loads(stored.state.data.split(b"\n", 1)[0])
    k = info["applied"] + 1
    write = _state_write(name, k, stored.revision, info["epoch"])
    outgoing = is_outgoing(name, k)
    message = _message(name, k, write.epoch, outgoing)
    conn.execute("BEGIN IMMEDIATE")
    if outgoing:
        event = OutgoingEvent(event_id(name, k), "{}", ("ws://127.0.0.1:1",), "message")
        record_outgoing(
            conn, (event,), now=k, state=write, new_messages=(message,), mls_group_id=gid(name)
        )
    else:
        change = IncomingChange(
            event_id(name, k),
            445,
            1000 + k,
            Outcome.PROCESSED,
            mls_group_id=gid(name),
            epoch=info["epoch"],
            state=write,
            messages=(message,),
        )
        apply_incoming(conn, change, now=k)
    conn.execute("COMMIT")


def run(path: str, seed: int) -> None:
    conn = connect(path, PASSPHRASE, create=True, profile=PROFILE)
    _create_groups(conn)
    print("ready", flush=True)
    rng = random.Random(seed)
    while True:
        _next(conn, rng.choice(GROUPS))


def check(path: str) -> int:
    """Verify the database after a crash; returns how many events are applied in total."""
    conn = connect(path, PASSPHRASE, profile=PROFILE, migrate=False)
    try:
        version = schema_version(conn)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
        for since, table in TABLES_BY_VERSION.items():
            assert (table in tables) == (version >= since), (version, table)
        if version < LATEST_VERSION:
            return 0
        assert integrity_errors(conn) == []
        return sum(_check_group(conn, name) for name in GROUPS if groups.get(conn, gid(name)))
    finally:
        conn.close()


def _check_group(conn: Connection, name: str) -> int:
    g = gid(name)
    stored = groups.load_state(conn, g)
    info = json.loads(stored.state.data.split(b"\n", 1)[0])
    applied, epoch = info["applied"], info["epoch"]
    assert stored.state.data == state_blob(name, applied, epoch)
    expected_epochs = epochs(name, applied)
    assert epoch == (expected_epochs[-1] if applied else 0) == stored.epoch
    assert groups.members(conn, g) == list(members_at(epoch))
    secrets = groups.exporter_secrets(conn, g, "group-event")
    assert [s.epoch for s in secrets] == list(range(epoch, -1, -1))
    assert [s.epoch for s in snapshots.list_snapshots(conn, g)] == list(
        range(max(0, epoch - 5), epoch)
    )
    ks = range(1, applied + 1)
    assert {e.event_id for e in processed.for_group(conn, g)} == {
        event_id(name, k) for k in ks if not is_outgoing(name, k)
    }
    assert {e.event_id for e in outbox.pending(conn, mls_group_id=g)} == {
        event_id(name, k) for k in ks if is_outgoing(name, k)
    }
    stored_messages = messages.page(conn, g, limit=applied + 10)
    assert [m.rumor_id for m in stored_messages] == [rumor_id(name, k) for k in ks]
    assert [m.epoch for m in stored_messages] == expected_epochs
    return int(applied)


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]))

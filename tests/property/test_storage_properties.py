"""Storage properties: paging walks a timeline exactly; any search text is a valid query;
the search index always matches the stored messages."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import Connection, connect, integrity_errors
from storage.repos import groups, messages, search
from storage.rows import Deletion, Message, PageCursor
from tests.helpers.storage_factories import (
    BOB,
    FAST,
    PASSPHRASE,
    chat,
    gid,
    hexid,
    new_group,
    rumor,
)

GROUP = gid("g")


@pytest.fixture(scope="module")
def conn() -> Iterator[Connection]:
    # One database for all examples (each example starts by emptying it): creating a file per
    # example would dominate the run time.
    with tempfile.TemporaryDirectory() as folder:
        connection = connect(Path(folder) / "p.db", PASSPHRASE, create=True, profile=FAST)
        groups.create(connection, new_group(), now=1)
        yield connection
        connection.close()


def _reset(conn: Connection) -> None:
    conn.execute("DELETE FROM messages")
    conn.execute("DELETE FROM deletions")


@settings(max_examples=40)
@given(
    created=st.lists(st.integers(min_value=0, max_value=8), min_size=0, max_size=60),
    limit=st.integers(min_value=1, max_value=7),
)
def test_paging_back_and_forth_visits_every_message_once_in_order(
    conn: Connection, created: list[int], limit: int
) -> None:
    _reset(conn)
    for n, at in enumerate(created):  # many share a second: arrival order must break ties
        messages.insert(conn, chat(GROUP, n, created_at=at), now=1)
    backwards: list[int] = []
    page = messages.page(conn, GROUP, limit=limit)
    while page:
        backwards = [m.seq for m in page] + backwards
        page = messages.page(conn, GROUP, before=page[0].cursor, limit=limit)
    # The expected order, computed independently: by (created_at, arrival).
    expected = [seq for _, seq in sorted((m.created_at, m.seq) for m in _all(conn))]
    forwards: list[int] = expected[:1]
    while forwards and (
        page := messages.page(conn, GROUP, after=_cursor(conn, forwards[-1]), limit=limit)
    ):
        forwards += [m.seq for m in page]
    assert backwards == forwards == expected
    assert len(expected) == len(created)


def _all(conn: Connection) -> list[Message]:
    rows = conn.execute(f"SELECT {messages.COLUMNS} FROM messages").fetchall()
    return [messages.from_row(row) for row in rows]


def _cursor(conn: Connection, seq: int) -> PageCursor:
    message = messages.by_seq(conn, seq)
    assert message is not None
    return message.cursor


@settings(max_examples=60)
@given(text=st.text(max_size=40))
def test_any_text_is_a_valid_search(conn: Connection, text: str) -> None:
    hits = search.search(conn, text, limit=5)
    assert len(hits) <= 5


WORDS = st.sampled_from(["apple", "banana", "cherry", "date", "elder", "fig", "grape"])


@settings(max_examples=30)
@given(
    texts=st.lists(st.lists(WORDS, min_size=1, max_size=4).map(" ".join), max_size=12),
    deleted=st.sets(st.integers(min_value=0, max_value=11)),
    edits=st.dictionaries(
        st.integers(min_value=0, max_value=11), st.lists(WORDS, max_size=3).map(" ".join)
    ),
    query=WORDS,
)
def test_search_finds_exactly_the_live_messages_containing_the_word(
    conn: Connection, texts: list[str], deleted: set[int], edits: dict[int, str], query: str
) -> None:
    _reset(conn)
    current = dict(enumerate(texts))
    for n, text in current.items():
        messages.insert(conn, chat(GROUP, n, content=text), now=1)
    for n, text in edits.items():
        if n in current and messages.apply_edit(
            conn, GROUP, rumor(GROUP, n), BOB, text, edited_at=5
        ):
            current[n] = text
    for n in deleted:
        messages.apply_deletion(conn, GROUP, Deletion(rumor(GROUP, n), BOB, hexid(f"d{n}"), 6))
        current.pop(n, None)
    expected = {rumor(GROUP, n) for n, text in current.items() if query in text.split()}
    found = {hit.message.rumor_id for hit in search.search(conn, query, limit=100)}
    assert found == expected
    assert integrity_errors(conn) == []

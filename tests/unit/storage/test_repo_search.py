"""Full-text search: matching, paging, group filter, and the index following every change."""

from __future__ import annotations

import pytest

from storage import Connection
from storage.repos import groups, messages, search
from storage.rows import Deletion
from tests.helpers.storage_factories import BOB, chat, hexid, new_group, rumor


@pytest.fixture
def filled(conn: Connection, group: bytes) -> bytes:
    texts = [
        "Lunch at the café?",
        "the cafe on Main street",
        "Meeting moved to Friday",
        "friday works",
    ]
    for n, text in enumerate(texts):
        messages.insert(conn, chat(group, n, content=text), now=1)
    return group


def _contents(conn: Connection, text: str, **kw: object) -> list[str]:
    return [hit.message.content for hit in search.search(conn, text, **kw)]  # type: ignore[arg-type]


def test_words_match_accent_and_case_insensitively_newest_first(
    conn: Connection, filled: bytes
) -> None:
    assert _contents(conn, "CAFE") == ["the cafe on Main street", "Lunch at the café?"]
    assert _contents(conn, "fri") == [
        "friday works",
        "Meeting moved to Friday",
    ]  # last word: prefix
    assert _contents(conn, "meeting friday") == ["Meeting moved to Friday"]  # all words
    assert _contents(conn, "main cafe") == ["the cafe on Main street"]


@pytest.mark.parametrize(
    "text", ["", "   ", "!!!", '"', "*", "NEAR(a b)", "a OR", "x AND (", "col:val", "^start"]
)
def test_any_input_is_a_valid_query(conn: Connection, filled: bytes, text: str) -> None:
    search.search(conn, text)  # never an FTS5 syntax error


def test_fts_query_quotes_every_word() -> None:
    assert search.fts_query('say "hi" OR bye') == '"say" "hi" "OR" "bye" *'
    assert search.fts_query("x", prefix_last=False) == '"x"'
    assert search.fts_query(" ,; ") is None


def test_snippets_mark_the_match(conn: Connection, filled: bytes) -> None:
    (hit,) = search.search(conn, "street", highlight=("[", "]"))
    assert hit.snippet == "the cafe on Main [street]"


def test_paging_and_group_filter(conn: Connection, group: bytes) -> None:
    other = new_group("other")
    groups.create(conn, other, now=1)
    for n in range(25):
        messages.insert(conn, chat(group, n, content=f"needle {n}"), now=1)
        messages.insert(conn, chat(other.mls_group_id, n, content=f"needle other {n}"), now=1)
    seen: list[str] = []
    before = None
    while page := search.search(conn, "needle", mls_group_id=group, before_seq=before, limit=10):
        seen += [hit.message.content for hit in page]
        before = page[-1].message.seq
    assert seen == [f"needle {n}" for n in reversed(range(25))]
    assert len(search.search(conn, "needle", limit=100)) == 50
    assert search.search(conn, "needle", limit=0) == []


def test_deleted_edited_and_non_chat_messages(conn: Connection, filled: bytes) -> None:
    messages.apply_deletion(conn, filled, Deletion(rumor(filled, 0), BOB, hexid("d"), 5))
    assert _contents(conn, "lunch") == []
    messages.apply_edit(
        conn, filled, rumor(filled, 1), BOB, "the tea room on Main street", edited_at=6
    )
    assert _contents(conn, "cafe") == []
    assert _contents(conn, "tea room") == ["the tea room on Main street"]
    messages.insert(conn, chat(filled, 50, content="kind 1 not indexed", kind=1), now=1)
    assert _contents(conn, "indexed") == []
    # Words shared by the old and new text survive an edit.
    assert _contents(conn, "main street") == ["the tea room on Main street"]
    groups.delete(conn, filled)
    assert _contents(conn, "friday") == []

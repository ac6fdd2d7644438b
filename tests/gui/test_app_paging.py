"""A chat with 100,000 messages in the real encrypted database opens with one page and grows
a page per scroll to the top: the window never loads the whole history."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from storage import Connection
from storage.repos import messages as messages_repo
from storage.rows import DeliveryStatus, NewMessage
from tests.gui.helpers import open_chat
from tests.gui.real_app import RealApp, onboard, run, watch_models
from ui.views import MessageRow
from ui.widgets.chat_view import PAGE

pytestmark = pytest.mark.gui

TOTAL = 100_000
T0 = 1_600_000_000
PEOPLE = (hashlib.sha256(b"bob").hexdigest(), hashlib.sha256(b"carol").hexdigest())


def history(gid: bytes, me: str) -> list[NewMessage]:
    """Every fifth message ours, the others from two people; the newest few unread."""
    out = []
    for i in range(TOTAL):
        author = me if i % 5 == 0 else PEOPLE[i % 2]
        out.append(
            NewMessage(
                gid,
                f"{i:064x}",
                9,
                author,
                f"message {i}" + " and a longer tail that wraps" * (i % 3),
                T0 + i * 37,
                DeliveryStatus.SENT if author == me else DeliveryStatus.RECEIVED,
                hashlib.sha256(f"event {i}".encode()).hexdigest(),
                (),
                None,
                0,
                is_read=i < TOTAL - 5,
            )
        )
    return out


def fill(conn: Connection, rows: list[NewMessage]) -> int:
    return messages_repo.insert_many(conn, rows, now=T0 + TOTAL * 37)


def test_a_hundred_thousand_messages_load_page_by_page(qtbot: QtBot, real_app: RealApp) -> None:
    window, bridge = real_app.window, real_app.bridge

    def unread(chat_id: str) -> int:
        row = window.session.chats.get(chat_id)
        return -1 if row is None else row.unread

    onboard(qtbot, real_app, "Alice")
    session = bridge.session()
    chat_id = run(qtbot, session.groups.create("Everything ever said", [])).id
    gid = run(qtbot, session.groups.store.resolve(chat_id)).mls_group_id
    started = time.monotonic()
    stored = run(qtbot, session.ctx.db.transact(fill, history(gid, session.pubkey)), 120_000)
    assert stored == TOTAL, f"built in {time.monotonic() - started:.1f}s"
    run(qtbot, bridge.emit_chat(chat_id))
    qtbot.waitUntil(lambda: unread(chat_id) == 5)

    fetched: list[int] = []
    original = bridge.messages

    async def counting(*args: Any, **kwargs: Any) -> list[MessageRow]:
        page = await original(*args, **kwargs)
        fetched.append(len(page))
        return page

    bridge.messages = counting  # type: ignore[method-assign]
    model, bar = window.chat.model, window.chat.list.verticalScrollBar()
    watched = watch_models(model)
    open_chat(qtbot, window, chat_id)
    assert fetched == [PAGE] and model.rowCount() == PAGE
    assert model.rows[-1].id == f"{TOTAL - 1:064x}"  # the newest at the bottom
    assert model.rows[-1].author_name.startswith("npub1")  # no profile known: the key
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() > 0)
    qtbot.waitUntil(lambda: unread(chat_id) == 0)  # what is on screen counts as read
    for page in range(2, 6):
        bar.setValue(0)  # the reader reaches the top: one older page, no more
        qtbot.waitUntil(lambda page=page: model.rowCount() == page * PAGE)
    assert fetched == [PAGE] * 5  # 250 of 100,000 rows read from the database
    expected = [f"{i:064x}" for i in range(TOTAL - 5 * PAGE, TOTAL)]
    assert [r.id for r in model.rows] == expected
    own = [r for r in model.rows if r.own]
    assert own and all(r.author == session.pubkey for r in own)
    assert watched

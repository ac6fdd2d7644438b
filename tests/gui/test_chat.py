"""Messaging in the chat view: send, receive, reply, react, delete, retry, drafts, search."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.fake_chats import FakeChat
from tests.gui.helpers import click_confirm, open_chat
from tests.gui.scenes import Demo
from ui.delegates.message_layout import MessageLayout
from ui.main_window import MainWindow
from ui.models.roles import ItemRole
from ui.views import ChatUpdated, MessageStatus, Reaction, SyncProgress

pytestmark = pytest.mark.gui


def dm(backend: FakeBackend, name: str = "Bob Marsh") -> FakeChat:
    chat = backend.make_chat(name, [name], is_dm=True)
    backend.emit(ChatUpdated(chat.row()))
    return chat


def bubble(window: MainWindow, message_id: str) -> tuple[QPoint, MessageLayout]:
    """Where a message is drawn in the list viewport, and its layout."""
    view = window.chat.list
    index = window.chat.model.index(window.chat.model.position(message_id))
    view.scrollTo(index)
    option = QStyleOptionViewItem()
    option.rect = view.visualRect(index)
    option.font = view.font()
    layout = view.bubbles.layout_for(index, option)
    assert layout is not None
    return option.rect.topLeft(), layout


def test_send_shows_sending_then_sent(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    chat = dm(alice)
    alice.latency = 0.05  # long enough to see the SENDING state
    open_chat(qtbot, window, chat.id)
    composer = window.chat.composer
    qtbot.keyClicks(composer, "Hello Bob")
    qtbot.keyClick(composer, Qt.Key.Key_Return)
    assert composer.text == ""
    model = window.chat.model
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.rows[0].status is MessageStatus.SENDING and model.rows[0].own
    qtbot.waitUntil(lambda: model.rows[0].status is MessageStatus.SENT)
    assert alice.calls_to("send") == [(chat.id, "Hello Bob", None)]
    assert window.session.chats.get(chat.id).preview == "You: Hello Bob"  # type: ignore[union-attr]


def test_shift_enter_breaks_the_line(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    composer = window.chat.composer
    one_line = composer.height()
    qtbot.keyClicks(composer, "line one")
    qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer, "line two")
    qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer, "three")
    assert composer.text == "line one\nline two\nthree"
    assert composer.height() > one_line  # grows with its text
    assert alice.calls_to("send") == []
    qtbot.keyClick(composer, Qt.Key.Key_Enter)  # the keypad Enter sends too
    qtbot.waitUntil(lambda: alice.calls_to("send") != [])
    assert alice.calls_to("send")[0][1] == "line one\nline two\nthree"
    qtbot.keyClick(composer, Qt.Key.Key_Return)  # nothing to send: nothing sent
    assert len(alice.calls_to("send")) == 1
    assert composer.height() == one_line


def test_receive_updates_open_chat_list_title_and_notifies(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    bob, carol = dm(alice), dm(alice, "Carol Diaz")
    open_chat(qtbot, window, bob.id)
    now = int(time.time())
    alice.receive(bob.id, "Bob Marsh", "Hi Alice!", at=now - 60)
    assert [r.text for r in window.chat.model.rows] == ["Hi Alice!"]
    alice.receive(carol.id, "Carol Diaz", "Lunch tomorrow?", at=now)
    carol_row = window.session.chats.get(carol.id)
    assert carol_row is not None and carol_row.unread == 1
    assert window.session.chats.rows[0].id == carol.id  # newest activity on top
    # The open chat counts as read only while the window has focus (offscreen it has not).
    assert window.windowTitle() == "Burrow (2)"
    assert window.notifier.last == ("Carol Diaz", "Lunch tomorrow?")
    # A muted chat and our own messages make no notification; a backlog during sync neither.
    carol.muted = True
    alice.emit(ChatUpdated(carol.row()))
    alice.receive(carol.id, "Carol Diaz", "hello?")
    alice.emit(SyncProgress(0, 3))
    alice.receive(bob.id, "Bob Marsh", "old news")
    assert window.notifier.last == ("Carol Diaz", "Lunch tomorrow?")
    alice.emit(SyncProgress(3, 3))
    group = alice.make_chat("Hikers", ["Bob Marsh", "Carol Diaz"])
    alice.emit(ChatUpdated(group.row()))
    alice.receive(group.id, "Bob Marsh", "Saturday?")
    assert window.notifier.last == ("Bob Marsh · Hikers", "Saturday?")


def test_opening_marks_read_and_unread_title(qtbot: QtBot, window: MainWindow, demo: Demo) -> None:
    assert window.windowTitle() == "Burrow (3)"  # muted Book club does not count
    open_chat(qtbot, window, demo.hikers.id)
    qtbot.waitUntil(lambda: window.windowTitle() == "Burrow (1)")
    assert window.session.chats.get(demo.hikers.id).unread == 0  # type: ignore[union-attr]


def test_reply_with_quote(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    chat = dm(alice)
    question = alice.receive(chat.id, "Bob Marsh", "Coffee at 10?", silent=True)
    open_chat(qtbot, window, chat.id)
    window.chat.start_reply_to(question.id)
    assert window.chat.reply_bar.isVisible()
    assert window.chat.reply_bar.title.text() == "Replying to Bob Marsh"
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Escape)
    assert not window.chat.reply_bar.isVisible() and window.chat.replying_to is None
    window.chat.message_menu(question).actions()[0].trigger()  # "Reply"
    assert window.chat.replying_to == question
    qtbot.keyClicks(window.chat.composer, "Make it 10:30")
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.chat.model.rowCount() == 2)
    reply = window.chat.model.rows[1]
    assert reply.reply is not None and reply.reply.message_id == question.id
    assert reply.reply.text == "Coffee at 10?"
    assert not window.chat.reply_bar.isVisible()
    assert alice.calls_to("send") == [(chat.id, "Make it 10:30", question.id)]
    _, layout = bubble(window, reply.id)
    assert layout.quote is not None


def test_react_then_click_the_chip_to_withdraw(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = dm(alice)
    message = alice.receive(chat.id, "Bob Marsh", "Got the tickets!", silent=True)
    open_chat(qtbot, window, chat.id)
    window.chat.react(message.id, "🎉")
    model = window.chat.model
    qtbot.waitUntil(lambda: model.get(message.id).reactions == (Reaction("🎉", 1, True),))  # type: ignore[union-attr]
    alice.peer_react(chat.id, message.id, "Bob Marsh", "🎉")
    assert model.get(message.id).reactions == (Reaction("🎉", 2, True),)  # type: ignore[union-attr]
    origin, layout = bubble(window, message.id)
    assert [c.label for c in layout.chips] == ["🎉 2"]
    alice.latency = 0.05
    for _ in range(2):  # a double click before the answer withdraws once
        qtbot.mouseClick(
            window.chat.list.viewport(),
            Qt.MouseButton.LeftButton,
            pos=origin + layout.chips[0].rect.center().toPoint(),
        )
    qtbot.waitUntil(lambda: model.get(message.id).reactions == (Reaction("🎉", 1, False),))  # type: ignore[union-attr]
    assert alice.calls_to("unreact") == [(chat.id, message.id, "🎉")]


def test_delete_own_message_after_confirmation(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = dm(alice)
    theirs = alice.receive(chat.id, "Bob Marsh", "see you", silent=True)
    mine = alice.seed_own(chat.id, "typo", theirs.created_at + 1)
    open_chat(qtbot, window, chat.id)
    labels = [a.text() for a in window.chat.message_menu(theirs).actions()]
    assert "Delete for everyone" not in labels
    labels = [a.text() for a in window.chat.message_menu(mine).actions()]
    assert "Delete for everyone" in labels
    window.chat.delete(mine.id)
    click_confirm(qtbot, window, "Delete")
    qtbot.waitUntil(lambda: window.chat.model.get(mine.id).deleted)  # type: ignore[union-attr]
    assert window.session.chats.get(chat.id).preview == "This message was deleted"  # type: ignore[union-attr]
    assert "Reply" not in [
        a.text() for a in window.chat.message_menu(window.chat.model.get(mine.id)).actions()
    ]  # type: ignore[arg-type]


def test_failed_send_then_retry_by_click(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = dm(alice)
    alice.fail_sends = True
    open_chat(qtbot, window, chat.id)
    qtbot.keyClicks(window.chat.composer, "are you there?")
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    model = window.chat.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.rows[0].status is MessageStatus.FAILED)
    origin, layout = bubble(window, model.rows[0].id)
    assert layout.failed is not None
    alice.fail_sends = False
    alice.latency = 0.05  # a real retry waits for the relays: a second click meanwhile
    for _ in range(2):  # must not send the message twice
        qtbot.mouseClick(
            window.chat.list.viewport(),
            Qt.MouseButton.LeftButton,
            pos=origin + layout.failed.center().toPoint(),
        )
    window.chat.retry(model.rows[0].id)  # nor may "Send again" in the menu
    qtbot.waitUntil(lambda: model.rows[0].status is MessageStatus.SENT)
    assert alice.calls_to("retry") == [(chat.id, model.rows[0].id)]


def test_drafts_are_kept_per_chat(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    bob, carol = dm(alice), dm(alice, "Carol Diaz")
    open_chat(qtbot, window, bob.id)
    qtbot.keyClicks(window.chat.composer, "half a thought")
    open_chat(qtbot, window, carol.id)
    assert window.chat.composer.text == ""
    chats = window.session.chats
    qtbot.waitUntil(  # the list shows "Draft: ..."
        lambda: chats.index(chats.position(bob.id)).data(ItemRole.DRAFT) == "half a thought"
    )
    assert alice.calls_to("save_draft") == [(bob.id, "half a thought")]
    window.chat._draft_timer.setInterval(1)
    qtbot.keyClicks(window.chat.composer, "for carol")  # saved shortly after typing stops
    qtbot.waitUntil(lambda: (carol.id, "for carol") in alice.calls_to("save_draft"))
    open_chat(qtbot, window, bob.id)
    assert window.chat.composer.text == "half a thought"
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)  # sending clears the draft
    qtbot.waitUntil(lambda: (bob.id, "") in alice.calls_to("save_draft"))


def test_a_closed_window_saves_no_draft_on_a_timer(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    """The typing-pause timer of a window already closed (its event loop may be gone, as
    after a test, or while quitting) does nothing: closing flushes the draft itself."""
    open_chat(qtbot, window, dm(alice).id)
    window.chat._draft_timer.setInterval(1)
    qtbot.keyClicks(window.chat.composer, "unsent")
    window.close()
    qtbot.wait(20)
    assert alice.calls_to("save_draft") == []


def test_search_messages_and_open_the_chat(qtbot: QtBot, window: MainWindow, demo: Demo) -> None:
    side = window.sidebar
    qtbot.keyClicks(side.search, "bring")
    qtbot.waitUntil(lambda: side.results.rowCount() == 3)
    assert side.stack.currentWidget() is side.result_view
    hits = list(side.results.rows)
    assert {h.chat_id for h in hits} == {demo.hikers.id}
    assert all("bring" in h.snippet.lower() for h in hits)
    assert [h.time for h in hits] == sorted((h.time for h in hits), reverse=True)
    qtbot.keyClick(side.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.chat.loaded == demo.hikers.id)
    qtbot.keyClick(side.search, Qt.Key.Key_Escape)
    assert side.search.text() == "" and side.stack.currentWidget() is side.chat_view


def test_a_search_without_hits_says_so(qtbot: QtBot, window: MainWindow, demo: Demo) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    side = window.sidebar
    side.focus_search()
    qtbot.keyClicks(side.search, "kayak")
    qtbot.waitUntil(lambda: side.stack.currentWidget() is not side.chat_view)
    shown = side.stack.currentWidget()
    assert shown.isVisible() and "kayak" in shown.text()  # type: ignore[attr-defined]
    qtbot.keyClick(side.search, Qt.Key.Key_Down)  # nothing to move into
    assert side.search.hasFocus()
    side.search.selectAll()
    qtbot.keyClicks(side.search, "bring")
    qtbot.waitUntil(lambda: side.stack.currentWidget() is side.result_view)


def test_chat_menu_pins_mutes_and_archives(qtbot: QtBot, window: MainWindow, demo: Demo) -> None:
    side, chats = window.sidebar, window.session.chats

    def act(chat_id: str, text: str) -> None:
        menu = side.chat_menu(chats.get(chat_id))  # type: ignore[arg-type]
        next(a for a in menu.actions() if a.text() == text).trigger()

    act(demo.erin.id, "Pin to top")
    qtbot.waitUntil(lambda: chats.get(demo.erin.id).pinned)  # type: ignore[union-attr]
    assert {r.id for r in chats.rows[:2]} == {demo.erin.id, demo.frank.id}
    act(demo.erin.id, "Mute notifications")
    qtbot.waitUntil(lambda: chats.get(demo.erin.id).muted)  # type: ignore[union-attr]
    assert side.archive_toggle.text() == "Archived chats (1)"
    act(demo.erin.id, "Archive")
    qtbot.waitUntil(lambda: side.archive_toggle.text() == "Archived chats (2)")
    visible = [side.proxy.index(i, 0).data(ItemRole.KEY) for i in range(side.proxy.rowCount())]
    assert demo.erin.id not in visible
    side.archive_toggle.click()
    archived = {side.proxy.index(i, 0).data(ItemRole.KEY) for i in range(side.proxy.rowCount())}
    assert archived == {demo.erin.id, demo.old_project.id}
    assert side.title.text() == "Archive"


def test_keyboard_navigation(qtbot: QtBot, window: MainWindow, demo: Demo) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.sidebar.search.hasFocus()
    qtbot.keyClick(window.sidebar.search, Qt.Key.Key_Down)
    assert window.sidebar.chat_view.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    first = window.chat.loaded
    qtbot.keyClick(window, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.chat.loaded not in (None, first))
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible())
    assert window.dialog.objectName() == "NewChatDialog"  # type: ignore[union-attr]
    qtbot.keyClick(window.dialog, Qt.Key.Key_Escape)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: window.dialog is None or not window.dialog.isVisible())


def test_arrow_keys_browse_chats_in_the_list_and_enter_or_a_click_goes_to_the_composer(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view, proxy = window.sidebar.chat_view, window.sidebar.proxy
    key = [proxy.index(i, 0).data(ItemRole.KEY) for i in range(proxy.rowCount())]
    view.setFocus()
    view.setCurrentIndex(proxy.index(0, 0))
    qtbot.waitUntil(lambda: window.chat.loaded == key[0])
    qtbot.keyClick(view, Qt.Key.Key_Down)  # still in the list: the next chat
    qtbot.waitUntil(lambda: window.chat.loaded == key[1])
    assert view.hasFocus() and window.chat.composer.text == ""
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(window.chat.composer.hasFocus)
    view.setFocus()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(
        proxy.index(2, 0)).center())  # fmt: skip
    qtbot.waitUntil(lambda: window.chat.loaded == key[2] and window.chat.composer.hasFocus())


def test_relay_status_and_sync_progress_in_the_footer(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    from ui.views import RelayStatus

    footer = window.sidebar.footer
    assert footer.text == "Connected to 1 relay"
    alice.set_relay_status("ws://127.0.0.1:7777", RelayStatus.DISCONNECTED)
    assert footer.text == "Offline: no relay reachable"
    alice.set_relay_status("wss://relay.example.org", RelayStatus.CONNECTED)
    assert footer.text == "Connected to 1 of 2 relays"
    alice.emit(SyncProgress(1, 4))
    assert footer.text == "Catching up… 25%" and footer.sync.isVisible()
    alice.emit(SyncProgress(4, 4))
    assert footer.text == "Connected to 1 of 2 relays" and not footer.sync.isVisible()


def test_switching_chats_quickly_keeps_each_chats_messages(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    bob, carol = dm(alice), dm(alice, "Carol Diaz")
    alice.receive(bob.id, "Bob Marsh", "for bob", silent=True)
    alice.latency = 0.03
    window.open_chat(bob.id)
    window.open_chat(carol.id)  # before Bob's page arrived
    alice.receive(carol.id, "Carol Diaz", "arrived while loading")
    qtbot.waitUntil(lambda: window.chat.loaded == carol.id)
    qtbot.wait(50)  # Bob's late page must not land in Carol's chat
    assert [r.text for r in window.chat.model.rows] == ["arrived while loading"]
    assert window.chat.header.title.text() == "Carol Diaz"


# A popup asks the window system for raise and keyboard grab, which offscreen cannot do.
@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")
def test_quick_reaction_picker(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from ui.widgets.reaction_picker import ReactionPicker

    chat = dm(alice)
    message = alice.receive(chat.id, "Bob Marsh", "Summit!", silent=True)
    open_chat(qtbot, window, chat.id)
    window.chat.list.bubbles.reactMenuRequested.emit(message.id, QPointF(200, 200))
    picker = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ReactionPicker))
    qtbot.waitUntil(picker.isVisible)
    picker.buttons[1].click()  # ❤️
    qtbot.waitUntil(lambda: alice.calls_to("react") == [(chat.id, message.id, "❤️")])
    qtbot.waitUntil(lambda: window.chat.model.get(message.id).reactions != ())  # type: ignore[union-attr]


def test_errors_surface_as_a_toast_and_keep_the_text(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    from ui.views import ErrorShown

    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    chat.active = False  # removed elsewhere; the UI has not heard yet
    qtbot.keyClicks(window.chat.composer, "still there?")
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(window.toast.isVisible)
    assert window.toast.text() == "You are no longer a member of this chat."
    assert window.chat.composer.text == "still there?"  # nothing typed is lost
    alice.emit(ErrorShown("Relay wss://relay.example.org rejected the event: rate-limited"))
    assert "rate-limited" in window.toast.text()

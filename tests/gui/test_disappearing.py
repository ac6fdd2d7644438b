"""Disappearing messages in the window (issue 18): the group setting shown and set in the
group details, the chat header saying it, and due messages leaving the open chat."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from app import FixedClock, SystemClock
from tests.gui.fake_backend import FakeBackend
from tests.gui.real_app import NETWORK_MS, CliPeer, RealApp, onboard, run
from tests.gui.scenes import Demo
from tests.gui.test_app_chat import row_with
from tests.gui.test_groups import open_details
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui

HOUR = 3600


def choose(dialog: object, secs: int) -> None:
    timer = dialog.timer  # type: ignore[attr-defined]
    index = timer.findData(secs)
    timer.setCurrentIndex(index)
    timer.activated.emit(index)


def test_admins_set_the_timer_in_group_details(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    dialog = open_details(qtbot, window, demo.hikers.id)
    assert dialog.timer.currentText() == "Off" and dialog.timer.isEnabled()
    assert [dialog.timer.itemText(i) for i in range(dialog.timer.count())] == [
        "Off", "5 minutes", "1 hour", "8 hours", "1 day", "1 week", "4 weeks",
    ]  # fmt: skip
    choose(dialog, HOUR)
    qtbot.waitUntil(lambda: backend.calls_to("set_disappearing") == [(demo.hikers.id, HOUR)])
    qtbot.waitUntil(lambda: "disappear after 1 hour" in window.chat.header.subtitle.text())
    assert dialog.timer.currentText() == "1 hour"


def test_members_who_are_not_admins_only_see_it(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    demo.book_club.disappearing_secs = 86400
    dialog = open_details(qtbot, window, demo.book_club.id)
    assert dialog.timer.currentText() == "1 day" and not dialog.timer.isEnabled()


def test_a_due_message_leaves_the_open_chat(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    window, bridge = real_app.window, real_app.bridge
    bob = peer("Bob")
    bob_ready = bob.create()
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    run(qtbot, bridge.add_contact(bob.npub))
    chat = run(qtbot, bridge.create_group("Secrets", [bob.pubkey], ""))
    qtbot.waitUntil(lambda: window.session.chats.get(chat.id) is not None)
    window.open_chat(chat.id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat.id)
    bob.accept_invite(chat.id)
    window.chat.header.details.click()
    dialog = window.dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible())
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.details is not None)  # type: ignore[union-attr]
    choose(dialog, HOUR)
    qtbot.waitUntil(
        lambda: any(r.system == "You set disappearing messages to 1 hour"
                    for r in window.chat.model.rows),
        timeout=NETWORK_MS,
    )  # fmt: skip
    dialog.close()  # type: ignore[union-attr]
    qtbot.waitUntil(
        lambda: window.chat.header.subtitle.text().endswith("messages disappear after 1 hour")
    )
    assert bob.group(chat.id)["disappearing_secs"] == HOUR  # Bob's client has the timer
    bob.run("send", chat.id, "burn after reading", sync=True)
    qtbot.waitUntil(lambda: row_with(real_app, "burn after reading") is not None,
                    timeout=NETWORK_MS)  # fmt: skip
    session = bridge.session()
    assert run(qtbot, session.disappearing.sweep()) == 0  # not due yet
    session.ctx.clock = FixedClock(SystemClock().now() + HOUR + 5)
    try:
        assert run(qtbot, session.disappearing.sweep()) == 1
        qtbot.waitUntil(lambda: row_with(real_app, "burn after reading") is None)
        qtbot.waitUntil(lambda: window.session.chats.get(chat.id).preview == "")  # type: ignore[union-attr]
    finally:
        session.ctx.clock = SystemClock()

"""The real app's group timeline (issue 18): the unread badge of the open chat after
replying while the window is not the active one, and what the group's changes show."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.gui.real_app import NETWORK_MS, CliPeer, RealApp, onboard, run
from tests.gui.test_app_chat import row_with, send_from_composer

pytestmark = pytest.mark.gui


def unread(real: RealApp, chat_id: str) -> int:
    row = real.window.session.chats.get(chat_id)
    return -1 if row is None else row.unread


def test_replying_clears_the_unread_badge_of_the_open_chat(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    window = real_app.window
    bob = peer("Bob")
    bob_ready = bob.create()
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    run(qtbot, real_app.bridge.add_contact(bob.npub))
    chat = run(qtbot, real_app.bridge.create_group("Hikers", [bob.pubkey], ""))
    qtbot.waitUntil(lambda: window.session.chats.get(chat.id) is not None)
    window.open_chat(chat.id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat.id)
    bob.accept_invite(chat.id)
    # Another window has the focus (or there is no window manager to give it to ours).
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    bob.run("send", chat.id, "Anyone up for Saturday?")
    qtbot.waitUntil(lambda: row_with(real_app, "Anyone up for Saturday?") is not None,
                    timeout=NETWORK_MS)  # fmt: skip
    qtbot.waitUntil(lambda: unread(real_app, chat.id) == 1, timeout=NETWORK_MS)
    assert window.windowTitle() == "Burrow (1)"
    send_from_composer(qtbot, real_app, "Me! 8:00?")
    qtbot.waitUntil(lambda: unread(real_app, chat.id) == 0, timeout=NETWORK_MS)
    assert window.windowTitle() == "Burrow"
    assert (
        unread(real_app, chat.id) == 0 and run(qtbot, real_app.bridge.list_chats())[0].unread == 0
    )

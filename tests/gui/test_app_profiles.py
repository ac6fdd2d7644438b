"""The real app and a real Marmot v1 group (issue 16): the group details name the protocol,
and nothing offers an edit there (the app refuses one: Marmot v1 has no edits)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.real_app import NETWORK_MS, CliPeer, RealApp, onboard, run, watch_models
from tests.gui.test_app_chat import send_from_composer
from ui.dialogs.group_details import GroupDetailsDialog
from ui.errors import NotAllowed

pytestmark = pytest.mark.gui


def test_a_marmot_v1_group_names_its_protocol_and_offers_no_edits(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    window, bridge = real_app.window, real_app.bridge
    testers = watch_models(window.session.chats, window.chat.model)
    bob = peer("Bob")
    bob_ready = bob.create()
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    run(qtbot, bridge.add_contact(bob.npub))
    # Forced: both are Burrow, whose key packages of both versions would choose v2.
    info = run(qtbot, bridge.session().groups.create("Hikers", [bob.npub], profile="mip"))
    assert info.profile == "mip" and not info.can_edit
    qtbot.waitUntil(lambda: window.session.chats.get(info.id) is not None, timeout=NETWORK_MS)
    chat = window.session.chats.get(info.id)
    assert chat is not None and not chat.can_edit
    window.open_chat(chat.id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat.id)

    window.chat.header.details.click()
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.details is not None)
    assert dialog.facts.text() == "2 members · 1 relay"
    assert dialog.protocol.text() == "Marmot v1" and dialog.protocol.isVisible()
    assert "Marmot v1" in dialog.protocol.toolTip()
    dialog.close()

    mine = send_from_composer(qtbot, real_app, "Count me inn")
    labels = [a.text() for a in window.chat.message_menu(mine).actions()]
    assert "Reply" in labels and "Edit" not in labels
    composer = window.chat.composer
    qtbot.keyClick(composer, Qt.Key.Key_Up)  # the shortcut does nothing here either
    assert window.chat.edits.editing is None and composer.text == ""

    # Asked anyway (a stale window), the app refuses, in words.
    async def attempt() -> str:
        try:
            await bridge.edit(chat.id, mine.id, "Count me in")
        except NotAllowed as error:
            return error.message
        return ""

    assert "cannot be edited" in run(qtbot, attempt())
    qtbot.wait(100)
    row = window.chat.model.get(mine.id)
    assert row is not None and row.text == "Count me inn" and not row.edited
    assert bob.accept_invite(chat.id)["profile"] == "mip"
    qtbot.waitUntil(lambda: window.chat.model.rowCount() >= 2, timeout=NETWORK_MS)
    del testers

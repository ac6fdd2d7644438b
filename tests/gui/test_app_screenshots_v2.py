"""Screenshots of the real app with a real Marmot v2 (Dark Matter) group
(``screenshots/app-v2-*.png``, git-ignored): two real accounts through the real relay, a
few messages, one edited on each side, an admin change; the chat and its details."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.helpers import save
from tests.gui.real_app import NETWORK_MS, AppFactory, app_config, onboard, run
from tests.gui.test_app_chat import row_with
from tests.gui.test_app_edits import edited_row, open_group, v2_group
from tests.helpers.relay import RelayProcess
from ui.dialogs.group_details import GroupDetailsDialog

pytestmark = pytest.mark.gui


def test_screenshots_of_a_real_v2_group(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = open_real_app(app_config(tmp_path / "alice", relay.url))
    bob = open_real_app(app_config(tmp_path / "bob", relay.url))
    onboard(qtbot, alice, "Alice Moreau")
    onboard(qtbot, bob, "Bob Marsh")
    chat_id = v2_group(qtbot, alice, bob)
    run(qtbot, alice.bridge.promote(chat_id, bob.bridge.session().pubkey))
    hello = run(qtbot, bob.bridge.send(chat_id, "Ridge trail on Saturday? Leaving at 8"))
    run(qtbot, bob.bridge.edit(chat_id, hello.id, "Ridge trail on Saturday? Leaving at 7:45"))
    mine = run(qtbot, alice.bridge.send(chat_id, "Count me inn, I'll bring the map"))
    run(qtbot, alice.bridge.edit(chat_id, mine.id, "Count me in, I'll bring the map"))
    run(qtbot, bob.bridge.send(chat_id, "Great, see you there"))
    open_group(qtbot, alice, chat_id)
    edited_row(qtbot, alice, "Ridge trail on Saturday? Leaving at 7:45")
    edited_row(qtbot, alice, "Count me in, I'll bring the map")
    qtbot.waitUntil(lambda: row_with(alice, "Great, see you there") is not None, timeout=NETWORK_MS)
    qtbot.wait(50)
    save(alice.window, "app-v2-chat")
    alice.window.chat.header.details.click()
    dialog = alice.window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.members.rowCount() == 2)
    assert dialog.protocol.text() == "Marmot v2 (Dark Matter)"
    save(dialog, "app-v2-group-details")
    dialog.close()

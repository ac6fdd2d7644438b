"""Screenshots of the real app's main screens (``screenshots/app-*.png``, git-ignored), taken
after two real accounts chatted through the real relay: onboarding, the chat list with
chats, a chat with messages, the group details and the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.helpers import open_chat, save
from tests.gui.real_app import NETWORK_MS, AppFactory, RealApp, app_config, onboard, run
from tests.helpers.relay import RelayProcess
from ui.dialogs.group_details import GroupDetailsDialog

pytestmark = pytest.mark.gui

BOB_SAYS = ("Who's in for Saturday? The ridge trail should be dry by then 🥾", "Bring the stove!")


def preview(real: RealApp, chat_id: str) -> str:
    row = real.window.session.chats.get(chat_id)
    return "" if row is None else row.preview


def converse(qtbot: QtBot, alice: RealApp, bob: RealApp) -> tuple[str, str]:
    """A group and a 1:1 chat between Alice and Bob, with a few messages each way."""
    me = bob.window.session.account
    assert me is not None
    run(qtbot, alice.bridge.add_contact(me.npub))
    group = run(qtbot, alice.bridge.create_group("Weekend hikers", [me.pubkey], "Trails"))
    dm = run(qtbot, alice.bridge.create_dm(me.pubkey))
    qtbot.waitUntil(lambda: bob.window.session.invites.rowCount() == 2, timeout=NETWORK_MS)
    for invite in list(bob.window.session.invites.rows):
        run(qtbot, bob.bridge.accept_invite(invite.id))
    hello = run(qtbot, bob.bridge.send(group.id, BOB_SAYS[0]))
    run(qtbot, alice.bridge.send(dm.id, "Lunch tomorrow?"))
    run(qtbot, bob.bridge.send(dm.id, "Sure, 12:30 at the usual place"))
    qtbot.waitUntil(lambda: preview(alice, group.id) != "", timeout=NETWORK_MS)
    run(qtbot, alice.bridge.send(group.id, "Count me in! I'll bring the map", hello.id))
    run(qtbot, alice.bridge.react(group.id, hello.id, "👍"))
    run(qtbot, bob.bridge.send(group.id, BOB_SAYS[1]))
    return group.id, dm.id


def test_screenshots_of_the_real_app(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = open_real_app(app_config(tmp_path / "alice", relay.url))
    bob = open_real_app(app_config(tmp_path / "bob", relay.url))
    window = alice.window
    run(qtbot, window.start())
    window.onboarding.name.setText("Alice Moreau")
    save(window, "app-onboarding")
    window.onboarding.name.clear()
    onboard(qtbot, alice, "Alice Moreau")
    onboard(qtbot, bob, "Bob Marsh")
    group_id, _ = converse(qtbot, alice, bob)

    def group_texts() -> list[str]:
        return [r.text for r in window.chat.model.rows if not r.system]

    qtbot.waitUntil(lambda: window.session.chats.rowCount() == 2)
    qtbot.waitUntil(lambda: preview(alice, group_id).endswith(BOB_SAYS[1]), timeout=NETWORK_MS)
    save(window, "app-chat-list")
    open_chat(qtbot, window, group_id)
    qtbot.waitUntil(lambda: len(group_texts()) == 3 and group_texts()[-1] == BOB_SAYS[1])
    qtbot.wait(50)
    save(window, "app-chat-view")
    window.chat.header.details.click()
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.members.rowCount() == 2)
    save(dialog, "app-group-details")
    dialog.close()
    window.settings()
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible())
    assert window.dialog is not None
    save(window.dialog, "app-settings")

"""The real window, the real services and the real relay, with other people as CLI processes:
a group chat from creation to removal, through the widgets a person would use."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.helpers import click_confirm
from tests.gui.real_app import NETWORK_MS, CliPeer, RealApp, onboard, run, watch_models
from ui.dialogs.contacts import ContactsDialog
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.views import MessageRow, MessageStatus

pytestmark = pytest.mark.gui


def row_with(real: RealApp, text: str) -> MessageRow | None:
    return next((r for r in real.window.chat.model.rows if r.text == text), None)


def add_contact_in_dialog(qtbot: QtBot, real: RealApp, npub: str, name: str) -> None:
    window = real.window
    window.contacts()
    dialog = window.dialog
    assert isinstance(dialog, ContactsDialog)
    qtbot.waitUntil(dialog.isVisible)
    before = dialog.model.rowCount()
    dialog.npub.setText(npub)
    dialog.add.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == before + 1, timeout=NETWORK_MS)
    # The relay had their profile: the contact shows their name, not a key.
    qtbot.waitUntil(lambda: any(r.name == name for r in dialog.model.rows), timeout=NETWORK_MS)
    dialog.close()


def create_group_in_dialog(qtbot: QtBot, real: RealApp, name: str, pubkey: str) -> str:
    window = real.window
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() >= 1)
    dialog.name.setText(name)
    dialog.description.setText("Trails and weather")
    dialog.picker.pick(pubkey)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: window.chat.loaded is not None, timeout=NETWORK_MS)
    chat = window.chat.chat
    assert chat is not None and chat.title == name
    return chat.id


def send_from_composer(qtbot: QtBot, real: RealApp, text: str) -> MessageRow:
    from PySide6.QtCore import Qt

    composer = real.window.chat.composer
    qtbot.keyClicks(composer, text)
    qtbot.keyClick(composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: row_with(real, text) is not None)
    qtbot.waitUntil(
        lambda: row_with(real, text).status is MessageStatus.SENT,  # type: ignore[union-attr]
        timeout=NETWORK_MS,
    )
    found = row_with(real, text)
    assert found is not None and found.own
    return found


def test_group_chat_with_people_on_the_command_line(
    qtbot: QtBot,
    real_app: RealApp,
    peer: Callable[[str], CliPeer],
) -> None:
    window = real_app.window
    session = window.session
    testers = watch_models(session.chats, session.invites, session.relays, window.chat.model)
    bob, carol = peer("Bob"), peer("Carol")
    bob_ready, carol_ready = bob.create(), carol.create()  # while Alice onboards
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    carol_ready()
    add_contact_in_dialog(qtbot, real_app, bob.npub, "Bob")
    group_id = create_group_in_dialog(qtbot, real_app, "Hikers", bob.pubkey)

    # Bob joins and writes; it arrives live in the open chat.
    bob.accept_invite(group_id)
    bob.run("send", group_id, "Hello from Bob")
    qtbot.waitUntil(lambda: row_with(real_app, "Hello from Bob") is not None, timeout=NETWORK_MS)
    hello = row_with(real_app, "Hello from Bob")
    assert hello is not None and not hello.own and hello.author_name == "Bob"

    # A reply through the reply bar and the composer (Enter sends).
    window.chat.start_reply_to(hello.id)
    assert window.chat.reply_bar.isVisible()
    reply = send_from_composer(qtbot, real_app, "Hi Bob, welcome")
    assert reply.reply is not None and reply.reply.message_id == hello.id
    assert reply.reply.text == "Hello from Bob"

    # Bob sees the reply as a reply, and reacts to it; Alice reacts to Bob's message.
    seen = bob.until(lambda: bob.messages(group_id), lambda ms: len(ms) >= 2)
    bob_view = {m["content"]: m for m in seen}
    assert bob_view["Hi Bob, welcome"]["reply_to"] == hello.id
    bob.run("react", group_id, reply.id, "👍")
    window.chat.react(hello.id, "🎉")

    def reactions(message_id: str) -> set[tuple[str, int, bool]]:
        row = window.chat.model.get(message_id)
        return set() if row is None else {(r.emoji, r.count, r.mine) for r in row.reactions}

    qtbot.waitUntil(lambda: reactions(reply.id) == {("👍", 1, False)}, timeout=NETWORK_MS)
    qtbot.waitUntil(lambda: reactions(hello.id) == {("🎉", 1, True)}, timeout=NETWORK_MS)

    # Alice deletes her reply for everyone, after confirming.
    window.chat.delete(reply.id)
    click_confirm(qtbot, window.chat, "Delete")
    qtbot.waitUntil(lambda: window.chat.model.get(reply.id).deleted)  # type: ignore[union-attr]
    bob.until(
        lambda: {m["id"]: m for m in bob.messages(group_id)},
        lambda ms: ms.get(reply.id, {}).get("deleted") is True,
    )

    # Add Carol from the group details, let her join, then remove her.
    run(qtbot, real_app.bridge.add_contact(carol.npub))
    window.chat.header.details.click()
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 2)
    testers += watch_models(dialog.members, dialog.picker.model)
    dialog.add.click()
    qtbot.waitUntil(lambda: dialog.picker.isVisible() and dialog.picker.model.rowCount() == 1)
    dialog.picker.pick(carol.pubkey)
    dialog.confirm_add.click()
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 3, timeout=NETWORK_MS)
    qtbot.waitUntil(lambda: not dialog.is_working, timeout=NETWORK_MS)  # the add is done
    joined = carol.accept_invite(group_id)
    assert {m["pubkey"] for m in joined["members"]} == {
        bob.pubkey,
        carol.pubkey,
        real_app.window.session.account.pubkey,  # type: ignore[union-attr]
    }
    dialog.select(carol.pubkey)
    dialog.remove.click()
    click_confirm(qtbot, dialog, "Remove")
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 2, timeout=NETWORK_MS)
    carol.until(lambda: carol.group(group_id), lambda g: g["state"] != "active")

    assert len(testers) == 6  # watched through the whole flow

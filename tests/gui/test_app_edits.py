"""Edits in a real Marmot v2 (Dark Matter) group between two clients (issue 16): two real
windows over their own real services and databases, one real relay. Alice edits from the
message's menu, Bob's window shows the new text marked "edited"; Bob edits with Up in his
empty composer, Alice's bubble changes. Neither is offered an edit of the other's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.real_app import (
    NETWORK_MS,
    AppFactory,
    RealApp,
    app_config,
    onboard,
    run,
    watch_models,
)
from tests.gui.test_app_chat import row_with, send_from_composer
from tests.helpers.app_clients import Client
from tests.helpers.dm_clients import publish_b_key_package
from tests.helpers.relay import RelayProcess
from ui.dialogs.group_details import GroupDetailsDialog
from ui.views import MessageRow

pytestmark = pytest.mark.gui

V2 = "Marmot v2 (Dark Matter)"


def labels(real: RealApp, row: MessageRow) -> list[str]:
    return [a.text() for a in real.window.chat.message_menu(row).actions()]


def edited_row(qtbot: QtBot, real: RealApp, text: str) -> MessageRow:
    """Until the open chat shows ``text`` marked edited."""

    def found() -> MessageRow | None:
        row = row_with(real, text)
        return row if row is not None and row.edited else None

    qtbot.waitUntil(lambda: found() is not None, timeout=NETWORK_MS)
    row = found()
    assert row is not None
    return row


def preview(real: RealApp, chat_id: str) -> str:
    row = real.window.session.chats.get(chat_id)
    return "" if row is None else row.preview


def open_group(qtbot: QtBot, real: RealApp, chat_id: str) -> None:
    window = real.window
    qtbot.waitUntil(lambda: window.session.chats.get(chat_id) is not None, timeout=NETWORK_MS)
    window.open_chat(chat_id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat_id)


def v2_group(qtbot: QtBot, alice: RealApp, bob: RealApp) -> str:
    """Alice creates a Marmot v2 group with Bob (his v2 key package published first), Bob
    accepts in his window; the group's id."""
    bob_session = bob.bridge.session()
    run(qtbot, publish_b_key_package(Client("bob", bob.services, bob_session)))
    me = bob.window.session.account
    assert me is not None
    run(qtbot, alice.bridge.add_contact(me.npub))
    groups = alice.bridge.session().groups
    info = run(qtbot, groups.create("Hikers", [me.npub], profile="darkmatter"))
    run(qtbot, alice.bridge.session().flush(10))
    qtbot.waitUntil(lambda: bob.window.session.invites.rowCount() == 1, timeout=NETWORK_MS)
    invite = bob.window.session.invites.rows[0]
    chat = run(qtbot, bob.bridge.accept_invite(invite.id))
    assert chat.id == info.id and chat.can_edit
    return info.id


def test_edits_in_a_marmot_v2_group_between_two_windows(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = open_real_app(app_config(tmp_path / "alice", relay.url))
    bob = open_real_app(app_config(tmp_path / "bob", relay.url))
    onboard(qtbot, alice, "Alice")
    onboard(qtbot, bob, "Bob")
    testers = watch_models(alice.window.chat.model, bob.window.chat.model)
    chat_id = v2_group(qtbot, alice, bob)
    for real in (alice, bob):
        open_group(qtbot, real, chat_id)
        assert real.window.chat.chat is not None and real.window.chat.chat.can_edit
    alice.window.group_details(chat_id)
    dialog = alice.window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.details is not None)
    assert dialog.protocol.text() == V2
    dialog.close()

    # Alice edits from the message's menu; Bob's window shows the new text, marked.
    mine = send_from_composer(qtbot, alice, "Count me inn")
    qtbot.waitUntil(lambda: row_with(bob, "Count me inn") is not None, timeout=NETWORK_MS)
    theirs = row_with(bob, "Count me inn")
    assert theirs is not None and not theirs.edited and "Edit" not in labels(bob, theirs)
    view = alice.window.chat
    next(a for a in view.message_menu(mine).actions() if a.text() == "Edit").trigger()
    assert view.composer.text == "Count me inn" and view.edits.bar.isVisible()
    qtbot.keyClick(view.composer, Qt.Key.Key_Backspace)
    qtbot.keyClick(view.composer, Qt.Key.Key_Return)
    assert edited_row(qtbot, alice, "Count me in").id == mine.id
    seen = edited_row(qtbot, bob, "Count me in")
    assert seen.id == mine.id and row_with(bob, "Count me inn") is None  # replaced, not added
    qtbot.waitUntil(lambda: preview(bob, chat_id) == "Alice: Count me in", timeout=NETWORK_MS)

    # Bob edits his own with Up in the empty composer; Alice's bubble changes.
    said = send_from_composer(qtbot, bob, "Saturday at 8?")
    qtbot.waitUntil(lambda: row_with(alice, "Saturday at 8?") is not None, timeout=NETWORK_MS)
    composer = bob.window.chat.composer
    qtbot.keyClick(composer, Qt.Key.Key_Up)
    editing = bob.window.chat.edits.editing
    assert editing is not None and editing.id == said.id  # his newest, not Alice's
    composer.set_text("Saturday at 9?")
    qtbot.keyClick(composer, Qt.Key.Key_Return)
    changed = edited_row(qtbot, alice, "Saturday at 9?")
    assert changed.id == said.id and not changed.own
    assert "Edit" not in labels(alice, changed)
    assert len([r for r in alice.window.chat.model.rows if not r.system]) == 2
    del testers

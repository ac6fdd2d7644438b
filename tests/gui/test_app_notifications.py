"""The notifications dialog over the real services and relay: Alice registers in the window,
and Bob's token (shared from the command line) shows up in her group's row while it is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.real_app import NETWORK_MS, CliPeer, RealApp, onboard, run
from tests.helpers.nostr_factories import secret
from tests.helpers.relay import RelayProcess
from ui.dialogs.notifications import NotificationsDialog
from ui.models.roles import ItemRole

pytestmark = pytest.mark.gui

SERVER = secret("gui push server").public_key()


def _accept(bob: CliPeer, chat_id: str) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        invites = bob.run("invites", "list", sync=True)["invites"]
        return bob.run("invites", "accept", chat_id) if invites else {}

    return bob.until(attempt, bool)


def test_register_in_the_window_and_see_a_member_share(
    qtbot: QtBot, real_app: RealApp, relay: RelayProcess, peer: Callable[[str], CliPeer]
) -> None:
    bob = peer("Bob")
    created = bob.create()
    onboard(qtbot, real_app, "Alice")
    created()
    bob.run("push", "register", "--platform", "fcm", "--token", "bob-fcm-token",
            "--server", SERVER.hex, "--relay", relay.url)  # fmt: skip
    chat = run(qtbot, real_app.bridge.create_group("Hikers", [bob.pubkey]))

    window = real_app.window
    window.notifications()
    dialog = window.dialog
    assert isinstance(dialog, NotificationsDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=NETWORK_MS)
    dialog.token.setText("alice-fcm-token")
    dialog.server.setText(SERVER.to_bech32())
    dialog.relay.setText(relay.url)
    dialog.register.click()
    qtbot.waitUntil(lambda: "shared with 1 group" in dialog.error.text(), timeout=NETWORK_MS)
    index = dialog.model.index(0)
    assert index.data(ItemRole.BADGE) == "Shared"
    assert "FCM token alic…oken" in dialog.status.text()
    assert index.data(ItemRole.SUBTITLE) == "No member shared a device token"

    _accept(bob, chat.id)  # Bob joins and shares his token: the open dialog follows
    qtbot.waitUntil(
        lambda: (
            dialog.model.index(0).data(ItemRole.SUBTITLE) == "Your messages wake 1 member device"
        ),
        timeout=NETWORK_MS,
    )

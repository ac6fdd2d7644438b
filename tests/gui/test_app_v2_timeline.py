"""A real Marmot v2 (Dark Matter) group's own changes as timeline lines in both real windows
(issue 16): the group system rows every member derives from a commit (kind 1210 in MDK),
worded like Marmot v1's, with the admin rows v1 never had, and the disappearing timer (v2's
retention component)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from tests.gui.real_app import NETWORK_MS, AppFactory, RealApp, app_config, onboard, run
from tests.gui.test_app_edits import open_group, v2_group
from tests.helpers.relay import RelayProcess

pytestmark = pytest.mark.gui


def lines(real: RealApp) -> list[str]:
    return [r.system for r in real.window.chat.model.rows if r.system]


def wait_line(qtbot: QtBot, real: RealApp, text: str) -> None:
    try:
        qtbot.waitUntil(lambda: text in lines(real), timeout=NETWORK_MS)
    except TimeoutError as error:
        raise AssertionError(f"no {text!r}; lines: {lines(real)}") from error


def test_a_v2_groups_changes_show_in_both_windows(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    alice = open_real_app(app_config(tmp_path / "alice", relay.url))
    bob = open_real_app(app_config(tmp_path / "bob", relay.url))
    onboard(qtbot, alice, "Alice")
    onboard(qtbot, bob, "Bob")
    chat_id = v2_group(qtbot, alice, bob)
    for real in (alice, bob):
        open_group(qtbot, real, chat_id)
    bob_key = bob.bridge.session().pubkey
    wait_line(qtbot, alice, "You added Bob")
    run(qtbot, alice.bridge.promote(chat_id, bob_key))
    wait_line(qtbot, alice, "You made Bob an admin")
    wait_line(qtbot, bob, "Alice made you an admin")
    run(qtbot, bob.bridge.rename_group(chat_id, "Ridge crew", ""))
    wait_line(qtbot, bob, "You renamed the group to “Ridge crew”")
    wait_line(qtbot, alice, "Bob renamed the group to “Ridge crew”")
    qtbot.waitUntil(
        lambda: alice.window.chat.header.title.text() == "Ridge crew", timeout=NETWORK_MS
    )
    run(qtbot, alice.bridge.demote(chat_id, bob_key))
    wait_line(qtbot, alice, "You took admin rights from Bob")
    wait_line(qtbot, bob, "Alice took admin rights from you")
    # The disappearing timer is v2's retention component: the same line, the same header.
    run(qtbot, alice.bridge.set_disappearing(chat_id, 3600))
    wait_line(qtbot, alice, "You set disappearing messages to 1 hour")
    wait_line(qtbot, bob, "Alice set disappearing messages to 1 hour")
    subtitle = bob.window.chat.header.subtitle
    qtbot.waitUntil(lambda: subtitle.text().endswith("disappear after 1 hour"), timeout=NETWORK_MS)
    run(qtbot, alice.bridge.set_disappearing(chat_id, 0))
    wait_line(qtbot, bob, "Alice turned off disappearing messages")
    details = run(qtbot, bob.bridge.show_group(chat_id))
    assert (details.protocol, details.i_am_admin) == ("Marmot v2 (Dark Matter)", False)
    assert details.disappearing_secs == 0

"""The real app's group timeline (issue 18): the unread badge of the open chat after
replying while the window is not the active one, and what the group's changes show."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.exceptions import TimeoutError
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


def lines(real: RealApp) -> list[str]:
    return [r.system for r in real.window.chat.model.rows if r.system]


def wait_line(qtbot: QtBot, real: RealApp, text: str) -> None:
    """Until the timeline has the line ``text`` (the lines so far if it never comes).
    Changes in the same second sort by id, so only presence is checked."""
    try:
        qtbot.waitUntil(lambda: text in lines(real), timeout=NETWORK_MS)
    except TimeoutError as error:
        raise AssertionError(f"no {text!r}; lines: {lines(real)}") from error


def test_the_group_timeline_shows_its_changes_and_who_has_not_joined(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    window, bridge = real_app.window, real_app.bridge
    bob, carol = peer("Bob"), peer("Carol")
    bob_ready, carol_ready = bob.create(), carol.create()
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    carol_ready()
    for person in (bob, carol):
        run(qtbot, bridge.add_contact(person.npub))
    chat = run(qtbot, bridge.create_group("Hikers", [bob.pubkey], ""))
    qtbot.waitUntil(lambda: window.session.chats.get(chat.id) is not None)
    window.open_chat(chat.id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat.id)
    details = run(qtbot, bridge.show_group(chat.id))
    assert [m.invited for m in details.members if m.pubkey == bob.pubkey] == [True]

    bob.accept_invite(chat.id)  # then Bob's post-join self-update reaches Alice
    wait_line(qtbot, real_app, "Bob joined")
    details = run(qtbot, bridge.show_group(chat.id))
    assert not any(m.invited for m in details.members)

    run(qtbot, bridge.rename_group(chat.id, "Ridge crew", ""))
    wait_line(qtbot, real_app, "You renamed the group to “Ridge crew”")
    run(qtbot, bridge.promote(chat.id, bob.pubkey))
    bob.run("group", "rename", chat.id, "Trail crew", sync=True)
    wait_line(qtbot, real_app, "Bob renamed the group to “Trail crew”")
    run(qtbot, bridge.add_members(chat.id, [carol.pubkey]))
    wait_line(qtbot, real_app, "You added Carol")
    details = run(qtbot, bridge.show_group(chat.id))
    assert [m.pubkey for m in details.members if m.invited] == [carol.pubkey]
    carol.accept_invite(chat.id)
    wait_line(qtbot, real_app, "Carol joined")
    carol.run("group", "leave", chat.id, sync=True)
    wait_line(qtbot, real_app, "Carol left")
    qtbot.waitUntil(
        lambda: len(run(qtbot, bridge.show_group(chat.id)).members) == 2, timeout=NETWORK_MS
    )
    qtbot.wait(200)
    assert sorted(lines(real_app)) == sorted(
        [
            "You added Bob",  # at the creation: invited, then
            "Bob joined",
            "You renamed the group to “Ridge crew”",
            "Bob renamed the group to “Trail crew”",
            "You added Carol",
            "Carol joined",
            "Carol left",  # once: not also "You removed Carol" for the commit of her leave
        ]
    )
    # The chat is not empty any more, and the lines stay when it is opened again.
    assert window.chat.model.rowCount() == 7
    window.chat.close_chat()
    window.open_chat(chat.id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat.id)
    assert len(lines(real_app)) == 7
    assert window.session.chats.get(chat.id).unread == 0  # type: ignore[union-attr]
    # Bob's own CLI history is chat only: no such lines there.
    assert all(m["kind"] == 9 for m in bob.messages(chat.id))


def test_a_direct_chat_says_when_the_other_person_has_not_accepted_yet(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    window, bridge = real_app.window, real_app.bridge
    bob = peer("Bob")
    bob_ready = bob.create()
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    run(qtbot, bridge.add_contact(bob.npub))
    chat = run(qtbot, bridge.create_dm(bob.pubkey))
    assert chat.waiting
    qtbot.waitUntil(lambda: window.session.chats.get(chat.id) is not None)
    window.open_chat(chat.id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat.id)
    assert window.chat.header.subtitle.text() == "Invitation sent · they have not accepted yet"
    send_from_composer(qtbot, real_app, "Lunch tomorrow?")
    assert window.chat.model.waiting  # its tick stays a clock: it has not reached Bob
    bob.accept_invite(chat.id)
    qtbot.waitUntil(lambda: not window.chat.model.waiting, timeout=NETWORK_MS)
    assert window.chat.header.subtitle.text() == "Direct message · end-to-end encrypted"
    assert not run(qtbot, bridge.show_group(chat.id)).members[0].invited

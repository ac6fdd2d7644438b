"""Two Burrow instances on one machine: the first serves the embedded local relay, the second
finds it already served and uses it; their people chat. And ``python main.py`` itself: it
starts the GUI (serving the relay) and stops gracefully on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.real_app import NETWORK_MS, AppFactory, RealApp, app_config, onboard
from tests.helpers.relay import free_port
from ui.dialogs.invites import InvitesDialog
from ui.dialogs.new_chat import NewChatDialog

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def texts(real: RealApp) -> list[str]:
    return [r.text for r in real.window.chat.model.rows if not r.system]


def say(qtbot: QtBot, real: RealApp, text: str) -> None:
    composer = real.window.chat.composer
    qtbot.keyClicks(composer, text)
    qtbot.keyClick(composer, Qt.Key.Key_Return)


def test_two_instances_find_each_other_through_the_embedded_relay(
    qtbot: QtBot, open_real_app: AppFactory, tmp_path: Path
) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    alice = open_real_app(app_config(tmp_path / "alice", url, embedded=True))
    bob = open_real_app(app_config(tmp_path / "bob", url, embedded=True))
    relay = alice.services.local_relay
    assert relay is not None and relay.running  # the first instance serves it
    assert bob.services.local_relay is None  # the second found it served
    assert alice.services.config.relay_store == bob.services.config.relay_store  # one store
    onboard(qtbot, alice, "Alice")
    onboard(qtbot, bob, "Bob")
    bob_account = bob.window.session.account
    assert bob_account is not None

    # Alice starts a 1:1 chat by pasting Bob's npub.
    alice.window.new_chat()
    dialog = alice.window.dialog
    assert isinstance(dialog, NewChatDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.npub.setText(bob_account.npub)
    dialog.start.click()
    qtbot.waitUntil(lambda: alice.window.chat.loaded is not None, timeout=NETWORK_MS)
    chat = alice.window.chat.chat
    assert chat is not None and chat.is_dm
    # Titled by Bob's name once his profile is known (it may come a moment later).
    qtbot.waitUntil(lambda: alice.window.chat.header.title.text() == "Bob", timeout=NETWORK_MS)
    say(qtbot, alice, "Hi Bob, it's Alice")

    # Bob's window shows the invite; he accepts, reads and answers.
    qtbot.waitUntil(bob.window.sidebar.invite_banner.isVisible, timeout=NETWORK_MS)
    bob.window.invites()
    invites = bob.window.dialog
    assert isinstance(invites, InvitesDialog)
    qtbot.waitUntil(lambda: invites.isVisible() and invites.detail.text() != "")
    assert invites.detail.text() == "Alice wants to chat with you."
    assert invites.accept_button.text() == "Start chatting"
    assert bob.window.notifier.last == ("New invite", "Alice wants to chat with you")
    invites.accept_button.click()
    qtbot.waitUntil(lambda: bob.window.chat.loaded == chat.id, timeout=NETWORK_MS)
    assert bob.window.chat.header.title.text() == "Alice"
    qtbot.waitUntil(lambda: texts(bob) == ["Hi Bob, it's Alice"], timeout=NETWORK_MS)
    say(qtbot, bob, "Hello Alice!")
    qtbot.waitUntil(
        lambda: texts(alice) == ["Hi Bob, it's Alice", "Hello Alice!"], timeout=NETWORK_MS
    )


def serves(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_main_starts_the_window_and_stops_gracefully(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "BURROW_LOCAL_RELAY": f"ws://127.0.0.1:{port}",
        "BURROW_DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not serves(port):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the embedded relay never served"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
    assert not serves(port)  # the relay stopped with the app
    store = Path(os.environ["XDG_STATE_HOME"]) / "burrow" / "relay" / str(port)
    assert (store / "data.mdb").is_file()  # the shared store, not the data folder

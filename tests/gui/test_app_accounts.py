"""The real app: first run, the saved theme, unlocking again, a second account, and an
invite from someone on the command line (accepted in the invites dialog)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.e2e.cli_client import CliError
from tests.gui.helpers import open_chat, png
from tests.gui.real_app import (
    NETWORK_MS,
    PASSPHRASE,
    AppFactory,
    CliPeer,
    RealApp,
    app_config,
    close_app,
    onboard,
    run,
    watch_models,
)
from tests.helpers.relay import RelayProcess
from ui.dialogs.invites import InvitesDialog
from ui.dialogs.settings import SettingsDialog
from ui.theme import theme_state
from ui.views import Theme

pytestmark = pytest.mark.gui


def choose_dark_theme(qtbot: QtBot, real: RealApp) -> None:
    real.window.settings()
    dialog = real.window.dialog
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.dark.click()
    qtbot.waitUntil(lambda: real.bridge.read_settings().get("theme") == "dark")
    dialog.close()


def test_first_run_theme_unlock_and_a_second_account(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    config = app_config(tmp_path / "gui", relay.url)
    first = open_real_app(config)
    first.window.onboarding.set_avatar(png("#d04020"))
    onboard(qtbot, first, "Alice")
    profile = run(qtbot, first.bridge.own_profile())
    assert profile.name == "Alice" and profile.npub.startswith("npub1")
    picture = QImage.fromData(profile.avatar)  # published as a small square picture
    assert (picture.width(), picture.height()) == (128, 128)
    choose_dark_theme(qtbot, first)
    close_app(qtbot, first)

    # Later run: the saved theme, then the unlock page with a calm wrong-passphrase line.
    again = open_real_app(config)
    window = again.window
    run(qtbot, window.start())
    assert theme_state().theme is Theme.DARK
    assert window.pages.currentWidget() is window.unlock
    assert window.unlock.name.text() == "Alice"
    qtbot.keyClicks(window.unlock.passphrase, "not the passphrase")
    qtbot.keyClick(window.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(window.unlock.error.isVisible, timeout=NETWORK_MS)
    assert window.unlock.error.text() == "That passphrase didn't work. Please try again."
    window.unlock.passphrase.setText(PASSPHRASE)
    window.unlock.unlock_button.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    alice = window.session.account
    assert alice is not None and alice.name == "Alice" and alice.avatar is not None

    # A second account beside the first; switching back needs no passphrase.
    window.show_onboarding()
    onboarding = window.onboarding
    onboarding.name.setText("Dora")
    onboarding.passphrase.setText(PASSPHRASE)
    onboarding.repeat.setText(PASSPHRASE)
    onboarding.submit.click()
    qtbot.waitUntil(lambda: len(window.accounts) == 2, timeout=NETWORK_MS)
    assert window.session.account is not None and window.session.account.name == "Dora"
    watched = watch_models(window.unlock.accounts)
    window.unlock.set_accounts(window.accounts)
    qtbot.waitUntil(spawn_switch(window, alice.pubkey).done, timeout=NETWORK_MS)
    assert window.session.account is not None and window.session.account.pubkey == alice.pubkey
    assert {a.name for a in run(qtbot, again.bridge.list_accounts())} == {"Alice", "Dora"}
    assert watched


def spawn_switch(window: object, pubkey: str) -> object:
    from ui.main_window import MainWindow
    from ui.tasks import spawn

    assert isinstance(window, MainWindow)
    account = next(a for a in window.accounts if a.pubkey == pubkey)
    return spawn(window._switch(account))


def test_accept_an_invite_and_chat_flags(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    window, bridge = real_app.window, real_app.bridge
    bob = peer("Bob")
    bob_ready = bob.create()
    onboard(qtbot, real_app, "Alice")
    bob_ready()
    me = window.session.account
    assert me is not None

    def invite() -> dict[str, object]:
        try:
            return bob.run("group", "create", "Book club", "--member", me.npub)
        except CliError as error:  # Alice's key package may not be on the relay yet
            if error.error["type"] != "NoKeyPackage":
                raise
            return {}

    group_id = str(bob.until(invite, bool)["group"]["id"])  # type: ignore[index]
    qtbot.waitUntil(window.sidebar.invite_banner.isVisible, timeout=NETWORK_MS)
    assert window.sidebar.invite_banner.text() == "1 pending invite"
    assert window.notifier.last == ("New invite", "Bob invited you to Book club")
    window.sidebar.invite_banner.click()
    dialog = window.dialog
    assert isinstance(dialog, InvitesDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.detail.text() == "Bob invited you to Book club."
    assert dialog.inviter_key.isVisible()
    assert dialog.inviter_key.text() == bob.npub  # issue 18
    dialog.accept_button.click()
    qtbot.waitUntil(lambda: window.chat.loaded == group_id, timeout=NETWORK_MS)
    assert window.chat.header.title.text() == "Book club"
    assert not window.sidebar.invite_banner.isVisible()

    bob.run("send", group_id, "Welcome, Alice!", sync=True)
    qtbot.waitUntil(
        lambda: [r.text for r in window.chat.model.rows if not r.system] == ["Welcome, Alice!"],
        timeout=NETWORK_MS,
    )
    assert [r.system for r in window.chat.model.rows if r.system] == ["Bob added you"]
    hits = run(qtbot, bridge.search("welcome"))
    assert [(h.chat_id, h.snippet) for h in hits] == [(group_id, "Welcome, Alice!")]

    # Pin, mute and archive are kept on this device and shown in the chat list.
    for flag in ("pinned", "muted", "archived"):
        run(qtbot, getattr(bridge, f"set_{flag}")(group_id, True))
        qtbot.waitUntil(lambda f=flag: getattr(window.session.chats.get(group_id), f))
    chats = run(qtbot, bridge.list_chats())
    assert [(c.pinned, c.muted, c.archived) for c in chats] == [(True, True, True)]


def test_delete_all_data_then_start_again(
    qtbot: QtBot, open_real_app: AppFactory, tmp_path: Path
) -> None:
    from tests.gui.helpers import click_confirm
    from tests.helpers.relay import free_port

    url = f"ws://127.0.0.1:{free_port()}"
    real = open_real_app(app_config(tmp_path / "gui", url, embedded=True))
    onboard(qtbot, real, "Alice")
    real.window.settings()
    dialog = real.window.dialog
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.delete.click()
    click_confirm(qtbot, dialog, "Delete everything")
    qtbot.waitUntil(lambda: real.window.pages.currentWidget() is real.window.onboarding)
    assert run(qtbot, real.bridge.list_accounts()) == []
    # The embedded relay is served again: a new account connects and publishes.
    relay = real.services.local_relay
    assert relay is not None and relay.running
    onboard(qtbot, real, "Alice again")
    assert [a.name for a in run(qtbot, real.bridge.list_accounts())] == ["Alice again"]


def test_text_typed_just_before_quitting_is_kept(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    config = app_config(tmp_path / "gui", relay.url)
    first = open_real_app(config)
    onboard(qtbot, first, "Alice")
    chat = run(qtbot, first.bridge.create_group("Notes", []))
    qtbot.waitUntil(lambda: first.window.session.chats.get(chat.id) is not None)
    open_chat(qtbot, first.window, chat.id)
    qtbot.keyClicks(first.window.chat.composer, "half a thought")
    close_app(qtbot, first)  # at once: the draft timer never fired

    again = open_real_app(config)
    run(qtbot, again.bridge.unlock(run(qtbot, again.bridge.list_accounts())[0].pubkey, PASSPHRASE))
    [kept] = run(qtbot, again.bridge.list_chats())
    assert (kept.id, kept.draft) == (chat.id, "half a thought")


def test_ncryptsec_from_settings_imports_on_another_computer(
    qtbot: QtBot, open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path
) -> None:
    first = open_real_app(app_config(tmp_path / "one", relay.url))
    onboard(qtbot, first, "Alice")
    pubkey = first.bridge.session().pubkey
    first.window.settings()
    dialog = first.window.dialog
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.reveal_passphrase.setText("not it")
    dialog.reveal_encrypted.click()
    qtbot.waitUntil(dialog.nsec_note.isVisible, timeout=NETWORK_MS)
    assert not dialog.nsec.isVisible()
    dialog.reveal_passphrase.setText(PASSPHRASE)
    dialog.reveal_encrypted.click()
    qtbot.waitUntil(dialog.nsec.isVisible, timeout=NETWORK_MS)
    encrypted = dialog.nsec.text()
    assert encrypted.startswith("ncryptsec1")
    dialog.close()
    close_app(qtbot, first)

    second = open_real_app(app_config(tmp_path / "two", relay.url))
    window = second.window
    run(qtbot, window.start())
    page = window.onboarding
    page.import_tab.click()
    assert not page.key_passphrase.isVisibleTo(page)
    page.nsec.setText(encrypted)
    assert page.key_passphrase.isVisibleTo(page)
    page.key_passphrase.setText("a wrong one")
    page.passphrase.setText("another computer")
    page.repeat.setText("another computer")
    page.submit.click()
    qtbot.waitUntil(page.error.isVisible, timeout=NETWORK_MS)
    assert "does not open this ncryptsec" in page.error.text()
    page.key_passphrase.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    assert second.bridge.session().pubkey == pubkey

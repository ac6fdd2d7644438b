"""The real app's own identity (issue 18): a key imported from elsewhere takes its name from
the relays (the header, the account list and the name prompt follow), and "Lock now" closes
the account until its passphrase is typed again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.real_app import NETWORK_MS, PASSPHRASE, CliPeer, RealApp, run
from ui.dialogs.profile import ProfileDialog

pytestmark = pytest.mark.gui


def test_an_imported_key_takes_its_name_from_the_relays_and_locks(
    qtbot: QtBot, real_app: RealApp, peer: Callable[[str], CliPeer]
) -> None:
    bob = peer("Bob")
    bob.create()()
    bob.run("account", "profile", "--name", "Bob Marsh")
    nsec = bob.run("account", "export-nsec")["nsec"]
    window = real_app.window
    run(qtbot, window.start())
    page = window.onboarding
    page.import_tab.click()
    page.nsec.setText(nsec)
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)

    def named() -> bool:
        account = window.session.account
        return account is not None and account.name == "Bob Marsh"

    qtbot.waitUntil(named, timeout=NETWORK_MS)
    assert window.sidebar.account_button.toolTip() == "Bob Marsh: accounts and profile"
    assert window.account_menu().actions()[0].text() == "Bob Marsh"
    dialog = window.dialog
    if isinstance(dialog, ProfileDialog):  # the name prompt, opened before the name came
        qtbot.waitUntil(lambda: dialog.name.text() == "Bob Marsh", timeout=NETWORK_MS)
        dialog.close()

    window.lock_now()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.unlock, timeout=NETWORK_MS)
    assert real_app.services.sessions == ()
    assert window.unlock.name.text() == "Bob Marsh"  # the stored account name, too
    window.unlock.passphrase.setText(PASSPHRASE)
    window.unlock.unlock_button.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    assert window.session.account is not None and window.session.account.name == "Bob Marsh"
    assert len(real_app.services.sessions) == 1

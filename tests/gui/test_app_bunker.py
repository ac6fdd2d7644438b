"""The real window with a remote signer (NDK's bunker, a Node process): sign in with a
bunker:// string, see the signer's state in the sidebar when it goes away, and sign in by
a nostrconnect:// code the bunker takes up."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from nostr.keys import SecretKey
from nostr.nip46_uri import NostrConnectUri
from tests.gui.real_app import NETWORK_MS, PASSPHRASE, AppFactory, app_config, close_app, run
from tests.helpers.bunker import BunkerFactory
from tests.helpers.relay import RelayProcess

pytestmark = pytest.mark.gui


def test_sign_in_with_a_bunker_string_and_see_the_signer_go_offline(
    qtbot: QtBot,
    open_real_app: AppFactory,
    relay: RelayProcess,
    bunker_factory: BunkerFactory,
    tmp_path: Path,
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    real = open_real_app(app_config(tmp_path / "gui", relay.url))
    window = real.window
    run(qtbot, window.start())
    page = window.onboarding
    page.signer_tab.click()
    page.bunker.setText(bunker.uri)
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    assert real.bridge.session().pubkey == user.public_key().hex
    footer = window.sidebar.footer
    qtbot.waitUntil(lambda: footer.signer.text() == "Remote signer: ready", timeout=NETWORK_MS)

    bunker.stop()
    session = real.bridge.session()
    run(qtbot, session.contacts.publish_profile(name="Offline Alice"))  # queued, not failed
    qtbot.waitUntil(lambda: "offline" in footer.signer.text(), timeout=NETWORK_MS)
    assert footer.signer.text() == "Remote signer offline: changes wait until it is back"
    bunker.start()
    qtbot.waitUntil(lambda: footer.signer.text() == "Remote signer: ready", timeout=NETWORK_MS)
    close_app(qtbot, real)

    # A later run: unlock (nothing secret was stored), and the footer learns the signer
    # answers.
    again = open_real_app(app_config(tmp_path / "gui", relay.url))
    window = again.window
    run(qtbot, window.start())
    assert window.pages.currentWidget() is window.unlock
    window.unlock.passphrase.setText(PASSPHRASE)
    window.unlock.unlock_button.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    footer = window.sidebar.footer
    qtbot.waitUntil(lambda: footer.signer.text() == "Remote signer: ready", timeout=NETWORK_MS)


def test_sign_in_by_a_nostrconnect_code(
    qtbot: QtBot,
    open_real_app: AppFactory,
    relay: RelayProcess,
    bunker_factory: BunkerFactory,
    tmp_path: Path,
) -> None:
    user = SecretKey.generate()
    real = open_real_app(app_config(tmp_path / "gui", relay.url))
    window = real.window
    run(qtbot, window.start())
    page = window.onboarding
    page.signer_tab.click()
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.show_code.click()
    qtbot.waitUntil(page.code.isVisible, timeout=NETWORK_MS)
    offer = page.code_text.text()
    assert offer.startswith("nostrconnect://") and NostrConnectUri.parse(offer).relays == (
        relay.url,
    )
    bunker_factory(relay.url, user, offer=offer)  # the signer "scans" it
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    assert real.bridge.session().pubkey == user.public_key().hex

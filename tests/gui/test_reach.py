"""Reaching people in the window: the public-relays choice at onboarding, NIP-05 verified
addresses on contacts and profiles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.scenes import PASSPHRASE
from ui.main_window import MainWindow
from ui.models.people import ContactListModel
from ui.models.roles import ItemRole
from ui.tasks import spawn
from ui.views import ContactRow, ProfileView
from ui.widgets.profile_card import ProfileCard

pytestmark = pytest.mark.gui

KEY = "ab" * 32
NPUB = "npub1" + "q" * 58


@pytest.mark.parametrize(("tick", "choice"), [(True, "public"), (False, "local")])
def test_onboarding_offers_public_relays_or_this_computer_only(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend, tick: bool, choice: str
) -> None:
    qtbot.waitUntil(spawn(window.start()).done)
    page = window.onboarding
    assert not page.public_relays.isChecked()  # nothing leaves the machine unasked
    assert "relay.damus.io" in page.public_relays.toolTip()
    if tick:
        page.public_relays.click()
    qtbot.keyClicks(page.name, "Alice")
    qtbot.keyClicks(page.passphrase, PASSPHRASE)
    qtbot.keyClicks(page.repeat, PASSPHRASE)
    qtbot.keyClick(page.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    assert backend.relay_choice == choice


def test_contacts_show_a_verified_address_instead_of_the_key(qtbot: QtBot) -> None:
    model = ContactListModel()
    model.set_rows(
        [
            ContactRow(KEY, NPUB, "Bob", nip05="bob@example.com", nip05_verified=True),
            ContactRow("cd" * 32, NPUB, "Eve", nip05="bob@example.com", nip05_verified=False),
        ]
    )
    subtitles = {
        model.index(i).data(ItemRole.TITLE): model.index(i).data(ItemRole.SUBTITLE)
        for i in range(model.rowCount())
    }
    assert subtitles["Bob"] == "✓ bob@example.com"
    assert "example.com" not in subtitles["Eve"]  # an unverified claim is not shown as one


def test_the_profile_card_says_whether_the_address_checked_out(qtbot: QtBot) -> None:
    card = ProfileCard()
    qtbot.addWidget(card)
    card.show()
    card.show_profile(ProfileView(KEY, NPUB, "Bob", nip05="bob@example.com", nip05_verified=True))
    assert card.nip05.text() == "✓ bob@example.com (verified)" and card.nip05.isVisible()
    card.show_profile(ProfileView(KEY, NPUB, "Bob", nip05="_@example.com"))
    assert card.nip05.text() == "example.com (not verified)"
    card.show_profile(ProfileView(KEY, NPUB, "Bob"))
    assert not card.nip05.isVisible()


def test_scan_to_add_me_shows_only_on_your_own_card(qtbot: QtBot) -> None:
    theirs, mine = ProfileCard(), ProfileCard(own=True)
    for card in (theirs, mine):
        qtbot.addWidget(card)
        card.show()
        card.show_profile(ProfileView(KEY, NPUB, "Bob"))
    assert mine.scan_hint.isVisible() and not theirs.scan_hint.isVisible()

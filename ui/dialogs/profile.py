"""Your profile: picture, name and about (published as kind 0), your npub and its QR code."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ui.avatar import choose_picture
from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.session import Session
from ui.tasks import async_slot
from ui.views import ContactRow, ProfileView
from ui.widgets.common import busy, button, label
from ui.widgets.profile_card import ProfileCard

WELCOME = "Choose the name people see in chats. You can change it any time."


class ProfileDialog(Dialog):
    profileSaved = Signal(object)  # ProfileView

    def __init__(
        self, session: Session, parent: QWidget | None = None, *, welcome: bool = False
    ) -> None:
        super().__init__(session, "Choose your name" if welcome else "Your profile", parent, 640)
        self.setObjectName("ProfileDialog")
        self.avatar: bytes | None = None
        self.profile: ProfileView | None = None
        self.card = ProfileCard(own=True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Your name")
        self.about = QLineEdit()
        self.about.setPlaceholderText("A few words about you")
        self.picture = button("Change picture…", "", "image")
        self.saved = label("", "muted")
        form = QVBoxLayout()
        form.addWidget(label("Name", "section"))
        form.addWidget(self.name)
        form.addWidget(label("About", "section"))
        form.addWidget(self.about)
        form.addWidget(self.picture)
        form.addWidget(self.saved)
        form.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addLayout(form, 1)
        row.addWidget(self.card)
        if welcome:  # just after importing a key that came without a name
            self.column.addWidget(label(WELCOME, "muted", wrap=True))
        self.column.addLayout(row)
        self.add_close()
        self.save = self.add_button("Save", "primary")
        self.finish_layout()
        self.picture.clicked.connect(self._choose_picture)
        for field in (self.name, self.about):
            field.textEdited.connect(lambda: self.saved.setText(""))
            field.returnPressed.connect(self.save.click)
        self.save.clicked.connect(self.save_profile)
        session.contactUpdated.connect(self._contact_updated)
        self.launch(self._load())

    async def _load(self) -> None:
        self.show_profile(await self.backend.own_profile())
        if not self.name.text():
            self.name.setFocus()

    def _contact_updated(self, row: ContactRow) -> None:
        """Our own profile arrived from the relays while nothing was typed: show it."""
        mine = self.profile is not None and row.pubkey == self.profile.pubkey
        untouched = not self.name.text() and not self.about.text()
        if mine and untouched and not self.is_working:
            self.launch(self._load())

    def show_profile(self, profile: ProfileView) -> None:
        self.profile = profile
        self.avatar = profile.avatar
        self.name.setText(profile.name)
        self.about.setText(profile.about)
        self.card.show_profile(profile)

    def _choose_picture(self) -> None:
        data, problem = choose_picture(self)
        self.error.show_error(problem)
        if data is not None:
            self.set_picture(data)

    def set_picture(self, data: bytes) -> None:
        """Preview a new picture on the card; Save publishes it."""
        self.avatar = data
        name = self.name.text().strip() or "?"
        seed = self.profile.pubkey if self.profile else name
        self.card.avatar.set_avatar(name, seed, data)
        self.saved.setText("Save to publish your new picture.")

    @async_slot()
    async def save_profile(self) -> None:
        self.error.clear_error()
        with busy(self.save, "Saving…"):
            try:
                profile = await self.backend.update_profile(
                    self.name.text(), self.about.text(), self.avatar
                )
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.show_profile(profile)
        self.saved.setText("Saved and published.")
        self.profileSaved.emit(profile)

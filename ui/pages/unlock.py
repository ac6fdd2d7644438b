"""Later runs: pick an account (when there are several) and unlock it with its passphrase.

A wrong passphrase is a calm line under the field, never a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from ui.avatar import AvatarLabel
from ui.backend import Backend
from ui.errors import BackendError
from ui.format import short_key
from ui.models.people import AccountListModel
from ui.pages.card import CardPage
from ui.tasks import async_slot
from ui.views import AccountView
from ui.widgets.common import ElidedLabel, ErrorLabel, PassphraseField, busy, button, label


class UnlockPage(CardPage):
    unlocked = Signal(object)  # AccountView
    addAccountRequested = Signal()

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Unlock")
        self.backend = backend
        self.accounts = AccountListModel(self)
        self.avatar = AvatarLabel(80)
        self.name = ElidedLabel("title")
        self.npub = label("", "muted")
        self.chooser = QComboBox()
        self.chooser.setAccessibleName("Account")
        self.chooser.setModel(self.accounts)
        self.passphrase = PassphraseField("Passphrase")
        self.error = ErrorLabel()
        self.unlock_button = button("Unlock", "primary", "lock")
        self.add_account = button("Add another account", "flat")
        self._build()

    def _build(self) -> None:
        body = self.body
        for widget in (self.avatar, self.name, self.npub):
            body.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        body.addSpacing(8)
        body.addWidget(self.chooser)
        body.addWidget(self.passphrase)
        body.addWidget(self.error)
        body.addWidget(self.unlock_button)
        body.addWidget(self.add_account)
        self.chooser.currentIndexChanged.connect(self._show_account)
        self.passphrase.returnPressed.connect(self.unlock_button.click)
        self.passphrase.textEdited.connect(self.error.clear_error)
        self.unlock_button.clicked.connect(self.run)
        self.add_account.clicked.connect(self.addAccountRequested)

    def set_accounts(self, accounts: list[AccountView], selected: str | None = None) -> None:
        self.chooser.blockSignals(True)
        self.accounts.set_rows(accounts)
        self.chooser.blockSignals(False)
        self.chooser.setVisible(len(accounts) > 1)
        index = max(0, self.accounts.position(selected)) if selected else 0
        self.chooser.setCurrentIndex(index)
        self._show_account(index)

    @property
    def account(self) -> AccountView | None:
        index = self.chooser.currentIndex()
        return self.accounts.row_at(index) if 0 <= index < self.accounts.rowCount() else None

    def _show_account(self, index: int) -> None:
        account = self.account
        if account is None:
            return
        self.avatar.set_avatar(account.name, account.pubkey, account.avatar)
        self.name.setText(account.name or "Your account")
        self.npub.setText(short_key(account.npub))
        self.error.clear_error()
        self.passphrase.clear()
        self.passphrase.setFocus()

    @async_slot()
    async def run(self) -> None:
        account = self.account
        if account is None:
            return
        if not self.passphrase.text():
            self.error.show_error("Enter your passphrase to continue.")
            return
        with busy(self.unlock_button, "Unlocking…"):
            try:
                opened = await self.backend.unlock(account.pubkey, self.passphrase.text())
            except BackendError as error:
                self.error.show_error(error.message)
                self.passphrase.selectAll()
                self.passphrase.setFocus()
                return
        self.passphrase.clear()
        self.unlocked.emit(opened)

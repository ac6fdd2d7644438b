"""Settings: theme, passphrase, revealing the nsec or an ncryptsec (NIP-49, encrypted under
the passphrase; both after re-entering it) and deleting all local data (after a
confirmation)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.pages.onboarding import PASSPHRASE_RULE, passphrase_problem
from ui.session import Session
from ui.tasks import async_slot
from ui.theme import apply_theme, theme_state
from ui.views import Theme
from ui.widgets.common import (
    ErrorLabel,
    PassphraseField,
    busy,
    button,
    label,
    segmented,
    separator,
)
from ui.widgets.confirm import confirm

CLIPBOARD_CLEAR_MS = 60_000


class SettingsDialog(Dialog):
    dataDeleted = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "Settings", parent, width=600)
        self.setObjectName("SettingsDialog")
        self.system = self._theme_button("System", Theme.SYSTEM)
        self.light = self._theme_button("Light", Theme.LIGHT)
        self.dark = self._theme_button("Dark", Theme.DARK)
        self.system.setToolTip("Follow your desktop's light or dark setting")
        self.old = PassphraseField("Current passphrase")
        self.new = PassphraseField(f"New passphrase ({PASSPHRASE_RULE.lower().rstrip('.')})")
        self.repeat = PassphraseField("Repeat new passphrase")
        self.change = button("Change passphrase")
        self.passphrase_note = ErrorLabel()
        self.reveal_passphrase = PassphraseField("Passphrase")
        self.reveal = button("Show my nsec", "", "key")
        self.reveal_encrypted = button("Show as ncryptsec", "", "key")
        self.reveal_encrypted.setToolTip(
            "Your key encrypted with this passphrase (NIP-49): safer to keep or move"
        )
        self.nsec = QLineEdit()
        self.nsec.setReadOnly(True)
        self.nsec.setObjectName("NsecField")
        self.copy_nsec = button("Copy", "", "copy")
        self.nsec_note = ErrorLabel()
        self.delete = button("Delete all data on this computer", "danger", "trash")
        self._build()
        self.add_close()
        self.finish_layout()

    def _theme_button(self, text: str, theme: Theme) -> QPushButton:
        widget = QPushButton(text)
        widget.clicked.connect(lambda: self.choose_theme(theme))
        return widget

    def _theme_row(self) -> QHBoxLayout:
        themes = QHBoxLayout()
        themes.setSpacing(0)
        themes.addWidget(label("Appearance", "section"))
        themes.addStretch(1)
        segmented(self.system, self.light, self.dark)
        chosen = {Theme.SYSTEM: self.system, Theme.LIGHT: self.light, Theme.DARK: self.dark}
        chosen[theme_state().choice].setChecked(True)
        for widget in (self.system, self.light, self.dark):
            themes.addWidget(widget)
        return themes

    def _build(self) -> None:
        c = self.column
        c.addLayout(self._theme_row())
        c.addWidget(separator())
        c.addWidget(label("Passphrase", "section"))
        c.addWidget(self.old)
        new_row = QHBoxLayout()
        new_row.addWidget(self.new)
        new_row.addWidget(self.repeat)
        c.addLayout(new_row)
        change_row = QHBoxLayout()
        change_row.addWidget(self.passphrase_note, 1)
        change_row.addStretch(0)
        change_row.addWidget(self.change, 0, Qt.AlignmentFlag.AlignRight)
        c.addLayout(change_row)
        c.addWidget(separator())
        self._build_secret_key()
        c.addWidget(separator())
        danger = QHBoxLayout()
        danger.addWidget(label("Danger zone", "section"))
        danger.addStretch(1)
        danger.addWidget(self.delete)
        c.addLayout(danger)
        self.change.clicked.connect(self.change_passphrase)
        self.old.returnPressed.connect(self.new.setFocus)
        self.new.returnPressed.connect(self.repeat.setFocus)
        self.repeat.returnPressed.connect(self.change.click)
        self.reveal.clicked.connect(self.reveal_nsec)
        self.reveal_encrypted.clicked.connect(self.reveal_ncryptsec)
        self.reveal_passphrase.returnPressed.connect(self.reveal.click)
        self.copy_nsec.clicked.connect(self._copy_nsec)
        self.delete.clicked.connect(self._confirm_delete)

    def _build_secret_key(self) -> None:
        c = self.column
        c.addWidget(label("Secret key", "section"))
        warning = "Your nsec is your identity: whoever has it can read your chats and act as you."
        c.addWidget(label(warning, "muted", wrap=True))
        reveal_row = QHBoxLayout()
        reveal_row.addWidget(self.reveal_passphrase, 1)
        reveal_row.addWidget(self.reveal)
        reveal_row.addWidget(self.reveal_encrypted)
        c.addLayout(reveal_row)
        nsec_row = QHBoxLayout()
        nsec_row.addWidget(self.nsec, 1)
        nsec_row.addWidget(self.copy_nsec)
        c.addLayout(nsec_row)
        c.addWidget(self.nsec_note)
        self.nsec.hide()
        self.copy_nsec.hide()

    @async_slot()
    async def choose_theme(self, theme: Theme) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        try:
            await self.backend.set_theme(theme)
        except BackendError as error:
            self.error.show_error(error.message)

    @async_slot()
    async def change_passphrase(self) -> None:
        problem = passphrase_problem(self.new.text(), self.repeat.text())
        if problem:
            self.passphrase_note.show_error(problem)
            return
        with busy(self.change, "Changing…"):
            try:
                await self.backend.change_passphrase(self.old.text(), self.new.text())
            except BackendError as error:
                self.passphrase_note.show_error(error.message)
                return
        for field in (self.old, self.new, self.repeat):
            field.clear()
        self.passphrase_note.show_success("Passphrase changed.")

    @async_slot()
    async def reveal_nsec(self) -> None:
        await self._reveal(self.reveal, encrypted=False)

    @async_slot()
    async def reveal_ncryptsec(self) -> None:
        await self._reveal(self.reveal_encrypted, encrypted=True)

    async def _reveal(self, pressed: QPushButton, *, encrypted: bool) -> None:
        passphrase = self.reveal_passphrase.text()
        export = self.backend.export_ncryptsec if encrypted else self.backend.export_nsec
        with busy(pressed, "Encrypting…" if encrypted else "Checking…"):
            try:
                text = await export(passphrase)
            except BackendError as error:
                self.nsec_note.show_error(error.message)
                return
        self.reveal_passphrase.clear()
        self.nsec_note.clear_error()
        if encrypted:
            self.nsec_note.show_info("Encrypted with your passphrase (NIP-49).")
        self.nsec.setText(text)
        self.nsec.show()
        self.copy_nsec.show()

    def _copy_nsec(self) -> None:
        clipboard = QGuiApplication.clipboard()
        secret = self.nsec.text()
        clipboard.setText(secret)
        self.nsec_note.show_info("Copied. The clipboard is cleared in a minute.")

        def wipe() -> None:
            if clipboard.text() == secret:
                clipboard.clear()

        QTimer.singleShot(CLIPBOARD_CLEAR_MS, wipe)

    def _confirm_delete(self) -> None:
        confirm(
            self,
            "Delete all data?",
            "Every account, message and key on this computer will be erased. Keep your nsec "
            "if you want to use your identity again.",
            "Delete everything",
            self._delete,
        )

    @async_slot()
    async def _delete(self) -> None:
        with busy(self.delete, "Deleting…"):
            try:
                await self.backend.delete_all_data()
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.dataDeleted.emit()
        self.accept()

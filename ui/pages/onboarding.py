"""First run (or "add account"): create an identity with a name and optional picture, or import
an nsec or NIP-49 ncryptsec, or sign in with a remote signer (NIP-46: a pasted bunker://
string, or a nostrconnect:// code shown here for the signer to scan; no secret key is then
stored). Every way, choose the passphrase that encrypts this computer's copy."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.avatar import AvatarLabel, choose_picture
from ui.backend import Backend
from ui.errors import BackendError
from ui.pages.card import CardPage, app_logo
from ui.qr import DataTooLong
from ui.tasks import async_slot
from ui.views import AccountView
from ui.widgets.common import ErrorLabel, PassphraseField, busy, button, label, segmented
from ui.widgets.qr_view import QrView

MIN_PASSPHRASE = 8
PASSPHRASE_RULE = f"At least {MIN_PASSPHRASE} characters."


def passphrase_problem(passphrase: str, repeated: str) -> str:
    """What is wrong with a new passphrase, or ""."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"Use at least {MIN_PASSPHRASE} characters for your passphrase."
    if passphrase != repeated:
        return "The two passphrases are not the same."
    return ""


def rule_progress(passphrase: str, repeated: str) -> str:
    """The passphrase rule as typing goes: what is still missing, or that it is fine."""
    if not passphrase:
        return PASSPHRASE_RULE
    missing = MIN_PASSPHRASE - len(passphrase)
    if missing > 0:
        return f"{PASSPHRASE_RULE} {missing} more to go."
    if repeated and repeated != passphrase:
        return "Long enough. The repeated passphrase is not the same yet."
    return "Long enough." if not repeated else "Long enough, and both are the same."


class OnboardingPage(CardPage):
    accountReady = Signal(object)  # AccountView
    cancelled = Signal()

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Onboarding")
        self.backend = backend
        self.avatar: bytes | None = None
        self.name = QLineEdit()
        self.name.setPlaceholderText("Your name")
        self.nsec = PassphraseField("nsec1… or ncryptsec1…")
        self.key_passphrase = PassphraseField("Passphrase of the ncryptsec (if different)")
        self.key_passphrase.setObjectName("KeyPassphrase")
        self.passphrase = PassphraseField("Passphrase")
        self.repeat = PassphraseField("Repeat passphrase")
        self.error = ErrorLabel()
        self.submit = button("Create account", "primary")
        self.back = button("Back", "flat")
        self.create_tab = QPushButton("New identity")
        self.import_tab = QPushButton("I have a key")
        self.signer_tab = QPushButton("Remote signer")
        segmented(self.create_tab, self.import_tab, self.signer_tab)
        self.bunker = QLineEdit()
        self.bunker.setObjectName("BunkerUri")
        self.bunker.setPlaceholderText("bunker://…")
        self.show_code = button("Show a code for my signer", "flat", "key")
        self.code = QrView(176)
        self.code_text = QLineEdit()
        self.code_text.setReadOnly(True)
        self.code_text.setObjectName("NostrConnectUri")
        self.code_note = ErrorLabel()
        self.forms = QStackedWidget()
        self.avatar_preview = AvatarLabel(72)
        self._build()
        self.create_tab.setChecked(True)
        self.show_create(True)

    def _build(self) -> None:
        body = self.body
        body.addWidget(app_logo(64))
        title = label("Welcome to Burrow", "title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.addWidget(title)
        intro = label("Private group chats, end-to-end encrypted.", "muted", wrap=True)
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.addWidget(intro)
        tabs = QHBoxLayout()
        tabs.setSpacing(0)
        for tab in (self.create_tab, self.import_tab, self.signer_tab):
            tabs.addWidget(tab)
        self.create_tab.toggled.connect(self.show_create)
        self.signer_tab.toggled.connect(self._show_signer)
        body.addSpacing(6)
        body.addLayout(tabs)
        self.forms.addWidget(self._create_form())
        self.forms.addWidget(self._import_form())
        self.forms.addWidget(self._signer_form())
        body.addWidget(self.forms)
        body.addWidget(label("Passphrase for this computer", "section"))
        body.addWidget(self.passphrase)
        body.addWidget(self.repeat)
        # The rule is said before anyone breaks it, and counts down while typing.
        self.rule = label(PASSPHRASE_RULE, "muted", wrap=True)
        self.rule.setObjectName("PassphraseRule")
        body.addWidget(self.rule)
        hint = "It encrypts your messages here. There is no way to recover it."
        body.addWidget(label(hint, "muted", wrap=True))
        self.passphrase.textChanged.connect(self._show_rule)
        self.repeat.textChanged.connect(self._show_rule)
        body.addWidget(self.error)
        body.addSpacing(4)
        body.addWidget(self.submit)
        body.addWidget(self.back)
        self.back.hide()
        self.submit.clicked.connect(self.run)
        self.back.clicked.connect(self.cancelled)
        # Enter moves on to the next field, and from the last one submits.
        self.name.returnPressed.connect(self.passphrase.setFocus)
        self.nsec.returnPressed.connect(self.passphrase.setFocus)
        self.passphrase.returnPressed.connect(self.repeat.setFocus)
        self.repeat.returnPressed.connect(self.submit.click)

    def _create_form(self) -> QWidget:
        form = QWidget()
        column = QVBoxLayout(form)
        column.setContentsMargins(0, 6, 0, 0)
        column.setSpacing(8)
        row = QHBoxLayout()
        row.setSpacing(14)
        row.addWidget(self.avatar_preview)
        picks = QVBoxLayout()
        picks.setSpacing(2)
        choose = button("Choose a picture…", "flat", "image")
        choose.clicked.connect(self._choose_avatar)
        picks.addStretch(1)
        picks.addWidget(choose, 0, Qt.AlignmentFlag.AlignLeft)
        picks.addWidget(label("Optional. Everyone you chat with sees it.", "muted", wrap=True))
        picks.addStretch(1)
        row.addLayout(picks, 1)
        column.addLayout(row)
        column.addWidget(self.name)
        # White Noise users are on public relays; "this computer only" stays the default
        # so nothing leaves the machine unless the user says so.
        self.public_relays = QCheckBox("Use public relays: reach people anywhere")
        self.public_relays.setToolTip("relay.damus.io, relay.primal.net and nos.lol")
        self.public_relays.setObjectName("PublicRelays")
        column.addWidget(self.public_relays)
        column.addWidget(
            label("Unticked: this computer only. You can change relays later.", "muted", wrap=True)
        )
        self.name.textChanged.connect(self._refresh_avatar)
        self._refresh_avatar()
        return form

    def _import_form(self) -> QWidget:
        form = QWidget()
        column = QVBoxLayout(form)
        column.setContentsMargins(0, 6, 0, 0)
        column.setSpacing(8)
        column.addWidget(label("Your secret key", "section"))
        column.addWidget(self.nsec)
        column.addWidget(self.key_passphrase)
        self.key_passphrase.hide()
        self.nsec.textChanged.connect(self._show_key_passphrase)
        note = (
            "Paste the nsec from White Noise or another Nostr app, or an encrypted ncryptsec."
            " It never leaves this computer."
        )
        column.addWidget(label(note, "muted", wrap=True))
        column.addStretch(1)
        return form

    def _show_rule(self) -> None:
        self.rule.setText(rule_progress(self.passphrase.text(), self.repeat.text()))

    def _signer_form(self) -> QWidget:
        form = QWidget()
        column = QVBoxLayout(form)
        column.setContentsMargins(0, 6, 0, 0)
        column.setSpacing(8)
        column.addWidget(label("Your remote signer", "section"))
        column.addWidget(self.bunker)
        note = (
            "Paste the bunker:// string from your signer (a bunker, nsec.app, Amber…). Your"
            " secret key stays there: this computer keeps none."
        )
        column.addWidget(label(note, "muted", wrap=True))
        column.addWidget(self.show_code, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.code, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.code_text)
        column.addWidget(self.code_note)
        for widget in (self.code, self.code_text):
            widget.hide()
        self.show_code.clicked.connect(self.offer_code)
        self.bunker.returnPressed.connect(self.passphrase.setFocus)
        return form

    def _show_signer(self, shown: bool) -> None:
        if shown:
            self.forms.setCurrentIndex(2)
            self.submit.setText("Connect")
            self.error.clear_error()
            self.bunker.setFocus()

    @async_slot()
    async def offer_code(self) -> None:
        """Show a nostrconnect:// code and wait for the signer to take it up (the
        passphrase must be chosen first: the account is stored as soon as it does)."""
        problem = passphrase_problem(self.passphrase.text(), self.repeat.text())
        self.error.show_error(problem)
        if problem:
            return
        with busy(self.show_code, "Waiting for your signer…"):
            try:
                text = await self.backend.offer_connection()
                self._show_offer(text)
                account = await self.backend.accept_connection(self.passphrase.text())
            except BackendError as error:
                self.code_note.show_error(error.message)
                return
        self._finish(account)

    def _show_offer(self, text: str) -> None:
        self.code_text.setText(text)
        self.code_text.show()
        try:
            self.code.set_text(text)
            self.code.show()
        except DataTooLong:
            self.code.hide()  # too long for a code: copying the text still works
        self.code_note.show_info("Scan the code with your signer, or paste the text into it.")

    def _show_key_passphrase(self, text: str) -> None:
        # An ncryptsec needs the passphrase it was encrypted with; an nsec does not.
        self.key_passphrase.setVisible(text.strip().lower().startswith("ncryptsec1"))

    def allow_back(self, allowed: bool) -> None:
        self.back.setVisible(allowed)

    def show_create(self, create: bool) -> None:
        if not create and self.signer_tab.isChecked():
            return  # the signer tab shows its own form
        self.forms.setCurrentIndex(0 if create else 1)
        self.submit.setText("Create account" if create else "Import key")
        self.error.clear_error()
        self.focus_first()

    def focus_first(self) -> None:
        """The keyboard starts in the first field of the chosen form."""
        if self.signer_tab.isChecked():
            self.bunker.setFocus()
            return
        (self.name if self.create_tab.isChecked() else self.nsec).setFocus()

    def set_avatar(self, data: bytes | None) -> None:
        self.avatar = data
        self._refresh_avatar()

    def _refresh_avatar(self) -> None:
        name = self.name.text().strip() or "?"
        self.avatar_preview.set_avatar(name, name, self.avatar)

    def _choose_avatar(self) -> None:
        data, problem = choose_picture(self)
        self.error.show_error(problem)
        if data is not None:
            self.set_avatar(data)

    @async_slot()
    async def run(self) -> None:
        creating = self.create_tab.isChecked()
        signer = self.signer_tab.isChecked()
        problem = passphrase_problem(self.passphrase.text(), self.repeat.text())
        if creating and not self.name.text().strip():
            problem = "Please tell us your name. You can change it later."
        elif signer and not self.bunker.text().strip():
            problem = "Paste the bunker:// string from your signer, or show a code for it."
        elif not creating and not signer and not self.nsec.text().strip():
            problem = "Paste your nsec key first."
        self.error.show_error(problem)
        if problem:
            return
        progress = "Setting up…" if creating else "Asking your signer…" if signer else "Importing…"
        with busy(self.submit, progress):
            try:
                account = await self._submit(creating)
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self._finish(account)

    def _finish(self, account: AccountView) -> None:
        fields = (self.passphrase, self.repeat, self.nsec, self.key_passphrase, self.name)
        for field in (*fields, self.bunker, self.code_text):
            field.clear()  # a later "add account" starts from an empty form
        self.code.hide()
        self.code_text.hide()
        self.code_note.clear_error()
        self.set_avatar(None)
        self.accountReady.emit(account)

    async def _submit(self, creating: bool) -> AccountView:
        if creating:
            relays = "public" if self.public_relays.isChecked() else "local"
            return await self.backend.create_account(
                self.name.text().strip(), self.passphrase.text(), self.avatar, relays
            )
        if self.signer_tab.isChecked():
            return await self.backend.import_account(
                self.bunker.text().strip(), self.passphrase.text()
            )
        return await self.backend.import_account(
            self.nsec.text().strip(), self.passphrase.text(), self.key_passphrase.text()
        )

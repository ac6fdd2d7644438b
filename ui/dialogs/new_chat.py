"""Start a 1:1 chat with a contact, or with someone new by npub or nprofile."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.format import public_key_problem
from ui.session import Session
from ui.tasks import async_slot
from ui.widgets.common import busy, label
from ui.widgets.contact_picker import ContactPicker

NO_CONTACTS = "No contacts yet. Paste someone's npub above to start a chat with them."


class NewChatDialog(Dialog):
    chatCreated = Signal(object)  # ChatRow
    groupRequested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "New chat", parent)
        self.setObjectName("NewChatDialog")
        self.npub = QLineEdit()
        self.npub.setPlaceholderText("Paste an npub or nprofile")
        self.picker = ContactPicker(multi=False, empty_text=NO_CONTACTS)
        self.picker.setMinimumHeight(260)
        self.column.addWidget(label("Someone new", "section"))
        self.column.addWidget(self.npub)
        self.column.addWidget(label("Or one of your contacts", "section"))
        self.column.addWidget(self.picker, 1)
        group = self.add_button("New group…", "flat", "group")
        group.clicked.connect(self._group)
        self.add_close("Cancel")
        self.start = self.add_button("Message", "primary", "chat")
        self.start.clicked.connect(self.start_chat)
        self.npub.returnPressed.connect(self.start.click)
        self.picker.keyEntered.connect(self._typed_in_search)
        # Enter on a contact, or a double click (the platform's "activate"), starts it.
        self.picker.view.activated.connect(self.start.click)
        self.finish_layout()
        self.launch(self._load())

    async def _load(self) -> None:
        self.picker.set_contacts(await self.backend.list_contacts())

    def _typed_in_search(self, typed: str) -> None:
        """A key pasted into the contact search starts the chat as the key field does."""
        self.npub.setText(typed)
        self.picker.filter.clear()
        self.start.click()

    def _group(self) -> None:
        self.groupRequested.emit()
        self.reject()

    @async_slot()
    async def start_chat(self) -> None:
        typed = self.npub.text().strip()
        picked = self.picker.picked()
        if not typed and not picked:
            self.error.show_error("Pick a contact or paste their npub.")
            return
        problem = public_key_problem(typed) if typed else ""
        if problem:
            self.error.show_error(problem)
            return
        with busy(self.start, "Starting…"):
            try:
                pubkey = (await self.backend.add_contact(typed)).pubkey if typed else picked[0]
                chat = await self.backend.create_dm(pubkey)
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.chatCreated.emit(chat)
        self.accept()

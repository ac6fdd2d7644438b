"""Contacts: add by npub or nprofile, see a profile with its npub and QR code, block, message."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.format import public_key_problem
from ui.models.people import ContactListModel
from ui.models.roles import ItemRole
from ui.session import Session
from ui.tasks import async_slot
from ui.views import ContactRow
from ui.widgets.common import FilterField, busy, button, item_list, label
from ui.widgets.profile_card import ProfileCard


class ContactsDialog(Dialog):
    chatCreated = Signal(object)  # ChatRow

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "Contacts", parent, width=720)
        self.setObjectName("ContactsDialog")
        self.model = ContactListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(int(ItemRole.TITLE))
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = FilterField("Search contacts")
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = item_list("ContactList", self.proxy)
        self.npub = QLineEdit()
        self.npub.setPlaceholderText("npub, nprofile or name@domain")
        self.nickname = QLineEdit()
        self.nickname.setPlaceholderText("Name (optional)")
        self.add = button("Add", "primary", "plus")
        self.card = ProfileCard()
        self.message = button("Message", "primary", "chat")
        self.block = button("Block", "danger")
        self._build()
        self.add_close()
        self.finish_layout()
        self.view.selectionModel().currentChanged.connect(self._show_selected)
        self.add.clicked.connect(self.add_contact)
        self.npub.returnPressed.connect(self.add.click)
        self.nickname.returnPressed.connect(self.add.click)
        self.message.clicked.connect(self.message_selected)
        self.view.activated.connect(self.message.click)  # Enter or double click: write
        self.block.clicked.connect(self.toggle_block)
        session.contactUpdated.connect(self._contact_updated)
        self.launch(self._load())

    def _build(self) -> None:
        left = QVBoxLayout()
        left.addWidget(self.filter)
        left.addWidget(self.view, 1)
        # Adding someone gets whole rows: a key is long, and squeezed beside a name field
        # neither placeholder could be read.
        left.addWidget(label("Add someone", "section"))
        left.addWidget(self.npub)
        adder = QHBoxLayout()
        adder.addWidget(self.nickname, 1)
        adder.addWidget(self.add)
        left.addLayout(adder)
        right = QVBoxLayout()
        right.addWidget(self.card)
        actions = QHBoxLayout()
        actions.addWidget(self.message)
        actions.addWidget(self.block)
        right.addLayout(actions)
        right.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(20)
        row.addLayout(left, 3)
        row.addLayout(right, 2)
        self.column.addLayout(row, 1)
        self._show_selected()

    async def _load(self) -> None:
        self.model.set_rows(await self.backend.list_contacts())
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def selected(self) -> ContactRow | None:
        row = self.view.currentIndex().data(ItemRole.ROW)
        return row if isinstance(row, ContactRow) else None

    def select(self, pubkey: str) -> None:
        index = self.proxy.mapFromSource(self.model.index(self.model.position(pubkey)))
        self.view.setCurrentIndex(index)

    def _show_selected(self) -> None:
        contact = self.selected()
        for widget in (self.card, self.message, self.block):
            widget.setVisible(contact is not None)
        if contact is not None:
            self.block.setText("Unblock" if contact.blocked else "Block")
            self.message.setEnabled(not contact.blocked)
            self.launch(self._show_profile(contact.pubkey))

    async def _show_profile(self, pubkey: str) -> None:
        profile = await self.backend.contact_profile(pubkey)
        current = self.selected()
        if current is not None and current.pubkey == pubkey:
            self.card.show_profile(profile)

    def _contact_updated(self, row: ContactRow) -> None:
        me = self.session.account
        if me is not None and row.pubkey == me.pubkey:
            return  # our own profile changed: we are not one of our contacts
        self.model.upsert(row)
        current = self.selected()
        if current is not None and current.pubkey == row.pubkey:
            self._show_selected()

    @async_slot()
    async def add_contact(self) -> None:
        problem = public_key_problem(self.npub.text())
        self.error.show_error(problem)
        if problem:
            self.npub.setFocus()
            return
        with busy(self.add, "Adding…"):
            try:
                row = await self.backend.add_contact(self.npub.text(), self.nickname.text())
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.npub.clear()
        self.nickname.clear()
        self.model.upsert(row)
        self.select(row.pubkey)

    @async_slot()
    async def toggle_block(self) -> None:
        contact = self.selected()
        if contact is None:
            return
        self.block.setEnabled(False)  # until the answer: one toggle per click
        try:
            await self.backend.set_blocked(contact.pubkey, not contact.blocked)
        except BackendError as error:
            self.error.show_error(error.message)
        finally:
            self.block.setEnabled(True)

    @async_slot()
    async def message_selected(self) -> None:
        contact = self.selected()
        if contact is None:
            return
        try:
            # A first chat with someone is a new group: their key package is fetched first.
            with busy(self.message, "Starting…"):
                chat = await self.backend.create_dm(contact.pubkey)
        except BackendError as error:
            self.error.show_error(error.message)
            return
        self.chatCreated.emit(chat)
        self.accept()

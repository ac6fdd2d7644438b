"""Create a group: a name, an optional description, and the contacts to invite.

Once people are picked (and the picking pauses), the dialog says which Marmot version the
group will use: their key packages decide it, and people who cannot share one group are
told so before "Create group" is pressed."""

from __future__ import annotations

import asyncio

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.session import Session
from ui.tasks import async_slot
from ui.widgets.common import busy, label
from ui.widgets.contact_picker import ContactPicker

PROTOCOL_DELAY = 0.4  # seconds: each look-up asks the relays for everyone's key packages


class NewGroupDialog(Dialog):
    chatCreated = Signal(object)  # ChatRow

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "New group", parent)
        self.setObjectName("NewGroupDialog")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Group name")
        self.description = QLineEdit()
        self.description.setPlaceholderText("What is it about? (optional)")
        self.picker = ContactPicker()
        self.picker.setMinimumHeight(240)
        self.count = label("No one selected yet", "muted")
        self.protocol = label("", "muted", wrap=True)
        self.protocol.setObjectName("NewGroupProtocol")
        self.protocol.hide()
        self.picker.selectionChanged.connect(self._count)
        self.picker.keyEntered.connect(self.add_typed)
        for widget in (
            self.name,
            self.description,
            label("Members", "section"),
            self.picker,
            self.count,
            self.protocol,
        ):
            self.column.addWidget(widget)
        self.add_close("Cancel")
        self.create_button = self.add_button("Create group", "primary", "group")
        self.create_button.clicked.connect(self.create_group)
        # Enter moves on: name, description, then choosing the members.
        self.name.returnPressed.connect(self.description.setFocus)
        self.description.returnPressed.connect(self.picker.filter.setFocus)
        self.finish_layout()
        self.launch(self._load())

    async def _load(self) -> None:
        self.picker.set_contacts(await self.backend.list_contacts())

    @async_slot(str)
    async def add_typed(self, typed: str) -> None:
        await self.add_typed_contact(self.picker, typed)

    def _count(self, n: int) -> None:
        self.count.setText(f"{n} selected" if n else "No one selected yet")
        self.protocol.setVisible(bool(n))
        if n:
            self.protocol.setText("Checking which Marmot version everyone can use…")
            self.launch(self._show_protocol(tuple(self.picker.picked())))

    async def _show_protocol(self, members: tuple[str, ...]) -> None:
        await asyncio.sleep(PROTOCOL_DELAY)  # still picking: only the last pick asks
        if not self._still(members):
            return
        try:
            text = f"This group will use {await self.backend.group_protocol(members)}."
        except BackendError as error:
            text = error.message
        if self._still(members):
            self.protocol.setText(text)

    def _still(self, members: tuple[str, ...]) -> bool:
        """The same people are picked, in a dialog still there (not gone with the window)."""
        return shiboken6.isValid(self.protocol) and tuple(self.picker.picked()) == members

    @async_slot()
    async def create_group(self) -> None:
        name, members = self.name.text().strip(), self.picker.picked()
        if not name:
            self.error.show_error("Give the group a name.")
            return
        if not members:
            self.error.show_error("Pick at least one person to invite.")
            return
        with busy(self.create_button, "Creating…"):
            try:
                chat = await self.backend.create_group(
                    name, members, self.description.text().strip()
                )
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.chatCreated.emit(chat)
        self.accept()

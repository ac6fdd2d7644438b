"""Create a group: a name, an optional description, and the contacts to invite."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.session import Session
from ui.tasks import async_slot
from ui.widgets.common import busy, label
from ui.widgets.contact_picker import ContactPicker


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
        self.picker.selectionChanged.connect(self._count)
        self.picker.keyEntered.connect(self.add_typed)
        for widget in (
            self.name,
            self.description,
            label("Members", "section"),
            self.picker,
            self.count,
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

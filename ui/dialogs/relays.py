"""Relays with their live connection status; add or remove one."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.models.roles import ItemRole
from ui.session import Session
from ui.tasks import async_slot
from ui.views import RelayRow
from ui.widgets.common import busy, button, item_list, label


class RelaysDialog(Dialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "Relays", parent)
        self.setObjectName("RelaysDialog")
        self.view = item_list("RelayList", session.relays)
        self.view.setMinimumHeight(200)
        self.url = QLineEdit()
        self.url.setPlaceholderText("wss://relay.example.com")
        self.add = button("Add relay", "primary", "plus")
        note = "Your messages travel through these relays, encrypted. More relays, more reach."
        self.column.addWidget(label(note, "muted", wrap=True))
        self.column.addWidget(self.view, 1)
        row = QHBoxLayout()
        row.addWidget(self.url, 1)
        row.addWidget(self.add)
        self.column.addLayout(row)
        self.remove = self.add_button("Remove relay")
        self.add_close()
        self.finish_layout()
        self.add.clicked.connect(self.add_relay)
        self.url.returnPressed.connect(self.add.click)
        self.remove.clicked.connect(self.remove_selected)

    def selected(self) -> RelayRow | None:
        row = self.view.currentIndex().data(ItemRole.ROW)
        return row if isinstance(row, RelayRow) else None

    async def _reload(self) -> None:
        self.session.relays.set_rows(await self.backend.list_relays())

    @async_slot()
    async def add_relay(self) -> None:
        self.error.clear_error()
        with busy(self.add, "Adding…"):
            try:
                await self.backend.add_relay(self.url.text().strip())
                await self._reload()
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.url.clear()

    @async_slot()
    async def remove_selected(self) -> None:
        relay = self.selected()
        if relay is None:
            self.error.show_error("Select a relay first.")
            return
        with busy(self.remove, "Removing…"):
            try:
                await self.backend.remove_relay(relay.url)
                await self._reload()
            except BackendError as error:
                self.error.show_error(error.message)

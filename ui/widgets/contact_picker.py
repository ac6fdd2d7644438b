"""Pick several contacts: a filter field over a multi-selection list."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QVBoxLayout, QWidget

from ui.models.people import ContactListModel
from ui.models.roles import ItemRole
from ui.views import ContactRow
from ui.widgets.common import FilterField, item_list


class ContactPicker(QWidget):
    selectionChanged = Signal(int)  # how many are picked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ContactListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(int(ItemRole.TITLE))
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = FilterField("Search contacts")
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = item_list("ContactPickerList", self.proxy)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.view.selectionModel().selectionChanged.connect(
            lambda *_: self.selectionChanged.emit(len(self.picked()))
        )
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.filter)
        column.addWidget(self.view, 1)

    def set_contacts(self, contacts: Iterable[ContactRow], exclude: Iterable[str] = ()) -> None:
        skip = set(exclude)
        self.model.set_rows(c for c in contacts if c.pubkey not in skip and not c.blocked)

    def picked(self) -> list[str]:
        rows = self.view.selectionModel().selectedRows()
        return [str(index.data(ItemRole.KEY)) for index in rows]

    def pick(self, pubkey: str) -> None:
        source = self.model.index(self.model.position(pubkey))
        index = self.proxy.mapFromSource(source)
        self.view.selectionModel().select(index, self.view.selectionModel().SelectionFlag.Select)

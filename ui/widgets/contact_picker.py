"""Pick contacts: a filter field over a list, with a tick box per row when several can be
picked. Someone who is not a contact yet is added by pasting their npub, nprofile, hex key
or name@domain into the field and pressing Enter (``keyEntered``: the dialog asks the
backend, then hands the new contact to ``add``)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QStackedLayout, QVBoxLayout, QWidget

from ui.delegates.item import ItemDelegate
from ui.format import looks_like_key, public_key_problem
from ui.models.people import ContactListModel
from ui.models.roles import ItemRole
from ui.views import ContactRow
from ui.widgets.common import FilterField, item_list, label

NO_CONTACTS = "No contacts yet. Paste someone's npub above and press Enter to add them."
PRESS_ENTER = "Press Enter to add this person."


def _is_secret(text: str) -> bool:
    return text.lower().startswith(("nsec1", "nostr:nsec1"))


class ContactPicker(QWidget):
    selectionChanged = Signal(int)  # how many are picked
    keyEntered = Signal(str)  # a pasted key (or name@domain) to look up and add

    def __init__(
        self, parent: QWidget | None = None, *, multi: bool = True, empty_text: str = NO_CONTACTS
    ) -> None:
        super().__init__(parent)
        self.empty_text = empty_text
        self.model = ContactListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(int(ItemRole.TITLE))
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = FilterField("Search contacts or paste an npub")
        self.filter.textChanged.connect(self._filter_changed)
        self.filter.returnPressed.connect(self._entered)
        self.view = item_list("ContactPickerList", self.proxy)
        self.view.setItemDelegate(ItemDelegate(self.view, checkboxes=multi))
        self.view.setSelectionMode(
            QAbstractItemView.SelectionMode.MultiSelection
            if multi
            else QAbstractItemView.SelectionMode.SingleSelection
        )
        # Who is picked is kept here, not in the view's selection: filtering hides rows,
        # and a hidden row must stay picked.
        self._picked: dict[str, None] = {}
        self._refiltering = False
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.empty = label(empty_text, "muted", wrap=True)
        self.empty.setObjectName("ContactPickerEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            signal.connect(self._update_empty)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.filter)
        column.addLayout(self.stack, 1)
        self._update_empty()

    def set_contacts(self, contacts: Iterable[ContactRow], exclude: Iterable[str] = ()) -> None:
        skip = set(exclude)
        self._picked.clear()
        self.model.set_rows(c for c in contacts if c.pubkey not in skip and not c.blocked)
        self._update_empty()

    def add(self, contact: ContactRow) -> None:
        """Someone just added by key: listed, picked, and the field cleared for the next."""
        self.filter.clear()
        self.model.upsert(contact)
        self.pick(contact.pubkey)

    def picked(self) -> list[str]:
        return list(self._picked)

    def pick(self, pubkey: str) -> None:
        source = self.model.index(self.model.position(pubkey))
        index = self.proxy.mapFromSource(source)
        if index.isValid():
            self.view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)
        elif pubkey in (r.pubkey for r in self.model.rows):
            self._picked[pubkey] = None  # filtered out of view just now: still picked
            self.selectionChanged.emit(len(self._picked))

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        if self._refiltering:
            return
        single = self.view.selectionMode() is QAbstractItemView.SelectionMode.SingleSelection
        if single:
            self._picked.clear()
        for index in deselected.indexes():
            self._picked.pop(str(index.data(ItemRole.KEY)), None)
        for index in selected.indexes():
            self._picked[str(index.data(ItemRole.KEY))] = None
        self.selectionChanged.emit(len(self._picked))

    def _reselect(self) -> None:
        """After the filter changed: the picked rows still in view are selected again."""
        self._refiltering = True
        try:
            model = self.view.selectionModel()
            model.clearSelection()
            for row in range(self.proxy.rowCount()):
                index = self.proxy.index(row, 0)
                if str(index.data(ItemRole.KEY)) in self._picked:
                    model.select(index, QItemSelectionModel.SelectionFlag.Select)
        finally:
            self._refiltering = False

    def typed_key(self) -> str:
        """The field's text if it is a key to look up (not a name to filter by), else ""."""
        text = self.filter.text().strip()
        return text if looks_like_key(text) else ""

    def _filter_changed(self, text: str) -> None:
        # A pasted key filters nothing by title: show the whole list's "add" hint instead.
        self._refiltering = True
        try:
            self.proxy.setFilterFixedString("\0" if looks_like_key(text.strip()) else text)
        finally:
            self._refiltering = False
        self._reselect()
        self._update_empty()

    def _entered(self) -> None:
        typed = self.filter.text().strip()
        if self.typed_key():
            self.keyEntered.emit(typed)
            return
        if _is_secret(typed):  # a pasted nsec goes no further, and not on screen either
            self.filter.clear()
            self.empty.setText(public_key_problem(typed))
            self.stack.setCurrentWidget(self.empty)
            return
        if self.proxy.rowCount() == 1:  # Enter on the only match picks it
            self.pick(str(self.proxy.index(0, 0).data(ItemRole.KEY)))
            self.filter.clear()

    def _update_empty(self, *_: object) -> None:
        typed = self.filter.text().strip()
        if _is_secret(typed):
            self.empty.setText(public_key_problem(typed))  # never echoed back
        elif self.typed_key():
            self.empty.setText(PRESS_ENTER)
        elif typed:
            self.empty.setText(f"No contact matches “{typed}”.")
        else:
            self.empty.setText(self.empty_text)
        self.stack.setCurrentWidget(self.empty if self.proxy.rowCount() == 0 else self.view)

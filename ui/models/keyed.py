"""A list model of frozen rows addressed by key, with targeted updates.

Rows are kept in a list plus a ``key -> position`` dict (the electrum ``_tx_positions``
pattern). Updates emit ``dataChanged`` for one row with an explicit role list; inserts,
removals and moves use the structural begin/end calls, so views keep their selection and
scroll position. A model with a ``sort_key`` keeps its rows sorted and moves a row when its
sort position changes (a chat jumping to the top on a new message).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from ui.models.roles import ItemRole, role_names

R = TypeVar("R")
AnyIndex = QModelIndex | QPersistentModelIndex

_ALL_ROLES = [int(Qt.ItemDataRole.DisplayRole), *(int(r) for r in ItemRole)]


class KeyedListModel(QAbstractListModel, Generic[R]):
    """Subclasses define ``key`` and ``getters`` (role -> value of a row); sorted ones set
    ``is_sorted`` and define ``sort_key``."""

    is_sorted: ClassVar[bool] = False
    getters: ClassVar[Mapping[int, Callable[[Any], object]]] = {}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []
        self._pos: dict[str, int] = {}

    # --- subclass hooks ---

    def key(self, row: R) -> str:
        raise NotImplementedError

    def sort_key(self, row: R) -> Any:
        """Rows are kept in ascending order of this value when ``is_sorted``."""
        raise NotImplementedError

    def item_data(self, row: R, role: int) -> object:
        """The value for one of the ``ItemRole`` roles (None when the role does not apply)."""
        getter = self.getters.get(role)
        return None if getter is None else getter(row)

    # --- Qt model interface ---

    def rowCount(self, parent: AnyIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.item_data(row, ItemRole.TITLE)
        if role == ItemRole.ROW:
            return row
        if role == ItemRole.KEY:
            return self.key(row)
        if role in _ITEM_ROLE_VALUES:
            return self.item_data(row, role)
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(ItemRole)

    # --- reading ---

    @property
    def rows(self) -> Sequence[R]:
        return self._rows

    def get(self, key: str) -> R | None:
        pos = self._pos.get(key)
        return None if pos is None else self._rows[pos]

    def position(self, key: str) -> int:
        """The row of ``key``, or -1."""
        return self._pos.get(key, -1)

    def row_at(self, position: int) -> R:
        return self._rows[position]

    # --- writing ---

    def upsert(self, row: R) -> None:
        """Insert a new row or replace the row with the same key (moving it if sorted)."""
        key = self.key(row)
        old = self._pos.get(key)
        if old is None:
            self._insert(self._sorted_position(row, len(self._rows)), row)
            return
        new = old
        if self.is_sorted:
            rest = self._rows[:old] + self._rows[old + 1 :]
            new = bisect.bisect_left(rest, self.sort_key(row), key=self.sort_key)
        if new != old:
            self._move(old, new)
        self._rows[new] = row
        idx = self.index(new)
        self.dataChanged.emit(idx, idx, _ALL_ROLES)

    def remove(self, key: str) -> bool:
        pos = self._pos.get(key)
        if pos is None:
            return False
        self.beginRemoveRows(QModelIndex(), pos, pos)
        del self._rows[pos]
        self._reindex()
        self.endRemoveRows()
        return True

    def set_rows(self, rows: Iterable[R]) -> None:
        """Make the model hold exactly ``rows`` with the fewest structural changes."""
        new = list(rows)
        if self.is_sorted:
            new.sort(key=self.sort_key)
        if not self._rows:
            if new:
                self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
                self._rows = new
                self._reindex()
                self.endInsertRows()
            return
        new_keys = [self.key(r) for r in new]
        wanted = set(new_keys)
        for pos in range(len(self._rows) - 1, -1, -1):
            if self.key(self._rows[pos]) not in wanted:
                self.beginRemoveRows(QModelIndex(), pos, pos)
                del self._rows[pos]
                self.endRemoveRows()
        self._reindex()
        survivors = [k for k in new_keys if k in self._pos]
        if survivors != [self.key(r) for r in self._rows]:
            # Reordered beyond simple inserts: rare for these small lists.
            self.beginResetModel()
            self._rows = new
            self._reindex()
            self.endResetModel()
            return
        for pos, row in enumerate(new):
            if pos < len(self._rows) and self.key(self._rows[pos]) == new_keys[pos]:
                if self._rows[pos] != row:
                    self._rows[pos] = row
                    idx = self.index(pos)
                    self.dataChanged.emit(idx, idx, _ALL_ROLES)
            else:
                self._insert(pos, row)

    def clear(self) -> None:
        self.set_rows(())

    # --- internals ---

    def _sorted_position(self, row: R, default: int) -> int:
        if not self.is_sorted:
            return default
        return bisect.bisect_left(self._rows, self.sort_key(row), key=self.sort_key)

    def _insert(self, pos: int, row: R) -> None:
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.insert(pos, row)
        self._reindex()
        self.endInsertRows()

    def _move(self, old: int, new: int) -> None:
        # Qt's destination is "insert before this row" counted before the move.
        dest = new + 1 if new > old else new
        self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), dest)
        self._rows.insert(new, self._rows.pop(old))
        self._reindex()
        self.endMoveRows()

    def _reindex(self) -> None:
        self._pos = {self.key(r): i for i, r in enumerate(self._rows)}


_ITEM_ROLE_VALUES = frozenset(int(r) for r in ItemRole)

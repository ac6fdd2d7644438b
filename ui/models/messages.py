"""The messages of the open chat: newest at the bottom, older pages prepended on demand.

A chat may hold far more messages than are loaded. The model starts with the newest page
and grows upwards when the view asks for an older page (``prepend``). Positions are kept as
absolute numbers relative to a moving ``_base`` so a prepend does not renumber the whole
id map; only an out-of-order insert in the middle rebuilds it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from ui.models.roles import MessageRole, role_names
from ui.views import MessageRow

AnyIndex = QModelIndex | QPersistentModelIndex

_DERIVED = [int(MessageRole.SHOW_DAY), int(MessageRole.RUN_START), int(MessageRole.SHOW_AUTHOR)]
_CONTENT = [int(Qt.ItemDataRole.DisplayRole), int(MessageRole.ROW)]


def _order(row: MessageRow) -> tuple[int, str]:
    return (row.created_at, row.id)


class MessageListModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[MessageRow] = []
        self._abs: dict[str, int] = {}  # id -> absolute position; row = abs - base
        self._base = 0
        self.chat_id = ""
        self.is_group = False
        self.has_older = False
        self.waiting = False  # see MessageRole.WAITING

    # --- Qt model interface ---

    def rowCount(self, parent: AnyIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        i = index.row()
        if not index.isValid() or i >= len(self._rows):
            return None
        row = self._rows[i]
        value: object = None
        match role:
            case MessageRole.ROW:
                value = row
            case MessageRole.SHOW_DAY:
                value = self._show_day(i)
            case MessageRole.RUN_START:
                value = self._run_start(i)
            case MessageRole.SHOW_AUTHOR:
                value = self.is_group and not row.own and self._run_start(i)
            case MessageRole.KEY:
                value = row.id
            case MessageRole.WAITING:
                value = self.waiting
            case Qt.ItemDataRole.DisplayRole:
                value = "" if row.deleted else row.text
        return value

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(MessageRole)

    # --- reading ---

    @property
    def rows(self) -> Sequence[MessageRow]:
        return self._rows

    def position(self, message_id: str) -> int:
        """The row of a loaded message, or -1."""
        pos = self._abs.get(message_id)
        return -1 if pos is None else pos - self._base

    def get(self, message_id: str) -> MessageRow | None:
        pos = self.position(message_id)
        return None if pos < 0 else self._rows[pos]

    def oldest_id(self) -> str | None:
        return self._rows[0].id if self._rows else None

    # --- writing ---

    def set_waiting(self, waiting: bool) -> None:
        """The other person joined (or not yet): the ticks of our messages change."""
        if waiting != self.waiting:
            self.waiting = waiting
            if self._rows:
                self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1), [])

    def reset(
        self, chat_id: str, rows: Sequence[MessageRow], *, is_group: bool, has_older: bool
    ) -> None:
        """Show another chat (the only full reset)."""
        self.beginResetModel()
        self.chat_id = chat_id
        self.is_group = is_group
        self.has_older = has_older
        self._rows = list(rows)
        self._base = 0
        self._abs = {r.id: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def prepend(self, rows: Sequence[MessageRow], *, has_older: bool) -> int:
        """Add an older page (oldest first) above the loaded rows; returns rows added."""
        self.has_older = has_older
        fresh = [r for r in rows if r.id not in self._abs]
        if not fresh:
            return 0
        n = len(fresh)
        self.beginInsertRows(QModelIndex(), 0, n - 1)
        self._rows[0:0] = fresh
        self._base -= n
        for i, r in enumerate(fresh):
            self._abs[r.id] = self._base + i
        self.endInsertRows()
        self._derived_changed(n)  # the old first row may lose its separator or name
        return n

    def add(self, row: MessageRow) -> bool:
        """Insert a new message in time order, or update it if already loaded.

        A message older than everything loaded while older pages remain is left for paging
        to bring; returns whether the row is now in the model.
        """
        if row.id in self._abs:
            self.update(row)
            return True
        key = _order(row)
        if not self._rows or key >= _order(self._rows[-1]):
            pos = len(self._rows)
        else:
            pos = bisect.bisect_right(self._rows, key, key=_order)
            if pos == 0 and self.has_older:
                return False
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.insert(pos, row)
        if pos == len(self._rows) - 1:
            self._abs[row.id] = self._base + pos
        else:
            self._abs = {r.id: self._base + i for i, r in enumerate(self._rows)}
        self.endInsertRows()
        self._derived_changed(pos + 1)
        return True

    def remove(self, ids: Sequence[str]) -> int:
        """Drop loaded messages (disappearing ones whose time came); how many went."""
        positions = sorted((p for p in map(self.position, ids) if p >= 0), reverse=True)
        for pos in positions:
            self.beginRemoveRows(QModelIndex(), pos, pos)
            del self._rows[pos]
            self.endRemoveRows()
        if positions:
            self._base = 0
            self._abs = {r.id: i for i, r in enumerate(self._rows)}
            self._derived_changed(min(positions))  # the next row may now start a day or run
        return len(positions)

    def update(self, row: MessageRow) -> bool:
        """Replace a loaded message (status, reactions, deletion); False if not loaded."""
        pos = self.position(row.id)
        if pos < 0:
            return False
        self._rows[pos] = row
        idx = self.index(pos)
        self.dataChanged.emit(idx, idx, _CONTENT)
        return True

    def _derived_changed(self, pos: int) -> None:
        if 0 <= pos < len(self._rows):
            idx = self.index(pos)
            self.dataChanged.emit(idx, idx, _DERIVED)

    # --- derived display flags ---

    def _show_day(self, i: int) -> bool:
        return i == 0 or self._rows[i - 1].day != self._rows[i].day

    def _run_start(self, i: int) -> bool:
        previous = self._rows[i - 1] if i else None
        return (
            self._show_day(i)
            or previous is None
            or bool(previous.system)
            or previous.author != self._rows[i].author
        )

"""The chat list (pinned first, then most recent), its archive filter, and search results."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel

from ui.format import one_line
from ui.models.keyed import KeyedListModel
from ui.models.roles import ItemRole
from ui.views import ChatRow, SearchHit


def _chat_order(row: ChatRow) -> tuple[int, int, str]:
    return (0 if row.pinned else 1, -(row.time or 0), row.id)


_CHAT_GETTERS: dict[int, Callable[[ChatRow], object]] = {
    ItemRole.TITLE: lambda r: r.title,
    ItemRole.SUBTITLE: lambda r: one_line(r.preview),
    ItemRole.DRAFT: lambda r: one_line(r.draft),
    ItemRole.AVATAR: lambda r: r.avatar,
    ItemRole.AVATAR_SEED: lambda r: r.avatar_seed or r.id,
    ItemRole.TIME: lambda r: r.time,
    ItemRole.UNREAD: lambda r: r.unread,
    ItemRole.PINNED: lambda r: r.pinned,
    ItemRole.MUTED: lambda r: r.muted,
    ItemRole.ARCHIVED: lambda r: r.archived,
}


class ChatListModel(KeyedListModel[ChatRow]):
    is_sorted = True
    getters = _CHAT_GETTERS

    def sort_key(self, row: ChatRow) -> tuple[int, int, str]:
        return _chat_order(row)

    def key(self, row: ChatRow) -> str:
        return row.id

    def total_unread(self) -> int:
        """Unread messages in chats that are neither muted nor archived (the window title)."""
        return sum(r.unread for r in self._rows if not r.muted and not r.archived)

    def archived_count(self) -> int:
        return sum(1 for r in self._rows if r.archived)


class ChatFilterProxy(QSortFilterProxyModel):
    """Shows either the inbox or the archive of a ``ChatListModel``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._archived = False
        # Rows change their archived flag in place; re-filter on every data change.
        self.setDynamicSortFilter(True)
        self.setFilterRole(int(ItemRole.ARCHIVED))

    @property
    def show_archived(self) -> bool:
        return self._archived

    def set_show_archived(self, archived: bool) -> None:
        if archived != self._archived:
            self.beginFilterChange()
            self._archived = archived
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        index = self.sourceModel().index(source_row, 0, source_parent)
        return bool(index.data(ItemRole.ARCHIVED)) == self._archived


_HIT_GETTERS: dict[int, Callable[[SearchHit], object]] = {
    ItemRole.TITLE: lambda h: h.title,
    ItemRole.SUBTITLE: lambda h: one_line(h.snippet),
    ItemRole.AVATAR_SEED: lambda h: h.avatar_seed or h.chat_id,
    ItemRole.TIME: lambda h: h.time,
}


class SearchResultModel(KeyedListModel[SearchHit]):
    """Hits keep the backend's order (chats first, then messages newest first)."""

    getters = _HIT_GETTERS

    def key(self, row: SearchHit) -> str:
        return f"{row.chat_id}/{row.message_id or ''}"

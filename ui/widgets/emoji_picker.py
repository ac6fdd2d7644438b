"""The full emoji picker: search by name, jump to a group, recently used first.

Opened from a message's reaction row ("+") and from the composer's emoji button; a pick
emits ``picked`` with the emoji's text and closes the popup.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QListView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.emoji import GROUPS, Emoji, all_emoji, search
from ui.widgets.common import FilterField, label

CELL = 38
RECENT_KEPT = 16
RECENT = "Recently used"
# Most recently picked first, for this run of the app; it starts with common reactions.
_recent: list[str] = ["👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "🔥"]


def remember(emoji: str) -> None:
    if emoji in _recent:
        _recent.remove(emoji)
    _recent.insert(0, emoji)
    del _recent[RECENT_KEPT:]


def recent() -> list[str]:
    return list(_recent)


class EmojiModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[Emoji] = []

    def set_items(self, items: Sequence[Emoji]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.items)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return item.text if role == Qt.ItemDataRole.DisplayRole else item.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.name.capitalize()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        return None


class EmojiPicker(QFrame):
    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("EmojiPicker")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(8 * CELL + 40, 360)
        self.search = FilterField("Search emoji")
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._pick_first)
        self.heading = label(RECENT, "section")
        self.model = EmojiModel(self)
        self.view = QListView()
        self.view.setObjectName("EmojiGrid")
        self.view.setModel(self.model)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setUniformItemSizes(True)
        self.view.setGridSize(QSize(CELL, CELL))
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.7)
        self.view.setFont(big)
        self.view.clicked.connect(self._pick_index)
        self.view.activated.connect(self._pick_index)
        self.group_buttons: dict[str, QToolButton] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 10, 10, 8)
        column.setSpacing(6)
        column.addWidget(self.search)
        column.addLayout(self._group_row())
        column.addWidget(self.heading)
        column.addWidget(self.view, 1)
        self._everything = all_emoji()
        self._filter("")

    def _group_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(2)
        firsts = {e.group: e.text for e in reversed(all_emoji())}
        for name, _ in ((RECENT, ()), *GROUPS):
            button = QToolButton()
            button.setAutoRaise(True)
            button.setText("🕘" if name == RECENT else firsts.get(name, "•"))
            button.setToolTip(name)
            button.setAccessibleName(name)
            button.clicked.connect(lambda _=False, n=name: self.show_group(n))
            row.addWidget(button)
            self.group_buttons[name] = button
        row.addStretch(1)
        return row

    def show_group(self, group: str) -> None:
        """Recently used, or one group; typing searches all of them."""
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.heading.setText(group)
        if group == RECENT:
            names = {e.text: e for e in self._everything}
            shown = [names.get(t) or Emoji(t, t, RECENT) for t in recent()]
            self.model.set_items(shown)
        else:
            self.model.set_items([e for e in self._everything if e.group == group])
        self.view.scrollToTop()

    def shown(self) -> list[str]:
        return [e.text for e in self.model.items]

    def _filter(self, text: str) -> None:
        if not text.strip():
            self.show_group(RECENT)
            return
        found = search(text, self._everything)
        self.heading.setText(f"{len(found)} found" if found else "No emoji by that name")
        self.model.set_items(found)
        self.view.scrollToTop()

    def _pick_first(self) -> None:
        if self.model.items:
            self.pick(self.model.items[0].text)

    def _pick_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.pick(self.model.items[index.row()].text)

    def pick(self, emoji: str) -> None:
        remember(emoji)
        self.picked.emit(emoji)
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Down from the search box goes into the grid, as in a search field elsewhere.
        if event.key() == Qt.Key.Key_Down and self.search.hasFocus() and self.model.items:
            self.view.setFocus()
            self.view.setCurrentIndex(self.model.index(0))
            return
        super().keyPressEvent(event)

    def show_at(self, pos: QPoint) -> None:
        """Open above ``pos`` (a global point), kept on the screen."""
        screen = self.screen().availableGeometry()
        x = min(max(screen.left(), pos.x() - self.width() // 2), screen.right() - self.width())
        y = pos.y() - self.height() - 8
        if y < screen.top():
            y = pos.y() + 8
        self.move(x, y)
        self.show()
        self.search.setFocus()

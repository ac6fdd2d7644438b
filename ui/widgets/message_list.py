"""The scrolling list of bubbles: sticks to the bottom for new messages, asks for older pages
near the top and keeps what you were reading in place when they arrive.

"Stuck to the bottom" is a state, not a timer: it is true while the reader is at the end,
updated on every scroll, and whenever the scroll range changes (rows added, bubbles grown,
window resized) a stuck view follows the new end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QStyleOptionViewItem,
    QWidget,
)

from ui.delegates.message import MessageDelegate
from ui.models.messages import MessageListModel
from ui.theme import theme_state

# Ask for the previous page while this many pixels of history are still above the viewport,
# so it is usually there before the reader reaches the top.
PREFETCH_PIXELS = 600


class MessageListView(QListView):
    olderWanted = Signal()

    def __init__(self, model: MessageListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageList")
        self.setModel(model)
        self.message_model = model
        self.bubbles = MessageDelegate(self)
        self.setItemDelegate(self.bubbles)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalScrollBar().setSingleStep(24)
        self.placeholder = "No messages yet. Say hello!"
        self._stuck = True
        model.dataChanged.connect(self._relayout)
        model.modelReset.connect(self._stick)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

    # --- position ---

    def scroll_to_end(self) -> None:
        self.scrollToBottom()

    def prepend_keeping_position(self, apply: Callable[[], int]) -> int:
        """Run ``apply`` (which prepends rows) without moving the visible messages."""
        bar = self.verticalScrollBar()
        old_max, old_value = bar.maximum(), bar.value()
        added = apply()
        if added:
            self.executeDelayedItemsLayout()
            self.updateGeometries()
            bar.setValue(old_value + bar.maximum() - old_max)
        return added

    def center_on(self, row: int) -> None:
        """Scroll so that ``row`` is in the middle, after any pending re-layout."""
        self.executeDelayedItemsLayout()
        index = self.message_model.index(row)
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.setCurrentIndex(index)

    def _scrolled(self, value: int) -> None:
        self._stuck = value >= self.verticalScrollBar().maximum() - 4
        if self.message_model.has_older and value < PREFETCH_PIXELS:
            self.olderWanted.emit()

    def _range_changed(self, low: int, high: int) -> None:
        if self._stuck:
            self.verticalScrollBar().setValue(high)

    def _stick(self) -> None:
        self._stuck = True

    def _relayout(
        self,
        top: QModelIndex | QPersistentModelIndex,
        bottom: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        # QListView does not re-measure rows on dataChanged; a changed bubble may be taller.
        self.bubbles.sizeHintChanged.emit(top)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # QListView re-lays out top-to-bottom rows only when the height changes, but a bubble's
        # height depends on the width (a scroll bar appearing is enough): stale heights would
        # make bubbles overlap or leave gaps. Re-measure on the next turn of the event loop.
        if event.size().width() != event.oldSize().width():
            self.scheduleDelayedItemsLayout()

    # --- links ---

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """A pointing hand over a link in a message, as in a browser."""
        super().mouseMoveEvent(event)
        index = self.indexAt(event.position().toPoint())
        url = ""
        if index.isValid():
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            option.rect = self.visualRect(index)
            pos = event.position() - option.rect.topLeft().toPointF()
            url = self.bubbles.link_under(index, option, pos)
        shape = Qt.CursorShape.PointingHandCursor if url else Qt.CursorShape.ArrowCursor
        if self.viewport().cursor().shape() != shape:
            self.viewport().setCursor(shape)
        self.viewport().setToolTip(url)

    # --- painting ---

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.message_model.rowCount() == 0 and self.message_model.chat_id:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(theme_state().colors.muted))
            painter.drawText(
                QRect(0, 0, self.viewport().width(), self.viewport().height()),
                Qt.AlignmentFlag.AlignCenter,
                self.placeholder,
            )
            painter.end()

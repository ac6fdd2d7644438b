"""The scrolling list of bubbles: sticks to the bottom for new messages, asks for older pages
near the top and keeps what you were reading in place when they arrive."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QWidget

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
        self._was_at_bottom = True
        model.rowsAboutToBeInserted.connect(self._remember_bottom)
        model.rowsInserted.connect(self._follow_bottom)
        model.dataChanged.connect(self._relayout)
        self.verticalScrollBar().valueChanged.connect(self._check_top)

    # --- position ---

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

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

    def history_above(self) -> int:
        """Pixels of loaded history above the viewport."""
        return self.verticalScrollBar().value()

    def _check_top(self, value: int) -> None:
        if self.message_model.has_older and value < PREFETCH_PIXELS:
            self.olderWanted.emit()

    def _remember_bottom(self, parent: QModelIndex, first: int, last: int) -> None:
        self._was_at_bottom = self.at_bottom()

    def _follow_bottom(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._was_at_bottom and last == self.message_model.rowCount() - 1:
            self.scrollToBottom()

    def _relayout(
        self,
        top: QModelIndex | QPersistentModelIndex,
        bottom: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        # QListView does not re-measure rows on dataChanged; a changed bubble may be taller.
        keep_bottom = self.at_bottom()
        self.bubbles.sizeHintChanged.emit(top)
        if keep_bottom:
            QTimer.singleShot(0, self._stick)

    def _stick(self) -> None:
        self.scrollToBottom()

    # --- painting ---

    def resizeEvent(self, event: QResizeEvent) -> None:
        keep_bottom = self.at_bottom()
        super().resizeEvent(event)
        if keep_bottom:
            QTimer.singleShot(0, self._stick)

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

"""The bottom of the sidebar: live relay status (click for the relay list) and sync progress."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ui.delegates.item import status_colour
from ui.session import Session
from ui.theme import theme_state
from ui.views import RelayStatus


def _dot(status: RelayStatus) -> QIcon:
    pixmap = QPixmap(QSize(20, 20))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(status_colour(status, theme_state().colors))
    painter.drawEllipse(5, 5, 10, 10)
    painter.end()
    return QIcon(pixmap)


class StatusFooter(QFrame):
    relaysClicked = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SidebarFooter")
        self.relays = QPushButton()
        self.relays.setObjectName("RelayStatus")
        self.relays.setProperty("kind", "flat")
        self.relays.setCursor(Qt.CursorShape.PointingHandCursor)
        self.relays.clicked.connect(self.relaysClicked)
        self.sync = QProgressBar()
        self.sync.setObjectName("SyncProgress")
        self.sync.setTextVisible(False)
        self.sync.setFixedHeight(4)
        self.sync.hide()
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 8, 6)
        column.setSpacing(4)
        column.addWidget(self.sync)
        column.addWidget(self.relays)
        session.relaysChanged.connect(self.show_relays)
        session.syncProgressed.connect(self.show_sync)
        self._sync_text = ""
        self.show_relays(0, 0)

    def show_relays(self, connected: int, total: int) -> None:
        if total == 0:
            status, text = RelayStatus.DISCONNECTED, "No relays"
        elif connected == 0:
            status, text = RelayStatus.FAILED, "Offline: no relay reachable"
        elif connected < total:
            status, text = RelayStatus.CONNECTING, f"Connected to {connected} of {total} relays"
        else:
            status = RelayStatus.CONNECTED
            text = "Connected to 1 relay" if total == 1 else f"Connected to {total} relays"
        self._relay_text = text
        self.relays.setIcon(_dot(status))
        self._render()

    def show_sync(self, done: int, total: int) -> None:
        busy = 0 <= done < total
        self.sync.setVisible(busy)
        if busy:
            self.sync.setRange(0, total)
            self.sync.setValue(done)
            self._sync_text = f"Catching up… {100 * done // total}%"
        else:
            self._sync_text = ""
        self._render()

    def _render(self) -> None:
        self.relays.setText(self._sync_text or self._relay_text)
        self.relays.setToolTip(self._relay_text)

    @property
    def text(self) -> str:
        return self.relays.text()

"""The bottom of the sidebar: live relay status (click for the relay list), sync progress, and
the remote signer's state for an account whose key is in a bunker (NIP-46)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ui.delegates.item import status_colour
from ui.session import Session
from ui.theme import theme_state
from ui.views import RelayStatus, SignerStatus

_SIGNER_DOT = {
    "ready": RelayStatus.CONNECTED,
    "connecting": RelayStatus.CONNECTING,
    "waiting_approval": RelayStatus.CONNECTING,
}


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
        self.signer = QPushButton()
        self.signer.setObjectName("SignerStatus")
        self.signer.setProperty("kind", "flat")
        self.signer.clicked.connect(self._open_approval)
        self.signer.hide()
        self._auth_url: str | None = None
        column.addWidget(self.sync)
        column.addWidget(self.relays)
        column.addWidget(self.signer)
        session.signerChanged.connect(self.show_signer)
        session.accountChanged.connect(lambda _: self.signer.hide())
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

    def show_signer(self, status: SignerStatus) -> None:
        self.signer.setText(status.text)
        self.signer.setIcon(_dot(_SIGNER_DOT.get(status.state, RelayStatus.FAILED)))
        self._auth_url = status.auth_url if status.state == "waiting_approval" else None
        self.signer.setCursor(
            Qt.CursorShape.PointingHandCursor if self._auth_url else Qt.CursorShape.ArrowCursor
        )
        self.signer.setToolTip(self._auth_url or "")
        self.signer.show()

    def _open_approval(self) -> None:
        if self._auth_url and self._auth_url.startswith(("https://", "http://")):
            QDesktopServices.openUrl(QUrl(self._auth_url))

    def _render(self) -> None:
        self.relays.setText(self._sync_text or self._relay_text)
        self.relays.setToolTip(self._relay_text)

    @property
    def text(self) -> str:
        return self.relays.text()

"""Draws a QR code (black on white with the standard four-module quiet zone, in any theme)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from ui.qr import QrCode, encode

QUIET = 4


class QrView(QWidget):
    def __init__(self, size: int = 180, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(size, size)
        self.code: QrCode | None = None
        self.text = ""

    def set_text(self, text: str) -> None:
        self.text = text
        self.code = encode(text.encode()) if text else None
        self.setAccessibleName(f"QR code for {text}")
        self.update()

    def sizeHint(self) -> QSize:
        return self.size()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if self.code is None:
            painter.end()
            return
        modules = self.code.size + 2 * QUIET
        # Whole device pixels per module keep the edges crisp for scanners.
        scale = self.devicePixelRatioF()
        step = max(1, int(min(self.width(), self.height()) * scale // modules)) / scale
        offset = (min(self.width(), self.height()) - step * modules) / 2 + QUIET * step
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#000000"))
        for r, row in enumerate(self.code.modules):
            for c, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF(offset + c * step, offset + r * step, step, step))
        painter.end()

"""A centred card on a plain background: the frame of the onboarding and unlock pages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ui.theme import ASSETS

CARD_WIDTH = 400


def app_logo(size: int) -> QLabel:
    logo = QLabel()
    logo.setPixmap(QIcon(str(ASSETS / "icons" / "burrow.svg")).pixmap(size, size))
    logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return logo


class CardPage(QWidget):
    """Subclasses add their widgets to ``self.body`` (a vertical layout inside the card).
    In a window shorter than the card the page scrolls; squeezed, the fields overlapped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CardPage")
        page = QWidget()
        page.setObjectName("CardPage")
        self.scroller = QScrollArea()
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the fields take the keyboard
        self.scroller.setWidgetResizable(True)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        card = QFrame()
        card.setObjectName("Card")
        card.setFixedWidth(CARD_WIDTH)
        self.body = QVBoxLayout(card)
        self.body.setContentsMargins(32, 28, 32, 28)
        self.body.setSpacing(10)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        column = QVBoxLayout(page)
        column.addStretch(1)
        column.addLayout(row)
        column.addStretch(2)
        self.scroller.setWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroller)

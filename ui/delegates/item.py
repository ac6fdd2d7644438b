"""Paints a two-line row with an avatar (or a relay status dot) and an optional badge.

Shared by members, contacts, invites, devices, relays and accounts: all of them expose the
``ItemRole`` roles title, subtitle, avatar, avatar seed, badge and (relays) status.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ui.avatar import avatar_pixmap
from ui.models.roles import ItemRole
from ui.theme import ThemeColors, theme_state
from ui.views import RelayStatus

ROW_HEIGHT = 58
AVATAR = 38
PAD = 12
CHECK = 18


def check_rect(row: QRect) -> QRect:
    """Where a row's tick box is (right-aligned, vertically centred)."""
    return QRect(row.right() - PAD - CHECK + 1, row.top() + (ROW_HEIGHT - CHECK) // 2, CHECK, CHECK)


def status_colour(status: RelayStatus, c: ThemeColors) -> QColor:
    return QColor(
        {
            RelayStatus.CONNECTED: "#34a853",
            RelayStatus.CONNECTING: "#f2a900",
            RelayStatus.DISCONNECTED: c.badge_muted,
            RelayStatus.FAILED: c.danger,
        }[status]
    )


class ItemDelegate(QStyledItemDelegate):
    """``checkboxes``: a multi-selection list (pick members) shows a tick box on each row,
    ticked while the row is selected, so picking several reads as picking (not as one
    highlighted row)."""

    def __init__(self, parent: QObject | None = None, *, checkboxes: bool = False) -> None:
        super().__init__(parent)
        self.checkboxes = checkboxes

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        c = theme_state().colors
        rect = option.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(c.selected))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor(c.hover))
        title = str(index.data(ItemRole.TITLE) or "")
        self._paint_leading(painter, index, rect, title)
        left = rect.left() + PAD + AVATAR + PAD
        right = rect.right() - PAD
        if self.checkboxes:
            selected = bool(option.state & QStyle.StateFlag.State_Selected)
            right = self._paint_check(painter, check_rect(rect), selected) - 10
        badge = str(index.data(ItemRole.BADGE) or "")
        if badge:
            right = self._paint_badge(painter, option, rect, badge) - 8
        bold = QFont(option.font)
        bold.setWeight(QFont.Weight.DemiBold)
        self._text(painter, bold, c.text, QRect(left, rect.top() + 9, right - left, 20), title)
        subtitle = str(index.data(ItemRole.SUBTITLE) or "")
        self._text(
            painter, option.font, c.muted, QRect(left, rect.top() + 30, right - left, 20), subtitle
        )
        painter.restore()

    @staticmethod
    def _paint_check(painter: QPainter, box: QRect, ticked: bool) -> int:
        c = theme_state().colors
        frame = QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5)
        if ticked:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.accent))
            painter.drawRoundedRect(frame, 4, 4)
            tick = QPainterPath(QPointF(box.left() + 4.5, box.top() + 9.5))
            tick.lineTo(box.left() + 7.5, box.top() + 12.5)
            tick.lineTo(box.left() + 13.5, box.top() + 5.5)
            pen = QPen(QColor(c.on_accent), 2.0)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(tick)
        else:
            painter.setPen(QPen(QColor(c.muted), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(frame, 4, 4)
        return box.left()

    @staticmethod
    def _paint_leading(
        painter: QPainter, index: QModelIndex | QPersistentModelIndex, rect: QRect, title: str
    ) -> None:
        """The avatar, or for a relay a dot in the colour of its status."""
        top = rect.top() + (ROW_HEIGHT - AVATAR) // 2
        status = index.data(ItemRole.STATUS)
        if isinstance(status, RelayStatus):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(status_colour(status, theme_state().colors))
            painter.drawEllipse(QRectF(rect.left() + PAD + 13, top + 13, 12, 12))
            return
        seed = str(index.data(ItemRole.AVATAR_SEED) or title)
        data = index.data(ItemRole.AVATAR)
        ratio = painter.device().devicePixelRatioF()
        painter.drawPixmap(rect.left() + PAD, top, avatar_pixmap(title, seed, data, AVATAR, ratio))

    @staticmethod
    def _text(painter: QPainter, font: QFont, colour: str, rect: QRect, text: str) -> None:
        painter.setFont(font)
        painter.setPen(QColor(colour))
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)

    @staticmethod
    def _paint_badge(
        painter: QPainter, option: QStyleOptionViewItem, rect: QRect, text: str
    ) -> int:
        c = theme_state().colors
        font = QFont(option.font)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        font.setWeight(QFont.Weight.DemiBold)
        width = QFontMetrics(font).horizontalAdvance(text) + 16
        pill = QRectF(rect.right() - PAD - width, rect.center().y() - 10, width, 20)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(c.danger if text == "Blocked" else c.selected))
        painter.drawRoundedRect(pill, 10, 10)
        painter.setFont(font)
        painter.setPen(QColor(c.on_accent if text == "Blocked" else c.accent))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        return int(pill.left())

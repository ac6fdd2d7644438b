"""Paints one chat-list row: avatar, name, time, preview or draft, unread badge, pin, mute.

Used for the chat list and for search results (same roles). Rows have a fixed height, so the
view can use uniform item sizes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui.avatar import avatar_pixmap
from ui.format import chat_time
from ui.models.roles import ItemRole
from ui.theme import icon, theme_state

ROW_HEIGHT = 72
AVATAR = 48
PAD = 12


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setWeight(QFont.Weight.DemiBold)
    return bold


def _small(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(font.pointSizeF() * 0.88)
    return small


class ChatDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None, now: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self._now = now

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
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(c.selected))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor(c.hover))
        title = str(index.data(ItemRole.TITLE) or "")
        seed = str(index.data(ItemRole.AVATAR_SEED) or "")
        avatar = avatar_pixmap(
            title, seed, index.data(ItemRole.AVATAR), AVATAR, painter.device().devicePixelRatioF()
        )
        top = rect.top() + (ROW_HEIGHT - AVATAR) // 2
        painter.drawPixmap(rect.left() + PAD, top, avatar)
        left = rect.left() + PAD + AVATAR + PAD
        right = rect.right() - PAD
        self._paint_first_line(
            painter, option, index, QRect(left, rect.top() + 14, right - left, 22)
        )
        self._paint_second_line(
            painter, option, index, QRect(left, rect.top() + 38, right - left, 22)
        )
        painter.restore()

    def _paint_first_line(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        line: QRect,
    ) -> None:
        c = theme_state().colors
        small = _small(option.font)
        when = chat_time(index.data(ItemRole.TIME), self._now())
        unread = int(index.data(ItemRole.UNREAD) or 0)
        painter.setFont(small)
        painter.setPen(QColor(c.accent if unread else c.muted))
        time_width = QFontMetrics(small).horizontalAdvance(when)
        painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, when)
        right = line.right() - time_width - (8 if when else 0)
        for flag, name in ((ItemRole.PINNED, "pin"), (ItemRole.MUTED, "bell-off")):
            if index.data(flag):
                icon(name, c.muted).paint(painter, QRect(right - 16, line.top() + 3, 16, 16))
                right -= 20
        bold = _bold(option.font)
        painter.setFont(bold)
        painter.setPen(QColor(c.text))
        title = str(index.data(ItemRole.TITLE) or "")
        text_rect = QRect(line.left(), line.top(), right - line.left() - 4, line.height())
        elided = QFontMetrics(bold).elidedText(
            title, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided
        )

    def _paint_second_line(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        line: QRect,
    ) -> None:
        c = theme_state().colors
        unread = int(index.data(ItemRole.UNREAD) or 0)
        right = line.right()
        if unread:
            right = self._paint_badge(
                painter, option, line, unread, bool(index.data(ItemRole.MUTED))
            )
        font = QFont(option.font)
        metrics = QFontMetrics(font)
        painter.setFont(font)
        draft = str(index.data(ItemRole.DRAFT) or "")
        x = line.left()
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if draft:
            painter.setPen(QColor(c.danger))
            prefix = "Draft: "
            painter.drawText(QRect(x, line.top(), right - x, line.height()), align, prefix)
            x += metrics.horizontalAdvance(prefix)
        text = draft or str(index.data(ItemRole.SUBTITLE) or "")
        painter.setPen(QColor(c.muted))
        width = right - x - 6
        painter.drawText(
            QRect(x, line.top(), width, line.height()),
            align,
            metrics.elidedText(text, Qt.TextElideMode.ElideRight, width),
        )

    def _paint_badge(
        self, painter: QPainter, option: QStyleOptionViewItem, line: QRect, count: int, muted: bool
    ) -> int:
        """Draw the unread pill at the right of ``line``; returns where the text must stop."""
        c = theme_state().colors
        font = _bold(_small(option.font))
        text = str(count) if count < 1000 else "999+"
        width = max(20, QFontMetrics(font).horizontalAdvance(text) + 12)
        pill = QRectF(line.right() - width, line.center().y() - 10 + 1, width, 20)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(c.badge_muted if muted else c.accent))
        painter.drawRoundedRect(pill, 10, 10)
        painter.setFont(font)
        painter.setPen(QColor(c.on_accent))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        return int(pill.left()) - 6

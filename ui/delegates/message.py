"""Paints message bubbles: own versus others, sender names in groups, day separators, reply
quotes, reactions, delivery ticks; and turns clicks on chips, quotes and "retry" into signals.

Sizes are cached per (message id, view width) together with the row object and its
neighbourhood flags: rows are immutable and replaced on every change, so an identity check
tells whether a cached size is still valid, and a new width drops the whole cache.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from ui.delegates import message_layout as ml
from ui.format import day_label, duration, file_kind, file_size, one_line
from ui.models.roles import MessageRole
from ui.rich_text import plain
from ui.theme import avatar_colour, icon, theme_state
from ui.views import PLACEHOLDER_SIZE, AttachmentView, MessageRow, MessageStatus

AnyIndex = QModelIndex | QPersistentModelIndex
_LAYOUTS_KEPT = 96  # full layouts for painting: a few screens' worth


def _flags(index: AnyIndex) -> int:
    return (
        (ml.SHOW_DAY if index.data(MessageRole.SHOW_DAY) else 0)
        | (ml.RUN_START if index.data(MessageRole.RUN_START) else 0)
        | (ml.SHOW_AUTHOR if index.data(MessageRole.SHOW_AUTHOR) else 0)
    )


class MessageDelegate(QStyledItemDelegate):
    reactionClicked = Signal(str, str, bool)  # message id, emoji, is it ours
    retryClicked = Signal(str)
    quoteClicked = Signal(str)  # the quoted message id
    replyClicked = Signal(str)
    reactMenuRequested = Signal(str, QPointF)  # message id, global position
    attachmentClicked = Signal(str, int)  # message id, attachment index
    linkClicked = Signal(str)  # an http(s) or mailto URL in a message

    def __init__(self, parent: QWidget | None = None, now: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self._now = now
        self._width = -1
        self._sizes: dict[str, tuple[MessageRow, int, QSize]] = {}
        self._layouts: OrderedDict[str, tuple[MessageRow, int, ml.MessageLayout]] = OrderedDict()
        self._fonts_for: tuple[QFont, ml.Fonts] | None = None
        self.layouts_computed = 0  # for tests: proves the cache works
        self.images: Callable[[str], QPixmap | None] = lambda _hash: None
        """The decrypted preview of an image by its file hash, once it has arrived."""
        self.file_sizes: Callable[[str], int | None] = lambda _hash: None
        self._placeholders: dict[str, QPixmap] = {}

    # --- geometry ---

    def _layout(
        self, row: MessageRow, flags: int, option: QStyleOptionViewItem
    ) -> ml.MessageLayout:
        width = self._row_width(option)
        if width != self._width:
            self._width = width
            self._sizes.clear()
            self._layouts.clear()
        hit = self._layouts.get(row.id)
        if hit is not None and hit[0] is row and hit[1] == flags:
            self._layouts.move_to_end(row.id)
            return hit[2]
        self.layouts_computed += 1
        layout = ml.compute(row, flags, width, self._fonts(option))
        self._layouts[row.id] = (row, flags, layout)
        if len(self._layouts) > _LAYOUTS_KEPT:
            self._layouts.popitem(last=False)
        return layout

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        row = index.data(MessageRole.ROW)
        if not isinstance(row, MessageRow):
            return QSize(0, 0)
        flags = _flags(index)
        width = self._row_width(option)
        if width == self._width:
            cached = self._sizes.get(row.id)
            if cached is not None and cached[0] is row and cached[1] == flags:
                return cached[2]
        size = QSize(width, int(self._layout(row, flags, option).height))
        self._sizes[row.id] = (row, flags, size)
        return size

    def _row_width(self, option: QStyleOptionViewItem) -> int:
        # Rows span the viewport. The option's rect is not a reliable width while the view
        # lays items out, and a changing width would throw the size cache away.
        view = self.parent()
        if isinstance(view, QAbstractItemView):
            return view.viewport().width()
        return option.rect.width()

    def _fonts(self, option: QStyleOptionViewItem) -> ml.Fonts:
        if self._fonts_for is None or self._fonts_for[0] != option.font:
            self._fonts_for = (QFont(option.font), ml.Fonts.from_base(option.font))
        return self._fonts_for[1]

    # --- painting ---

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        row = index.data(MessageRole.ROW)
        if not isinstance(row, MessageRow):
            return
        layout = self._layout(row, _flags(index), option)
        fonts = self._fonts(option)
        c = theme_state().colors
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(option.rect.topLeft())
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(QRectF(0, 0, option.rect.width(), layout.height), QColor(c.hover))
        if layout.day is not None:
            self._paint_day(painter, fonts, layout.day, row)
        if row.system:
            self._paint_system(painter, layout)
            painter.restore()
            return
        waiting = bool(index.data(MessageRole.WAITING))
        self._paint_bubble(painter, fonts, row, layout, waiting=waiting)
        self._paint_chips(painter, fonts, layout)
        if layout.failed is not None:
            painter.setFont(fonts.small)
            painter.setPen(QColor(c.danger))
            painter.drawText(layout.failed, Qt.AlignmentFlag.AlignRight, ml.FAILED_TEXT)
        if option.state & QStyle.StateFlag.State_MouseOver:
            self._paint_actions(painter, layout)
        painter.restore()

    def _paint_day(self, painter: QPainter, fonts: ml.Fonts, area: QRectF, row: MessageRow) -> None:
        c = theme_state().colors
        text = day_label(row.day, self._now())
        width = QFontMetricsF(fonts.small).horizontalAdvance(text) + 24
        chip = QRectF(area.center().x() - width / 2, area.top() + 12, width, 24)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(c.surface))
        painter.drawRoundedRect(chip, 12, 12)
        painter.setFont(fonts.small_bold)
        painter.setPen(QColor(c.muted))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_system(self, painter: QPainter, lay: ml.MessageLayout) -> None:
        c = theme_state().colors
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(c.surface))
        radius = min(12.0, lay.bubble.height() / 2)
        painter.drawRoundedRect(lay.bubble, radius, radius)
        painter.setPen(QColor(c.muted))
        lay.text.draw(painter, lay.text_origin)

    def _paint_bubble(
        self,
        painter: QPainter,
        fonts: ml.Fonts,
        row: MessageRow,
        lay: ml.MessageLayout,
        *,
        waiting: bool = False,
    ) -> None:
        c = theme_state().colors
        if row.deleted:
            painter.setPen(QPen(QColor(c.border), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            text_colour = muted = c.muted
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.bubble_own if row.own else c.bubble_other))
            text_colour = c.bubble_own_text if row.own else c.bubble_other_text
            muted = c.bubble_own_muted if row.own else c.bubble_other_muted
        painter.drawRoundedRect(lay.bubble.adjusted(0.5, 0.5, -0.5, -0.5), ml.RADIUS, ml.RADIUS)
        if lay.author is not None:
            painter.setFont(fonts.bold)
            painter.setPen(avatar_colour(row.author))
            painter.drawText(lay.author, Qt.AlignmentFlag.AlignLeft, lay.author_text)
        if lay.quote is not None and row.reply is not None:
            self._paint_quote(painter, fonts, row, lay.quote, (text_colour, muted))
        for index, rect in lay.attachments:
            view = row.attachments[index]
            if view.is_image:
                self._paint_image(painter, view, rect)
            else:
                self._paint_file(painter, fonts, view, rect, (text_colour, muted))
        painter.setPen(QColor(text_colour))
        lay.text.draw(painter, lay.text_origin)
        painter.setFont(fonts.small)
        painter.setPen(QColor(muted))
        painter.drawText(lay.meta, Qt.AlignmentFlag.AlignLeft, ml.meta_text(row))
        if row.own and not row.deleted:
            self._paint_tick(painter, row, lay.meta, muted, waiting=waiting)

    def _paint_image(self, painter: QPainter, view: AttachmentView, rect: QRectF) -> None:
        """The decrypted preview once it is here; until then the BlurHash placeholder."""
        painter.save()
        clip = QPainterPath()
        clip.addRoundedRect(rect, 10, 10)
        painter.setClipPath(clip)
        pixmap = self.images(view.file_hash) or self._placeholder(view)
        if pixmap is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(rect, pixmap, QRectF(pixmap.rect()))
        else:
            painter.fillRect(rect, QColor(theme_state().colors.surface))
        if self.images(view.file_hash) is None:
            box = QRectF(rect.center().x() - 14, rect.center().y() - 14, 28, 28)
            icon("image", "#ffffff").paint(painter, box.toRect())
        painter.restore()

    def _placeholder(self, view: AttachmentView) -> QPixmap | None:
        if view.placeholder is None:
            return None
        cached = self._placeholders.get(view.file_hash)
        if cached is None:
            w, h = PLACEHOLDER_SIZE
            if len(view.placeholder) != w * h * 3:
                return None
            image = QImage(view.placeholder, w, h, 3 * w, QImage.Format.Format_RGB888)
            cached = QPixmap.fromImage(image.copy())
            self._placeholders[view.file_hash] = cached
        return cached

    def _paint_file(
        self,
        painter: QPainter,
        fonts: ml.Fonts,
        view: AttachmentView,
        rect: QRectF,
        colours: tuple[str, str],
    ) -> None:
        """A card: an icon, the name, the type and (once known) the size."""
        text_colour, muted = colours
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 46) if text_colour != muted else QColor(0, 0, 0, 22))
        painter.drawRoundedRect(rect, 10, 10)
        box = QRectF(rect.left() + 10, rect.center().y() - 14, 28, 28)
        icon("file", text_colour).paint(painter, box.toRect())
        left = box.right() + 10
        width = rect.right() - 10 - left
        painter.setFont(fonts.small_bold)
        painter.setPen(QColor(text_colour))
        name = QFontMetricsF(fonts.small_bold).elidedText(
            view.filename, Qt.TextElideMode.ElideMiddle, width
        )
        line_h = QFontMetricsF(fonts.small).height()
        top = rect.center().y() - line_h
        painter.drawText(QRectF(left, top, width, line_h), Qt.AlignmentFlag.AlignLeft, name)
        size = self.file_sizes(view.file_hash)
        detail = file_kind(view.mime_type, view.filename)
        detail += f" · {duration(view.duration)}" if view.duration is not None else ""
        detail += f" · {file_size(size)}" if size is not None else ""
        painter.setFont(fonts.small)
        painter.setPen(QColor(muted))
        below = QRectF(left, top + line_h, width, line_h)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, f"{detail} · Download")

    def _paint_quote(
        self,
        painter: QPainter,
        fonts: ml.Fonts,
        row: MessageRow,
        area: QRectF,
        colours: tuple[str, str],
    ) -> None:
        assert row.reply is not None
        text_colour, muted = colours
        c = theme_state().colors
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 46) if row.own else QColor(0, 0, 0, 22))
        painter.drawRoundedRect(area, 8, 8)
        painter.setBrush(QColor(c.bubble_own_muted if row.own else c.quote_bar))
        painter.drawRoundedRect(QRectF(area.left(), area.top(), 4, area.height()), 2, 2)
        inner = area.adjusted(ml.QUOTE_PAD + 4, 6, -ml.QUOTE_PAD, -6)
        line_h = QFontMetricsF(fonts.small).height()
        first = QRectF(inner.left(), inner.top(), inner.width(), line_h)
        painter.setFont(fonts.small_bold)
        painter.setPen(QColor(text_colour))
        author = QFontMetricsF(fonts.small_bold).elidedText(
            row.reply.author_name, Qt.TextElideMode.ElideRight, inner.width()
        )
        painter.drawText(first, Qt.AlignmentFlag.AlignLeft, author)
        painter.setFont(fonts.small)
        painter.setPen(QColor(muted))
        text = QFontMetricsF(fonts.small).elidedText(
            one_line(plain(row.reply.text)), Qt.TextElideMode.ElideRight, inner.width()
        )
        painter.drawText(first.translated(0, line_h), Qt.AlignmentFlag.AlignLeft, text)

    def _paint_tick(
        self, painter: QPainter, row: MessageRow, meta: QRectF, muted: str, *, waiting: bool
    ) -> None:
        # "Sent" to a 1:1 chat whose other person has not joined yet is not a tick: it
        # reaches them only once they accept. The clock stays until they do.
        sent = "clock" if waiting else "check"
        name, colour = {
            MessageStatus.SENDING: ("clock", muted),
            MessageStatus.SENT: (sent, muted),
            MessageStatus.FAILED: ("alert", "#ffd0cc"),
        }[row.status]
        box = QRectF(meta.right() - ml.TICK, meta.center().y() - ml.TICK / 2, ml.TICK, ml.TICK)
        icon(name, colour).paint(painter, box.toRect())

    def _paint_chips(self, painter: QPainter, fonts: ml.Fonts, lay: ml.MessageLayout) -> None:
        c = theme_state().colors
        painter.setFont(fonts.body)
        for chip in lay.chips:
            painter.setPen(QPen(QColor(c.accent if chip.mine else c.border), 1))
            painter.setBrush(QColor(c.chip_mine if chip.mine else c.chip))
            painter.drawRoundedRect(chip.rect.adjusted(0.5, 0.5, -0.5, -0.5), 12, 12)
            painter.setPen(QColor(c.text))
            painter.drawText(chip.rect, Qt.AlignmentFlag.AlignCenter, chip.label)

    def _paint_actions(self, painter: QPainter, lay: ml.MessageLayout) -> None:
        c = theme_state().colors
        for rect, name in ((lay.react_action, "smile"), (lay.reply_action, "reply")):
            if rect is None:
                continue
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.surface))
            painter.drawEllipse(rect)
            icon(name, c.muted).paint(painter, rect.adjusted(6, 6, -6, -6).toRect())

    # --- clicks ---

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: AnyIndex,
    ) -> bool:
        if event.type() != QEvent.Type.MouseButtonRelease or not isinstance(event, QMouseEvent):
            return super().editorEvent(event, model, option, index)
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        row = index.data(MessageRole.ROW)
        if not isinstance(row, MessageRow):
            return False
        return self.click(
            row,
            _flags(index),
            option,
            event.position() - option.rect.topLeft().toPointF(),
            event.globalPosition(),
        )

    def click(
        self,
        row: MessageRow,
        flags: int,
        option: QStyleOptionViewItem,
        pos: QPointF,
        global_pos: QPointF,
    ) -> bool:
        """Act on a click at ``pos`` (relative to the row); True if something was hit."""
        lay = self._layout(row, flags, option)
        targets: list[tuple[QRectF | None, Callable[[], None]]] = [
            (chip.rect, partial(self.reactionClicked.emit, row.id, chip.emoji, chip.mine))
            for chip in lay.chips
        ]
        targets += [
            (rect, partial(self.attachmentClicked.emit, row.id, index))
            for index, rect in lay.attachments
        ]
        targets.append((lay.failed, partial(self.retryClicked.emit, row.id)))
        if row.reply is not None:
            targets.append((lay.quote, partial(self.quoteClicked.emit, row.reply.message_id)))
        targets.append(
            (lay.react_action, partial(self.reactMenuRequested.emit, row.id, global_pos))
        )
        targets.append((lay.reply_action, partial(self.replyClicked.emit, row.id)))
        for rect, act in targets:
            if rect is not None and rect.contains(pos):
                act()
                return True
        url = self.link_at(lay, pos)
        if url:
            self.linkClicked.emit(url)
        return bool(url)

    @staticmethod
    def link_at(lay: ml.MessageLayout, pos: QPointF) -> str:
        """The URL of the link under ``pos`` (relative to the row), or ""."""
        if not lay.rich.links or not lay.bubble.contains(pos):
            return ""
        return lay.rich.link_at(ml.character_at(lay.text, pos - lay.text_origin))

    def link_under(self, index: AnyIndex, option: QStyleOptionViewItem, pos: QPointF) -> str:
        """The link under ``pos`` (relative to the row at ``index``), or "" (hover cursor)."""
        lay = self.layout_for(index, option)
        return "" if lay is None else self.link_at(lay, pos)

    def layout_for(self, index: AnyIndex, option: QStyleOptionViewItem) -> ml.MessageLayout | None:
        """The geometry of a row (tests and hit checks)."""
        row = index.data(MessageRole.ROW)
        return self._layout(row, _flags(index), option) if isinstance(row, MessageRow) else None

"""Geometry of one message row, shared by sizeHint, paint and click handling.

Everything is relative to the row's top-left corner. The text is laid out with QTextLayout
(wrapping at word boundaries, or anywhere for long words such as links and keys). The time
and delivery tick sit on the last text line when they fit there, as in most messengers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QTextCharFormat,
    QTextLayout,
    QTextLine,
    QTextOption,
)

from ui.format import message_time
from ui.rich_text import RichText, Span, Style, parse
from ui.views import AttachmentView, MessageRow, MessageStatus

SIDE = 18
MAX_BUBBLE = 560
MAX_FRACTION = 0.72
PAD_X = 12
PAD_Y = 7
RADIUS = 16
DAY_HEIGHT = 44
GAP_RUN = 10
GAP = 2
QUOTE_PAD = 8
CHIP_HEIGHT = 24
TICK = 14
ACTION = 28
FAILED_HEIGHT = 20
DELETED_TEXT = "This message was deleted"
FAILED_TEXT = "Not sent · Click to retry"
IMAGE_MAX = 260.0
IMAGE_MIN = 96.0
FILE_CARD = (240.0, 52.0)
ATTACH_GAP = 6.0

# Flag bits of a row's neighbourhood, part of the layout cache key.
SHOW_DAY = 1
RUN_START = 2
SHOW_AUTHOR = 4


@dataclass(frozen=True, slots=True)
class Fonts:
    body: QFont
    bold: QFont
    small: QFont
    small_bold: QFont
    italic: QFont

    @classmethod
    def from_base(cls, base: QFont) -> Fonts:
        # Copies: a style option's font dies with the option.
        base = QFont(base)
        bold = QFont(base)
        bold.setWeight(QFont.Weight.DemiBold)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.82)
        small_bold = QFont(small)
        small_bold.setWeight(QFont.Weight.DemiBold)
        italic = QFont(base)
        italic.setItalic(True)
        return cls(base, bold, small, small_bold, italic)


@dataclass(frozen=True, slots=True)
class Chip:
    """One reaction under a bubble."""

    emoji: str
    label: str
    mine: bool
    rect: QRectF


@dataclass(slots=True)
class MessageLayout:
    height: float
    bubble: QRectF
    text: QTextLayout
    text_origin: QPointF
    meta: QRectF  # time and tick, right-aligned inside the bubble
    rich: RichText = field(default_factory=lambda: RichText(""))
    day: QRectF | None = None
    author: QRectF | None = None
    author_text: str = ""  # the sender's name, cut with "…" to the bubble's width
    quote: QRectF | None = None
    failed: QRectF | None = None
    chips: list[Chip] = field(default_factory=list)
    react_action: QRectF | None = None
    reply_action: QRectF | None = None
    attachments: list[tuple[int, QRectF]] = field(default_factory=list)
    """Each attachment's index and where it is drawn (previews, file cards)."""


def _char_format(style: Style, font: QFont) -> QTextCharFormat:
    """How a styled range looks. No colours: the text takes the bubble's pen (a link is
    underlined), so both bubbles and both themes stay readable."""
    fmt = QTextCharFormat()
    if style & Style.BOLD:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    if style & Style.ITALIC:
        fmt.setFontItalic(True)
    if style & Style.STRIKE:
        fmt.setFontStrikeOut(True)
    if style & Style.LINK:
        fmt.setFontUnderline(True)
    if style & Style.CODE:
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fmt.setFontFamilies(mono.families())
        fmt.setFontPointSize(font.pointSizeF() * 0.95)
        fmt.setBackground(QColor(127, 127, 127, 48))
    return fmt


def _formats(spans: Sequence[Span], font: QFont) -> list[QTextLayout.FormatRange]:
    ranges = []
    for span in spans:
        part = QTextLayout.FormatRange()
        part.start, part.length = span.start, span.length
        part.format = _char_format(span.style, font)
        ranges.append(part)
    return ranges


def layout_text(
    text: str, font: QFont, width: float, spans: Sequence[Span] = ()
) -> tuple[QTextLayout, float, float, float]:
    """Wrap ``text`` to ``width``; returns (layout, height, widest line, last line width)."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    if spans:
        layout.setFormats(_formats(spans, font))
    layout.beginLayout()
    y = widest = last = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, y))
        y += line.height()
        last = line.naturalTextWidth()
        widest = max(widest, last)
    layout.endLayout()
    return layout, y, widest, last


def character_at(layout: QTextLayout, pos: QPointF) -> int:
    """The index of the character under ``pos`` (relative to the text's origin), or -1."""
    for i in range(layout.lineCount()):
        line = layout.lineAt(i)
        if line.y() <= pos.y() < line.y() + line.height():
            if not 0 <= pos.x() <= line.naturalTextWidth():
                return -1
            return int(line.xToCursor(pos.x(), QTextLine.CursorPosition.CursorOnCharacter))
    return -1


EDITED = "edited"


def meta_text(row: MessageRow) -> str:
    """The time under a bubble; "edited 14:05" once its author changed the text."""
    time = message_time(row.created_at)
    return f"{EDITED} {time}" if row.edited and not row.deleted else time


def chip_text(emoji: str, count: int) -> str:
    return emoji if count <= 1 else f"{emoji} {count}"


@dataclass(frozen=True, slots=True)
class _Body:
    """Measured bubble contents, before placing them."""

    text: QTextLayout
    rich: RichText
    text_h: float
    content_w: float
    head_h: float
    quote_h: float
    meta_w: float
    line_h: float  # height of a small-font line (time, quote lines)
    inline_meta: bool
    author_text: str
    attach: tuple[tuple[float, float], ...] = ()


SYSTEM_PAD = 12


def _compute_system(row: MessageRow, flags: int, width: int, fonts: Fonts) -> MessageLayout:
    """A change of the group: one centred line of small text on a pill, no bubble."""
    day = QRectF(0, 0, width, DAY_HEIGHT) if flags & SHOW_DAY else None
    top = (DAY_HEIGHT if day else 0.0) + GAP_RUN
    inner = max(120.0, width * MAX_FRACTION)
    text, text_h, widest, _ = layout_text(row.system, fonts.small, inner)
    pill_w = math.ceil(widest) + 2 * SYSTEM_PAD
    pill = QRectF((width - pill_w) / 2, top, pill_w, math.ceil(text_h) + 8)
    out = MessageLayout(
        0, pill, text, QPointF(pill.left() + SYSTEM_PAD, top + 4), QRectF(), day=day
    )
    out.height = math.ceil(pill.bottom() + 2)
    return out


def compute(row: MessageRow, flags: int, width: int, fonts: Fonts) -> MessageLayout:
    if row.system:
        return _compute_system(row, flags, width, fonts)
    inner = min(MAX_BUBBLE, max(160.0, width * MAX_FRACTION)) - 2 * PAD_X
    day = QRectF(0, 0, width, DAY_HEIGHT) if flags & SHOW_DAY else None
    y = (DAY_HEIGHT if day else 0.0) + (GAP_RUN if flags & RUN_START else GAP)
    out = _place_bubble(row, _measure(row, flags, inner, fonts), width, y, day)
    y = _place_chips(out, row, fonts, width, out.bubble.bottom())
    if row.own and row.status is MessageStatus.FAILED:
        fail_w = QFontMetricsF(fonts.small).horizontalAdvance(FAILED_TEXT)
        out.failed = QRectF(out.bubble.right() - fail_w, y + 2, fail_w, FAILED_HEIGHT - 2)
        y += FAILED_HEIGHT
    _place_actions(out, row)
    out.height = math.ceil(y + 2)
    return out


def attachment_size(view: AttachmentView, inner: float) -> tuple[float, float]:
    """An image's preview keeps its aspect ratio within `IMAGE_MAX` (4:3 when the sender
    gave no dimensions); a file is a fixed card. Nothing is wider than the bubble allows."""
    if not view.is_image:
        return min(FILE_CARD[0], inner), FILE_CARD[1]
    width, height = (view.width or 4), (view.height or 3)
    scale = min(IMAGE_MAX / width, IMAGE_MAX / height, inner / width)
    w, h = width * scale, height * scale
    if w < IMAGE_MIN:  # a tall, thin picture still gets a clickable preview
        w, h = IMAGE_MIN, min(IMAGE_MAX, h * IMAGE_MIN / max(w, 1.0))
    return math.floor(w), math.floor(h)


def _measure(row: MessageRow, flags: int, inner: float, fonts: Fonts) -> _Body:
    font = fonts.italic if row.deleted else fonts.body
    rich = RichText(DELETED_TEXT) if row.deleted else parse(row.text)
    text, text_h, widest, last = layout_text(rich.text, font, inner, rich.spans)
    attach = tuple(attachment_size(a, inner) for a in row.attachments)
    if attach and not row.text:
        text_h = widest = last = 0.0  # a file alone: no empty text line under it
    small = QFontMetricsF(fonts.small)
    meta_w = small.horizontalAdvance(meta_text(row)) + (TICK + 4 if row.own else 0)
    inline_meta = bool(row.text or not attach) and last + 10 + meta_w <= inner
    content_w = max(widest, meta_w, last + 10 + meta_w if inline_meta else 0.0)
    content_w = max(content_w, *(w for w, _ in attach)) if attach else content_w
    head_h = 0.0
    author = ""
    if flags & SHOW_AUTHOR:
        bold = QFontMetricsF(fonts.bold)
        author = bold.elidedText(row.author_name, Qt.TextElideMode.ElideRight, inner)
        content_w = max(content_w, bold.horizontalAdvance(author))
        head_h = bold.height() + 2
    quote_h = 0.0
    if row.reply is not None and not row.deleted:
        quote_h = 2 * small.height() + 2 * 6
        content_w = max(content_w, _quote_width(row, fonts) + 2 * QUOTE_PAD + 4, 160.0)
    content_w = math.ceil(min(inner, content_w))
    return _Body(
        text,
        rich,
        text_h,
        content_w,
        head_h,
        quote_h,
        meta_w,
        small.height(),
        inline_meta,
        author,
        attach,
    )


def _place_bubble(
    row: MessageRow, body: _Body, width: int, y: float, day: QRectF | None
) -> MessageLayout:
    meta_h = 0.0 if body.inline_meta else body.line_h
    quote_block = body.quote_h + 6 if body.quote_h else 0.0
    attach_h = sum(h + ATTACH_GAP for _, h in body.attach)
    bubble_h = PAD_Y + body.head_h + quote_block + attach_h + body.text_h + meta_h + PAD_Y
    bubble_w = body.content_w + 2 * PAD_X
    x = width - SIDE - bubble_w if row.own else SIDE
    bubble = QRectF(x, y, bubble_w, math.ceil(bubble_h))
    out = MessageLayout(0, bubble, body.text, QPointF(), QRectF(), body.rich, day)
    cy = y + PAD_Y
    if body.head_h:
        out.author = QRectF(x + PAD_X, cy, body.content_w, body.head_h - 2)
        out.author_text = body.author_text
        cy += body.head_h
    if body.quote_h:
        out.quote = QRectF(x + PAD_X, cy, body.content_w, body.quote_h)
        cy += quote_block
    for index, (w, h) in enumerate(body.attach):
        out.attachments.append((index, QRectF(x + PAD_X, cy, w, h)))
        cy += h + ATTACH_GAP
    out.text_origin = QPointF(x + PAD_X, cy)
    meta_top = cy + body.text_h - (body.line_h if body.inline_meta else 0.0)
    out.meta = QRectF(bubble.right() - PAD_X - body.meta_w, meta_top, body.meta_w, body.line_h)
    return out


def _quote_width(row: MessageRow, fonts: Fonts) -> float:
    assert row.reply is not None
    small = QFontMetricsF(fonts.small)
    return max(
        QFontMetricsF(fonts.small_bold).horizontalAdvance(row.reply.author_name),
        small.horizontalAdvance(" ".join(row.reply.text.split())[:80]),
    )


def _place_chips(out: MessageLayout, row: MessageRow, fonts: Fonts, width: int, y: float) -> float:
    if not row.reactions or row.deleted:
        return y
    metrics = QFontMetricsF(fonts.body)
    labels = [chip_text(r.emoji, r.count) for r in row.reactions]
    widths = [metrics.horizontalAdvance(label) + 16 for label in labels]
    total = sum(widths) + 4 * (len(widths) - 1)
    x = out.bubble.right() - total if row.own else out.bubble.left()
    x = max(SIDE, min(x, width - SIDE - total))
    top = y + 3
    for reaction, label, w in zip(row.reactions, labels, widths, strict=True):
        out.chips.append(Chip(reaction.emoji, label, reaction.mine, QRectF(x, top, w, CHIP_HEIGHT)))
        x += w + 4
    return top + CHIP_HEIGHT


def _place_actions(out: MessageLayout, row: MessageRow) -> None:
    """Hover buttons (react, reply) beside the bubble, on the side facing the middle."""
    if row.deleted:
        return
    top = out.bubble.top() + (min(out.bubble.height(), 40) - ACTION) / 2
    first = out.bubble.left() - 8 - 2 * ACTION - 4 if row.own else out.bubble.right() + 8
    out.react_action = QRectF(first, top, ACTION, ACTION)
    out.reply_action = QRectF(first + ACTION + 4, top, ACTION, ACTION)

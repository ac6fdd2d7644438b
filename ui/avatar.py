"""Round avatars: the person's picture, or their initials on a colour picked from their key.

Pixmaps are cached by (picture hash or initials, seed, size, device pixel ratio), so painting
a list of chats decodes each picture once.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from ui.format import initials
from ui.theme import avatar_colour

_CACHE: OrderedDict[tuple[object, ...], QPixmap] = OrderedDict()
_CACHE_SIZE = 512
MAX_PICTURE_BYTES = 2_000_000
_PICTURE_FILES = "Images (*.png *.jpg *.jpeg *.webp *.gif)"
_TOO_LARGE = "That picture is larger than 2 MB. Please pick a smaller one."


def picture_problem(data: bytes) -> str:
    """Why a chosen file cannot be a profile picture, or ""."""
    if len(data) > MAX_PICTURE_BYTES:
        return _TOO_LARGE
    if QImage.fromData(QByteArray(data)).isNull():
        return "That file is not a picture Burrow can read. Please pick another one."
    return ""


def choose_picture(parent: QWidget) -> tuple[bytes | None, str]:
    """Ask for a picture file: (its bytes, "") or (None, why not); (None, "") if cancelled."""
    name, _ = QFileDialog.getOpenFileName(parent, "Choose a picture", "", _PICTURE_FILES)
    if not name:
        return None, ""
    path = Path(name)
    try:
        if path.stat().st_size > MAX_PICTURE_BYTES:
            return None, _TOO_LARGE
        data = path.read_bytes()
    except OSError as error:
        return None, f"That file could not be read ({error.strerror})."
    problem = picture_problem(data)
    return (None, problem) if problem else (data, "")


def avatar_pixmap(name: str, seed: str, data: bytes | None, size: int, dpr: float) -> QPixmap:
    key = (hash(data) if data else initials(name), seed, size, dpr)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    pixmap = _render(name, seed, data, size, dpr)
    _CACHE[key] = pixmap
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return pixmap


def _render(name: str, seed: str, data: bytes | None, size: int, dpr: float) -> QPixmap:
    pixmap = QPixmap(QSize(size, size) * dpr)
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    circle = QPainterPath()
    circle.addEllipse(QRectF(0, 0, size, size))
    image = QImage.fromData(data) if data else QImage()
    if not image.isNull():
        painter.setClipPath(circle)
        side = min(image.width(), image.height())
        square = image.copy(
            (image.width() - side) // 2, (image.height() - side) // 2, side, side
        ).scaled(
            QSize(size, size) * dpr,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter.drawImage(QRectF(0, 0, size, size), square)
    else:
        painter.fillPath(circle, avatar_colour(seed))
        font = QFont(painter.font())
        font.setPixelSize(max(8, int(size * 0.4)))
        font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials(name))
    painter.end()
    return pixmap


class AvatarLabel(QLabel):
    """A fixed-size avatar for headers and profile pages."""

    def __init__(self, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self.setFixedSize(size, size)

    def set_avatar(self, name: str, seed: str, data: bytes | None = None) -> None:
        self.setPixmap(avatar_pixmap(name, seed, data, self._size, self.devicePixelRatioF()))
        self.setAccessibleName(f"Avatar of {name}")

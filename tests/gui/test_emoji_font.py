"""Emoji in colour without a system colour-emoji font (issue 18): Burrow's bundled Twemoji
serves emoji, and only emoji."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication

from ui.theme import ASSETS, EMOJI_FONT, app_font, has_colour_emoji, use_app_font

pytestmark = pytest.mark.gui


def coloured_pixels(text: str, font: QFont) -> int:
    """How many pixels of ``text`` drawn in black on white have a clear hue."""
    image = QImage(160, 60, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    font.setPointSize(28)
    painter.setFont(font)
    painter.setPen(QColor("black"))
    painter.drawText(4, 48, text)
    painter.end()
    return sum(
        1
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).hsvSaturation() > 120
    )


@pytest.mark.parametrize("emoji", ["😂", "👍", "🥾", "❤️", "🎉"])
def test_emoji_are_drawn_in_colour(qapp: QApplication, emoji: str) -> None:
    use_app_font(qapp)
    assert coloured_pixels(emoji, app_font()) > 40


def test_text_keeps_its_own_font(qapp: QApplication) -> None:
    use_app_font(qapp)
    assert coloured_pixels("Hello 123 #", app_font()) == 0


def test_a_system_colour_emoji_font_is_preferred() -> None:
    assert has_colour_emoji(["DejaVu Sans", "Noto Color Emoji"])
    assert not has_colour_emoji(["DejaVu Sans", "Symbola"])


def test_the_bundled_font_is_small_and_its_licence_is_beside_it() -> None:
    font = ASSETS / EMOJI_FONT
    assert font.stat().st_size < 600_000
    licence = (font.parent / "TwemojiMozilla-LICENSE.md").read_text()
    assert "OPEN FONT LICENSE" in licence and "CC-BY-4.0" in licence

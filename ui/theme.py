"""Light and dark themes: colours for painted items, the QSS per theme, and SVG icons.

Widgets are styled by ``assets/styles/<theme>.qss``. Delegates paint by hand and read the
matching ``ThemeColors`` from ``theme_state().colors``; they repaint when ``changed`` fires.
Icons are drawn from ``assets/icons/*.svg`` at whatever size and device pixel ratio is asked
for, in the colour given (the files use ``currentColor``), so they stay sharp on high DPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractButton, QApplication

from ui.views import Theme


def _assets() -> Path:
    """Icons and style sheets: ``ui/assets`` in an installed wheel (package data); in the
    source tree ``ui/assets`` is a link to the top-level ``assets/`` (used directly if the
    link is missing, say on a checkout without symlinks)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "assets", here.parent / "assets"):
        if (candidate / "icons").is_dir():
            return candidate
    return here / "assets"


ASSETS = _assets()
_ICON_PROPERTY = "burrowIcon"
FONT_FAMILIES = ["Inter", "Segoe UI", "SF Pro Text", "Cantarell", "Noto Sans", "DejaVu Sans"]


@dataclass(frozen=True, slots=True)
class ThemeColors:
    window: str
    sidebar: str
    surface: str
    text: str
    muted: str
    accent: str
    on_accent: str
    bubble_own: str
    bubble_own_text: str
    bubble_own_muted: str
    bubble_other: str
    bubble_other_text: str
    bubble_other_muted: str
    quote_bar: str
    border: str
    hover: str
    selected: str
    danger: str
    badge_muted: str
    chip: str
    chip_mine: str


LIGHT = ThemeColors(
    window="#ffffff",
    sidebar="#f7f7f8",
    surface="#eef0f3",
    text="#1b1c1f",
    muted="#6b6f76",
    accent="#2f6feb",
    on_accent="#ffffff",
    bubble_own="#2f6feb",
    bubble_own_text="#ffffff",
    bubble_own_muted="#d6e2ff",
    bubble_other="#eef0f3",
    bubble_other_text="#1b1c1f",
    bubble_other_muted="#6b6f76",
    quote_bar="#8fb0f5",
    border="#e3e5e8",
    hover="#eceef1",
    selected="#dfe8fc",
    danger="#d93025",
    badge_muted="#9aa0a6",
    chip="#ffffff",
    chip_mine="#dfe8fc",
)

DARK = ThemeColors(
    window="#131417",
    sidebar="#1a1b1f",
    surface="#26282d",
    text="#e8e9ec",
    muted="#9a9ea6",
    accent="#4a83f0",
    on_accent="#ffffff",
    bubble_own="#2f62d6",
    bubble_own_text="#ffffff",
    bubble_own_muted="#c2d3fb",
    bubble_other="#2a2c31",
    bubble_other_text="#e8e9ec",
    bubble_other_muted="#9a9ea6",
    quote_bar="#6f95ea",
    border="#2c2e33",
    hover="#24262b",
    selected="#27344f",
    danger="#f28b82",
    badge_muted="#5f636b",
    chip="#1f2125",
    chip_mine="#27344f",
)

# Initials avatars: calm, readable with white text in both themes.
AVATAR_COLOURS = (
    "#e0564e",
    "#e8833a",
    "#c9a227",
    "#4caf6a",
    "#2ba3a0",
    "#3b82d6",
    "#7b61d1",
    "#c355a8",
)


def colors_for(theme: Theme) -> ThemeColors:
    return DARK if resolved(theme) is Theme.DARK else LIGHT


def system_scheme() -> Qt.ColorScheme:
    """The desktop's colour scheme (Unknown where the platform does not say)."""
    return QGuiApplication.styleHints().colorScheme()


def resolved(theme: Theme) -> Theme:
    """The light or dark theme that ``theme`` shows now ("system" asks the desktop)."""
    if theme is not Theme.SYSTEM:
        return theme
    return Theme.DARK if system_scheme() is Qt.ColorScheme.Dark else Theme.LIGHT


def avatar_colour(seed: str) -> QColor:
    """A stable colour for a pubkey or chat id (its last hex digits pick the colour)."""
    try:
        n = int(seed[-6:], 16)
    except ValueError:
        n = sum(map(ord, seed))
    return QColor(AVATAR_COLOURS[n % len(AVATAR_COLOURS)])


class ThemeState(QObject):
    """The theme in use; ``changed`` lets custom-painted views repaint."""

    changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.theme = Theme.LIGHT  # what is shown: light or dark
        self.choice = Theme.LIGHT  # what was chosen: light, dark or system
        self.colors = LIGHT
        self.following = False  # listening to the desktop's scheme changes


_STATE: ThemeState | None = None


def theme_state() -> ThemeState:
    global _STATE  # noqa: PLW0603  (one theme per process, like the QApplication)
    if _STATE is None:
        _STATE = ThemeState()
    return _STATE


def app_font() -> QFont:
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSizeF(10.5)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


EMOJI_FONT = "fonts/TwemojiMozilla.woff2"
# Families of colour emoji fonts that desktops ship; any of them beats our fallback.
_SYSTEM_EMOJI = ("Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "Twemoji", "JoyPixels")


def has_colour_emoji(families: list[str]) -> bool:
    return any(f.startswith(_SYSTEM_EMOJI) for f in families)


def use_emoji_font() -> str:
    """Draw emoji in colour also where the system has no colour emoji font: Burrow's
    bundled Twemoji then serves emoji (only emoji: text keeps its own font). Returns the
    emoji family in use ("" for the system's own)."""
    if has_colour_emoji(QFontDatabase.families()):
        return ""
    loaded = QFontDatabase.applicationEmojiFontFamilies()
    if loaded:
        return loaded[0]
    font_id = QFontDatabase.addApplicationFont(str(ASSETS / EMOJI_FONT))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return ""
    QFontDatabase.addApplicationEmojiFontFamily(families[0])
    return families[0]


def use_app_font(app: QApplication) -> None:
    """Set Burrow's font; call before creating widgets (style-sheet polishing pins fonts)."""
    use_emoji_font()
    if app.font() != app_font():
        app.setFont(app_font())


def apply_theme(app: QApplication, choice: Theme) -> None:
    """Switch the whole application to ``choice`` (palette, style sheet, painted colours);
    "system" shows the desktop's scheme and follows it when it changes."""
    state = theme_state()
    state.choice = choice
    if not state.following:
        state.following = True
        app.styleHints().colorSchemeChanged.connect(lambda *_: _system_changed(app))
    theme = resolved(choice)
    c = colors_for(theme)
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.window,
        QPalette.ColorRole.AlternateBase: c.sidebar,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.surface,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: c.on_accent,
        QPalette.ColorRole.PlaceholderText: c.muted,
        QPalette.ColorRole.ToolTipBase: c.surface,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.Link: c.accent,
    }
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(theme))
    state.theme, state.colors = theme, c
    for widget in app.allWidgets():
        for item in (widget, *widget.actions()):
            spec = item.property(_ICON_PROPERTY)
            if isinstance(spec, str) and isinstance(item, QAbstractButton | QAction):
                name, _, color_field = spec.partition(":")
                item.setIcon(icon(name, getattr(c, color_field)))
    state.changed.emit(theme)


def _system_changed(app: QApplication) -> None:
    state = theme_state()
    if state.choice is Theme.SYSTEM and resolved(Theme.SYSTEM) is not state.theme:
        apply_theme(app, Theme.SYSTEM)


@cache
def style_sheet(theme: Theme) -> str:
    """``theme``: light or dark (resolve "system" first)."""
    return (ASSETS / "styles" / f"{theme.value}.qss").read_text(encoding="utf-8")


# --- icons ----------------------------------------------------------------------------------


@cache
def _svg_source(name: str) -> str:
    return (ASSETS / "icons" / f"{name}.svg").read_text(encoding="utf-8")


class SvgIconEngine(QIconEngine):
    """Renders one SVG in one colour at exactly the requested size."""

    def __init__(self, name: str, color: str) -> None:
        super().__init__()
        self._name = name
        self._color = color
        data = _svg_source(name).replace("currentColor", color)
        self._renderer = QSvgRenderer(QByteArray(data.encode()))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, rect)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        pixmap = QPixmap(size * scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(QPoint(0, 0), size * scale), mode, state)
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def clone(self) -> QIconEngine:
        return SvgIconEngine(self._name, self._color)


def icon(name: str, color: str | None = None) -> QIcon:
    """An icon from ``assets/icons/<name>.svg`` in ``color`` (default: the text colour)."""
    return _icon(name, color or theme_state().colors.text)


@cache
def _icon(name: str, color: str) -> QIcon:
    # Delegates paint icons on every frame; parse each SVG once per colour.
    return QIcon(SvgIconEngine(name, color))


def bind_icon(item: QAbstractButton | QAction, name: str, color_field: str = "muted") -> None:
    """Give a button or action an icon that is redrawn in the new colours on theme changes.

    An action is found through the widget it was added to.
    """
    item.setProperty(_ICON_PROPERTY, f"{name}:{color_field}")
    item.setIcon(icon(name, getattr(theme_state().colors, color_field)))


def set_plain_icon(button: QAbstractButton, image: QIcon) -> None:
    """Show a picture (not a themed symbol) on a button, e.g. the account avatar."""
    button.setProperty(_ICON_PROPERTY, None)
    button.setIcon(image)


def icon_names() -> list[str]:
    return sorted(p.stem for p in (ASSETS / "icons").glob("*.svg"))

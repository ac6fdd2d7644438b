"""Small building blocks shared by pages and dialogs: labels, buttons, busy state, fields."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QAbstractItemModel, QSize, Qt
from PySide6.QtGui import QAction, QKeyEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from ui.delegates.item import ItemDelegate
from ui.theme import bind_icon


def label(text: str, role: str = "", *, wrap: bool = False) -> QLabel:
    """A label styled by its ``role`` property (title, heading, muted, section, error)."""
    widget = QLabel(text)
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setIndent(0)  # a styled box would otherwise indent the text by half an "x"
    return widget


class ElidedLabel(QLabel):
    """One line of text someone else may have chosen (a group or person's name): shown as
    plain text, never as HTML, and cut with "…" to the width it gets instead of widening
    the window; the whole text is in the tooltip when it is cut. ``text()`` stays whole."""

    def __init__(self, role: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if role:
            self.setProperty("role", role)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setIndent(0)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def setText(self, text: str) -> None:
        super().setText(" ".join(text.split()))  # one line, whatever was sent
        self._update_tooltip()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("M…")), hint.height())

    def elided(self) -> str:
        return self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.elided() != self.text() else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.elided(),
            self.foregroundRole(),
        )


def button(text: str, kind: str = "", icon_name: str = "") -> QPushButton:
    """A push button; ``kind`` is "primary", "danger", "flat" or "" (secondary)."""
    widget = QPushButton(text)
    if kind:
        widget.setProperty("kind", kind)
    if icon_name:
        bind_icon(widget, icon_name, "on_accent" if kind == "primary" else "text")
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    return widget


def icon_button(icon_name: str, tooltip: str, color_field: str = "muted") -> QToolButton:
    widget = QToolButton()
    widget.setToolTip(tooltip)
    widget.setAccessibleName(tooltip)
    widget.setAutoRaise(True)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    bind_icon(widget, icon_name, color_field)
    return widget


def separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setProperty("role", "separator")
    return line


class ErrorLabel(QLabel):
    """A calm inline message under a field; hidden while there is nothing to say. Plain
    text: messages quote what was typed or received."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setProperty("role", "error")
        self.setWordWrap(True)
        self.hide()

    def show_error(self, message: str) -> None:
        self._show(message, "error")

    def show_success(self, message: str) -> None:
        self._show(message, "success")

    def show_info(self, message: str) -> None:
        self._show(message, "muted")

    def clear_error(self) -> None:
        self._show("", "error")

    def _show(self, message: str, role: str) -> None:
        if self.property("role") != role:
            self.setProperty("role", role)
            self.style().unpolish(self)
            self.style().polish(self)
        self.setText(message)
        self.setVisible(bool(message))


class FilterField(QLineEdit):
    """A search box inside a dialog: Escape first clears what was typed, and only an empty
    box lets Escape close the dialog (with the form around it)."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class PassphraseField(QLineEdit):
    """A masked line edit with an eye button to show what was typed."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self._toggle = QAction("Show", self)
        bind_icon(self._toggle, "eye")
        self._toggle.setCheckable(True)
        self._toggle.toggled.connect(self._set_visible)
        self.addAction(self._toggle, QLineEdit.ActionPosition.TrailingPosition)

    def _set_visible(self, visible: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password
        self.setEchoMode(mode)
        self._toggle.setText("Hide" if visible else "Show")


@contextmanager
def busy(widget: QAbstractButton, text: str) -> Iterator[None]:
    """Disable a button and show progress text while an await runs; then put both back
    (the text only if nothing else changed it meanwhile)."""
    old, enabled = widget.text(), widget.isEnabled()
    widget.setEnabled(False)
    widget.setText(text)
    try:
        yield
    finally:
        # The dialog may be gone by the time the backend answers.
        try:
            if widget.text() == text:
                widget.setText(old)
            widget.setEnabled(enabled)
        except RuntimeError:
            pass


def item_list(name: str, model: QAbstractItemModel) -> QListView:
    """A list of two-line rows (members, contacts, invites, devices, relays)."""
    view = QListView()
    view.setObjectName(name)
    view.setFrameShape(QFrame.Shape.NoFrame)
    view.setModel(model)
    view.setItemDelegate(ItemDelegate(view))
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMouseTracking(True)
    return view


def segmented(*buttons: QPushButton) -> QButtonGroup:
    """Make checkable buttons one exclusive segmented control with rounded outer ends."""
    group = QButtonGroup(buttons[0])
    for i, widget in enumerate(buttons):
        widget.setCheckable(True)
        widget.setProperty("kind", "tab")
        widget.setProperty("edge", "left" if i == 0 else "right" if i == len(buttons) - 1 else "")
        group.addButton(widget)
    return group

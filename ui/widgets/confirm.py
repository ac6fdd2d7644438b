"""A non-blocking confirmation for destructive actions (the event loop keeps running)."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def confirm(
    parent: QWidget, title: str, text: str, action: str, on_accept: Callable[[], object]
) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("ConfirmBox")
    box.setWindowTitle(title)
    box.setText(f"<b>{html.escape(title)}</b>")  # titles name people: never markup
    box.setInformativeText(text)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    yes.setProperty("kind", "danger")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def clicked(button: QAbstractButton) -> None:
        if button is yes:
            on_accept()

    box.buttonClicked.connect(clicked)
    box.open()
    return box

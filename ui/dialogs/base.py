"""The common frame of every dialog: a title, a body column, and a row of buttons.

Dialogs are opened with ``open()`` (window-modal but not blocking), so the event loop and
with it every backend call keep running while they show. A closed dialog deletes itself only
once the backend calls it started have finished: the code after their ``await`` may still
update its (now hidden) widgets, and an operation the person started is never cut off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ui.errors import BackendError
from ui.session import Session
from ui.tasks import spawn
from ui.widgets.common import ErrorLabel, button, label
from ui.widgets.contact_picker import ContactPicker


class Dialog(QDialog):
    def __init__(self, session: Session, title: str, parent: QWidget | None, width: int = 440):
        super().__init__(parent)
        self.session = session
        self.backend = session.backend
        self.setWindowTitle(title)
        self.setMinimumWidth(width)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finished = False
        self._working = 0
        self.finished.connect(self._dispose_when_idle)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(24, 20, 24, 20)
        self.column.setSpacing(10)
        self.heading = label(title, "title")
        self.column.addWidget(self.heading)
        self.error = ErrorLabel()
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(8)
        self.buttons.addStretch(1)

    def finish_layout(self) -> None:
        """Append the error line and the button row after the subclass's widgets."""
        self.column.addWidget(self.error)
        self.column.addLayout(self.buttons)
        # Enter in a field does what that field wires to returnPressed; left to QDialog it
        # would also press the first button of the dialog ("Change picture…", "Remove"…).
        for widget in self.findChildren(QPushButton):
            widget.setAutoDefault(False)

    def add_button(self, text: str, kind: str = "", icon_name: str = "") -> QPushButton:
        widget = button(text, kind, icon_name)
        self.buttons.addWidget(widget)
        return widget

    def add_close(self, text: str = "Close") -> QPushButton:
        widget = self.add_button(text)
        widget.clicked.connect(self.reject)
        return widget

    async def add_typed_contact(
        self, picker: ContactPicker, typed: str, members: Collection[str] = ()
    ) -> None:
        """Someone new, by the key pasted into a picker: made a contact, then picked."""
        picker.filter.setEnabled(False)
        self.error.show_info("Looking them up…")
        try:
            contact = await self.backend.add_contact(typed)
        except BackendError as error:
            self.error.show_error(error.message)
            return
        finally:
            picker.filter.setEnabled(True)
        if contact.pubkey in members:
            self.error.show_error(f"{contact.name or 'They'} is already in this group.")
            return
        self.error.clear_error()
        picker.add(contact)
        picker.filter.setFocus()

    # --- background work ---

    @property
    def is_working(self) -> bool:
        return self._working > 0

    @contextmanager
    def working(self, note: str, *widgets: QWidget) -> Iterator[None]:
        """While a slow backend call runs (a commit goes out to the relays): ``note`` on the
        status line and ``widgets`` disabled, so nothing is asked twice. Afterwards each
        widget is as enabled as it was; a message shown meanwhile (an error) stays."""
        before = [w.isEnabled() for w in widgets]
        for widget in widgets:
            widget.setEnabled(False)
        self._working += 1
        self.error.show_info(note)
        try:
            yield
        finally:
            self._working -= 1
            for widget, enabled in zip(widgets, before, strict=True):
                widget.setEnabled(enabled)
            if self.error.text() == note:
                self.error.clear_error()

    def track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def launch(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start a backend call whose ``BackendError`` shows on the dialog's error line."""
        self.track(spawn(coro, self.error.show_error))

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if self._finished and not self._tasks:
            self.deleteLater()

    def _dispose_when_idle(self) -> None:
        self._finished = True
        if not self._tasks:
            self.deleteLater()

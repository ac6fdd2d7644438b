"""Editing one of our messages, in chats whose protocol has edits (``ChatRow.can_edit``).

"Edit" in a message's menu, or Up in the empty composer for our newest message (as in
Signal), puts the message's text in the composer under an "Editing" bar. Enter saves it
for everyone; Esc or the bar's close button gives the composer back what it held before
(the unsent draft is kept aside meanwhile, and saved as the draft, not the edit).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ui.format import one_line
from ui.rich_text import plain
from ui.tasks import spawn
from ui.views import MessageRow, MessageStatus
from ui.widgets.chat_parts import ComposerBar

if TYPE_CHECKING:
    from ui.widgets.chat_view import ChatView


class EditBar(ComposerBar):
    """Shown above the composer while one of our messages is being edited."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("EditBar", "Cancel editing", parent)
        self.title.setText("Editing message")

    def show_edit(self, row: MessageRow) -> None:
        self.quote.setText(one_line(plain(row.text)))
        self.show()


class ChatEdits(QObject):
    def __init__(self, view: ChatView) -> None:
        super().__init__(view)
        self.view = view
        self.bar = EditBar()
        self.editing: MessageRow | None = None
        self.stashed = ""  # what the composer held before the edit began
        view.composer.editLastRequested.connect(self.edit_last)
        self.bar.cancelled.connect(self.cancel)

    def allowed(self, row: MessageRow) -> bool:
        """Ours, with text, reached the relays (or on its way), in a chat that has edits.
        A message of files alone has no text to change."""
        chat = self.view.chat
        return (
            chat is not None
            and chat.can_edit
            and chat.active
            and row.own
            and not row.system
            and not row.deleted
            and not row.attachments
            and bool(row.text)
            and row.status is not MessageStatus.FAILED
        )

    def start(self, message_id: str) -> None:
        """Put a message in the composer to edit (nothing happens if it cannot be).
        Returns nothing: it is a menu action's slot, and PySide mishandles slots'
        return values."""
        row = self.view.model.get(message_id)
        if row is None or not self.allowed(row):
            return
        composer = self.view.composer
        if self.editing is None:
            self.stashed = composer.text
        self.view.cancel_reply()
        self.editing = row
        self.bar.show_edit(row)
        composer.set_text(row.text)
        composer.setFocus()

    def is_editing(self) -> bool:
        return self.editing is not None

    def edit_last(self) -> None:
        """Up in the empty composer: our newest message that can be edited, if any."""
        for row in reversed(self.view.model.rows):
            if self.allowed(row):
                self.start(row.id)
                return

    def cancel(self) -> None:
        if self.editing is not None:
            self._leave(restore=True)

    def drop(self) -> None:
        """Forget the edit without touching the composer (another chat is shown)."""
        if self.editing is not None:
            self._leave(restore=False)

    def submit(self, text: str) -> None:
        """Enter in edit mode: send the new text (unchanged text sends nothing)."""
        row, chat = self.editing, self.view.chat
        self._leave(restore=True)
        if row is not None and chat is not None and text != row.text.strip():
            spawn(self._save(chat.id, row.id, text), partial(self._failed, row.id, text))

    async def _save(self, chat_id: str, message_id: str, text: str) -> None:
        row = await self.view.backend.edit(chat_id, message_id, text)
        # The app announces the edit too; whichever comes first shows it.
        if row.chat_id == self.view.model.chat_id:
            self.view.model.update(row)

    def _failed(self, message_id: str, text: str, message: str) -> None:
        """Refused or failed: said, and the new text offered again in edit mode when
        nothing was typed since."""
        if self.editing is None and not self.view.composer.text:
            self.start(message_id)
            if self.is_editing():
                self.view.composer.set_text(text)
        self.view.session.errorRaised.emit(message)

    def updated(self, row: MessageRow) -> None:
        """A loaded message changed: an edit of one deleted meanwhile ends."""
        if self.editing is not None and row.id == self.editing.id and row.deleted:
            self.cancel()

    def removed(self, ids: tuple[str, ...]) -> None:
        if self.editing is not None and self.editing.id in ids:
            self.cancel()

    def _leave(self, *, restore: bool) -> None:
        self.editing = None
        self.bar.hide()
        if restore:
            self.view.composer.set_text(self.stashed)
        self.stashed = ""

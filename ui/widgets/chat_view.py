"""The open conversation: header, message list, reply and edit bars, uploads and composer.

Opening a chat loads only its newest page; older pages come as the reader scrolls up. New
and changed messages arrive as session signals and update single rows. Unsent text is kept
per chat as a draft (saved when switching chats and shortly after typing stops).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QPointF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCursor,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import QHBoxLayout, QMenu, QVBoxLayout, QWidget

from ui.errors import BackendError
from ui.models.messages import MessageListModel
from ui.models.roles import MessageRole
from ui.session import Session
from ui.tasks import spawn
from ui.views import ChatRow, MessageRow, MessageStatus
from ui.widgets.chat_edit import ChatEdits
from ui.widgets.chat_media import ChatMedia
from ui.widgets.chat_parts import ChatHeader, ReplyBar
from ui.widgets.common import icon_button, label
from ui.widgets.composer import Composer
from ui.widgets.confirm import confirm
from ui.widgets.emoji_picker import EmojiPicker
from ui.widgets.message_list import MessageListView
from ui.widgets.reaction_picker import QUICK_REACTIONS, ReactionPicker

PAGE = 50


def open_link(url: str) -> None:
    """A link someone sent opens in the browser (or mail program), and only on a click:
    the delegate hands over http(s) and mailto URLs only (``ui.rich_text.safe_url``)."""
    QDesktopServices.openUrl(QUrl(url))


DRAFT_DELAY_MS = 1200


class ChatView(QWidget):
    detailsRequested = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChatPane")
        self.session = session
        self.backend = session.backend
        self.chat: ChatRow | None = None
        self.loaded: str | None = None  # id of the chat whose first page is shown
        self.model = MessageListModel(self)
        self.list = MessageListView(self.model)
        self.header = ChatHeader()
        self.reply_bar = ReplyBar()
        self.composer = Composer()
        self.send_button = icon_button("send", "Send", "accent")
        self.send_button.setObjectName("SendButton")
        self.send_button.setIconSize(QSize(22, 22))
        self.emoji_button = icon_button("smile", "Emoji")
        self.emoji_button.setObjectName("EmojiButton")
        self.emoji_button.setIconSize(QSize(22, 22))
        self.inactive = label("You are no longer a member of this group.", "muted")
        self.inactive.setObjectName("InactiveNotice")
        self.inactive.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._reply_to: MessageRow | None = None
        self._opening: str | None = None  # the chat whose first page is on its way
        self._early: list[MessageRow] = []
        self._loading_older = False
        self._focus_when_loaded = False
        self._pending: set[tuple[str, ...]] = set()  # retries and reactions under way
        self._saved_draft = ""
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self.media = ChatMedia(self)
        self.edits = ChatEdits(self)
        self.setAcceptDrops(True)
        self._build()
        self._connect()

    def _build(self) -> None:
        bar = QWidget()
        bar.setObjectName("ComposerBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(16, 8, 12, 12)
        row.setSpacing(8)
        row.addWidget(self.media.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.emoji_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.composer, 1, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.composer_bar = bar
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        for widget, stretch in (
            (self.header, 0),
            (self.list, 1),
            (self.reply_bar, 0),
            (self.edits.bar, 0),
            (self.media.uploads, 0),
            (self.inactive, 0),
            (bar, 0),
        ):
            column.addWidget(widget, stretch)
        self.inactive.hide()

    def _connect(self) -> None:
        self.session.messageAdded.connect(self._on_added)
        self.session.messageUpdated.connect(self._on_updated)
        self.session.messagesRemoved.connect(self._on_removed)
        self.session.chats.dataChanged.connect(self._refresh_chat)
        self.header.detailsRequested.connect(self._details)
        self.list.olderWanted.connect(self.load_older)
        self.list.customContextMenuRequested.connect(self._context_menu)
        bubbles = self.list.bubbles
        bubbles.reactionClicked.connect(self.toggle_reaction)
        bubbles.retryClicked.connect(self.retry)
        bubbles.quoteClicked.connect(self.show_message)
        bubbles.replyClicked.connect(self.start_reply_to)
        bubbles.reactMenuRequested.connect(self._react_picker)
        bubbles.linkClicked.connect(open_link)
        self.composer.sendRequested.connect(self.send)
        self.composer.escapePressed.connect(self.cancel_reply)
        self.composer.escapePressed.connect(self.edits.cancel)
        self.composer.textChanged.connect(self._draft_timer.start)
        self._draft_timer.timeout.connect(self._typing_paused)
        self.send_button.clicked.connect(self.composer.submit)
        self.emoji_button.clicked.connect(self.composer_emoji)
        self.reply_bar.cancelled.connect(self.cancel_reply)

    # --- opening and paging ---

    async def open_chat(self, chat: ChatRow, reveal: str | None = None, focus: bool = True) -> None:
        """Show ``chat``: its newest page now, older pages on demand; then scroll to message
        ``reveal`` (a search hit), loading older pages until it is there. ``focus``: the
        composer takes the keyboard once the chat is shown."""
        if self.chat is not None and self.chat.id == chat.id:
            # A click reaches here after the arrow-key path (current row changed) opened it.
            if focus and self.loaded == chat.id:
                self.composer.setFocus()
            self._focus_when_loaded |= focus
            if reveal is not None and self.loaded == chat.id:
                await self.reveal(reveal)
            return
        self._focus_when_loaded = focus
        self.save_draft()
        self.edits.drop()
        self.chat = chat
        self.loaded = None
        self._opening, self._early = chat.id, []
        self.model.reset(chat.id, [], is_group=not chat.is_dm, has_older=False)
        self.model.set_waiting(chat.waiting)
        self.header.show_chat(chat)
        self._saved_draft = chat.draft
        self.composer.blockSignals(True)
        self.composer.set_text(chat.draft)
        self.composer.blockSignals(False)
        self.cancel_reply()
        self._show_active(chat.active)
        spawn(self.media.show_chat(chat.id), self.session.errorRaised.emit)
        try:
            rows = await self.backend.messages(chat.id, None, PAGE)
        finally:
            if self._opening == chat.id:
                self._opening = None
        if self.chat is None or self.chat.id != chat.id:
            return  # another chat was opened while this one loaded
        self.model.reset(chat.id, rows, is_group=not chat.is_dm, has_older=len(rows) == PAGE)
        for row in self._early:
            self.model.add(row)
        self.loaded = chat.id
        self.list.scroll_to_end()
        if self._focus_when_loaded:
            self.composer.setFocus()
        await self._fill_viewport()
        await self._mark_read()
        if reveal is not None:
            await self.reveal(reveal)

    async def reveal(self, message_id: str, max_pages: int = 40) -> bool:
        """Scroll to a message, loading older pages (a bounded number) until it is loaded."""
        pages = 0
        while self.model.position(message_id) < 0 and self.model.has_older and pages < max_pages:
            if not await self._load_older_page():
                break
            pages += 1
        self.show_message(message_id)
        return self.model.position(message_id) >= 0

    def close_chat(self) -> None:
        """Show nothing (the chat was removed, or another account was opened)."""
        self.save_draft()
        self.edits.drop()
        self.chat = self.loaded = None
        self.model.reset("", [], is_group=False, has_older=False)
        self.cancel_reply()
        self.media.uploads.show_chat(None)

    async def _fill_viewport(self) -> None:
        # A short first page may not fill a tall window: keep loading until it scrolls.
        while self.model.has_older and self.list.verticalScrollBar().maximum() == 0:
            if not await self._load_older_page():
                break

    def load_older(self) -> None:
        if not self._loading_older and self.model.has_older and self._opening is None:
            spawn(self._load_older_page(), self.session.errorRaised.emit)

    async def _load_older_page(self) -> bool:
        chat, before = self.chat, self.model.oldest_id()
        if chat is None or self._loading_older or before is None:
            return False
        self._loading_older = True
        try:
            rows = await self.backend.messages(chat.id, before, PAGE)
        finally:
            self._loading_older = False
        if self.chat is None or self.chat.id != chat.id:
            return False
        more = len(rows) == PAGE
        return (
            self.list.prepend_keeping_position(lambda: self.model.prepend(rows, has_older=more)) > 0
        )

    # --- drag and drop (files into the chat) ---

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.media.accepts(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.media.accepts(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.media.accepts(event.mimeData()) and self.media.drop(event.mimeData()):
            event.acceptProposedAction()

    # --- incoming changes ---

    def _on_added(self, row: MessageRow) -> None:
        if self.chat is None or row.chat_id != self.chat.id:
            return
        if self._opening == row.chat_id:
            self._early.append(row)
            return
        self.model.add(row)
        if row.own:
            self.list.scroll_to_end()
        elif self.window().isActiveWindow():
            spawn(self._mark_read(), self.session.errorRaised.emit)

    def _on_updated(self, row: MessageRow) -> None:
        if self.chat is not None and row.chat_id == self.chat.id:
            if self._opening == row.chat_id:
                self._early.append(row)
            else:
                self.model.update(row)
                self.edits.updated(row)

    def _on_removed(self, chat_id: str, ids: tuple[str, ...]) -> None:
        """Disappearing messages whose time came leave the screen too."""
        if self.chat is not None and chat_id == self.chat.id:
            if self._reply_to is not None and self._reply_to.id in ids:
                self.cancel_reply()
            self.edits.removed(ids)
            self.model.remove(ids)

    def _refresh_chat(self) -> None:
        if self.chat is None:
            return
        fresh = self.session.chats.get(self.chat.id)
        if fresh is not None and fresh != self.chat:
            self.chat = fresh
            self.header.show_chat(fresh)
            self.model.set_waiting(fresh.waiting)
            self._show_active(fresh.active)

    def _show_active(self, active: bool) -> None:
        self.composer_bar.setVisible(active)
        self.inactive.setVisible(not active)
        if not active:
            self.cancel_reply()
            self.edits.cancel()

    async def _mark_read(self) -> None:
        if self.chat is None:
            return
        current = self.session.chats.get(self.chat.id)
        if current is not None and current.unread:
            await self.backend.mark_read(current.id)

    def window_activated(self) -> None:
        """The window got focus again: what is on screen counts as read."""
        if self.chat is not None:
            spawn(self._mark_read(), self.session.errorRaised.emit)

    # --- actions ---

    def send(self, text: str) -> None:
        if self.chat is None:
            return
        if self.edits.editing is not None:
            self.edits.submit(text)
            return
        reply = self._reply_to.id if self._reply_to else None
        self.composer.clear()
        self.cancel_reply()
        spawn(self._send(self.chat.id, text, reply), self._send_failed(text))

    def _send_failed(self, text: str) -> Callable[[str], None]:
        def show(message: str) -> None:
            if not self.composer.text:
                self.composer.set_text(text)  # nothing typed since: give the text back
            self.session.errorRaised.emit(message)

        return show

    async def _send(self, chat_id: str, text: str, reply_to: str | None) -> None:
        # Writing in a chat means its messages were seen, whether or not the window
        # manager says the window is active (without one, it never is).
        current = self.session.chats.get(chat_id)
        if current is not None and current.unread:
            with contextlib.suppress(BackendError):  # the message matters more than the badge
                await self.backend.mark_read(chat_id)
        row = await self.backend.send(chat_id, text, reply_to)
        if self.chat is not None and self.chat.id == chat_id:
            if self.model.get(row.id) is None:  # else its event (and maybe "sent") came first
                self.model.add(row)
            self.list.scroll_to_end()
            if self._saved_draft:
                self._saved_draft = ""
                await self.backend.save_draft(chat_id, "")

    def _typing_paused(self) -> None:
        # A view whose window was closed (and whose event loop may be gone) saves nothing
        # on a timer: closing flushes the draft itself (`flush_draft`).
        if self.isVisible():
            self.save_draft()

    def save_draft(self) -> None:
        pending = self._unsaved_draft()
        if pending is not None:
            spawn(self.backend.save_draft(*pending), self.session.errorRaised.emit)

    async def flush_draft(self) -> None:
        """Save the draft now: the backend saves to the active account, so before another
        account becomes the active one."""
        pending = self._unsaved_draft()
        if pending is not None:
            await self.backend.save_draft(*pending)

    def _unsaved_draft(self) -> tuple[str, str] | None:
        """(chat id, text) when the composer holds text not saved yet, marked saved."""
        self._draft_timer.stop()
        if self.chat is None or not self.chat.active:
            return None
        # While a message is edited, the composer holds its text; the draft is set aside.
        text = self.edits.stashed if self.edits.editing is not None else self.composer.text
        if text == self._saved_draft:
            return None
        self._saved_draft = text
        return self.chat.id, text

    def start_reply_to(self, message_id: str) -> None:
        row = self.model.get(message_id)
        if row is None or row.deleted or self.chat is None or not self.chat.active:
            return
        self.edits.cancel()
        self._reply_to = row
        self.reply_bar.show_reply(row)
        self.composer.setFocus()

    def cancel_reply(self) -> None:
        self._reply_to = None
        self.reply_bar.hide()

    @property
    def replying_to(self) -> MessageRow | None:
        return self._reply_to

    def toggle_reaction(self, message_id: str, emoji: str, mine: bool) -> None:
        if self.chat is None:
            return
        call = self.backend.unreact if mine else self.backend.react
        self._once(("react", message_id, emoji), call(self.chat.id, message_id, emoji))

    def react(self, message_id: str, emoji: str) -> None:
        row = self.model.get(message_id)
        mine = row is not None and any(r.emoji == emoji and r.mine for r in row.reactions)
        self.toggle_reaction(message_id, emoji, mine)

    def retry(self, message_id: str) -> None:
        if self.chat is not None:
            self._once(("retry", message_id), self.backend.retry(self.chat.id, message_id))

    def _once(self, key: tuple[str, ...], call: Coroutine[Any, Any, object]) -> None:
        """Run a backend call unless the same one is under way: the row shows the old state
        ("not sent", no reaction) until the relays answer, and a second click meanwhile
        would publish it twice."""
        if key in self._pending:
            call.close()
            return
        self._pending.add(key)
        task = spawn(call, self.session.errorRaised.emit)
        task.add_done_callback(lambda _task: self._pending.discard(key))

    def delete(self, message_id: str) -> None:
        """Ask, then delete one of our messages for everyone."""
        if self.chat is None:
            return
        chat_id = self.chat.id

        def go() -> None:
            spawn(self.backend.delete(chat_id, message_id), self.session.errorRaised.emit)

        confirm(
            self,
            "Delete for everyone?",
            "The message will be removed for everyone in this chat.",
            "Delete",
            go,
        )

    def show_message(self, message_id: str) -> None:
        pos = self.model.position(message_id)
        if pos >= 0:
            self.list.center_on(pos)

    def _details(self) -> None:
        if self.chat is not None:
            self.detailsRequested.emit(self.chat.id)

    def _react_picker(self, message_id: str, pos: QPointF) -> None:
        picker = ReactionPicker(self)
        picker.picked.connect(lambda emoji: self.react(message_id, emoji))
        picker.moreWanted.connect(lambda: self.react_with_any(message_id, pos.toPoint()))
        picker.show_at(pos.toPoint())

    def react_with_any(self, message_id: str, pos: QPoint) -> EmojiPicker:
        """The full emoji picker for a reaction."""
        picker = EmojiPicker(self)
        picker.picked.connect(lambda emoji: self.react(message_id, emoji))
        picker.show_at(pos)
        return picker

    def composer_emoji(self) -> EmojiPicker:
        """The full emoji picker over the composer; a pick is typed at the cursor."""
        picker = EmojiPicker(self)
        picker.picked.connect(self._insert_emoji)
        button = self.emoji_button
        picker.show_at(button.mapToGlobal(QPoint(button.width() // 2, 0)))
        return picker

    def _insert_emoji(self, emoji: str) -> None:
        self.composer.insertPlainText(emoji)
        self.composer.setFocus()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.list.indexAt(pos)
        row = index.data(MessageRole.ROW) if index.isValid() else None
        if isinstance(row, MessageRow) and not row.system:
            self.message_menu(row).popup(self.list.viewport().mapToGlobal(pos))

    def message_menu(self, row: MessageRow) -> QMenu:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if not row.deleted and self.chat is not None and self.chat.active:
            menu.addAction("Reply", lambda: self.start_reply_to(row.id))
            if self.edits.allowed(row):
                menu.addAction("Edit", lambda: self.edits.start(row.id))
            reactions = menu.addMenu("React")
            for emoji in QUICK_REACTIONS:
                reactions.addAction(emoji, partial(self.react, row.id, emoji))
            reactions.addSeparator()
            reactions.addAction("More emoji…", lambda: self.react_with_any(row.id, QCursor.pos()))
        for view in row.attachments if not row.deleted else ():
            if view.is_image:
                menu.addAction(
                    f"Open {view.filename}", partial(self.media.open_attachment, row.id, view.index)
                )
            menu.addAction(
                f"Save {view.filename}…", partial(self.media.save_as, row.id, view.index)
            )
        if not row.deleted and row.text:
            menu.addAction("Copy text", lambda: QGuiApplication.clipboard().setText(row.text))
        if row.own and row.status is MessageStatus.FAILED:
            menu.addAction("Send again", lambda: self.retry(row.id))
        if row.own and not row.deleted:
            menu.addSeparator()
            menu.addAction("Delete for everyone", lambda: self.delete(row.id))
        return menu

    def selected_message(self) -> MessageRow | None:
        index: QModelIndex = self.list.currentIndex()
        row = index.data(MessageRole.ROW) if index.isValid() else None
        return row if isinstance(row, MessageRow) else None

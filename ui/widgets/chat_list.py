"""The left pane: account and menu buttons, search across chats and messages, pending invites,
the chat list (or the archive), and relay and sync status at the bottom."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.delegates.chat import ChatDelegate
from ui.format import one_line
from ui.models.chats import ChatFilterProxy, SearchResultModel
from ui.models.roles import ItemRole
from ui.session import Session
from ui.tasks import spawn
from ui.theme import bind_icon
from ui.views import ChatRow, SearchHit
from ui.widgets.common import button, icon_button, label
from ui.widgets.status_bar import StatusFooter

SEARCH_DELAY_MS = 200


def _chat_list_view(name: str) -> QListView:
    view = QListView()
    view.setObjectName(name)
    view.setFrameShape(QFrame.Shape.NoFrame)
    view.setUniformItemSizes(True)
    view.setMouseTracking(True)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setItemDelegate(ChatDelegate(view))
    return view


class SearchField(QLineEdit):
    """Arrow down moves into the results; Escape clears."""

    downPressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.downPressed.emit()
        elif event.key() == Qt.Key.Key_Escape:
            self.clear()
        else:
            super().keyPressEvent(event)


class ChatListPane(QFrame):
    chatActivated = Signal(str)  # clicked or Enter: open it and write
    chatBrowsed = Signal(str)  # reached with the arrow keys: open it, stay in the list
    searchHitActivated = Signal(object)  # SearchHit

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Sidebar")
        self.session = session
        self.proxy = ChatFilterProxy(self)
        self.proxy.setSourceModel(session.chats)
        self.results = SearchResultModel(self)
        self.chat_view = _chat_list_view("ChatList")
        self.chat_view.setModel(self.proxy)
        self.result_view = _chat_list_view("SearchResults")
        self.result_view.setModel(self.results)
        self.no_results = label("", "muted", wrap=True)
        self.no_results.setObjectName("NoResults")
        self.no_results.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.no_results.setContentsMargins(16, 24, 16, 0)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.chat_view)
        self.stack.addWidget(self.result_view)
        self.stack.addWidget(self.no_results)
        self.account_button = icon_button("user", "Account", "text")
        self.account_button.setObjectName("AccountButton")
        self.account_button.setIconSize(QSize(28, 28))
        self.title = label("Chats", "heading")
        self.compose_button = icon_button("compose", "New chat (Ctrl+N)")
        self.menu_button = icon_button("menu", "Menu")
        self.search = SearchField()
        self.search.setObjectName("SearchField")
        self.search.setPlaceholderText("Search")
        self.search.setClearButtonEnabled(True)
        search_icon = QAction(self.search)
        bind_icon(search_icon, "search")
        self.search.addAction(search_icon, QLineEdit.ActionPosition.LeadingPosition)
        self.invite_banner = button("", "flat", "invite")
        self.invite_banner.setObjectName("InviteBanner")
        self.archive_toggle = button("", "flat", "archive")
        self.archive_toggle.setObjectName("ArchiveToggle")
        self.footer = StatusFooter(session)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._build()
        self._connect()
        self._update_counts()

    def _build(self) -> None:
        header = QHBoxLayout()
        header.setContentsMargins(12, 10, 8, 4)
        header.setSpacing(6)
        header.addWidget(self.account_button)
        header.addWidget(self.title, 1)
        header.addWidget(self.compose_button)
        header.addWidget(self.menu_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(header)
        search_row = QHBoxLayout()
        search_row.setContentsMargins(12, 4, 12, 8)
        search_row.addWidget(self.search)
        column.addLayout(search_row)
        column.addWidget(self.invite_banner)
        column.addWidget(self.stack, 1)
        column.addWidget(self.archive_toggle)
        column.addWidget(self.footer)

    def _connect(self) -> None:
        self.search.textChanged.connect(self._search_changed)
        self.search.downPressed.connect(self._focus_results)
        self.search.returnPressed.connect(self._activate_first)
        self._search_timer.timeout.connect(self._run_search)
        self.chat_view.clicked.connect(self._open_index)
        self.chat_view.activated.connect(self._open_index)
        self.chat_view.selectionModel().currentChanged.connect(self._current_changed)
        self.result_view.clicked.connect(self._open_hit)
        self.result_view.activated.connect(self._open_hit)
        self.chat_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.chat_view.customContextMenuRequested.connect(self._context_menu)
        self.archive_toggle.clicked.connect(self.toggle_archive)
        for signal in (
            self.session.chats.rowsInserted,
            self.session.chats.rowsRemoved,
            self.session.chats.dataChanged,
            self.session.chats.modelReset,
            self.session.invites.rowsInserted,
            self.session.invites.rowsRemoved,
            self.session.invites.modelReset,
        ):
            signal.connect(self._update_counts)

    # --- chats ---

    def _open_index(self, index: QModelIndex) -> None:
        key = index.data(ItemRole.KEY)
        if isinstance(key, str):
            self.chatActivated.emit(key)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        key = current.data(ItemRole.KEY)
        if isinstance(key, str) and self.chat_view.hasFocus():
            self.chatBrowsed.emit(key)

    def select_chat(self, chat_id: str) -> None:
        """Highlight ``chat_id`` in the list without re-opening it."""
        row = self.session.chats.get(chat_id)
        if row is not None and row.archived != self.proxy.show_archived:
            self.toggle_archive()
        source = self.session.chats.index(self.session.chats.position(chat_id))
        index = self.proxy.mapFromSource(source)
        if index.isValid():
            self.chat_view.selectionModel().setCurrentIndex(
                index, self.chat_view.selectionModel().SelectionFlag.ClearAndSelect
            )

    def step(self, delta: int) -> None:
        """Open the next (1) or previous (-1) chat in the list."""
        count = self.proxy.rowCount()
        if not count:
            return
        current = self.chat_view.currentIndex().row()
        target = max(0, min(count - 1, current + delta if current >= 0 else 0))
        index = self.proxy.index(target, 0)
        self.chat_view.setCurrentIndex(index)
        self._open_index(index)

    def toggle_archive(self) -> None:
        self.proxy.set_show_archived(not self.proxy.show_archived)
        self.title.setText("Archive" if self.proxy.show_archived else "Chats")
        self._update_counts()

    def _update_counts(self) -> None:
        archived = self.session.chats.archived_count()
        in_archive = self.proxy.show_archived
        self.archive_toggle.setText(
            "Back to chats" if in_archive else f"Archived chats ({archived})"
        )
        self.archive_toggle.setVisible(in_archive or archived > 0)
        invites = self.session.invites.rowCount()
        self.invite_banner.setText(
            "1 pending invite" if invites == 1 else f"{invites} pending invites"
        )
        self.invite_banner.setVisible(invites > 0)

    def _context_menu(self, pos: QPoint) -> None:
        row = self.chat_view.indexAt(pos).data(ItemRole.ROW)
        if isinstance(row, ChatRow):
            self.chat_menu(row).popup(self.chat_view.viewport().mapToGlobal(pos))

    def chat_menu(self, row: ChatRow) -> QMenu:
        backend, report = self.session.backend, self.session.errorRaised.emit
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(
            "Unpin" if row.pinned else "Pin to top",
            lambda: spawn(backend.set_pinned(row.id, not row.pinned), report),
        )
        menu.addAction(
            "Unmute" if row.muted else "Mute notifications",
            lambda: spawn(backend.set_muted(row.id, not row.muted), report),
        )
        menu.addAction(
            "Unarchive" if row.archived else "Archive",
            lambda: spawn(backend.set_archived(row.id, not row.archived), report),
        )
        if row.unread:
            menu.addAction("Mark as read", lambda: spawn(backend.mark_read(row.id), report))
        return menu

    # --- search ---

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _search_changed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self.results.clear()
            self.stack.setCurrentWidget(self.chat_view)

    def _run_search(self) -> None:
        spawn(self._search(self.search.text().strip()), self.session.errorRaised.emit)

    async def _search(self, query: str) -> None:
        hits = await self.session.backend.search(query)
        if self.search.text().strip() != query:
            return  # typed on meanwhile; a newer search is coming
        self.results.set_rows(hits)
        self.no_results.setText(f"No chats or messages match “{one_line(query, 24)}”.")
        self.stack.setCurrentWidget(self.result_view if hits else self.no_results)

    def _focus_results(self) -> None:
        shown = self.stack.currentWidget()
        if shown is self.no_results:
            return
        view = self.result_view if shown is self.result_view else self.chat_view
        view.setFocus()
        if not view.currentIndex().isValid() and view.model().rowCount():
            view.setCurrentIndex(view.model().index(0, 0))

    def _activate_first(self) -> None:
        if self.stack.currentWidget() is self.result_view and self.results.rowCount():
            self._open_hit(self.results.index(0))

    def _open_hit(self, index: QModelIndex) -> None:
        hit = index.data(ItemRole.ROW)
        if isinstance(hit, SearchHit):
            self.searchHitActivated.emit(hit)

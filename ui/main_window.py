"""The window: onboarding, unlock, or the chats (sidebar and open chat side by side).

It only composes: pages, panes and dialogs do the work; this file wires their signals,
keyboard shortcuts, notifications and the unread count in the title.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QSplitter, QStackedWidget, QWidget

from ui.avatar import avatar_pixmap
from ui.backend import Backend
from ui.dialogs.base import Dialog
from ui.dialogs.contacts import ContactsDialog
from ui.dialogs.devices import DevicesDialog
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.invites import InvitesDialog
from ui.dialogs.new_chat import NewChatDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.dialogs.notifications import NotificationsDialog
from ui.dialogs.profile import ProfileDialog
from ui.dialogs.relays import RelaysDialog
from ui.dialogs.settings import SettingsDialog
from ui.errors import BackendError
from ui.format import short_key
from ui.pages.onboarding import OnboardingPage
from ui.pages.unlock import UnlockPage
from ui.session import Session
from ui.tasks import async_slot, on_bug, spawn
from ui.theme import ASSETS, apply_theme, set_plain_icon, use_app_font
from ui.tray import Notifier
from ui.views import AccountView, ChatRow, ContactRow, ProfileView, SearchHit
from ui.widgets.chat_list import ChatListPane
from ui.widgets.chat_view import ChatView
from ui.widgets.empty_state import EmptyState
from ui.widgets.toast import Toast

TITLE = "Burrow"


def account_label(account: AccountView) -> str:
    """An account's menu entry: its name, or its short npub before it has one."""
    return account.name or short_key(account.npub)


class MainWindow(QMainWindow):
    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            use_app_font(app)
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle(TITLE)
        self.setWindowIcon(QIcon(str(ASSETS / "icons" / "burrow.svg")))
        self.resize(1100, 720)
        self.setMinimumSize(QSize(720, 480))
        self.backend = backend
        self.session = Session(backend, self)
        self.accounts: list[AccountView] = []
        self.onboarding = OnboardingPage(backend)
        self.unlock = UnlockPage(backend)
        self.sidebar = ChatListPane(self.session)
        self.chat = ChatView(self.session)
        self.empty = EmptyState()
        self.right = QStackedWidget()
        self.right.addWidget(self.empty)
        self.right.addWidget(self.chat)
        self.split = QSplitter()
        self.split.setObjectName("MainSplit")
        self.split.addWidget(self.sidebar)
        self.split.addWidget(self.right)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([340, 760])
        self.split.setChildrenCollapsible(False)
        self.sidebar.setMinimumWidth(260)
        self.pages = QStackedWidget()
        for page in (self.onboarding, self.unlock, self.split):
            self.pages.addWidget(page)
        self.setCentralWidget(self.pages)
        self.toast = Toast(self)
        undo = on_bug(self.toast.show_message)
        self.destroyed.connect(lambda *_: undo())
        self.notifier = Notifier(self.session, self.is_showing, self)
        self.dialog: Dialog | None = None
        # Entering and switching accounts await the backend; one at a time, so a slow
        # earlier one can never finish after (and undo) a later one.
        self._navigating = asyncio.Lock()
        self._connect()
        self._shortcuts()

    def _connect(self) -> None:
        s, side = self.session, self.sidebar
        self.onboarding.accountReady.connect(self.enter)
        self.onboarding.cancelled.connect(lambda: self.pages.setCurrentWidget(self.unlock))
        self.unlock.unlocked.connect(self.enter)
        self.unlock.addAccountRequested.connect(self.show_onboarding)
        side.chatActivated.connect(self.open_chat)
        side.chatBrowsed.connect(lambda chat_id: self.open_chat(chat_id, focus=False))
        side.searchHitActivated.connect(self._open_hit)
        side.compose_button.clicked.connect(self.new_chat)
        side.menu_button.clicked.connect(self._main_menu)
        side.account_button.clicked.connect(self._account_menu)
        side.invite_banner.clicked.connect(self.invites)
        side.footer.relaysClicked.connect(self.relays)
        self.empty.new_chat.clicked.connect(self.new_chat)
        self.empty.new_group.clicked.connect(self.new_group)
        self.chat.detailsRequested.connect(self.group_details)
        s.unreadChanged.connect(self._show_unread)
        s.errorRaised.connect(self.toast.show_message)
        s.chatRemoved.connect(self._chat_removed)
        s.contactUpdated.connect(self._contact_updated)
        self.notifier.chatWanted.connect(self.open_chat)
        self.notifier.invitesWanted.connect(self.invites)
        self.notifier.showWanted.connect(self._bring_to_front)
        self.notifier.quitWanted.connect(self.close)

    def _shortcuts(self) -> None:
        for keys, action in (
            ("Ctrl+K", self.sidebar.focus_search),
            ("Ctrl+F", self.sidebar.focus_search),
            ("Ctrl+N", self.new_chat),
            ("Ctrl+G", self.new_group),
            ("Ctrl+,", self.settings),
            ("Ctrl+L", self.lock_now),
            ("Alt+Down", lambda: self.sidebar.step(1)),
            ("Alt+Up", lambda: self.sidebar.step(-1)),
            ("Ctrl+Tab", lambda: self.sidebar.step(1)),
            ("Ctrl+Shift+Tab", lambda: self.sidebar.step(-1)),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self._when_unlocked(action))
        QShortcut(QKeySequence("Ctrl+Q"), self).activated.connect(self.close)

    def _when_unlocked(self, action: Callable[[], object]) -> Callable[[], None]:
        """Shortcuts act only on the chats page, not over onboarding or unlock."""

        def run() -> None:
            if self.pages.currentWidget() is self.split:
                action()

        return run

    # --- start, accounts ---

    async def start(self) -> None:
        """Apply the saved theme, then show onboarding (no account yet) or the unlock page."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, await self.backend.theme())
        self.accounts = await self.backend.list_accounts()
        if self.accounts:
            self.unlock.set_accounts(self.accounts)
            self.pages.setCurrentWidget(self.unlock)
        else:
            self.show_onboarding()

    def show_onboarding(self) -> None:
        self.chat.save_draft()  # while its account is still the active one
        self.onboarding.allow_back(bool(self.accounts))
        self.pages.setCurrentWidget(self.onboarding)
        self.onboarding.focus_first()

    @async_slot(object)
    async def enter(self, account: AccountView) -> None:
        async with self._navigating:
            await self._enter(account)

    async def _enter(self, account: AccountView) -> None:
        self.chat.close_chat()
        await self.session.activate(account)
        self.accounts = await self.backend.list_accounts()
        self.right.setCurrentWidget(self.empty)
        self._show_identity(account)
        self.pages.setCurrentWidget(self.split)
        self.sidebar.search.setFocus()  # type to find a chat; Down moves into the list
        self._show_unread(self.session.unread)
        if not account.name:  # an imported key without a profile (yet): ask for a name
            self._profile(welcome=True)

    def _show_identity(self, account: AccountView) -> None:
        """Our picture (or initials) on the account button, and the account lists."""
        picture = avatar_pixmap(account.name, account.pubkey, account.avatar, 28, 2.0)
        set_plain_icon(self.sidebar.account_button, QIcon(picture))
        self.sidebar.account_button.setToolTip(f"{account_label(account)}: accounts and profile")
        self.accounts = [account if a.pubkey == account.pubkey else a for a in self.accounts]
        self.session.account = account

    def _profile_saved(self, profile: ProfileView) -> None:
        if self.session.account is not None and profile.pubkey == self.session.account.pubkey:
            view = AccountView(profile.pubkey, profile.npub, profile.name, True, profile.avatar)
            self._show_identity(view)

    def _contact_updated(self, row: ContactRow) -> None:
        if self.session.account is not None and row.pubkey == self.session.account.pubkey:
            spawn(self._refresh_identity(row.pubkey), self.toast.show_message)

    async def _refresh_identity(self, pubkey: str) -> None:
        """Our own profile changed elsewhere (fetched from the relays after an import)."""
        accounts = await self.backend.list_accounts()
        mine = next((a for a in accounts if a.pubkey == pubkey), None)
        current = self.session.account
        if mine is not None and current is not None and current.pubkey == pubkey:
            self.accounts = accounts
            self._show_identity(mine)

    async def _switch(self, account: AccountView) -> None:
        async with self._navigating:
            try:
                await self.chat.flush_draft()  # to the account it belongs to
            except BackendError as error:
                self.toast.show_message(error.message)
            if not account.unlocked:
                self.unlock.set_accounts(self.accounts, account.pubkey)
                self.pages.setCurrentWidget(self.unlock)
                return
            try:
                opened = await self.backend.switch_account(account.pubkey)
            except BackendError as error:
                self.toast.show_message(error.message)
                return
            await self._enter(opened)

    def _switch_to(self, account: AccountView) -> None:
        spawn(self._switch(account), self.toast.show_message)

    def _account_menu(self) -> None:
        button = self.sidebar.account_button
        self.account_menu().popup(button.mapToGlobal(button.rect().bottomLeft()))

    def account_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("AccountMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        current = self.session.account.pubkey if self.session.account else ""
        for account in self.accounts:
            action = menu.addAction(account_label(account), partial(self._switch_to, account))
            action.setCheckable(True)
            action.setChecked(account.pubkey == current)
        menu.addAction("Add account…", self.show_onboarding)
        menu.addSeparator()
        menu.addAction("Your profile…", self.profile)
        menu.addSeparator()
        menu.addAction("Lock now\tCtrl+L", self.lock_now)
        menu.addAction("Quit\tCtrl+Q", self.close)
        return menu

    def lock_now(self) -> None:
        spawn(self._lock(), self.toast.show_message)

    async def _lock(self) -> None:
        """Every account closes and asks for its passphrase again, as after a restart."""
        async with self._navigating:
            if self.dialog is not None:
                self.dialog.close()
            try:
                await self.chat.flush_draft()
            except BackendError as error:
                self.toast.show_message(error.message)
            selected = self.session.account.pubkey if self.session.account else None
            self.chat.chat = None  # saved above; nothing more to write once locked
            self.chat.close_chat()
            self.session.deactivate()
            self.right.setCurrentWidget(self.empty)
            await self.backend.lock()
            self.accounts = await self.backend.list_accounts()
            self.unlock.set_accounts(self.accounts, selected)
            self.pages.setCurrentWidget(self.unlock)
            self._show_unread(0)

    def _main_menu(self) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for text, action in (
            ("New chat\tCtrl+N", self.new_chat),
            ("New group\tCtrl+G", self.new_group),
            ("Invites", self.invites),
            ("Contacts", self.contacts),
            (None, None),
            ("Your profile", self.profile),
            ("Devices", self.devices),
            ("Relays", self.relays),
            ("Notifications", self.notifications),
            ("Settings\tCtrl+,", self.settings),
        ):
            if text is None or action is None:
                menu.addSeparator()
            else:
                menu.addAction(text, action)
        button = self.sidebar.menu_button
        menu.popup(button.mapToGlobal(button.rect().bottomLeft()))

    # --- chats ---

    def open_chat(self, chat_id: str, reveal: str | None = None, *, focus: bool = True) -> None:
        """Show a chat; ``focus``: then type into its composer (not when browsing the list
        with the arrow keys, which would send the next arrow into the composer)."""
        row = self.session.chats.get(chat_id)
        if row is None:
            return
        self.right.setCurrentWidget(self.chat)
        self.sidebar.select_chat(chat_id)
        spawn(self.chat.open_chat(row, reveal, focus=focus), self.toast.show_message)

    def _open_created(self, row: ChatRow) -> None:
        self.session.chats.upsert(row)
        self.open_chat(row.id)

    def _open_hit(self, hit: SearchHit) -> None:
        self.open_chat(hit.chat_id, hit.message_id)

    def _chat_removed(self, chat_id: str) -> None:
        if self.chat.chat is not None and self.chat.chat.id == chat_id:
            self.chat.close_chat()
            self.right.setCurrentWidget(self.empty)

    def is_showing(self, chat_id: str) -> bool:
        """Is this chat on screen in the focused window (so it needs no notification)?"""
        open_id = self.chat.chat.id if self.chat.chat else None
        return open_id == chat_id and self.isActiveWindow() and not self.isMinimized()

    def _show_unread(self, count: int) -> None:
        self.setWindowTitle(f"{TITLE} ({count})" if count else TITLE)
        self.notifier.set_unread(count)

    # --- dialogs ---

    def _show(self, dialog: Dialog) -> Dialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.open()
        return dialog

    def _forget(self, dialog: Dialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def new_chat(self) -> None:
        dialog = NewChatDialog(self.session, self)
        dialog.chatCreated.connect(self._open_created)
        dialog.groupRequested.connect(self.new_group)
        self._show(dialog)

    def new_group(self) -> None:
        dialog = NewGroupDialog(self.session, self)
        dialog.chatCreated.connect(self._open_created)
        self._show(dialog)

    def group_details(self, chat_id: str) -> None:
        self._show(GroupDetailsDialog(self.session, chat_id, self))

    def invites(self) -> None:
        dialog = InvitesDialog(self.session, self)
        dialog.chatCreated.connect(self._open_created)
        self._show(dialog)

    def contacts(self) -> None:
        dialog = ContactsDialog(self.session, self)
        dialog.chatCreated.connect(self._open_created)
        self._show(dialog)

    def profile(self) -> None:
        self._profile()

    def _profile(self, *, welcome: bool = False) -> None:
        dialog = ProfileDialog(self.session, self, welcome=welcome)
        dialog.profileSaved.connect(self._profile_saved)
        self._show(dialog)

    def devices(self) -> None:
        self._show(DevicesDialog(self.session, self))

    def relays(self) -> None:
        self._show(RelaysDialog(self.session, self))

    def notifications(self) -> None:
        self._show(NotificationsDialog(self.session, self))

    def settings(self) -> None:
        dialog = SettingsDialog(self.session, self)
        dialog.dataDeleted.connect(self._data_deleted)
        self._show(dialog)

    def _data_deleted(self) -> None:
        self.chat.chat = None  # its data is gone: nothing to save
        self.chat.close_chat()
        self.session.deactivate()
        self.accounts = []
        self.right.setCurrentWidget(self.empty)
        self.show_onboarding()

    # --- window ---

    def _bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.chat.window_activated()

    async def shutdown(self) -> None:
        """Quitting, before the backend closes: the composer's unsaved text is stored
        (closing the window must not leave it to a save the closing backend cuts off)."""
        self.hide()
        try:
            await self.chat.flush_draft()
        except BackendError:
            pass  # the chat is gone (left, deleted): no draft to keep
        finally:
            self.session.close()

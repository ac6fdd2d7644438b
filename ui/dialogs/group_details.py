"""Group details: name, description and picture (editable by admins), members with admin
badges and device counts, add / remove / promote / demote, and leaving the group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.avatar import AvatarLabel
from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.format import plural, timer_text
from ui.models.people import MemberListModel
from ui.models.roles import ItemRole
from ui.session import Session
from ui.tasks import async_slot
from ui.views import GroupDetails, MemberRow
from ui.widgets.common import button, item_list, label
from ui.widgets.confirm import confirm
from ui.widgets.contact_picker import ContactPicker

MEMBERS_HEIGHT = 242  # four members at a glance
# Off, 5 minutes, an hour, 8 hours, a day, a week, 4 weeks.
TIMERS = (0, 300, 3600, 8 * 3600, 86400, 7 * 86400, 28 * 86400)
MEMBERS_HEIGHT_PICKING = 120


class GroupDetailsDialog(Dialog):
    def __init__(self, session: Session, chat_id: str, parent: QWidget | None = None) -> None:
        super().__init__(session, "Group details", parent, width=480)
        self.setObjectName("GroupDetailsDialog")
        self.chat_id = chat_id
        self.details: GroupDetails | None = None
        self.avatar = AvatarLabel(64)
        self.name = QLineEdit()
        self.name.setObjectName("GroupName")
        self.description = QLineEdit()
        self.description.setPlaceholderText("No description")
        self.save = button("Save", "primary")
        self.facts = label("", "muted")
        self.protocol = label("", "muted")
        self.protocol.setObjectName("GroupProtocol")
        self.timer = QComboBox()
        self.timer.setObjectName("DisappearingTimer")
        self.timer.setAccessibleName("Disappearing messages")
        for secs in TIMERS:
            self.timer.addItem("Off" if secs == 0 else timer_text(secs), secs)
        self.members = MemberListModel(self)
        self.view = item_list("MemberList", self.members)
        self.view.setMinimumHeight(MEMBERS_HEIGHT)
        self.promote = button("Make admin")
        self.demote = button("Remove admin")
        self.remove = button("Remove", "danger")
        self.add = button("Add members…", "", "plus")
        self.picture = button("Set picture…", "", "image")
        self.picker = ContactPicker()
        self.picker.setMinimumHeight(150)
        self.confirm_add = button("Add selected", "primary")
        self.leave = self.add_button("Leave group", "danger")
        self.add_close()
        self._build()
        self.finish_layout()
        self._connect()
        self.launch(self._load())

    def _build(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        fields = QHBoxLayout()
        fields.addWidget(self.name, 1)
        fields.addWidget(self.save)
        beside = QVBoxLayout()  # the protocol's name under the group's, beside the picture
        beside.setSpacing(4)
        beside.addLayout(fields)
        beside.addWidget(self.protocol)
        top.addLayout(beside, 1)
        self.column.addLayout(top)
        self.column.addWidget(self.description)
        # On the facts' line: the dialog must still fit a laptop screen with the picker open.
        facts = QHBoxLayout()
        facts.addWidget(self.facts)
        facts.addStretch(1)
        facts.addWidget(label("Disappearing messages", "muted"))
        facts.addWidget(self.timer)
        self.column.addLayout(facts)
        self.column.addWidget(label("Members", "section"))
        self.column.addWidget(self.view, 1)
        actions = QHBoxLayout()
        for widget in (self.add, self.picture, self.promote, self.demote, self.remove):
            actions.addWidget(widget)
        actions.addStretch(1)
        self.column.addLayout(actions)
        self.column.addWidget(self.picker)
        self.column.addWidget(self.confirm_add, 0, Qt.AlignmentFlag.AlignRight)
        self.picker.hide()
        self.confirm_add.hide()
        self.buttons.insertWidget(0, self.leave)

    def _connect(self) -> None:
        self.view.selectionModel().currentChanged.connect(self._update_actions)
        self.session.membersChanged.connect(self._members_changed)
        self.save.clicked.connect(self.rename)
        self.timer.activated.connect(self._timer_chosen)
        for field in (self.name, self.description):
            field.textChanged.connect(self._edited)
            field.returnPressed.connect(self.save.click)
        self.add.clicked.connect(self.show_picker)
        self.picture.clicked.connect(self.choose_picture)
        self.confirm_add.clicked.connect(self.add_picked)
        self.picker.keyEntered.connect(self.add_typed)
        self.promote.clicked.connect(
            lambda: self._on_selected(self.backend.promote, "Making them an admin…")
        )
        self.demote.clicked.connect(
            lambda: self._on_selected(self.backend.demote, "Taking admin rights away…")
        )
        self.remove.clicked.connect(self._remove_selected)
        self.leave.clicked.connect(self._leave)

    @property
    def group_actions(self) -> tuple[QWidget, ...]:
        """What changes the group: one change at a time, each a commit to the relays."""
        return (
            self.save,
            self.timer,
            self.add,
            self.picture,
            self.confirm_add,
            self.promote,
            self.demote,
            self.remove,
            self.leave,
        )

    async def _load(self) -> None:
        self.show_details(await self.backend.show_group(self.chat_id))

    def show_details(self, details: GroupDetails) -> None:
        self.details = details
        admin = details.i_am_admin
        self.heading.setText("Chat details" if details.is_dm else "Group details")
        chat = self.session.chats.get(details.chat_id)
        self.avatar.set_avatar(details.name, details.chat_id, chat.avatar if chat else None)
        self.name.setText(details.name)
        self.description.setText(details.description)
        for widget in (self.name, self.description):
            widget.setReadOnly(not admin)
        self.save.setVisible(admin)
        self._edited()
        # No protocol words (epochs, commits) here: people count members and relays.
        relays = plural(len(details.relays), "relay")
        self.facts.setText(f"{plural(len(details.members), 'member')} · {relays}")
        # Its one protocol word: people compare it with what other apps say they speak.
        self.protocol.setText(details.protocol)
        self.protocol.setVisible(bool(details.protocol))
        self.protocol.setToolTip(
            f"This group uses {details.protocol}, chosen when it was created: only apps "
            "that speak it can join."
        )
        self._show_timer(details.disappearing_secs)
        self.timer.setEnabled(admin)
        self.timer.setToolTip(
            "New messages disappear for everyone this long after they are sent"
            if admin
            else "Only admins can change this"
        )
        self.members.set_rows(details.members)
        self.add.setVisible(admin and not details.is_dm)
        self.picture.setVisible(admin and not details.is_dm)
        self.leave.setVisible(not details.is_dm)
        self._update_actions()

    def _show_timer(self, secs: int) -> None:
        index = self.timer.findData(secs)
        if index < 0:  # set elsewhere to a time we do not offer: shown as it is
            self.timer.addItem(timer_text(secs), secs)
            index = self.timer.count() - 1
        self.timer.setCurrentIndex(index)

    def _timer_chosen(self, index: int) -> None:
        secs = int(self.timer.itemData(index))
        if self.details is None or secs == self.details.disappearing_secs or self.is_working:
            return
        self.launch(self._set_timer(secs))

    async def _set_timer(self, secs: int) -> None:
        note = "Turning disappearing messages off…" if secs == 0 else "Setting the timer…"
        done = await self._apply(self.backend.set_disappearing(self.chat_id, secs), note)
        if not done and self.details is not None:  # refused or failed: show what holds
            self._show_timer(self.details.disappearing_secs)

    def _members_changed(self, details: GroupDetails) -> None:
        if details.chat_id == self.chat_id:
            self.show_details(details)

    def selected(self) -> MemberRow | None:
        row = self.view.currentIndex().data(ItemRole.ROW)
        return row if isinstance(row, MemberRow) else None

    def select(self, pubkey: str) -> None:
        self.view.setCurrentIndex(self.members.index(self.members.position(pubkey)))

    def _update_actions(self) -> None:
        member = self.selected()
        admin = self.details is not None and self.details.i_am_admin and not self.details.is_dm
        target = member if admin and member is not None and not member.is_self else None
        self.promote.setVisible(target is not None and not target.admin)
        self.demote.setVisible(target is not None and target.admin)
        self.remove.setVisible(target is not None)

    def _edited(self) -> None:
        """Save is offered only for a name or description that differs from the group's."""
        shown = (self.name.text().strip(), self.description.text().strip())
        now = (self.details.name, self.details.description) if self.details else shown
        self.save.setEnabled(bool(shown[0]) and shown != now and not self.is_working)

    async def _apply(self, change: Awaitable[GroupDetails], note: str) -> bool:
        details = None
        with self.working(note, *self.group_actions):
            try:
                details = await change
            except BackendError as error:
                self.error.show_error(error.message)
        if details is not None:
            self.show_details(details)
        return details is not None

    def _on_selected(
        self, action: Callable[[str, str], Awaitable[GroupDetails]], note: str
    ) -> None:
        member = self.selected()
        if member is not None and not self.is_working:
            self.launch(self._apply(action(self.chat_id, member.pubkey), note))

    def _remove_selected(self) -> None:
        member = self.selected()
        if member is None:
            return
        confirm(
            self,
            f"Remove {member.name}?",
            "They will no longer receive messages sent to this group.",
            "Remove",
            lambda: self.launch(
                self._apply(
                    self.backend.remove_members(self.chat_id, [member.pubkey]),
                    f"Removing {member.name}…",
                )
            ),
        )

    @async_slot()
    async def rename(self) -> None:
        if not self.save.isEnabled() or not self.save.isVisible():
            return  # nothing changed (Enter in a field), or not ours to change
        name, description = self.name.text().strip(), self.description.text().strip()
        await self._apply(self.backend.rename_group(self.chat_id, name, description), "Saving…")

    def choose_picture(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Group picture", "", "Images (*.png *.jpg *.jpeg *.webp *.gif)"
        )
        if path:
            self.set_picture(Path(path))

    def set_picture(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.error.show_error(f"Could not read {path.name}: {exc.strerror}.")
            return
        change = self.backend.set_group_picture(self.chat_id, data)
        self.launch(self._apply(change, "Encrypting and uploading the picture…"))

    @async_slot()
    async def show_picker(self) -> None:
        contacts = await self.backend.list_contacts()
        current = [m.pubkey for m in self.members.rows]
        self.picker.set_contacts(contacts, exclude=current)
        # Both lists must fit a laptop screen: the members give up room to the picker.
        self.view.setMinimumHeight(MEMBERS_HEIGHT_PICKING)
        self.picker.show()
        self.confirm_add.show()

    @async_slot(str)
    async def add_typed(self, typed: str) -> None:
        members = [m.pubkey for m in self.members.rows]
        await self.add_typed_contact(self.picker, typed, members)

    @async_slot()
    async def add_picked(self) -> None:
        picked = self.picker.picked()
        if not picked:
            self.error.show_error("Pick someone to add first.")
            return
        if await self._apply(self.backend.add_members(self.chat_id, picked), "Inviting…"):
            self.picker.hide()
            self.confirm_add.hide()
            self.view.setMinimumHeight(MEMBERS_HEIGHT)

    def _leave(self) -> None:
        async def leave() -> None:
            with self.working("Leaving…", *self.group_actions):
                await self.backend.leave_group(self.chat_id)
            self.accept()

        confirm(
            self,
            "Leave this group?",
            "You will stop receiving its messages. An admin can invite you again.",
            "Leave",
            lambda: self.launch(leave()),
        )

"""Push notifications (MIP-05): register this device's token with a notification server,
change or remove it, and see which groups have it and whose tokens we hold."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.format import plural, short_key
from ui.models.push import PushGroupListModel
from ui.session import Session
from ui.tasks import async_slot
from ui.views import PushRegistrationView, PushSettings, PushSettingsChanged, UiEvent
from ui.widgets.common import busy, button, item_list, label, segmented, separator
from ui.widgets.confirm import confirm

NOTE = (
    "A phone is woken for new messages through a notification server. Your device token is "
    "encrypted to that server and shared only inside your groups: relays never see it."
)
PLATFORMS = {"apns": "APNs", "fcm": "FCM"}


def describe(reg: PushRegistrationView | None) -> str:
    if reg is None:
        return "This device is not registered for notifications."
    where = f" · inbox list on {reg.relay}" if reg.relay else ""
    platform = PLATFORMS.get(reg.platform, reg.platform)
    text = f"{platform} token {reg.token_hint} · server {short_key(reg.server)}{where}"
    if not reg.shareable:
        text += "\nNot shared with your groups until a relay is set."
    return text


class NotificationsDialog(Dialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "Notifications", parent, width=520)
        self.setObjectName("NotificationsDialog")
        self.settings: PushSettings | None = None
        self.status = label("Loading…", "muted", wrap=True)
        self.apns = QPushButton(PLATFORMS["apns"])
        self.fcm = QPushButton(PLATFORMS["fcm"])
        segmented(self.apns, self.fcm)
        self.fcm.setChecked(True)
        self.token = self._field("Device token (APNs: hex)")
        self.server = self._field("Notification server: npub or hex")
        self.relay = self._field("wss://relay listing the server's inbox")
        self.register = button("Register", "primary", "bell")
        self.remove = button("Remove", "danger", "bell-off")
        self.model = PushGroupListModel(self)
        self.view = item_list("PushGroupList", self.model)
        self.view.setMinimumHeight(140)
        self._build()
        self.add_close()
        self.finish_layout()
        self.register.clicked.connect(self.save)
        self.remove.clicked.connect(self._confirm_remove)
        # Gossip from the groups changes the view while it is open.
        unsubscribe = self.backend.subscribe(self._on_event)
        self.finished.connect(lambda _result: unsubscribe())
        self._show(None)
        self.launch(self.reload())

    def _field(self, placeholder: str) -> QLineEdit:
        field = QLineEdit()
        field.setPlaceholderText(placeholder)
        return field

    def _build(self) -> None:
        c = self.column
        c.addWidget(label(NOTE, "muted", wrap=True))
        c.addWidget(label("This device", "section"))
        c.addWidget(self.status)
        platforms = QHBoxLayout()
        platforms.setSpacing(0)
        platforms.addWidget(self.apns)
        platforms.addWidget(self.fcm)
        platforms.addStretch(1)
        c.addLayout(platforms)
        for field in (self.token, self.server, self.relay):
            c.addWidget(field)
        actions = QHBoxLayout()
        actions.addWidget(self.register)
        actions.addWidget(self.remove)
        actions.addStretch(1)
        c.addLayout(actions)
        c.addWidget(separator())
        c.addWidget(label("Groups", "section"))
        c.addWidget(self.view, 1)

    @property
    def platform(self) -> str:
        return "apns" if self.apns.isChecked() else "fcm"

    async def reload(self) -> None:
        self._show(await self.backend.push_settings())

    def _on_event(self, event: UiEvent) -> None:
        if isinstance(event, PushSettingsChanged):
            self.launch(self.reload())

    def _show(self, settings: PushSettings | None) -> None:
        self.settings = settings
        reg = settings.registration if settings else None
        if settings is not None:
            self.status.setText(describe(reg))
            self.model.set_rows(list(settings.groups))
        if reg is not None:
            (self.apns if reg.platform == "apns" else self.fcm).setChecked(True)
            self.server.setText(reg.server)
            self.relay.setText(reg.relay)
        self.register.setText("Save" if reg is not None else "Register")
        self.remove.setEnabled(reg is not None)

    @async_slot()
    async def save(self) -> None:
        self.error.clear_error()
        token, server = self.token.text().strip(), self.server.text().strip()
        if not token:
            self.error.show_error("Paste the device token your phone's push service gave.")
            return
        if not server:
            self.error.show_error("Enter the notification server's public key.")
            return
        with busy(self.register, "Saving…"):
            try:
                settings = await self.backend.register_push(
                    self.platform, token, server, self.relay.text().strip()
                )
            except BackendError as error:
                self.error.show_error(error.message)
                return
        self.token.clear()  # the token is not kept on screen
        self._show(settings)
        shared = sum(1 for g in settings.groups if g.shared)
        if settings.registration is not None and settings.registration.shareable:
            self.error.show_success(f"Registered and shared with {plural(shared, 'group')}.")
        else:
            self.error.show_info("Registered. Set a relay to share it with your groups.")

    def _confirm_remove(self) -> None:
        confirm(
            self,
            "Stop notifications on this device?",
            "Your token is withdrawn from every group; you will not be woken for new messages.",
            "Remove",
            lambda: self.launch(self._remove()),
        )

    async def _remove(self) -> None:
        self.error.clear_error()
        self._show(await self.backend.remove_push())
        self.token.clear()
        self.server.clear()
        self.relay.clear()

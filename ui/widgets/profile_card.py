"""A person at a glance: picture, name, about, npub with a copy button, and its QR code."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from ui.avatar import AvatarLabel
from ui.format import short_key
from ui.views import ProfileView
from ui.widgets.common import ElidedLabel, icon_button, label
from ui.widgets.qr_view import QrView


def nip05_text(address: str, verified: bool) -> str:
    if not address:
        return ""
    shown = address.removeprefix("_@")
    return f"✓ {shown} (verified)" if verified else f"{shown} (not verified)"


class ProfileCard(QFrame):
    def __init__(self, parent: QWidget | None = None, *, own: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("ProfileCard")
        self.profile: ProfileView | None = None
        self.avatar = AvatarLabel(72)
        self.name = ElidedLabel("title")
        self.about = label("", "muted", wrap=True)
        self.npub = label("", "mono")
        self.npub.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy = icon_button("copy", "Copy npub")
        self.copy.clicked.connect(self.copy_npub)
        self.copied = label("", "muted")
        self.nip05 = label("", "muted")
        self.nip05.setObjectName("Nip05")
        self.qr = QrView(184)
        key_row = QHBoxLayout()
        key_row.addWidget(self.npub, 1)
        key_row.addWidget(self.copy)
        column = QVBoxLayout(self)
        column.setSpacing(6)
        column.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.name, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.about, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.nip05, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addLayout(key_row)
        column.addWidget(self.copied, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        # Only our own card invites a scan; on someone else's it would be a lie.
        self.scan_hint = label("Scan to add me on Burrow or White Noise", "muted")
        self.scan_hint.setVisible(own)
        column.addWidget(self.scan_hint, 0, Qt.AlignmentFlag.AlignHCenter)

    def show_profile(self, profile: ProfileView) -> None:
        self.profile = profile
        self.avatar.set_avatar(profile.name, profile.pubkey, profile.avatar)
        self.name.setText(profile.name)
        self.about.setText(profile.about)
        self.about.setVisible(bool(profile.about))
        self.nip05.setText(nip05_text(profile.nip05, profile.nip05_verified))
        self.nip05.setVisible(bool(profile.nip05))
        self.npub.setText(short_key(profile.npub))
        self.npub.setToolTip(profile.npub)
        self.copied.setText("")
        self.qr.set_text(profile.npub)

    def copy_npub(self) -> None:
        if self.profile is not None:
            QGuiApplication.clipboard().setText(self.profile.npub)
            self.copied.setText("npub copied")

"""What the widgets see: frozen view rows and the events that change them.

The real service layer is mapped onto these by ``ui/bridge.py``; widgets and models never see a
domain object. Ids are lowercase hex strings: a chat is its ``nostr_group_id``, a message its
event id, a person their x-only public key. Times are Unix seconds (Nostr ``created_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum


class Theme(Enum):
    LIGHT = "light"
    DARK = "dark"
    SYSTEM = "system"  # follow the desktop's light or dark setting, also as it changes


class MessageStatus(Enum):
    """Delivery state of one of our own messages; received messages are always SENT."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class RelayStatus(Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


# --- accounts and people ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountView:
    """One identity on this machine; ``unlocked`` when its database is open in this session."""

    pubkey: str
    npub: str
    name: str
    unlocked: bool = False
    avatar: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A person's kind-0 profile as shown on a profile page (ours or a contact's)."""

    pubkey: str
    npub: str
    name: str
    about: str = ""
    nprofile: str = ""
    avatar: bytes | None = field(default=None, repr=False)
    nip05: str = ""
    nip05_verified: bool = False


@dataclass(frozen=True, slots=True)
class ContactRow:
    pubkey: str
    npub: str
    name: str
    about: str = ""
    blocked: bool = False
    avatar: bytes | None = field(default=None, repr=False)
    nip05: str = ""
    nip05_verified: bool = False


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One install of our identity: its own key packages and its own leaves in groups."""

    id: str
    label: str
    current: bool
    key_packages: int
    groups: int
    last_active: int | None = None


@dataclass(frozen=True, slots=True)
class RelayRow:
    url: str
    status: RelayStatus


# --- chats and messages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatRow:
    """One entry of the chat list; ``time`` is the last activity (None for an empty chat)."""

    id: str
    title: str
    preview: str = ""
    time: int | None = None
    unread: int = 0
    pinned: bool = False
    archived: bool = False
    muted: bool = False
    is_dm: bool = False
    # The DM peer's pubkey or the group id: seeds the avatar colour when there is no picture.
    avatar_seed: str = ""
    member_count: int = 0
    draft: str = ""
    # False once we were removed or left: the chat stays readable but the composer closes.
    active: bool = True
    avatar: bytes | None = field(default=None, repr=False)
    # A 1:1 chat whose other person has not accepted the invitation yet.
    waiting: bool = False
    disappearing_secs: int = 0  # new messages disappear this long after (0: they stay)
    # Our own messages can be edited for everyone (a group of the newer Marmot version).
    can_edit: bool = False


@dataclass(frozen=True, slots=True)
class ReplyQuote:
    """The message a reply points at, as far as we know it (it may not be loaded or known)."""

    message_id: str
    author_name: str
    text: str


@dataclass(frozen=True, slots=True)
class Reaction:
    emoji: str
    count: int
    mine: bool


@dataclass(frozen=True, slots=True)
class AttachmentView:
    """One encrypted file of a message (MIP-04), before anything is downloaded."""

    index: int
    filename: str
    mime_type: str
    file_hash: str
    width: int | None = None
    height: int | None = None
    placeholder: bytes | None = field(default=None, repr=False)
    """The BlurHash painted as `PLACEHOLDER_SIZE` packed RGB pixels (images only)."""
    duration: float | None = None
    """Seconds of a voice message or video, when the sender said."""

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


PLACEHOLDER_SIZE = (32, 24)


@dataclass(frozen=True, slots=True)
class AttachmentData:
    """A downloaded, decrypted attachment (held in memory only)."""

    filename: str
    mime_type: str
    data: bytes = field(repr=False)
    thumbnail: bytes | None = field(default=None, repr=False)
    """A small JPEG preview (images)."""


@dataclass(frozen=True, slots=True)
class UploadRow:
    """A file on its way into a chat."""

    id: int
    chat_id: str
    filename: str
    size: int
    state: str
    """``pending``, ``sent``, ``failed`` or ``cancelled``."""
    error: str = ""


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: str
    chat_id: str
    author: str
    author_name: str
    own: bool
    text: str
    created_at: int
    reply: ReplyQuote | None = None
    reactions: tuple[Reaction, ...] = ()
    deleted: bool = False
    status: MessageStatus = MessageStatus.SENT
    attachments: tuple[AttachmentView, ...] = ()
    # A change of the group itself ("Bob added Carol"), worded; shown as a line, not a bubble.
    system: str = ""
    edited: bool = False  # ``text`` is the author's newer version of what they first sent

    @property
    def day(self) -> date:
        """The local calendar day, for day separators."""
        return date.fromtimestamp(self.created_at)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result: a chat whose name matched (``message_id`` None) or one message."""

    chat_id: str
    title: str
    snippet: str
    message_id: str | None = None
    time: int | None = None
    avatar_seed: str = ""


# --- groups and invites ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRow:
    pubkey: str
    name: str
    admin: bool
    devices: int = 1
    is_self: bool = False
    avatar: bytes | None = field(default=None, repr=False)
    invited: bool = False  # added, but their joining was not seen yet


@dataclass(frozen=True, slots=True)
class GroupDetails:
    chat_id: str
    name: str
    description: str
    members: tuple[MemberRow, ...]
    is_dm: bool = False
    epoch: int = 0
    relays: tuple[str, ...] = ()
    disappearing_secs: int = 0  # 0: messages stay
    # The protocol version the group was created with, in words ("Marmot v2 (Dark Matter)").
    protocol: str = ""

    @property
    def i_am_admin(self) -> bool:
        return any(m.is_self and m.admin for m in self.members)


@dataclass(frozen=True, slots=True)
class InviteRow:
    """A pending Welcome: we are in the group only once it is accepted."""

    id: str
    group_name: str
    inviter: str
    inviter_name: str
    member_count: int
    received_at: int
    description: str = ""
    is_dm: bool = False  # someone starting a 1:1 chat: there is no group to name
    inviter_npub: str = ""

    @property
    def title(self) -> str:
        return self.inviter_name if self.is_dm else self.group_name

    @property
    def summary(self) -> str:
        """One sentence (without the full stop) saying who invites us to what."""
        if self.is_dm:
            return f"{self.inviter_name} wants to chat with you"
        return f"{self.inviter_name} invited you to {self.group_name}"


# --- push notifications (MIP-05) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushRegistrationView:
    """This device's push registration; the token itself never reaches the UI."""

    platform: str  # "apns" or "fcm"
    server: str  # the notification server's public key (hex)
    relay: str  # where the server's inbox relays are listed; "" when unset
    token_hint: str  # the first and last characters of the token
    shareable: bool  # only with a relay is the token shared with groups


@dataclass(frozen=True, slots=True)
class PushGroupRow:
    chat_id: str
    title: str
    shared: bool  # our token was shared with this group
    member_tokens: int  # other members' devices our messages wake


@dataclass(frozen=True, slots=True)
class PushSettings:
    registration: PushRegistrationView | None
    groups: tuple[PushGroupRow, ...] = ()


# --- events the backend pushes to the UI -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageAdded:
    """A new message in a chat: received, or our own once it is stored."""

    row: MessageRow


@dataclass(frozen=True, slots=True)
class MessageUpdated:
    """A message changed: delivery status, reactions, its text edited, or deleted."""

    row: MessageRow


@dataclass(frozen=True, slots=True)
class ChatUpdated:
    """A chat appeared or changed (preview, unread, flags, title)."""

    row: ChatRow


@dataclass(frozen=True, slots=True)
class ChatRemoved:
    chat_id: str


@dataclass(frozen=True, slots=True)
class MessagesRemoved:
    """Disappearing messages whose time came: gone from this computer."""

    chat_id: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MembersChanged:
    """A commit changed the group's members, admins or name."""

    details: GroupDetails


@dataclass(frozen=True, slots=True)
class InviteAdded:
    row: InviteRow


@dataclass(frozen=True, slots=True)
class InviteRemoved:
    invite_id: str


@dataclass(frozen=True, slots=True)
class ContactUpdated:
    row: ContactRow


@dataclass(frozen=True, slots=True)
class RelayStatusChanged:
    url: str
    status: RelayStatus


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Catch-up after start or reconnect: ``done`` of ``total`` steps; done == total is idle."""

    done: int
    total: int


@dataclass(frozen=True, slots=True)
class PushSettingsChanged:
    """The push registration or the tokens shared in some group changed."""


@dataclass(frozen=True, slots=True)
class UploadChanged:
    """A file was queued, sent, failed or cancelled."""

    row: UploadRow


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """Bytes of a file moved: ``transfer`` is ``upload:<id>`` or ``download:<file hash>``."""

    transfer: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class SignerStatus:
    """The active account's remote signer (NIP-46): ``state`` is ``connecting``, ``ready``,
    ``waiting_approval``, ``offline`` or ``refused``; ``text`` says it for a person;
    ``auth_url`` is the page to open when the signer asks for an approval."""

    state: str
    text: str
    auth_url: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorShown:
    """A problem the person should know about that no pending action reports itself."""

    message: str


UiEvent = (
    MessageAdded
    | MessageUpdated
    | ChatUpdated
    | ChatRemoved
    | MessagesRemoved
    | MembersChanged
    | InviteAdded
    | InviteRemoved
    | ContactUpdated
    | RelayStatusChanged
    | SyncProgress
    | SignerStatus
    | ErrorShown
    | PushSettingsChanged
    | UploadChanged
    | TransferProgress
)

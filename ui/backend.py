"""The one seam between the widgets and the service layer.

``Backend`` lists every operation the UI performs. ``ui/bridge.py`` implements it over the
real ``app`` services; the GUI tests implement it in memory (``tests/gui/fake_backend.py``).
Every coroutine either completes or raises a ``ui.errors.BackendError`` subclass with a
message for a person. Calls that need an account act on the active (last unlocked or
switched-to) account. Names follow the CLI of issue 7 where one exists (``group add`` is
``add_members``, ``invites accept`` is ``accept_invite``).

Besides returning, changes are announced to subscribers, because other windows, devices and
people cause the same changes:
- ``ChatUpdated`` after anything that changes a chat-list row: a message in or out, pin,
  archive, mute, ``mark_read``, ``save_draft``, a rename, leaving; ``ChatRemoved`` when a
  chat is gone for good.
- ``MessageAdded`` for every new message (ours once queued, in state SENDING) and
  ``MessageUpdated`` for status, reactions, edits and deletions.
- ``MembersChanged`` after every commit that touches members, admins, name or description.
- ``InviteAdded`` / ``InviteRemoved``, ``ContactUpdated`` (add, block, new profile),
  ``RelayStatusChanged``, ``SyncProgress`` during catch-up, ``UploadChanged`` and
  ``TransferProgress`` for files on their way, ``ErrorShown`` for failures no
  call reports, ``PushSettingsChanged`` when what ``push_settings`` returns changed.
Listeners run on the GUI thread (qasync: one loop for Qt and asyncio).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ui.views import (
    AccountView,
    AttachmentData,
    ChatRow,
    ContactRow,
    DeviceRow,
    GroupDetails,
    InviteRow,
    MessageRow,
    ProfileView,
    PushSettings,
    RelayRow,
    SearchHit,
    Theme,
    UiEvent,
    UploadRow,
)

Listener = Callable[[UiEvent], None]
Unsubscribe = Callable[[], None]


class Backend(Protocol):
    # --- events and app-wide settings (usable before any account is unlocked) ---

    def subscribe(self, listener: Listener) -> Unsubscribe:
        """Call ``listener`` on the GUI thread for every event until the returned function runs."""
        ...

    async def theme(self) -> Theme:
        """The saved theme."""
        ...

    async def set_theme(self, theme: Theme) -> None:
        """Save the theme choice."""
        ...

    # --- accounts ---

    async def list_accounts(self) -> list[AccountView]:
        """Every identity stored on this machine, most recently used first."""
        ...

    async def create_account(
        self, name: str, passphrase: str, avatar: bytes | None = None, relays: str = "local"
    ) -> AccountView:
        """Generate a new key, publish the profile and relay lists, unlock and activate it.
        ``relays``: "local" (this computer only) or "public" (well-known public relays)."""
        ...

    async def import_account(
        self, nsec: str, passphrase: str, key_passphrase: str = ""
    ) -> AccountView:
        """Store an existing nsec or NIP-49 ncryptsec (InvalidInput if malformed; the
        ncryptsec opens with ``key_passphrase``, or ``passphrase`` when it is empty), or
        connect a remote signer's bunker:// string; unlock and activate it."""
        ...

    async def offer_connection(self) -> str:
        """A fresh nostrconnect:// offer (NIP-46) for a remote signer to scan or paste; it
        listens until `accept_connection` (or a later offer) settles it."""
        ...

    async def accept_connection(self, passphrase: str, timeout: float = 300.0) -> AccountView:
        """Wait until a signer takes up the offer, then store the account (no secret key
        is stored: it stays in the signer), unlock and activate it (Unavailable on
        timeout)."""
        ...

    async def unlock(self, pubkey: str, passphrase: str) -> AccountView:
        """Open an account's database (WrongPassphrase), start syncing it, make it active."""
        ...

    async def switch_account(self, pubkey: str) -> AccountView:
        """Make an already unlocked account the active one."""
        ...

    async def lock(self) -> None:
        """Close every unlocked account (its database and sockets): each needs its
        passphrase again. Unsent messages wait in the account's outbox."""
        ...

    async def export_nsec(self, passphrase: str) -> str:
        """The active account's nsec, after re-checking the passphrase (WrongPassphrase)."""
        ...

    async def export_ncryptsec(self, passphrase: str) -> str:
        """The active account's key as a NIP-49 ncryptsec encrypted under ``passphrase``,
        after re-checking it (WrongPassphrase)."""
        ...

    async def change_passphrase(self, old: str, new: str) -> None:
        """Re-key the active account's database (WrongPassphrase if ``old`` is wrong)."""
        ...

    async def delete_all_data(self) -> None:
        """Erase every account, database and setting on this machine."""
        ...

    # --- own profile and contacts ---

    async def own_profile(self) -> ProfileView:
        """The active account's profile."""
        ...

    async def update_profile(self, name: str, about: str, avatar: bytes | None) -> ProfileView:
        """Publish a new kind-0 profile."""
        ...

    async def list_contacts(self) -> list[ContactRow]:
        """Our follow list, blocked people included (flagged)."""
        ...

    async def add_contact(self, npub_or_nprofile: str, name: str = "") -> ContactRow:
        """Follow someone by npub or nprofile (InvalidInput if malformed)."""
        ...

    async def contact_profile(self, pubkey: str) -> ProfileView:
        """A person's cached profile (fetched when missing)."""
        ...

    async def set_blocked(self, pubkey: str, blocked: bool) -> None:
        """Block or unblock: a blocked person's invites and messages are dropped."""
        ...

    # --- chats ---

    async def list_chats(self) -> list[ChatRow]:
        """Every chat of the active account, archived ones included (flagged)."""
        ...

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Chats whose name matches, then messages whose text matches, newest first."""
        ...

    async def set_pinned(self, chat_id: str, pinned: bool) -> None:
        """Pin or unpin a chat (pinned chats sort first)."""
        ...

    async def set_archived(self, chat_id: str, archived: bool) -> None:
        """Move a chat to or from the archive."""
        ...

    async def set_muted(self, chat_id: str, muted: bool) -> None:
        """Silence or restore notifications for a chat."""
        ...

    async def mark_read(self, chat_id: str) -> None:
        """Everything in the chat has been seen: its unread count drops to zero."""
        ...

    async def save_draft(self, chat_id: str, text: str) -> None:
        """Keep the unsent composer text of a chat ("" clears it)."""
        ...

    # --- messages ---

    async def messages(
        self, chat_id: str, before: str | None = None, limit: int = 50
    ) -> list[MessageRow]:
        """Up to ``limit`` messages older than message ``before`` (newest if None), oldest first."""
        ...

    async def send(self, chat_id: str, text: str, reply_to: str | None = None) -> MessageRow:
        """Queue a text message (optionally a reply); it returns in state SENDING."""
        ...

    async def send_file(
        self, chat_id: str, filename: str, data: bytes, caption: str = ""
    ) -> UploadRow:
        """Queue a file (images are stripped of metadata); it becomes a message once stored
        on a Blossom server (``UploadChanged``, ``TransferProgress`` meanwhile)."""
        ...

    async def uploads(self, chat_id: str) -> list[UploadRow]:
        """The chat's files still on their way."""
        ...

    async def cancel_upload(self, upload_id: int) -> None:
        """Stop a queued or running upload: its message is never sent."""
        ...

    async def attachment(self, chat_id: str, message_id: str, index: int = 0) -> AttachmentData:
        """Download (or take from the encrypted cache), verify and decrypt an attachment
        (``TransferProgress`` ``download:<file hash>`` meanwhile)."""
        ...

    async def cancel_download(self, file_hash: str) -> None:
        """Stop downloading an attachment (its ``attachment`` call then fails)."""
        ...

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        """Add our reaction to a message."""
        ...

    async def unreact(self, chat_id: str, message_id: str, emoji: str) -> None:
        """Withdraw our reaction (a deletion of our kind-7 event)."""
        ...

    async def delete(self, chat_id: str, message_id: str) -> None:
        """Delete one of our own messages for everyone (NotAllowed for others' messages)."""
        ...

    async def edit(self, chat_id: str, message_id: str, text: str) -> MessageRow:
        """Replace the text of one of our messages for everyone; only in chats whose row
        says ``can_edit`` (NotAllowed elsewhere, and for others' messages)."""
        ...

    async def retry(self, chat_id: str, message_id: str) -> None:
        """Send a FAILED message again."""
        ...

    # --- groups ---

    async def create_dm(self, pubkey: str) -> ChatRow:
        """The 1:1 chat with a person: the existing one, or a new two-member group."""
        ...

    async def create_group(
        self, name: str, members: Sequence[str], description: str = ""
    ) -> ChatRow:
        """Create a group with us as admin and invite ``members`` (pubkeys)."""
        ...

    async def group_protocol(self, members: Sequence[str]) -> str:
        """The Marmot version a new group with ``members`` would use, in words ("Marmot v2
        (Dark Matter)"), as their key packages decide; InvalidInput when they cannot be
        in one group, Unavailable when someone's key packages cannot be found."""
        ...

    async def show_group(self, chat_id: str) -> GroupDetails:
        """Name, description, members with admin flags and devices."""
        ...

    async def add_members(self, chat_id: str, pubkeys: Sequence[str]) -> GroupDetails:
        """Invite people (all their devices) into the group; admins only."""
        ...

    async def remove_members(self, chat_id: str, pubkeys: Sequence[str]) -> GroupDetails:
        """Remove people from the group; admins only."""
        ...

    async def promote(self, chat_id: str, pubkey: str) -> GroupDetails:
        """Make a member an admin; admins only."""
        ...

    async def demote(self, chat_id: str, pubkey: str) -> GroupDetails:
        """Take admin rights away; admins only."""
        ...

    async def rename_group(self, chat_id: str, name: str, description: str) -> GroupDetails:
        """Change the group's name and description; admins only."""
        ...

    async def set_group_picture(self, chat_id: str, data: bytes | None) -> GroupDetails:
        """Encrypt and upload the group's picture and commit it (None removes it); admins."""
        ...

    async def set_disappearing(self, chat_id: str, seconds: int) -> GroupDetails:
        """Admins: new messages disappear ``seconds`` after they are sent (0: they stay)."""
        ...

    async def leave_group(self, chat_id: str) -> None:
        """Leave the group (SelfRemove); the chat stays readable but inactive."""
        ...

    # --- invites ---

    async def list_invites(self) -> list[InviteRow]:
        """Welcomes waiting for an answer."""
        ...

    async def accept_invite(self, invite_id: str) -> ChatRow:
        """Join the group of a pending Welcome."""
        ...

    async def decline_invite(self, invite_id: str) -> None:
        """Drop a pending Welcome."""
        ...

    # --- devices and relays ---

    async def list_devices(self) -> list[DeviceRow]:
        """Our installs: this one first, then the others seen in key packages and groups."""
        ...

    async def remove_device(self, device_id: str) -> None:
        """Remove a lost device's leaves (where we are admin) and its key packages."""
        ...

    async def list_relays(self) -> list[RelayRow]:
        """The active account's relays with their live status."""
        ...

    async def add_relay(self, url: str) -> None:
        """Add a ws:// or wss:// relay (InvalidInput otherwise) and publish the relay lists."""
        ...

    async def remove_relay(self, url: str) -> None:
        """Drop a relay and publish the relay lists."""
        ...

    # --- push notifications (MIP-05) ---

    async def push_settings(self) -> PushSettings:
        """The push registration (without the token) and, per group, what is shared."""
        ...

    async def register_push(
        self, platform: str, token: str, server: str, relay: str
    ) -> PushSettings:
        """Register this device's token (InvalidInput if malformed); share it with all groups."""
        ...

    async def remove_push(self) -> PushSettings:
        """Forget the push registration and withdraw the token from every group."""
        ...

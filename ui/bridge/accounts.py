"""Accounts, the own profile, contacts, devices and relays over ``app``."""

from __future__ import annotations

import asyncio
import contextlib

import app.errors as app_errors
from app import AccountSession
from app.models import ProfileInfo
from ui.bridge.convert import (
    avatar_bytes,
    contact_row,
    device_row,
    picture_from_avatar,
    profile_view,
    relay_row,
)
from ui.bridge.core import CLOSE_FLUSH_SECONDS, BridgeCore, translated
from ui.errors import InvalidInput, NotAllowed, WrongPassphrase
from ui.views import AccountView, ContactRow, DeviceRow, ProfileView, RelayRow


async def _https_avatar(session: AccountSession, profile: ProfileInfo) -> bytes | None:
    """An https profile picture (what White Noise users have), from the encrypted cache or
    fetched; None for data: URLs (decoded by `profile_view`) and on failure."""
    if not profile.picture.startswith("https://"):
        return None
    return await session.people.picture(profile.picture)


PICTURE_UPLOAD_SECONDS = 15.0
"""Longer than that (a server down), the picture goes inline in the profile instead."""


async def _picture(session: AccountSession, avatar: bytes | None) -> str:
    """The kind-0 ``picture``: a URL on our https Blossom server when we have one (what
    White Noise shows), else a small ``data:`` URL inside the profile itself."""
    if avatar is None:
        return ""
    picture = picture_from_avatar(avatar)
    square = avatar_bytes(avatar)
    if picture is None or square is None:
        raise InvalidInput("That picture could not be read. Please choose another.", "avatar")
    with contextlib.suppress(app_errors.MediaError, TimeoutError):  # keep it inline then
        async with asyncio.timeout(PICTURE_UPLOAD_SECONDS):
            url = await session.media.picture_url(square)
        if url is not None:
            return url
    return picture


class AccountOps(BridgeCore):
    # --- accounts ------------------------------------------------------------------------

    @translated
    async def list_accounts(self) -> list[AccountView]:
        """Every identity stored on this machine, most recently used first."""
        out = []
        for info in self.services.list_accounts():
            if info.unlocked:
                out.append(await self.account_view(self.services.session(info.pubkey)))
            else:
                out.append(AccountView(info.pubkey, info.npub, info.name, False))
        return out

    @translated
    async def create_account(
        self, name: str, passphrase: str, avatar: bytes | None = None, relays: str = "local"
    ) -> AccountView:
        """Generate a new key, publish the profile and relay lists, unlock and activate it.
        ``relays``: "local" (this computer only) or "public" (well-known public relays)."""
        if not name.strip():
            raise InvalidInput("Please choose a name.", "name")
        if avatar is not None and picture_from_avatar(avatar) is None:
            raise InvalidInput("That picture could not be read. Please choose another.", "avatar")
        session = await self.services.create_account(name.strip(), passphrase, relays)
        picture = await _picture(session, avatar)
        if picture:
            # Queued now, published once the session connects.
            await session.contacts.publish_profile(name=name.strip(), picture=picture)
        return await self.activate(session)

    @translated
    async def import_account(
        self, nsec: str, passphrase: str, key_passphrase: str = ""
    ) -> AccountView:
        """Store an existing nsec or NIP-49 ncryptsec (InvalidInput if malformed; the
        ncryptsec opens with ``key_passphrase``, or ``passphrase`` when it is empty), or
        connect a remote signer's bunker:// string; unlock and activate it."""
        try:
            session = await self.services.import_account(
                nsec, passphrase, key_passphrase=key_passphrase or None
            )
        except app_errors.WrongPassphrase:
            raise WrongPassphrase("That passphrase does not open this ncryptsec.") from None
        return await self.activate(session)

    @translated
    async def offer_connection(self) -> str:
        """A fresh nostrconnect:// offer (NIP-46) for a remote signer to scan or paste; it
        listens until `accept_connection` (or a later offer) settles it."""
        if self._offer is not None:
            await self._offer.signer.close()
        self._offer = await self.services.offer_connection()
        return self._offer.text

    @translated
    async def accept_connection(self, passphrase: str, timeout: float = 300.0) -> AccountView:
        """Wait until a signer takes up the offer, then store the account (no secret key
        is stored: it stays in the signer), unlock and activate it (Unavailable on
        timeout)."""
        offer, self._offer = self._offer, None
        if offer is None:
            raise NotAllowed("Show a code for your signer first.")
        session = await self.services.accept_offer(offer, passphrase, timeout)
        return await self.activate(session)

    @translated
    async def unlock(self, pubkey: str, passphrase: str) -> AccountView:
        """Open an account's database (WrongPassphrase), start syncing it, make it active."""
        return await self.activate(await self.services.unlock(pubkey, passphrase))

    @translated
    async def switch_account(self, pubkey: str) -> AccountView:
        """Make an already unlocked account the active one."""
        try:
            session = self.services.session(pubkey)
        except app_errors.NotFound:
            raise NotAllowed("Unlock that account first.") from None
        return await self.activate(session)

    @translated
    async def lock(self) -> None:
        """Close every unlocked account after a short outbox flush (as on quit)."""
        starting = list(self._starting.values())
        self._starting.clear()
        for task in starting:
            task.cancel()
        await asyncio.gather(*starting, return_exceptions=True)
        sessions = self.services.sessions
        await asyncio.gather(
            *(s.flush(CLOSE_FLUSH_SECONDS) for s in sessions), return_exceptions=True
        )
        self.active = None
        self._dm_chats.clear()
        for session in sessions:
            await self.services.lock(session.pubkey)

    @translated
    async def export_nsec(self, passphrase: str) -> str:
        """The active account's nsec, after re-checking the passphrase (WrongPassphrase)."""
        return self.services.export_nsec(self.session().pubkey, passphrase)

    @translated
    async def export_ncryptsec(self, passphrase: str) -> str:
        """The active account's key as a NIP-49 ncryptsec encrypted under ``passphrase``,
        after re-checking it (WrongPassphrase)."""
        pubkey = self.session().pubkey
        return await self.services.export_ncryptsec(pubkey, passphrase, passphrase)

    @translated
    async def change_passphrase(self, old: str, new: str) -> None:
        """Re-key the active account's database (WrongPassphrase if ``old`` is wrong)."""
        try:
            await self.services.change_passphrase(self.session().pubkey, old, new)
        except app_errors.WrongPassphrase:
            raise WrongPassphrase("The current passphrase is not right.") from None

    @translated
    async def delete_all_data(self) -> None:
        """Erase every account, database and setting on this machine."""
        for task in self._starting.values():
            task.cancel()
        self._starting.clear()
        self.active = None
        await self.services.delete_all_data()
        await self.services.start()  # the next account needs the local relay again

    # --- own profile and contacts --------------------------------------------------------

    @translated
    async def own_profile(self) -> ProfileView:
        """The active account's profile."""
        session = self.session()
        profile = await session.contacts.profile(session.pubkey)
        return profile_view(profile, session.account.name, await _https_avatar(session, profile))

    @translated
    async def update_profile(self, name: str, about: str, avatar: bytes | None) -> ProfileView:
        """Publish a new kind-0 profile."""
        if not name.strip():
            raise InvalidInput("Your name can't be empty.", "name")
        session = self.session()
        profile = await session.contacts.publish_profile(
            name=name.strip(), about=about, picture=await _picture(session, avatar)
        )
        self.services.accounts.rename(session.pubkey, name.strip())
        return profile_view(profile, avatar=await _https_avatar(session, profile))

    @translated
    async def list_contacts(self) -> list[ContactRow]:
        """Our follow list, blocked people included (flagged)."""
        return [contact_row(c) for c in await self.session().contacts.list_contacts()]

    @translated
    async def add_contact(self, npub_or_nprofile: str, name: str = "") -> ContactRow:
        """Follow someone by npub or nprofile (InvalidInput if malformed)."""
        contact = await self.session().contacts.add(npub_or_nprofile, name.strip() or None)
        return contact_row(contact)

    @translated
    async def contact_profile(self, pubkey: str) -> ProfileView:
        """A person's cached profile (fetched when missing)."""
        session = self.session()
        contacts = session.contacts
        profile = await contacts.profile(pubkey)
        if not profile.name:
            profile = await contacts.profile(pubkey, fetch=True)
        known = await contacts.get(pubkey)
        return profile_view(profile, known.name, await _https_avatar(session, profile))

    @translated
    async def set_blocked(self, pubkey: str, blocked: bool) -> None:
        """Block or unblock: a blocked person's invites and messages are dropped."""
        await self.session().contacts.set_blocked(pubkey, blocked)

    # --- devices and relays --------------------------------------------------------------

    @translated
    async def list_devices(self) -> list[DeviceRow]:
        """Our installs: this one first, then the others seen in key packages and groups."""
        return [device_row(d) for d in await self.session().devices.list_devices()]

    @translated
    async def remove_device(self, device_id: str) -> None:
        """Remove a lost device's leaves (where we are admin) and its key packages."""
        await self.session().devices.remove(device_id)

    @translated
    async def list_relays(self) -> list[RelayRow]:
        """The active account's relays with their live status."""
        return [relay_row(r) for r in self.session().relays.info()]

    @translated
    async def add_relay(self, url: str) -> None:
        """Add a ws:// or wss:// relay (InvalidInput otherwise) and publish the relay lists."""
        url = url.strip()
        if not url.startswith(("ws://", "wss://")) or len(url) < 8:
            raise InvalidInput("A relay address starts with wss:// or ws://.", "url")
        await self.session().relays.add(url)

    @translated
    async def remove_relay(self, url: str) -> None:
        """Drop a relay and publish the relay lists."""
        await self.session().relays.remove(url)

"""Account, profile, contact, device and relay operations of the in-memory backend."""

from __future__ import annotations

from dataclasses import replace

from tests.gui.fake_core import FakeCore, fake_npub, fake_pubkey
from ui.errors import InvalidInput, NotAllowed, NotFound, WrongPassphrase
from ui.views import (
    AccountView,
    ContactRow,
    ContactUpdated,
    DeviceRow,
    ProfileView,
    RelayRow,
    RelayStatus,
)

FAKE_NSEC_PREFIX = "nsec1"
FAKE_OFFER = "nostrconnect://" + "ab" * 32 + "?relay=ws%3A%2F%2F127.0.0.1%3A4869&secret=f00d"
FAKE_NCRYPTSEC_PREFIX = "ncryptsec1"  # the fake's ncryptsec is this prefix + its passphrase


class AccountOps(FakeCore):
    async def list_accounts(self) -> list[AccountView]:
        await self._enter("list_accounts")
        return [a.view() for a in self.accounts.values()]

    async def create_account(
        self, name: str, passphrase: str, avatar: bytes | None = None, relays: str = "local"
    ) -> AccountView:
        await self._enter("create_account", name)
        self.relay_choice = relays
        if not name.strip():
            raise InvalidInput("Please choose a name.", "name")
        account = self.add_account(name.strip(), passphrase, unlocked=True)
        account.avatar = avatar
        return account.view()

    async def import_account(
        self, nsec: str, passphrase: str, key_passphrase: str = ""
    ) -> AccountView:
        await self._enter("import_account")
        nsec = nsec.strip()
        if nsec.startswith(FAKE_NCRYPTSEC_PREFIX):
            if (key_passphrase or passphrase) != nsec.removeprefix(FAKE_NCRYPTSEC_PREFIX):
                raise WrongPassphrase("That passphrase does not open this ncryptsec.")
            return self.add_account("Imported", passphrase, unlocked=True).view()
        if not nsec.startswith(FAKE_NSEC_PREFIX) or len(nsec) != 63:
            raise InvalidInput("That doesn't look like an nsec key.", "nsec")
        # As in the app: an nsec brings no name until its profile is fetched.
        account = self.add_account("", passphrase, unlocked=True, pubkey=fake_pubkey(nsec))
        return account.view()

    async def offer_connection(self) -> str:
        await self._enter("offer_connection")
        return FAKE_OFFER

    async def accept_connection(self, passphrase: str, timeout: float = 300.0) -> AccountView:
        await self._enter("accept_connection")
        return self.add_account("Remote", passphrase, unlocked=True).view()

    async def unlock(self, pubkey: str, passphrase: str) -> AccountView:
        await self._enter("unlock", pubkey)
        account = self.accounts.get(pubkey)
        if account is None:
            raise NotFound("That account is not on this computer.")
        if passphrase != account.passphrase:
            raise WrongPassphrase()
        account.unlocked = True
        self.active = account
        return account.view()

    async def switch_account(self, pubkey: str) -> AccountView:
        await self._enter("switch_account", pubkey)
        account = self.accounts.get(pubkey)
        if account is None or not account.unlocked:
            raise NotAllowed("Unlock that account first.")
        self.active = account
        return account.view()

    async def lock(self) -> None:
        await self._enter("lock")
        for account in self.accounts.values():
            account.unlocked = False
        self.active = None

    async def export_nsec(self, passphrase: str) -> str:
        await self._enter("export_nsec")
        if passphrase != self.me.passphrase:
            raise WrongPassphrase()
        return FAKE_NSEC_PREFIX + self.me.pubkey[:58]

    async def export_ncryptsec(self, passphrase: str) -> str:
        await self._enter("export_ncryptsec")
        if passphrase != self.me.passphrase:
            raise WrongPassphrase()
        return FAKE_NCRYPTSEC_PREFIX + passphrase

    async def change_passphrase(self, old: str, new: str) -> None:
        await self._enter("change_passphrase")
        if old != self.me.passphrase:
            raise WrongPassphrase("The current passphrase is not right.")
        self.me.passphrase = new

    async def delete_all_data(self) -> None:
        await self._enter("delete_all_data")
        self.accounts.clear()
        self.active = None

    # --- profiles and contacts ---

    async def own_profile(self) -> ProfileView:
        await self._enter("own_profile")
        me = self.me
        npub = fake_npub(me.pubkey)
        return ProfileView(me.pubkey, npub, me.name, me.about, "nprofile1" + me.pubkey, me.avatar)

    async def update_profile(self, name: str, about: str, avatar: bytes | None) -> ProfileView:
        await self._enter("update_profile", name, about)
        if not name.strip():
            raise InvalidInput("Your name can't be empty.", "name")
        me = self.me
        me.name, me.about, me.avatar = name.strip(), about, avatar
        return await self.own_profile()

    async def list_contacts(self) -> list[ContactRow]:
        await self._enter("list_contacts")
        return list(self.me.contacts.values())

    async def add_contact(self, npub_or_nprofile: str, name: str = "") -> ContactRow:
        await self._enter("add_contact", npub_or_nprofile, name)
        text = npub_or_nprofile.strip()
        if not (text.startswith(("npub1", "nprofile1")) and len(text) >= 63):
            raise InvalidInput("That doesn't look like an npub or nprofile.", "npub")
        known = next((c for c in self.me.contacts.values() if c.npub == text), None)
        if known is not None:  # a contact's own npub: the same person (as the app decodes it)
            return known
        pubkey = fake_pubkey(text)
        row = ContactRow(pubkey, fake_npub(pubkey), name.strip() or f"npub {pubkey[:6]}")
        self.me.contacts[pubkey] = row
        self.emit(ContactUpdated(row))
        return row

    async def contact_profile(self, pubkey: str) -> ProfileView:
        await self._enter("contact_profile", pubkey)
        row = self.me.contacts.get(pubkey)
        if row is None:
            raise NotFound("We don't know this person yet.")
        return ProfileView(pubkey, row.npub, row.name, row.about, "nprofile1" + pubkey, row.avatar)

    async def set_blocked(self, pubkey: str, blocked: bool) -> None:
        await self._enter("set_blocked", pubkey, blocked)
        row = replace(self.me.contacts[pubkey], blocked=blocked)
        self.me.contacts[pubkey] = row
        self.emit(ContactUpdated(row))

    # --- devices and relays ---

    async def list_devices(self) -> list[DeviceRow]:
        await self._enter("list_devices")
        return list(self.me.devices.values())

    async def remove_device(self, device_id: str) -> None:
        await self._enter("remove_device", device_id)
        device = self.me.devices.get(device_id)
        if device is None:
            raise NotFound("That device is already gone.")
        if device.current:
            raise NotAllowed("This device can't remove itself.")
        del self.me.devices[device_id]

    async def list_relays(self) -> list[RelayRow]:
        await self._enter("list_relays")
        return [RelayRow(url, status) for url, status in self.me.relays.items()]

    async def add_relay(self, url: str) -> None:
        await self._enter("add_relay", url)
        url = url.strip()
        if not url.startswith(("ws://", "wss://")) or len(url) < 8:
            raise InvalidInput("A relay address starts with wss:// or ws://.", "url")
        self.set_relay_status(url, RelayStatus.CONNECTING)

    async def remove_relay(self, url: str) -> None:
        await self._enter("remove_relay", url)
        if self.me.relays.pop(url, None) is None:
            raise NotFound("That relay is not in the list.")

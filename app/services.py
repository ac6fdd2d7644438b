"""Services: the one object a front end holds (the GUI bridge, the CLI).

    services = Services(AppConfig.from_env(data_dir))
    await services.start()                         # the embedded relay, when needed
    session = await services.unlock(pubkey, passphrase)
    await session.start()
    ...
    await services.close()                         # every session, then the relay

Several accounts can be unlocked side by side, each an `AccountSession` with its own
database, pool and sync; all publish on the one `bus`.
"""

from __future__ import annotations

import logging

from app.accounts import AccountManager, Unlocked
from app.bus import EventBus
from app.clock import Clock, SystemClock
from app.config import AppConfig, RelayChoice
from app.errors import NotFound
from app.events import AccountUnlocked
from app.local_blossom import SharedBlossom, default_blossom_store
from app.local_relay import EmbeddedRelay, SharedRelay
from app.models import AccountInfo
from app.remote_signing import ConnectOffer, make_offer
from app.session import AccountSession
from nostr.keys import Rng, system_rng
from nostr.nip46_uri import looks_like_bunker

log = logging.getLogger(__name__)


class Services:
    def __init__(
        self,
        config: AppConfig,
        *,
        clock: Clock | None = None,
        rng: Rng = system_rng,
        bus: EventBus | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.rng = rng
        self.bus = bus or EventBus()
        self.accounts = AccountManager(config, self.clock, rng)
        self._sessions: dict[str, AccountSession] = {}
        self._shared: SharedRelay | None = None
        self._blossom: SharedBlossom | None = None

    @property
    def local_relay(self) -> EmbeddedRelay | None:
        """The embedded relay while this process serves it (None when another one does)."""
        return None if self._shared is None else self._shared.relay

    async def start(self) -> None:
        """Serve the local relay address (and the local Blossom store) in-process unless
        another process does; take over from the shared store whenever that process goes
        away."""
        if self.config.embedded_relay and self._shared is None:
            assert self.config.relay_store is not None
            legacy = (self.config.data_dir / "relay",)  # an older Burrow's own store
            self._shared = SharedRelay(self.config.local_relay, self.config.relay_store, legacy)
            await self._shared.start()
        if self.config.embedded_relay and self.config.embedded_blossom and self._blossom is None:
            # Media with no internet: encrypted blobs wait here for this machine's others.
            url = self.config.local_blossom
            store = self.config.blossom_store or default_blossom_store(url)
            self._blossom = SharedBlossom(url, store)
            await self._blossom.start()

    # --- accounts ------------------------------------------------------------------------

    def list_accounts(self) -> list[AccountInfo]:
        return self.accounts.list_accounts(frozenset(self._sessions))

    async def create_account(
        self, name: str, passphrase: str, relays: RelayChoice = None
    ) -> AccountSession:
        """A new identity; its profile, relay lists and key package go out on `start`.
        ``relays``: ``"local"`` (this computer only, the default), ``"public"`` or URLs."""
        urls = self.config.initial_relays(relays)
        session = await self._open(await self.accounts.create(name, passphrase))
        await session.relays.start_with(urls)
        return session

    async def import_account(
        self,
        nsec: str,
        passphrase: str,
        name: str = "",
        relays: RelayChoice = None,
        *,
        key_passphrase: str | None = None,
    ) -> AccountSession:
        """An existing identity (nsec, ncryptsec opened with ``key_passphrase``, by
        default ``passphrase``, or a ``bunker://`` string: the key stays in that remote
        signer); lists it already published (found on these relays or the discovery relays)
        replace ``relays`` once connected."""
        urls = self.config.initial_relays(relays)
        if looks_like_bunker(nsec):
            unlocked = await self.accounts.connect_bunker(nsec, passphrase, name)
        else:
            unlocked = await self.accounts.import_nsec(nsec, passphrase, name, key_passphrase)
        session = await self._open(unlocked)
        await session.relays.start_with(urls)
        return session

    async def offer_connection(self, relays: RelayChoice = None) -> ConnectOffer:
        """A ``nostrconnect://`` offer (for a QR code) on ``relays`` (default: the local
        relay), listening for a signer to take it up: pass it to `accept_offer`."""
        return await make_offer(tuple(self.config.initial_relays(relays)), self.config, self.rng)

    async def accept_offer(
        self,
        offer: ConnectOffer,
        passphrase: str,
        timeout: float,
        name: str = "",
        relays: RelayChoice = None,
    ) -> AccountSession:
        """Wait until a signer takes ``offer`` up, then store and open its account (no
        secret stored). The offer is closed on failure."""
        try:
            signer, description = await offer.wait(timeout)
        except BaseException:
            await offer.signer.close()
            raise
        unlocked = await self.accounts.adopt_remote(signer, description, passphrase, name)
        session = await self._open(unlocked)
        await session.relays.start_with(self.config.initial_relays(relays))
        return session

    async def unlock(self, account: str | None, passphrase: str) -> AccountSession:
        """Open ``account`` (hex, npub or name; the only one when None)."""
        pubkey = self.accounts.resolve(account)
        if pubkey in self._sessions:
            return self._sessions[pubkey]
        return await self._open(await self.accounts.unlock(pubkey, passphrase))

    async def _open(self, unlocked: Unlocked) -> AccountSession:
        session = AccountSession(unlocked, self.config, self.clock, self.rng, self.bus)
        try:
            await session.open()
        except BaseException:
            await session.close()
            raise
        self._sessions[unlocked.pubkey] = session
        self.bus.publish(AccountUnlocked(unlocked.pubkey, unlocked.name))
        return session

    def session(self, pubkey: str | None = None) -> AccountSession:
        """An unlocked account's session (the only one when ``pubkey`` is None)."""
        if pubkey is None and len(self._sessions) == 1:
            return next(iter(self._sessions.values()))
        if pubkey is not None and pubkey in self._sessions:
            return self._sessions[pubkey]
        raise NotFound("that account is not unlocked")

    @property
    def sessions(self) -> tuple[AccountSession, ...]:
        return tuple(self._sessions.values())

    async def lock(self, pubkey: str) -> None:
        session = self._sessions.pop(pubkey, None)
        if session is not None:
            await session.close()

    async def change_passphrase(self, pubkey: str, old: str, new: str) -> None:
        session = self.session(pubkey)
        session.account = await self.accounts.change_passphrase(session.account, old, new)

    def export_nsec(self, pubkey: str, passphrase: str) -> str:
        return self.accounts.export_nsec(self.session(pubkey).account, passphrase)

    async def export_ncryptsec(self, pubkey: str, passphrase: str, key_passphrase: str) -> str:
        """The NIP-49 encrypted form of the secret key, under ``key_passphrase``."""
        account = self.session(pubkey).account
        return await self.accounts.export_ncryptsec(account, passphrase, key_passphrase)

    async def delete_account(self, pubkey: str) -> None:
        """Close the account and delete its local data (nothing is deleted from relays)."""
        await self.lock(pubkey)
        self.accounts.delete(pubkey)

    async def delete_all_data(self) -> None:
        """Close every account and erase the data folder."""
        for pubkey in list(self._sessions):
            await self.lock(pubkey)
        self.accounts.delete_all()  # the relay's store is shared, not in the data folder

    async def close(self) -> None:
        for pubkey in list(self._sessions):
            await self.lock(pubkey)
        if self._shared is not None:
            await self._shared.stop()
            self._shared = None
        if self._blossom is not None:
            await self._blossom.stop()
            self._blossom = None
        self.bus.close()

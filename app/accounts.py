"""Accounts on this machine: create, import, unlock, export, re-key, delete.

Each account is one Nostr identity with its own SQLCipher database under the data folder
(``storage.AccountRegistry`` keeps the list, which needs no passphrase to read). The secret
key lives only inside the encrypted database; `Unlocked` carries it in memory while the
account is open, with a keyed digest of the passphrase for re-checks (never the passphrase).
An account of a NIP-46 remote signer stores no secret key at all (`app.remote_signing`):
its `Unlocked` carries the remote signer instead.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass, field, replace

import storage
from app.clock import Clock
from app.config import AppConfig
from app.errors import (
    AccountExists,
    InvalidInput,
    NotAllowed,
    NotFound,
    WrongPassphrase,
    translate,
)
from app.key_text import explain
from app.models import AccountInfo
from app.offload import in_thread
from app.remote_signing import SignerDescription, connect_bunker, open_remote
from nostr import nip49
from nostr.errors import DecodeError, InvalidKey
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.metadata import Metadata
from nostr.relay.remote_signer import RemoteSigner
from nostr.signer import KeySigner, Signer
from storage import AccountRegistry, Database
from storage.repos import accounts as accounts_repo


@dataclass(frozen=True, slots=True)
class PassphraseCheck:
    """Verifies a passphrase again later without keeping it (HMAC under a session key)."""

    _key: bytes = field(repr=False)
    _digest: bytes = field(repr=False)

    @classmethod
    def of(cls, passphrase: str) -> PassphraseCheck:
        key = secrets.token_bytes(32)
        return cls(key, hmac.digest(key, passphrase.encode(), "sha256"))

    def matches(self, passphrase: str) -> bool:
        candidate = hmac.digest(self._key, passphrase.encode(), "sha256")
        return hmac.compare_digest(candidate, self._digest)


@dataclass(frozen=True, slots=True)
class Unlocked:
    """An open account: its database and signer, until `AccountManager.close`."""

    pubkey: str
    name: str
    db: Database
    signer: Signer = field(repr=False)
    """A `KeySigner` over the stored key, or the account's `RemoteSigner`."""
    check: PassphraseCheck = field(repr=False)
    secret: SecretKey | None = field(default=None, repr=False)
    """The identity key when it is stored here; None for a remote signer's account."""

    @property
    def remote(self) -> RemoteSigner | None:
        return self.signer if isinstance(self.signer, RemoteSigner) else None


def parse_nsec(text: str) -> SecretKey:
    """An ``nsec1…`` (or 64 hex characters) as a secret key; `InvalidInput` otherwise."""
    text = text.strip()
    try:
        return SecretKey.from_hex(text) if len(text) == 64 else SecretKey.from_bech32(text)
    except (DecodeError, InvalidKey, ValueError):
        raise InvalidInput(explain(text, ("nsec",))) from None


async def open_ncryptsec(text: str, key_passphrase: str) -> SecretKey:
    """The secret inside a NIP-49 ``ncryptsec1…``; scrypt runs on a worker thread so the
    window's loop keeps painting. `WrongPassphrase` or `InvalidInput` on failure."""
    try:
        opened = await in_thread(functools.partial(nip49.decrypt, text, key_passphrase))
    except nip49.WrongPassphrase:
        raise WrongPassphrase("that passphrase does not open this ncryptsec") from None
    except (DecodeError, InvalidKey):
        raise InvalidInput("that is not a valid ncryptsec (NIP-49 encrypted key)") from None
    return opened.secret


async def parse_secret(text: str, key_passphrase: str) -> SecretKey:
    """An nsec, hex secret or ncryptsec (opened with ``key_passphrase``)."""
    if nip49.looks_like(text):
        return await open_ncryptsec(text, key_passphrase)
    return parse_nsec(text)


class AccountManager:
    def __init__(self, config: AppConfig, clock: Clock, rng: Rng = system_rng) -> None:
        self.config = config
        self.registry = AccountRegistry(config.data_dir)
        self._clock = clock
        self._rng = rng

    def list_accounts(self, unlocked: frozenset[str] = frozenset()) -> list[AccountInfo]:
        """Every identity stored here, most recently created first."""
        try:
            entries = self.registry.accounts()
        except storage.StorageError as exc:
            raise translate(exc) from exc
        entries.sort(key=lambda e: e.created_at, reverse=True)
        return [
            AccountInfo(
                e.pubkey, PublicKey.from_hex(e.pubkey).to_bech32(), e.label, e.pubkey in unlocked
            )
            for e in entries
        ]

    def resolve(self, account: str | None) -> str:
        """The hex key of ``account`` (hex, npub or label); the only account when None."""
        entries = self.registry.accounts()
        if account is None:
            if len(entries) == 1:
                return entries[0].pubkey
            if not entries:
                raise NotFound("no account yet: create one with `account create`")
            raise InvalidInput("several accounts are stored here: name one with --account")
        for entry in entries:
            if account in (entry.pubkey, entry.label) or account == _npub(entry.pubkey):
                return entry.pubkey
        raise NotFound(f"no account {account!r} in {self.config.data_dir}")

    async def create(self, name: str, passphrase: str) -> Unlocked:
        """A new identity with a fresh key; its profile name is stored for publishing."""
        return await self._store(SecretKey.generate(self._rng), name, passphrase)

    async def import_nsec(
        self, nsec: str, passphrase: str, name: str = "", key_passphrase: str | None = None
    ) -> Unlocked:
        """Store an nsec (or hex) or an ncryptsec; the ncryptsec opens with
        ``key_passphrase``, or with the account's new ``passphrase`` when none is given."""
        secret = await parse_secret(nsec, passphrase if key_passphrase is None else key_passphrase)
        return await self._store(secret, name, passphrase)

    async def connect_bunker(self, uri: str, passphrase: str, name: str = "") -> Unlocked:
        """A new account whose key stays in the remote signer named by ``uri``."""
        signer, description = await connect_bunker(uri, self.config, self._rng)
        return await self.adopt_remote(signer, description, passphrase, name)

    async def adopt_remote(
        self, signer: RemoteSigner, description: SignerDescription, passphrase: str, name: str
    ) -> Unlocked:
        """Store the account of a signer connected another way (a nostrconnect:// offer)."""
        try:
            return await self._store_remote(signer, description, name, passphrase)
        except BaseException:
            await signer.close()
            raise

    async def _store_remote(
        self, signer: RemoteSigner, description: SignerDescription, name: str, passphrase: str
    ) -> Unlocked:
        pubkey = signer.public_key.hex
        db = await self._new_database(pubkey, name, passphrase, None, description.to_json())
        return Unlocked(pubkey, name.strip(), db, signer, PassphraseCheck.of(passphrase))

    async def _store(self, secret: SecretKey, name: str, passphrase: str) -> Unlocked:
        pubkey = secret.public_key().hex
        db = await self._new_database(pubkey, name, passphrase, secret.data, None)
        signer = KeySigner(secret, rng=self._rng)
        check = PassphraseCheck.of(passphrase)
        return Unlocked(pubkey, name.strip(), db, signer, check, secret)

    async def _new_database(
        self, pubkey: str, name: str, passphrase: str, secret: bytes | None, remote: str | None
    ) -> Database:
        if self.registry.get(pubkey) is not None:
            raise AccountExists(f"account {_npub(pubkey)} already exists here")
        name = name.strip()
        path = self.registry.database_path(pubkey)
        path.parent.mkdir(parents=True, exist_ok=True)
        now = self._clock.now()
        try:
            db = await Database.open(path, passphrase, create=True, profile=self.config.cipher)
        except storage.StorageError as exc:
            raise translate(exc) from exc
        try:
            await db.transact(_init_account, pubkey, (secret, remote), name, now)
            self.registry.add(pubkey, name or _npub(pubkey)[:16], now=now)
        except BaseException:
            await db.close()
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            raise
        return db

    async def unlock(self, pubkey: str, passphrase: str) -> Unlocked:
        entry = self.registry.get(pubkey)
        if entry is None:
            raise NotFound(f"no account {pubkey} here")
        path = self.registry.database_path(pubkey)
        try:
            db = await Database.open(path, passphrase, profile=self.config.cipher)
            account = await db.run(accounts_repo.require)
        except storage.WrongPassphrase:
            raise WrongPassphrase("wrong passphrase") from None
        except storage.StorageError as exc:
            raise translate(exc) from exc
        name = _profile_name(account.profile) or entry.label
        check = PassphraseCheck.of(passphrase)
        if account.secret_key is None:
            assert account.remote_signer is not None  # the schema holds one of the two
            description = SignerDescription.from_json(account.remote_signer)
            user = PublicKey.from_hex(pubkey)
            signer = open_remote(description, user, self.config, self._rng)
            return Unlocked(pubkey, name, db, signer, check)
        secret = SecretKey(account.secret_key)
        return Unlocked(pubkey, name, db, KeySigner(secret, rng=self._rng), check, secret)

    async def change_passphrase(self, unlocked: Unlocked, old: str, new: str) -> Unlocked:
        """Re-key the database; returns the account with its new passphrase check."""
        if not unlocked.check.matches(old):
            raise WrongPassphrase("the current passphrase is wrong")
        try:
            await unlocked.db.rekey(new)
        except storage.StorageError as exc:
            raise translate(exc) from exc
        return replace(unlocked, check=PassphraseCheck.of(new))

    def export_nsec(self, unlocked: Unlocked, passphrase: str) -> str:
        return self._secret_of(unlocked, passphrase).to_bech32()

    def _secret_of(self, unlocked: Unlocked, passphrase: str) -> SecretKey:
        if not unlocked.check.matches(passphrase):
            raise WrongPassphrase("wrong passphrase")
        if unlocked.secret is None:
            raise NotAllowed("this account's key is in a remote signer, not on this computer")
        return unlocked.secret

    async def export_ncryptsec(
        self, unlocked: Unlocked, passphrase: str, key_passphrase: str
    ) -> str:
        """The secret key as a NIP-49 ncryptsec under ``key_passphrase``, after re-checking
        the account passphrase. The key security byte says "unknown": this computer cannot
        tell whether the key was ever pasted in the clear."""
        secret = self._secret_of(unlocked, passphrase)
        if not key_passphrase:
            raise InvalidInput("choose a passphrase to encrypt the key with")
        encrypt = functools.partial(nip49.encrypt, secret, key_passphrase, rng=self._rng)
        return await in_thread(encrypt)

    def rename(self, pubkey: str, name: str) -> None:
        self.registry.add(pubkey, name, now=self._clock.now())

    def delete(self, pubkey: str) -> None:
        """Remove one account's database and registry entry (it must be closed)."""
        try:
            self.registry.remove(pubkey)
        except storage.StorageError as exc:
            raise translate(exc) from exc

    def delete_all(self) -> None:
        """Erase the whole data folder (every account must be closed)."""
        try:
            storage.delete_all_local_data(self.config.data_dir)
        except storage.StorageError as exc:
            raise translate(exc) from exc


def _init_account(
    conn: storage.Connection,
    pubkey: str,
    identity: tuple[bytes | None, str | None],
    name: str,
    now: int,
) -> None:
    """``identity``: the secret key, or the remote signer's description (one of them)."""
    secret, remote = identity
    accounts_repo.create(conn, pubkey, secret, now=now, remote_signer=remote)
    if name:
        # Stored unpublished (created_at 0): the relay service publishes it once connected.
        accounts_repo.set_profile(conn, Metadata(name=name).to_content(), 0)


def _profile_name(content: str | None) -> str:
    if not content:
        return ""
    try:
        meta = Metadata.from_content(content)
    except DecodeError:
        return ""
    return meta.display_name or meta.name or ""


def _npub(pubkey: str) -> str:
    return PublicKey.from_hex(pubkey).to_bech32()

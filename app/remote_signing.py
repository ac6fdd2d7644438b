"""Accounts whose identity key lives in a NIP-46 remote signer ("bunker").

Such an account stores no secret key: only how to reach the signer (its key and relays) and
our disposable client key, which can ask the signer but never sign as the user. The bunker
string's one-time ``secret`` is used for the first ``connect`` and not kept.

    signer, description = await connect_bunker("bunker://...", config, rng)
    signer = open_remote(description, user_pubkey, config, rng)   # after an unlock
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.config import AppConfig
from app.errors import InvalidInput, translate
from nostr.backoff import Backoff
from nostr.errors import DecodeError, InvalidKey, NostrError
from nostr.keys import PublicKey, Rng, SecretKey
from nostr.nip46_uri import BunkerUri, NostrConnectUri
from nostr.relay import PoolOptions
from nostr.relay.remote_signer import RemoteSigner, RemoteSignerOptions


@dataclass(frozen=True, slots=True)
class SignerDescription:
    """What the account row keeps of a remote signer (``account.remote_signer``)."""

    signer: str
    relays: tuple[str, ...]
    client_key: bytes = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(
            {
                "signer": self.signer,
                "relays": list(self.relays),
                "client_key": self.client_key.hex(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SignerDescription:
        data = json.loads(text)
        return cls(data["signer"], tuple(data["relays"]), bytes.fromhex(data["client_key"]))

    @classmethod
    def of(cls, signer: RemoteSigner, client: SecretKey) -> SignerDescription:
        return cls(signer.bunker.signer.hex, signer.bunker.relays, client.data)


def pool_options(config: AppConfig) -> PoolOptions:
    """Relay pool settings from the configured timeouts (the account's and the signer's)."""
    wait = config.timeouts
    return PoolOptions(
        publish_timeout=wait.publish,
        connect_timeout=wait.connect,
        reconnect=Backoff(base=min(0.5, wait.reconnect_max), cap=wait.reconnect_max),
    )


def signer_options(config: AppConfig) -> RemoteSignerOptions:
    wait = config.timeouts
    return RemoteSignerOptions(attempt_timeout=wait.signer, connect_timeout=wait.connect)


def _make(
    client: SecretKey, bunker: BunkerUri, user: PublicKey | None, config: AppConfig, rng: Rng
) -> RemoteSigner:
    return RemoteSigner(
        client,
        bunker,
        user=user,
        options=signer_options(config),
        pool_options=pool_options(config),
        rng=rng,
    )


def parse_bunker(text: str) -> BunkerUri:
    try:
        return BunkerUri.parse(text)
    except (DecodeError, InvalidKey) as exc:
        raise InvalidInput(f"that is not a usable bunker:// string ({exc})") from None


async def connect_bunker(
    text: str, config: AppConfig, rng: Rng
) -> tuple[RemoteSigner, SignerDescription]:
    """Connect to the signer named by a ``bunker://`` string and learn the user's key.

    The signer is started; the caller closes it on failure. `SignerOffline` /
    `SignerRefused` when it does not answer or says no."""
    bunker = parse_bunker(text)
    client = SecretKey.generate(rng)
    signer = _make(client, bunker, None, config, rng)
    try:
        await signer.connect()
    except NostrError as exc:
        await signer.close()
        raise translate(exc) from exc
    except BaseException:
        await signer.close()
        raise
    return signer, SignerDescription.of(signer, client)


def open_remote(
    description: SignerDescription, user: PublicKey, config: AppConfig, rng: Rng
) -> RemoteSigner:
    """The signer of an unlocked account (not started: the first request starts it)."""
    bunker = BunkerUri(PublicKey.from_hex(description.signer), description.relays)
    return _make(SecretKey(description.client_key), bunker, user, config, rng)


@dataclass(slots=True)
class ConnectOffer:
    """A ``nostrconnect://`` offer shown as a QR code, and the signer that waits for it."""

    uri: NostrConnectUri
    signer: RemoteSigner
    client: SecretKey = field(repr=False)

    @property
    def text(self) -> str:
        return self.uri.to_uri()

    async def wait(self, timeout: float) -> tuple[RemoteSigner, SignerDescription]:
        """Until a signer takes the offer up; then the user's key is learnt."""
        try:
            await self.signer.await_offer(self.uri, timeout)
            await self.signer.get_public_key()
        except NostrError as exc:
            raise translate(exc) from exc
        return self.signer, SignerDescription.of(self.signer, self.client)


async def make_offer(relays: tuple[str, ...], config: AppConfig, rng: Rng) -> ConnectOffer:
    """A fresh ``nostrconnect://`` offer on ``relays``, already listening for the answer."""
    client = SecretKey.generate(rng)
    # Short enough for a QR code (213 bytes at most): no perms (the bunker:// flow asks
    # for them in its connect request) and a 64-bit secret, which only has to tell this
    # offer's answer from others for the few minutes it is shown.
    offer = NostrConnectUri(client.public_key(), relays, rng(8).hex(), (), "Burrow")
    signer = RemoteSigner.for_offer(
        client, offer, options=signer_options(config), pool_options=pool_options(config), rng=rng
    )
    await signer.start()
    return ConnectOffer(offer, signer, client)

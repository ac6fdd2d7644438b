"""AppConfig: everything the services need to know about this installation.

Built once by the composition root (``main.py`` or the CLI) and passed down. `from_env`
reads the few environment overrides a user or a test harness may set:

``BURROW_LOCAL_RELAY``     the local relay URL (default ``ws://127.0.0.1:4869``)
``BURROW_EMBEDDED_RELAY``  ``0`` never starts the embedded relay; ``1`` (default) starts it
                           when nothing serves the local relay address
``XDG_STATE_HOME``         where the embedded relay's shared store lives (default
                           ``~/.local/state``): ``burrow/relay/<port>`` under it
``BURROW_DISCOVERY``       comma-separated discovery relays (people's lists are looked up
                           and ours published there); unset: `DISCOVERY_RELAYS`; empty: none
``BURROW_PUBLIC_RELAYS``   comma-separated relays onboarding offers as "public relays"
                           (default `PUBLIC_RELAYS`)
``BURROW_HTTP_CA``         a PEM file of extra certificates HTTPS trusts (tests only)
``BURROW_HTTP_HOSTS``      ``domain=127.0.0.1:port,...``: where HTTPS connects (tests only)
``BURROW_LOOPBACK_ONLY``   ``1`` refuses every relay and HTTP address off this machine (the
                           test suite sets it: tests never dial a public address)
``BURROW_RECONNECT_MAX``   longest wait (seconds) between reconnection attempts
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app.errors import InvalidInput
from app.http import HttpSettings
from nostr.errors import DecodeError
from nostr.relay_url import normalize_relay_url
from storage import PINNED, CipherProfile
from storage.repos.unopened import Limits

DEFAULT_LOCAL_RELAY = "ws://127.0.0.1:4869"
DEFAULT_LOCAL_BLOSSOM = "http://127.0.0.1:4870"
"""The embedded Blossom store (encrypted blobs only) beside the embedded relay."""
PUBLIC_RELAYS = ("wss://relay.damus.io", "wss://relay.primal.net", "wss://nos.lol")
"""What a new account may start with (White Noise's defaults): 10002, 10050 and 10051."""
DISCOVERY_RELAYS = (
    "wss://purplepag.es",
    "wss://index.hzrd149.com",
    "wss://indexer.coracle.social",
    "wss://relay.primal.net",
    "wss://relay.damus.io",
    "wss://nos.lol",
)
"""Indexers (and big relays) that keep everyone's profiles and relay lists (outbox model)."""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/burrow`` (or ``~/.local/share/burrow``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "burrow"


def default_relay_store(local_relay: str, env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/burrow/relay/<port>``: one store per user and local relay address,
    whatever the data folder, so every Burrow process of this user sees the same events."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    base = env.get("XDG_STATE_HOME") or str(home / ".local" / "state")
    port = urlsplit(local_relay).port or 0
    return Path(base) / "burrow" / "relay" / str(port)


def _relay(url: str) -> str:
    try:
        return normalize_relay_url(url.strip())
    except DecodeError as exc:
        raise InvalidInput(str(exc)) from None


RelayChoice = str | Sequence[str] | None
"""A new account's relays: "local", "public" or URLs (see `AppConfig.initial_relays`)."""


def _urls(text: str) -> tuple[str, ...]:
    return tuple(u for u in text.split(",") if u.strip())


@dataclass(frozen=True, slots=True)
class Timeouts:
    publish: float = 8.0
    """Seconds to wait for a relay OK before a publish counts as failed."""
    fetch: float = 6.0
    """Seconds to wait for EOSE when fetching stored events."""
    connect: float = 5.0
    reconnect_max: float = 30.0
    """Longest wait between reconnection attempts to a relay that went away."""
    signer: float = 10.0
    """Seconds a remote signer (NIP-46) gets to answer one try of a request (three tries)."""


@dataclass(frozen=True, slots=True)
class AppConfig:
    data_dir: Path
    local_relay: str = DEFAULT_LOCAL_RELAY
    """The default relay of a new account; served in-process when nothing else serves it."""
    embedded_relay: bool = True
    discovery_relays: tuple[str, ...] = ()
    """Relays where people's profiles, relay lists and key packages are looked up too, and
    where our own lists are published (`from_env` defaults to `DISCOVERY_RELAYS`)."""
    public_relays: tuple[str, ...] = PUBLIC_RELAYS
    """The "public relays" choice of onboarding."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    http: HttpSettings = field(default_factory=HttpSettings)
    """NIP-05 and profile-picture fetching."""
    cipher: CipherProfile = PINNED
    """SQLCipher settings; only tests use a cheaper key derivation."""
    relay_store: Path | None = None
    """Where the embedded relay keeps its events (LMDB); `default_relay_store` when None."""
    unopened: Limits = field(default_factory=Limits)
    """Per group: how many (and how large) 445 events no key opens are kept for a retry."""
    blossom_servers: tuple[str, ...] = ()
    """Blossom servers of an account that has not chosen its own (kind 10063) yet."""
    local_blossom: str = DEFAULT_LOCAL_BLOSSOM
    """The embedded Blossom store's address: the default server when none is configured."""
    embedded_blossom: bool = True
    """Serve `local_blossom` in-process (with the embedded relay) when nothing else does
    (``BURROW_EMBEDDED_BLOSSOM``)."""
    media_cache_bytes: int = 1024 * 1024 * 1024
    """Decrypted files kept in the encrypted database; the oldest go first past this."""
    blossom_store: Path | None = None
    """Where the embedded Blossom store keeps its blobs; ``$XDG_STATE_HOME/burrow/blossom/
    <port>`` when None."""
    max_event_size: int = 64 * 1024
    """Bytes of event JSON we expect every relay to take: 64 KiB is strfry's default and
    rust-nostr's (the embedded relay's) limit. An invitation larger than this is refused
    before anything changes (`InviteTooLarge`), instead of a Welcome that no relay takes."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "local_relay", _relay(self.local_relay))
        store = self.relay_store or default_relay_store(self.local_relay)
        object.__setattr__(self, "relay_store", Path(store))
        object.__setattr__(
            self, "discovery_relays", tuple(dict.fromkeys(_relay(u) for u in self.discovery_relays))
        )
        object.__setattr__(
            self, "public_relays", tuple(dict.fromkeys(_relay(u) for u in self.public_relays))
        )

    def initial_relays(self, choice: RelayChoice) -> tuple[str, ...]:
        """A new account's relays: ``"local"`` (this computer only, the default),
        ``"public"`` (`public_relays`), or the URLs given."""
        if choice is None or choice == "local":
            return (self.local_relay,)
        if choice == "public":
            return self.public_relays
        if isinstance(choice, str):
            choice = choice.split(",")
        urls = tuple(dict.fromkeys(_relay(u) for u in choice if u.strip()))
        if not urls:
            raise InvalidInput("name at least one relay (or `local` or `public`)")
        return urls

    @classmethod
    def from_env(
        cls, data_dir: Path | str | None = None, env: Mapping[str, str] | None = None
    ) -> AppConfig:
        env = os.environ if env is None else env
        discovery = _urls(env["BURROW_DISCOVERY"]) if "BURROW_DISCOVERY" in env else None
        public = _urls(env.get("BURROW_PUBLIC_RELAYS", "")) or PUBLIC_RELAYS
        timeouts = Timeouts()
        if env.get("BURROW_RECONNECT_MAX"):
            try:
                timeouts = Timeouts(reconnect_max=max(0.5, float(env["BURROW_RECONNECT_MAX"])))
            except ValueError:
                raise InvalidInput("BURROW_RECONNECT_MAX must be a number of seconds") from None
        if env.get("BURROW_SIGNER_TIMEOUT"):
            try:
                signer = max(0.5, float(env["BURROW_SIGNER_TIMEOUT"]))
            except ValueError:
                raise InvalidInput("BURROW_SIGNER_TIMEOUT must be a number of seconds") from None
            timeouts = dataclasses.replace(timeouts, signer=signer)
        local_relay = _relay(env.get("BURROW_LOCAL_RELAY", DEFAULT_LOCAL_RELAY))
        hosts = tuple(
            (domain.strip().lower(), address.strip())
            for domain, _, address in (
                p.partition("=") for p in _urls(env.get("BURROW_HTTP_HOSTS", ""))
            )
        )
        http = HttpSettings(ca_file=env.get("BURROW_HTTP_CA") or None, hosts=hosts)
        return cls(
            http=http,
            data_dir=Path(data_dir) if data_dir is not None else default_data_dir(),
            local_relay=local_relay,
            relay_store=default_relay_store(local_relay, env),
            embedded_relay=env.get("BURROW_EMBEDDED_RELAY", "1") not in ("0", "false", "no"),
            discovery_relays=DISCOVERY_RELAYS if discovery is None else discovery,
            public_relays=public,
            timeouts=timeouts,
            blossom_servers=_urls(env.get("BURROW_BLOSSOM", "")),
            local_blossom=env.get("BURROW_LOCAL_BLOSSOM", DEFAULT_LOCAL_BLOSSOM),
            embedded_blossom=env.get("BURROW_EMBEDDED_BLOSSOM", "1") not in ("0", "false", "no"),
        )

"""NIP-46 connection strings: ``bunker://`` (from the signer) and ``nostrconnect://`` (from us).

``bunker://<remote-signer-pubkey>?relay=<url>&relay=<url>&secret=<optional>``: pasted by the
user; we connect to the signer on those relays.

``nostrconnect://<client-pubkey>?relay=<url>&secret=<required>&perms=<a,b>&name=<app>``:
shown by us (a QR code); the signer answers our key with a ``connect`` response whose result
is the secret, which proves the answer is meant for this offer.

Parsed by hand: the pure core does not import ``urllib`` (it also holds the network
client), and the grammar here is small.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field

from nostr.errors import DecodeError, InvalidKey
from nostr.keys import PublicKey
from nostr.relay_url import normalize_relay_url

BUNKER = "bunker"
NOSTRCONNECT = "nostrconnect"
MAX_URI = 8192
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")


def quote(text: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters."""
    return "".join(chr(b) if chr(b) in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def unquote(text: str) -> str:
    """Decode ``%XX`` escapes (and ``+`` as a space, as form encoding does) as UTF-8."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or any(h not in string.hexdigits for h in pair):
                raise DecodeError("a bad percent escape in a connection string")
            out.append(int(pair, 16))
            i += 3
            continue
        out.extend(b" " if c == "+" else c.encode())
        i += 1
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise DecodeError("a connection string parameter is not UTF-8") from None


def _split(text: str, scheme: str) -> tuple[PublicKey, dict[str, list[str]]]:
    text = text.strip()
    if len(text) > MAX_URI:
        raise DecodeError("connection string too long")
    prefix = f"{scheme}://"
    if not text.lower().startswith(prefix):
        raise DecodeError(f"a connection string must start with {prefix}")
    body = text[len(prefix) :]
    key, _, query = body.partition("?")
    try:
        pubkey = PublicKey.from_hex(key.rstrip("/").lower())
    except (DecodeError, InvalidKey):
        raise DecodeError(f"{prefix} must be followed by a 64-hex public key") from None
    params: dict[str, list[str]] = {}
    for pair in query.split("&") if query else ():
        name, _, value = pair.partition("=")
        params.setdefault(unquote(name), []).append(unquote(value))
    return pubkey, params


def _relays(params: dict[str, list[str]]) -> tuple[str, ...]:
    relays = tuple(dict.fromkeys(normalize_relay_url(url) for url in params.get("relay", [])))
    if not relays:
        raise DecodeError("a connection string needs at least one relay")
    return relays


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values and values[0] else None


def _metadata(params: dict[str, list[str]]) -> dict[str, str]:
    """The older ``metadata={"name":..,"url":..}`` parameter, where a client sends it."""
    raw = _single(params, "metadata")
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        raise DecodeError("nostrconnect metadata is not JSON") from None
    if not isinstance(data, dict):
        raise DecodeError("nostrconnect metadata must be a JSON object")
    return {k: v for k, v in data.items() if k in ("name", "url", "image") and isinstance(v, str)}


@dataclass(frozen=True, slots=True)
class BunkerUri:
    signer: PublicKey
    relays: tuple[str, ...]
    secret: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str) -> BunkerUri:
        """Raises ``DecodeError`` for anything but a well-formed ``bunker://`` string."""
        signer, params = _split(text, BUNKER)
        return cls(signer, _relays(params), _single(params, "secret"))

    def to_uri(self) -> str:
        query = [f"relay={quote(url)}" for url in self.relays]
        if self.secret:
            query.append(f"secret={quote(self.secret)}")
        return f"{BUNKER}://{self.signer.hex}?{'&'.join(query)}"


@dataclass(frozen=True, slots=True)
class NostrConnectUri:
    client: PublicKey
    relays: tuple[str, ...]
    secret: str = field(repr=False)
    perms: tuple[str, ...] = ()
    name: str | None = None
    url: str | None = None
    image: str | None = None

    @classmethod
    def parse(cls, text: str) -> NostrConnectUri:
        client, params = _split(text, NOSTRCONNECT)
        secret = _single(params, "secret")
        if secret is None:
            raise DecodeError("a nostrconnect:// string needs a secret")
        perms = tuple(p for p in (_single(params, "perms") or "").split(",") if p)
        meta = {**_metadata(params), **{k: v[0] for k, v in params.items() if v and v[0]}}
        return cls(
            client, _relays(params), secret, perms, meta.get("name"), meta.get("url"),
            meta.get("image"),
        )  # fmt: skip

    def to_uri(self) -> str:
        query = [f"relay={quote(url)}" for url in self.relays]
        query.append(f"secret={quote(self.secret)}")
        if self.perms:
            query.append(f"perms={quote(','.join(self.perms))}")
        described = {k: v for k, v in (("name", self.name), ("url", self.url)) if v}
        described |= {"image": self.image} if self.image else {}
        for key, value in described.items():
            query.append(f"{key}={quote(value)}")
        if described:
            # The older form, which rust-nostr based signers still require.
            query.append(f"metadata={quote(json.dumps(described, separators=(',', ':')))}")
        return f"{NOSTRCONNECT}://{self.client.hex}?{'&'.join(query)}"


def looks_like_bunker(text: str) -> bool:
    """Whether pasted text is meant as a bunker string (routing input, not validation)."""
    return text.strip().lower().startswith(f"{BUNKER}://")

"""NIP-46 remote signing, sans-I/O: kind 24133 request and response messages.

A request is ``{"id", "method", "params": [str, ...]}`` NIP-44-encrypted from our local
(client) key to the remote signer's key and ``p``-tagged to it; the response
``{"id", "result", "error"}`` comes back the same way. ``result == "auth_url"`` is not an
answer but a challenge: ``error`` holds a URL for the person to open, and the real response
follows later under the same id.

Everything the signer sends back is checked here: a signed event must be exactly the
event we asked for (same fields, our user's key, a valid signature), so a confused or
hostile signer cannot make us publish something else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nostr import nip44
from nostr.errors import DecodeError, InvalidEvent, NostrError, RemoteSignerError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.kinds import Kind

KIND = 24133
AUTH_URL = "auth_url"


class Method(StrEnum):
    CONNECT = "connect"
    GET_PUBLIC_KEY = "get_public_key"
    SIGN_EVENT = "sign_event"
    NIP44_ENCRYPT = "nip44_encrypt"
    NIP44_DECRYPT = "nip44_decrypt"
    PING = "ping"


# What Burrow asks a signer to allow up front (NIP-46 ``perms``): the kinds it signs as the
# user (profile, contacts, deletions, seals, relay lists, AUTH, Blossom, key packages) and
# NIP-44 for gift-wrapped Welcomes.
SIGNED_KINDS = (
    Kind.METADATA,
    Kind.FOLLOW_LIST,
    Kind.DELETION,
    Kind.SEAL,
    Kind.RELAY_LIST,
    Kind.INBOX_RELAYS,
    Kind.KEY_PACKAGE_RELAYS,
    Kind.BLOSSOM_SERVERS,
    Kind.CLIENT_AUTH,
    Kind.BLOSSOM_AUTH,
    Kind.MLS_KEY_PACKAGE_LEGACY,
    Kind.MLS_KEY_PACKAGE,
)
PERMISSIONS = (
    *(f"{Method.SIGN_EVENT}:{int(kind)}" for kind in SIGNED_KINDS),
    str(Method.NIP44_ENCRYPT),
    str(Method.NIP44_DECRYPT),
)


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    method: str
    params: tuple[str, ...] = field(repr=False)

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "method": self.method, "params": list(self.params)})


@dataclass(frozen=True, slots=True)
class Response:
    id: str
    result: str = field(repr=False)
    error: str | None = None

    @property
    def auth_url(self) -> str | None:
        """The URL of an auth challenge, or None for a real answer."""
        return self.error if self.result == AUTH_URL and self.error else None

    def to_json(self) -> str:
        body: dict[str, Any] = {"id": self.id, "result": self.result}
        if self.error is not None:
            body["error"] = self.error
        return json.dumps(body)


Message = Request | Response


def request_id(rng: Rng = system_rng) -> str:
    """A fresh request id (the spec wants a random string; 128 bits never collide)."""
    return rng(16).hex()


def connect(signer: PublicKey, secret: str | None, perms: Sequence[str], rid: str) -> Request:
    return Request(rid, Method.CONNECT, (signer.hex, secret or "", ",".join(perms)))


def simple(method: Method, rid: str) -> Request:
    """``get_public_key`` and ``ping``: no parameters."""
    return Request(rid, method, ())


def sign_event(unsigned: UnsignedEvent, rid: str) -> Request:
    fields = {
        "kind": unsigned.kind,
        "content": unsigned.content,
        "tags": [list(t) for t in unsigned.tags],
        "created_at": unsigned.created_at,
        "pubkey": unsigned.pubkey,
    }
    return Request(rid, Method.SIGN_EVENT, (json.dumps(fields, ensure_ascii=False),))


def nip44_request(method: Method, peer: PublicKey, text: str, rid: str) -> Request:
    """``nip44_encrypt`` (plaintext) or ``nip44_decrypt`` (payload) with a third party."""
    if method not in (Method.NIP44_ENCRYPT, Method.NIP44_DECRYPT):
        raise ValueError(f"{method} is not a NIP-44 method")
    return Request(rid, method, (peer.hex, text))


def seal_message(
    message: Message, sender: SecretKey, receiver: PublicKey, *, now: int, rng: Rng = system_rng
) -> Event:
    """The kind 24133 event carrying ``message`` from ``sender`` to ``receiver``."""
    content = nip44.encrypt(message.to_json(), nip44.conversation_key(sender, receiver), rng=rng)
    unsigned = UnsignedEvent.create(sender.public_key(), now, KIND, content, [("p", receiver.hex)])
    return unsigned.sign(sender, rng=rng)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise DecodeError(f"a NIP-46 message needs a string {key!r}")
    return value


def parse_message(text: str) -> Message:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise DecodeError("a NIP-46 message is not JSON") from None
    if not isinstance(data, dict):
        raise DecodeError("a NIP-46 message must be a JSON object")
    rid = _text(data, "id")
    if "method" in data:
        params = data.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise DecodeError("NIP-46 params must be an array of strings")
        return Request(rid, _text(data, "method"), tuple(params))
    result = data.get("result")
    error = data.get("error")
    if result is not None and not isinstance(result, str):
        result = json.dumps(result)  # some signers send an object instead of its string
    if error is not None and not isinstance(error, str):
        raise DecodeError("a NIP-46 error must be a string")
    return Response(rid, result or "", error or None)


def open_message(event: Event, receiver: SecretKey) -> Message:
    """Verify and decrypt a kind 24133 event addressed to ``receiver``.

    Raises ``InvalidEvent`` (wrong kind or signature), ``DecryptionError`` or ``DecodeError``.
    """
    if event.kind != KIND:
        raise InvalidEvent(f"kind {event.kind} is not a NIP-46 message", event_id=event.id)
    event.verify()
    plaintext = nip44.decrypt(event.content, nip44.conversation_key(receiver, event.author))
    return parse_message(plaintext)


def check_result(request: Request, response: Response) -> str:
    """The result of a real answer; ``RemoteSignerError`` when the signer said no."""
    if response.error is not None and response.auth_url is None:
        raise RemoteSignerError(request.method, response.error)
    if response.result in ("", "error"):
        raise RemoteSignerError(request.method, "no result")
    return response.result


def signed_event(unsigned: UnsignedEvent, result: str) -> Event:
    """The signer's answer to ``sign_event``, proven to be ``unsigned`` signed by its author."""
    try:
        event = Event.from_json(result)
    except NostrError as exc:
        raise DecodeError(f"the remote signer sent back no event: {exc}") from None
    if event.id != unsigned.id or event.pubkey != unsigned.pubkey:
        raise InvalidEvent("the remote signer signed a different event", event_id=event.id)
    event.verify()
    return event


def connect_ack(result: str, secret: str | None) -> None:
    """A ``connect`` answer: "ack", or our secret echoed (both are fine for us)."""
    if result != "ack" and (secret is None or result != secret):
        raise RemoteSignerError(Method.CONNECT, "the answer is neither ack nor our secret")


def answers_offer(message: Message, secret: str) -> bool:
    """Whether ``message`` is a signer taking up our ``nostrconnect://`` offer: a response
    whose result is the offer's secret (any id: there was no request)."""
    return isinstance(message, Response) and message.error is None and message.result == secret


def public_key(result: str) -> PublicKey:
    try:
        return PublicKey.from_hex(result.strip().lower())
    except NostrError:
        raise DecodeError("the remote signer's public key is not 64 hex characters") from None

"""Group invite links, the requester's records (marmot spec, proposed not adopted:
foundation/invite-link-records.md and transports/nostr-invite-links.md at 27c1f508).

::

    Context    = version u16 (1) || inbox[32] || link_id[32] || request_id[32]
                 || requester_account[32] || consent_key[32] (Ed25519) || valid_until u64
    RequestTBS = Context || revision u32 (0..7) || previous_request_hash[32] || bearer[32]
                 || key_package_ref[32] || transport_offer<1..8192>
    Request    = RequestTBS || consent_signature[64]
    Withdrawal = Context || consent_signature[64]
    Status     = Context || request_hash[32] || outcome u8 (0 observed, 1 declined,
                 2 invited) || commit_hash[32] || welcome_hash[32]
    Offer      = key_package_event_id[32] || welcome_hints<V>    (0..8 wss relay URLs)
    Delivery   = operation u8 (0 request, 1 withdrawal) || record<1..16384>

Signatures are RFC 9420 SignWithLabel (suite 0x0001, Ed25519) by the consent key, labels
``marmot invite request v1`` / ``marmot invite withdrawal v1``, over the TBS bytes.
``request_hash = SHA-256(Request)``. Revision 0 has a zero previous hash (and its consent
key is the offered leaf's signature key, the caller's check against the KeyPackage); a
refresh is the next revision, names the previous hash, keeps context and bearer. Two
different valid requests of one revision under one context are a conflicting refresh:
never settled automatically. Delivered as a kind-459 rumor (no tags, content base64 of
the delivery, author = the requester account), gift-wrapped to the link's inbox; a
status as a kind-460 rumor to the requester.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import TypeVar

from marmot.binary import BinaryError, Cursor, Out
from marmot.primitives import b64decode, b64encode, sha256
from marmot.profile_b.invite_links import (
    MAX_TIME,
    InvalidInviteLink,
    check_relays,
    check_xonly,
    read_relays,
    write_relays,
)
from mls.crypto import get_suite
from mls.errors import MlsError
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey

__all__ = [
    "Chain",
    "InviteContext",
    "InviteOffer",
    "InviteRequest",
    "InviteStatus",
    "InviteWithdrawal",
    "Outcome",
    "classify_request",
    "delivery_rumor",
    "parse_delivery_rumor",
    "status_rumor",
    "sign_request",
    "sign_withdrawal",
]

REQUEST_LABEL = "marmot invite request v1"
WITHDRAWAL_LABEL = "marmot invite withdrawal v1"
KIND_DELIVERY, KIND_STATUS = 459, 460
MAX_REVISION = 7
_SUITE = get_suite(0x0001)
_ZERO = bytes(32)
_T = TypeVar("_T")


def _fail(what: str, exc: Exception) -> InvalidInviteLink:
    return InvalidInviteLink(f"{what}: {exc}")


@dataclass(frozen=True, slots=True)
class InviteContext:
    inbox_pubkey: bytes
    link_id: bytes
    request_id: bytes
    requester_account: bytes
    consent_key: bytes
    valid_until: int

    def __post_init__(self) -> None:
        fields = (self.inbox_pubkey, self.link_id, self.request_id)
        if any(len(v) != 32 for v in (*fields, self.requester_account, self.consent_key)):
            raise InvalidInviteLink("context keys and ids are 32 bytes")
        check_xonly(self.inbox_pubkey, "inbox key")
        check_xonly(self.requester_account, "requester account")
        if not 1 <= self.valid_until <= MAX_TIME:
            raise InvalidInviteLink("valid_until is 1..2^53-1")

    def write(self, out: Out) -> None:
        out.u16(1)
        out.fixed(self.inbox_pubkey + self.link_id + self.request_id)
        out.fixed(self.requester_account + self.consent_key)
        out.u64(self.valid_until)

    @classmethod
    def read(cls, c: Cursor) -> InviteContext:
        if c.u16("version") != 1:
            raise InvalidInviteLink("unknown invite record version")
        keys = [c.fixed(32) for _ in range(5)]
        return cls(keys[0], keys[1], keys[2], keys[3], keys[4], c.u64())


@dataclass(frozen=True, slots=True)
class InviteOffer:
    key_package_event_id: bytes
    welcome_hints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.key_package_event_id) != 32:
            raise InvalidInviteLink("the offer names a 32-byte event id")
        check_relays(self.welcome_hints, 0, "welcome hints")

    def encode(self) -> bytes:
        out = Out()
        out.fixed(self.key_package_event_id)
        write_relays(out, self.welcome_hints)
        return out.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> InviteOffer:
        return _whole(data, lambda c: cls(c.fixed(32), read_relays(c)), "offer")


def _whole(data: bytes, read: Callable[[Cursor], _T], what: str) -> _T:
    c = Cursor(data)
    try:
        value = read(c)
        c.finish(what)
    except BinaryError as exc:
        raise _fail(what, exc) from None
    return value


@dataclass(frozen=True, slots=True)
class InviteRequest:
    context: InviteContext
    revision: int
    previous_request_hash: bytes
    bearer: bytes = field(repr=False)
    key_package_ref: bytes
    transport_offer: bytes
    signature: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.revision <= MAX_REVISION:
            raise InvalidInviteLink(f"revision is 0..{MAX_REVISION}")
        hashes = (self.previous_request_hash, self.bearer, self.key_package_ref)
        if any(len(v) != 32 for v in hashes):
            raise InvalidInviteLink("request hashes, bearer and ref are 32 bytes")
        if (self.revision == 0) != (self.previous_request_hash == _ZERO):
            raise InvalidInviteLink("only revision 0 has a zero previous request hash")
        if not 1 <= len(self.transport_offer) <= 8192:
            raise InvalidInviteLink("the transport offer is 1..8192 bytes")
        if self.signature and len(self.signature) != 64:
            raise InvalidInviteLink("a consent signature is 64 bytes")

    def tbs(self) -> bytes:
        out = Out()
        self.context.write(out)
        out.uint(self.revision, 4)
        out.fixed(self.previous_request_hash + self.bearer + self.key_package_ref)
        out.var_bytes(self.transport_offer)
        return out.getvalue()

    def encode(self) -> bytes:
        if not self.signature:
            raise InvalidInviteLink("an unsigned request has no wire form")
        return self.tbs() + self.signature

    @classmethod
    def decode(cls, data: bytes) -> InviteRequest:
        def read(c: Cursor) -> InviteRequest:
            context, revision = InviteContext.read(c), c.uint(4, "revision")
            hashes = [c.fixed(32) for _ in range(3)]
            offer = c.var_bytes(8192, "transport offer")
            return cls(context, revision, hashes[0], hashes[1], hashes[2], offer, c.fixed(64))

        return _whole(data, read, "request")

    @property
    def request_hash(self) -> bytes:
        return sha256(self.encode())

    @property
    def offer(self) -> InviteOffer:
        return InviteOffer.decode(self.transport_offer)

    def verify(self) -> None:
        _verify(self.context.consent_key, REQUEST_LABEL, self.tbs(), self.signature)


def _verify(key: bytes, label: str, content: bytes, signature: bytes) -> None:
    try:
        _SUITE.verify_with_label(key, label, content, signature)
    except (MlsError, ValueError) as exc:
        raise InvalidInviteLink(f"consent signature does not verify ({exc})") from None


def sign_request(consent_seed: bytes, unsigned: InviteRequest) -> InviteRequest:
    if _SUITE.signature_public_key(consent_seed) != unsigned.context.consent_key:
        raise InvalidInviteLink("the context's consent key signs its requests")
    signature = _SUITE.sign_with_label(consent_seed, REQUEST_LABEL, unsigned.tbs())
    return InviteRequest(
        unsigned.context,
        unsigned.revision,
        unsigned.previous_request_hash,
        unsigned.bearer,
        unsigned.key_package_ref,
        unsigned.transport_offer,
        signature,
    )


@dataclass(frozen=True, slots=True)
class InviteWithdrawal:
    context: InviteContext
    signature: bytes

    def tbs(self) -> bytes:
        out = Out()
        self.context.write(out)
        return out.getvalue()

    def encode(self) -> bytes:
        return self.tbs() + self.signature

    @classmethod
    def decode(cls, data: bytes) -> InviteWithdrawal:
        return _whole(data, lambda c: cls(InviteContext.read(c), c.fixed(64)), "withdrawal")

    def verify(self) -> None:
        _verify(self.context.consent_key, WITHDRAWAL_LABEL, self.tbs(), self.signature)


def sign_withdrawal(consent_seed: bytes, context: InviteContext) -> InviteWithdrawal:
    unsigned = InviteWithdrawal(context, b"")
    return InviteWithdrawal(
        context, _SUITE.sign_with_label(consent_seed, WITHDRAWAL_LABEL, unsigned.tbs())
    )


class Outcome(IntEnum):
    OBSERVED = 0
    DECLINED = 1
    INVITED = 2


@dataclass(frozen=True, slots=True)
class InviteStatus:
    context: InviteContext
    request_hash: bytes
    outcome: Outcome
    commit_hash: bytes = _ZERO
    welcome_hash: bytes = _ZERO

    def __post_init__(self) -> None:
        if any(len(v) != 32 for v in (self.request_hash, self.commit_hash, self.welcome_hash)):
            raise InvalidInviteLink("status hashes are 32 bytes")
        zero = _ZERO in (self.commit_hash, self.welcome_hash)
        both_zero = self.commit_hash == _ZERO and self.welcome_hash == _ZERO
        if (self.outcome == Outcome.INVITED and zero) or (
            self.outcome != Outcome.INVITED and not both_zero
        ):
            raise InvalidInviteLink("commit and welcome hashes are set exactly for invited")

    def encode(self) -> bytes:
        out = Out()
        self.context.write(out)
        out.fixed(self.request_hash)
        out.u8(self.outcome)
        out.fixed(self.commit_hash + self.welcome_hash)
        return out.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> InviteStatus:
        def read(c: Cursor) -> InviteStatus:
            context, request_hash, outcome = InviteContext.read(c), c.fixed(32), c.u8()
            if outcome > 2:
                raise InvalidInviteLink("unknown status outcome")
            return cls(context, request_hash, Outcome(outcome), c.fixed(32), c.fixed(32))

        return _whole(data, read, "status")


class Chain(Enum):
    """How a new valid request relates to the ones held for its context."""

    DUPLICATE = "duplicate"  # byte-identical: idempotent
    NEXT = "next"  # revision 0, or the refresh of the latest held one
    MISSING_ANCESTOR = "missing_ancestor"  # wait for the revisions before it
    CONFLICTING_REFRESH = "conflicting_refresh"  # stop; the requester must withdraw


def classify_request(held: Sequence[InviteRequest], new: InviteRequest) -> Chain:
    """``held`` are the validated requests of ``new.context`` in revision order."""
    if any(r.context != new.context for r in held):
        raise InvalidInviteLink("held requests are of another context")
    for request in held:
        if request.encode() == new.encode():
            return Chain.DUPLICATE
        if request.revision == new.revision:
            return Chain.CONFLICTING_REFRESH
    if new.revision == 0 and not held:
        return Chain.NEXT
    if not held or held[-1].revision + 1 != new.revision:
        return Chain.MISSING_ANCESTOR
    if new.previous_request_hash != held[-1].request_hash or new.bearer != held[-1].bearer:
        return Chain.CONFLICTING_REFRESH
    return Chain.NEXT


# --- kind 459 / 460 rumors ----------------------------------------------------------------


def delivery_rumor(record: InviteRequest | InviteWithdrawal, created_at: int) -> UnsignedEvent:
    operation = 0 if isinstance(record, InviteRequest) else 1
    out = Out()
    out.u8(operation)
    out.var_bytes(record.encode())
    author = PublicKey(record.context.requester_account)
    return UnsignedEvent.create(author, created_at, KIND_DELIVERY, b64encode(out.getvalue()))


def status_rumor(admin: PublicKey, status: InviteStatus, created_at: int) -> UnsignedEvent:
    return UnsignedEvent.create(admin, created_at, KIND_STATUS, b64encode(status.encode()))


def parse_delivery_rumor(rumor: UnsignedEvent) -> InviteRequest | InviteWithdrawal:
    """A 459 with a verified consent signature, authored by the requester account."""
    if rumor.kind != KIND_DELIVERY or rumor.tags:
        raise InvalidInviteLink("a delivery is a kind-459 rumor without tags")
    try:
        data = b64decode(rumor.content)
    except ValueError:
        raise InvalidInviteLink("delivery content is not base64") from None

    def read(c: Cursor) -> tuple[int, bytes]:
        return c.u8("operation"), c.var_bytes(16384, "record")

    operation, raw = _whole(data, read, "delivery")
    if operation > 1 or not raw:
        raise InvalidInviteLink("a delivery carries a request (0) or a withdrawal (1)")
    record = InviteRequest.decode(raw) if operation == 0 else InviteWithdrawal.decode(raw)
    if rumor.pubkey != record.context.requester_account.hex():
        raise InvalidInviteLink("a delivery is authored by its requester account")
    record.verify()
    return record

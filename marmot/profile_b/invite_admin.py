"""Group invite links, the admins' private records (proposed spec, 27c1f508:
foundation/invite-link-records.md "Private admin records", transports/nostr-invite-links.md
"Admin delivery inside MLS"). No vector pins these bytes.

::

    AdminRecord = group_id<1..255> || source_epoch u64 || link_id[32] || action u8
                  || body<1..24576>
      grant (0)            InviteLinkV1 || inbox_secret[32] || bearer[32] || preview_key[32]
      forward_request (1)  InviteRequestV1 || publication<1..12288> (signed 30443, RFC 8785 JSON)
      withdrawal (2)       InviteWithdrawalV1
      declined (3)         InviteStatusV1 (outcome declined)
      invited (4)          InviteStatusV1 (outcome invited)
    Envelope    = recipient_account[32] || gift_wrap_json<1..90000>
    Batch       = envelopes<1..262144>      (1..16 recipients, sorted, unique)

A grant's entry carries the record's link id, its inbox key is the secret's, and its
bearer hash is the bearer's. Other records' contexts name the record's link. Each batch
copy is a gift wrap (kind 461 rumor inside) for one active admin; the batch rides in a
kind-461 MLS app event without tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from marmot.binary import BinaryError, Cursor, Out
from marmot.primitives import sha256
from marmot.profile_b.invite_links import ENTRY_LEN, InvalidInviteLink, InviteLink
from marmot.profile_b.invite_records import InviteRequest, InviteStatus, InviteWithdrawal, Outcome
from nostr.errors import NostrError
from nostr.keys import SecretKey

__all__ = [
    "AdminAction",
    "AdminEnvelope",
    "AdminRecord",
    "ForwardedRequest",
    "Grant",
    "decode_batch",
    "encode_batch",
    "record_body",
]

KIND_ADMIN = 461
MAX_RECIPIENTS = 16


class AdminAction(IntEnum):
    GRANT = 0
    FORWARD_REQUEST = 1
    WITHDRAWAL = 2
    DECLINED = 3
    INVITED = 4


@dataclass(frozen=True, slots=True)
class AdminRecord:
    group_id: bytes
    source_epoch: int
    link_id: bytes
    action: AdminAction
    body: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.group_id) <= 255 or len(self.link_id) != 32:
            raise InvalidInviteLink("an admin record names a 1..255-byte group and a 32-byte link")
        if not 0 <= self.source_epoch < 1 << 64:
            raise InvalidInviteLink("source epoch is a u64")
        if not 1 <= len(self.body) <= 24576:
            raise InvalidInviteLink("an admin record body is 1..24576 bytes")

    def encode(self) -> bytes:
        out = Out()
        out.var_bytes(self.group_id)
        out.u64(self.source_epoch)
        out.fixed(self.link_id)
        out.u8(self.action)
        out.var_bytes(self.body)
        return out.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> AdminRecord:
        c = Cursor(data)
        try:
            group_id, epoch, link_id = c.var_bytes(255, "group id"), c.u64(), c.fixed(32)
            action = c.u8("action")
            body = c.var_bytes(24576, "body")
            c.finish("admin record")
        except BinaryError as exc:
            raise InvalidInviteLink(f"admin record: {exc}") from None
        if action > AdminAction.INVITED:
            raise InvalidInviteLink("unknown admin record action")
        return cls(group_id, epoch, link_id, AdminAction(action), body)


@dataclass(frozen=True, slots=True)
class Grant:
    """The secrets of one invitation generation, for the other admins."""

    entry: InviteLink
    inbox_secret: bytes = field(repr=False)
    bearer: bytes = field(repr=False)
    preview_key: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.entry.encode() + self.inbox_secret + self.bearer + self.preview_key


@dataclass(frozen=True, slots=True)
class ForwardedRequest:
    request: InviteRequest
    publication: bytes  # the signed 30443 as RFC 8785 JSON; checked by the caller


def record_body(
    record: AdminRecord,
) -> Grant | ForwardedRequest | InviteWithdrawal | InviteStatus:
    """The typed body, with the bindings to the record's link checked."""
    if record.action == AdminAction.GRANT:
        return _grant(record, record.body)
    if record.action == AdminAction.FORWARD_REQUEST:
        forwarded = _forwarded(record.body)
        _same_link(record, forwarded.request.context.link_id)
        return forwarded
    if record.action == AdminAction.WITHDRAWAL:
        withdrawal = InviteWithdrawal.decode(record.body)
        _same_link(record, withdrawal.context.link_id)
        return withdrawal
    status = InviteStatus.decode(record.body)
    wanted = Outcome.DECLINED if record.action == AdminAction.DECLINED else Outcome.INVITED
    if status.outcome != wanted:
        raise InvalidInviteLink("the status outcome is the record's action")
    _same_link(record, status.context.link_id)
    return status


def _same_link(record: AdminRecord, link_id: bytes) -> None:
    if link_id != record.link_id:
        raise InvalidInviteLink("the record's body names another link")


def _grant(record: AdminRecord, body: bytes) -> Grant:
    if len(body) != ENTRY_LEN + 96:
        raise InvalidInviteLink("a grant is an entry and three 32-byte secrets")
    entry = InviteLink.decode(body[:ENTRY_LEN])
    secret, bearer, preview_key = (body[ENTRY_LEN + i : ENTRY_LEN + i + 32] for i in (0, 32, 64))
    if entry.link_id != record.link_id:
        raise InvalidInviteLink("a grant's entry is the record's link")
    try:
        inbox = SecretKey(secret).public_key().data
    except NostrError:
        raise InvalidInviteLink("a grant's inbox secret is not a key") from None
    if inbox != entry.inbox_pubkey:
        raise InvalidInviteLink("a grant's inbox secret is not the entry's inbox key")
    if sha256(bearer) != entry.bearer_hash:
        raise InvalidInviteLink("a grant's bearer does not hash to the entry's commitment")
    return Grant(entry, secret, bearer, preview_key)


def _forwarded(body: bytes) -> ForwardedRequest:
    c = Cursor(body)
    try:
        # the request carries no outer length: its structure says where it ends
        request = InviteRequest.decode(c.fixed(_request_length(body), "request"))
        publication = c.var_bytes(12288, "publication")
        c.finish("forwarded request")
    except BinaryError as exc:
        raise InvalidInviteLink(f"forwarded request: {exc}") from None
    if not publication:
        raise InvalidInviteLink("a forwarded request carries its publication")
    return ForwardedRequest(request, publication)


def _request_length(body: bytes) -> int:
    c = Cursor(body)
    c.fixed(2 + 5 * 32 + 8 + 4 + 3 * 32, "request")
    c.var_bytes(8192, "transport offer")
    c.fixed(64, "signature")
    return len(body) - c.remaining


@dataclass(frozen=True, slots=True)
class AdminEnvelope:
    recipient: bytes
    gift_wrap_json: bytes

    def __post_init__(self) -> None:
        if len(self.recipient) != 32 or not 1 <= len(self.gift_wrap_json) <= 90000:
            raise InvalidInviteLink("an envelope is a 32-byte recipient and 1..90000 bytes")


def encode_batch(envelopes: Sequence[AdminEnvelope]) -> bytes:
    recipients = [e.recipient for e in envelopes]
    if not 1 <= len(envelopes) <= MAX_RECIPIENTS or recipients != sorted(set(recipients)):
        raise InvalidInviteLink(f"a batch has 1..{MAX_RECIPIENTS} sorted unique recipients")
    inner = Out()
    for envelope in envelopes:
        inner.fixed(envelope.recipient)
        inner.var_bytes(envelope.gift_wrap_json)
    out = Out()
    out.var_bytes(inner.getvalue())
    return out.getvalue()


def decode_batch(data: bytes) -> tuple[AdminEnvelope, ...]:
    try:
        c = Cursor(data)
        inner = Cursor(c.var_bytes(262144, "envelopes"))
        c.finish("batch")
        envelopes = []
        while inner.remaining:
            envelopes.append(AdminEnvelope(inner.fixed(32), inner.var_bytes(90000, "gift wrap")))
    except BinaryError as exc:
        raise InvalidInviteLink(f"admin batch: {exc}") from None
    if encode_batch(envelopes) != data:
        raise InvalidInviteLink("admin batch is not canonical")
    return tuple(envelopes)

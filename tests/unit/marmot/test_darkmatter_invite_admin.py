"""Group invite links, the admins' private records and batches (proposed spec).

No vector pins these bytes; the bodies are the records of ``marmot-spec/invite-links-v1.json``
(its entry, request and withdrawal; the fixture's inbox key is the secp256k1 generator,
secret 1, and its bearer and preview key the code's), so each binding rule is checked
against real fixture values.
"""

from __future__ import annotations

import pytest

from marmot.binary import Out
from marmot.profile_b.invite_admin import (
    AdminAction,
    AdminEnvelope,
    AdminRecord,
    ForwardedRequest,
    Grant,
    decode_batch,
    encode_batch,
    record_body,
)
from marmot.profile_b.invite_links import InvalidInviteLink, InviteCode, decode_links
from marmot.profile_b.invite_records import InviteRequest, InviteStatus, InviteWithdrawal, Outcome
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

V = load_json("marmot-vectors/marmot-spec/invite-links-v1.json")
CODE = InviteCode.from_string(V["code_bech32m"])
(ENTRY,) = decode_links(bytes.fromhex(V["component_hex"]))
REQUEST = InviteRequest.decode(bytes.fromhex(V["request_hex"]))
SECRET = (1).to_bytes(32, "big")
GROUP = b"group-of-16-byte"


def _record(action: AdminAction, body: bytes, link_id: bytes = CODE.link_id) -> AdminRecord:
    record = AdminRecord(GROUP, 4, link_id, action, body)
    assert AdminRecord.decode(record.encode()) == record
    return record


@pytest.mark.vectors
def test_a_grant_binds_the_entry_to_its_secrets() -> None:
    body = ENTRY.encode() + SECRET + CODE.bearer + CODE.preview_key
    grant = record_body(_record(AdminAction.GRANT, body))
    assert isinstance(grant, Grant) and grant.entry == ENTRY and grant.encode() == body
    assert CODE.bearer.hex() not in repr(grant)
    for bad, reason in (
        (ENTRY.encode() + (2).to_bytes(32, "big") + CODE.bearer + CODE.preview_key, "inbox secret"),
        (ENTRY.encode() + SECRET + bytes(32) + CODE.preview_key, "bearer"),
        (body[:-1], "three 32-byte"),
    ):
        with pytest.raises(InvalidInviteLink, match=reason):
            record_body(_record(AdminAction.GRANT, bad))
    with pytest.raises(InvalidInviteLink, match="record's link"):
        record_body(_record(AdminAction.GRANT, body, link_id=bytes(32)))


@pytest.mark.vectors
def test_forwarded_requests_withdrawals_and_statuses() -> None:
    publication = b'{"kind":30443}'
    out = Out()
    out.var_bytes(publication)
    body = REQUEST.encode() + out.getvalue()
    forwarded = record_body(_record(AdminAction.FORWARD_REQUEST, body))
    assert forwarded == ForwardedRequest(REQUEST, publication)
    for bad, reason in ((REQUEST.encode() + b"\x00", "publication"), (body + b"\x00", "trailing")):
        with pytest.raises(InvalidInviteLink, match=reason):
            record_body(_record(AdminAction.FORWARD_REQUEST, bad))
    with pytest.raises(InvalidInviteLink, match="another link"):
        record_body(_record(AdminAction.FORWARD_REQUEST, body, link_id=bytes(32)))
    withdrawal = InviteWithdrawal.decode(bytes.fromhex(V["withdrawal_hex"]))
    assert record_body(_record(AdminAction.WITHDRAWAL, withdrawal.encode())) == withdrawal
    declined = InviteStatus(REQUEST.context, REQUEST.request_hash, Outcome.DECLINED)
    invited = InviteStatus(
        REQUEST.context, REQUEST.request_hash, Outcome.INVITED, b"\x01" * 32, b"\x02" * 32
    )
    assert record_body(_record(AdminAction.DECLINED, declined.encode())) == declined
    assert record_body(_record(AdminAction.INVITED, invited.encode())) == invited
    with pytest.raises(InvalidInviteLink, match="outcome"):
        record_body(_record(AdminAction.INVITED, declined.encode()))


def test_record_and_batch_framing() -> None:
    good = AdminRecord(GROUP, 4, CODE.link_id, AdminAction.WITHDRAWAL, b"x").encode()
    action_at = 1 + len(GROUP) + 8 + 32
    with pytest.raises(InvalidInviteLink, match="unknown admin record action"):
        AdminRecord.decode(good[:action_at] + b"\x05" + good[action_at + 1 :])
    with pytest.raises(InvalidInviteLink, match="24576"):
        AdminRecord(GROUP, 4, CODE.link_id, AdminAction.GRANT, b"")
    with pytest.raises(InvalidInviteLink, match="trailing"):
        AdminRecord.decode(good + b"\x00")
    a, b = AdminEnvelope(b"\x01" * 32, b"{}"), AdminEnvelope(b"\x02" * 32, b'{"a":1}')
    batch = encode_batch([a, b])
    assert decode_batch(batch) == (a, b)
    for envelopes in (
        [b, a],
        [a, a],
        [],
        [AdminEnvelope(bytes([i]) * 32, b"{}") for i in range(17)],
    ):
        with pytest.raises(InvalidInviteLink, match="sorted unique"):
            encode_batch(envelopes)
    with pytest.raises(InvalidInviteLink, match="90000"):
        AdminEnvelope(b"\x01" * 32, b"")
    with pytest.raises(InvalidInviteLink, match="truncated"):
        decode_batch(batch[:-1])

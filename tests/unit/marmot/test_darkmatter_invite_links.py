"""Group invite links (proposed spec): code, component 0x800e, preview, request records.

Vector: ``marmot-spec/invite-links-v1.json`` (the marmot spec's synthetic fixture at
27c1f508): the code bytes and its ``marmot1`` string, the entry and component bytes, the
preview plaintext, hash, AAD and ciphertext, and the request, refresh and withdrawal
records with their consent signatures (reproduced from the fixture's Ed25519 seed), the
request hash and the SignWithLabel content. The fixture's package and event references
are illustrative, so nothing here checks a KeyPackage.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from typing import Any

import pytest

from marmot.profile_b.invite_links import (
    InvalidInviteLink,
    InviteCode,
    InviteLink,
    InvitePreview,
    decode_links,
    encode_links,
    open_descriptor,
    preview_descriptor,
)
from marmot.profile_b.invite_records import (
    Chain,
    InviteRequest,
    InviteStatus,
    InviteWithdrawal,
    Outcome,
    classify_request,
    delivery_rumor,
    parse_delivery_rumor,
    sign_request,
    sign_withdrawal,
)
from mls.codec import encode_varint
from nostr import bech32
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

VECTOR = "marmot-vectors/marmot-spec/invite-links-v1.json"
INBOX = SecretKey((1).to_bytes(32, "big"))  # the fixture's inbox key is the generator's x


def _v() -> dict[str, Any]:
    data: dict[str, Any] = load_json(VECTOR)
    return data


def _b(name: str) -> bytes:
    return bytes.fromhex(_v()[name])


@pytest.mark.vectors
def test_the_code_bytes_and_string() -> None:
    code = InviteCode.from_string(_v()["code_bech32m"])
    assert code.encode() == _b("code_hex") and code.to_string() == _v()["code_bech32m"]
    assert InviteCode.from_string(_v()["code_bech32m"].upper()) == code
    assert code.inbox_pubkey == INBOX.public_key().data
    assert code.request_relays == ("wss://relay.example",)
    assert code.bearer.hex() not in repr(code)


def _m(hrp: str, data: bytes) -> str:
    return bech32.encode(hrp, data, constant=bech32.BECH32M)


@pytest.mark.vectors
def test_each_code_string_refusal() -> None:
    text, raw = _v()["code_bech32m"], _b("code_hex")
    flipped = text[:-1] + ("q" if text[-1] != "q" else "p")
    cases = {
        "mixes upper and lower": text[:10].upper() + text[10:],
        "checksum mismatch": flipped,
        "bech32 checksum, not bech32m": bech32.encode("marmot", raw),
        "starts with marmot1": _m("nostr", raw),
        "longer than 7000": _m("marmot", raw + bytes(4400)),
        "unknown invite code version": _m("marmot", b"\x00\x02" + raw[2:]),
        "trailing": _m("marmot", raw + b"\x00"),
    }
    for reason, bad in cases.items():
        with pytest.raises(InvalidInviteLink, match=reason):
            InviteCode.from_string(bad)


@pytest.mark.parametrize(
    ("relays", "reason"),
    [
        ((), "1..8"),
        (tuple(f"wss://r{i}.example" for i in range(9)), "1..8"),
        (("wss://b.example", "wss://a.example"), "sorted"),
        (("wss://a.example", "wss://a.example"), "sorted"),
        (("ws://a.example",), "wss://"),
        (("wss://A.example",), "normal form"),
        (("wss://a.example:443",), "normal form"),
        (("wss://" + "a" * 510,), "512 bytes"),
    ],
)
def test_each_relay_list_rule(relays: tuple[str, ...], reason: str) -> None:
    code = InviteCode.from_string(_v()["code_bech32m"])
    with pytest.raises(InvalidInviteLink, match=reason):
        dataclasses.replace(code, request_relays=relays)


@pytest.mark.vectors
def test_the_component_entry() -> None:
    (link,) = decode_links(_b("component_hex"))
    assert link.encode() == _b("entry_hex") and len(link.encode()) == 137
    assert encode_links([link]) == _b("component_hex")
    code = InviteCode.from_string(_v()["code_bech32m"])
    assert (link.link_id, link.inbox_pubkey, link.bearer_hash) == (
        code.link_id,
        code.inbox_pubkey,
        code.bearer_hash,
    )
    assert link.preview_hash == _b("preview_hash")
    assert decode_links(b"\x00") == ()


def _link(i: int, **changes: Any) -> InviteLink:
    inbox = SecretKey(bytes([i + 1]) * 32).public_key().data
    return dataclasses.replace(InviteLink(bytes([i]) * 32, inbox, bytes(32), bytes(32)), **changes)


def test_each_component_rule() -> None:
    eight = [_link(i) for i in range(8)]
    assert decode_links(encode_links(eight)) == tuple(eight)
    cases: list[tuple[list[InviteLink], str]] = [
        ([*eight, _link(8)], "at most 8"),
        ([_link(2), _link(1)], "sorted"),
        ([_link(1), _link(1)], "sorted"),
        ([_link(1), _link(2, inbox_pubkey=_link(1).inbox_pubkey)], "own inbox"),
    ]
    for links, reason in cases:
        with pytest.raises(InvalidInviteLink, match=reason):
            encode_links(links)
    for changes, reason in (
        ({"inbox_pubkey": b"\xff" * 32}, "x-only"),
        ({"approval_mode": 2}, "approval mode"),
        ({"expires_at": 2**53}, "expires_at"),
    ):
        with pytest.raises(InvalidInviteLink, match=reason):
            _link(1, **changes)
    good = _b("component_hex")
    for bad, reason in (
        (good + b"\x00", "trailing"),
        (b"\x80\x00\x00\x89" + good[2:], "non-canonical"),
        (good[:-1], "truncated"),
    ):
        with pytest.raises(InvalidInviteLink, match=reason):
            decode_links(bad)


@pytest.mark.vectors
def test_the_preview_and_its_descriptor() -> None:
    preview = InvitePreview.decode(_b("preview_hex"))
    assert (preview.name, preview.description, preview.image_type) == (
        "Book club",
        "Tuesday reading group",
        0,
    )
    assert preview.preview_hash == _b("preview_hash") and preview.aad() == _b("preview_aad_hex")
    assert "Book club" not in repr(preview)
    code = InviteCode.from_string(_v()["code_bech32m"])
    assert code.preview_key == _b("preview_key_hex")
    nonce = _b("preview_nonce_hex")
    event = preview_descriptor(
        INBOX, code, preview, now=1_700_000_000, rng=lambda n: nonce if n == 12 else bytes(n)
    )
    assert event.kind == 30444 and event.tags == (("d", code.link_id.hex()),)
    assert base64.b64decode(event.content) == nonce + _b("preview_ciphertext_hex")
    assert open_descriptor(code, event) == preview
    other = dataclasses.replace(code, preview_key=bytes(32))
    with pytest.raises(InvalidInviteLink, match="does not decrypt"):
        open_descriptor(other, event)
    forged = UnsignedEvent.create(
        INBOX.public_key(), 1, 30444, event.content, [("d", "00" * 32)]
    ).sign(INBOX)
    with pytest.raises(InvalidInviteLink, match="only tag"):
        open_descriptor(code, forged)
    stranger = SecretKey(bytes([9]) * 32)
    by_other = UnsignedEvent.create(
        stranger.public_key(), 1, 30444, event.content, event.tags
    ).sign(stranger)
    with pytest.raises(InvalidInviteLink, match="inbox key"):
        open_descriptor(code, by_other)
    with pytest.raises(InvalidInviteLink, match="bearer hash"):
        preview_descriptor(INBOX, dataclasses.replace(code, bearer=bytes(32)), preview, now=1)


def test_each_preview_rule() -> None:
    preview = InvitePreview.decode(_b("preview_hex"))
    for changes, reason in (
        ({"name": ""}, "1..256"),
        ({"name": "x" * 257}, "1..256"),
        ({"description": "x" * 4097}, "4096"),
        ({"image_type": 3}, "none, JPEG or PNG"),
        ({"image_type": 1}, "exactly when typed"),
        ({"image": b"\x89PNG"}, "exactly when typed"),
    ):
        with pytest.raises(InvalidInviteLink, match=reason):
            dataclasses.replace(preview, **changes)
    assert (
        dataclasses.replace(preview, image_type=2, image=b"\x89PNG").preview_hash
        != preview.preview_hash
    )
    raw = _b("preview_hex")
    with pytest.raises(InvalidInviteLink, match="UTF-8"):
        InvitePreview.decode(raw.replace(b"Book club", b"Book\xffclub"))


@pytest.mark.vectors
def test_the_request_refresh_and_withdrawal_records() -> None:
    seed = _b("consent_seed_hex")
    request = InviteRequest.decode(_b("request_hex"))
    request.verify()
    assert request.encode() == _b("request_hex") and request.request_hash == _b("request_hash")
    label = b"MLS 1.0 marmot invite request v1"
    content = encode_varint(len(label)) + label + encode_varint(len(request.tbs())) + request.tbs()
    assert content == _b("request_sign_content_hex")
    assert sign_request(seed, dataclasses.replace(request, signature=b"")) == request
    assert request.offer.welcome_hints == ("wss://relay.example",)
    refresh = InviteRequest.decode(_b("refresh_hex"))
    refresh.verify()
    assert (refresh.revision, refresh.previous_request_hash) == (1, request.request_hash)
    assert classify_request([request], refresh) is Chain.NEXT
    withdrawal = InviteWithdrawal.decode(_b("withdrawal_hex"))
    withdrawal.verify()
    assert withdrawal.context == request.context
    assert sign_withdrawal(seed, request.context) == withdrawal
    tampered = dataclasses.replace(request, key_package_ref=bytes(32))
    with pytest.raises(InvalidInviteLink, match="does not verify"):
        tampered.verify()
    with pytest.raises(InvalidInviteLink, match="does not verify"):
        dataclasses.replace(withdrawal, signature=request.signature).verify()


@pytest.mark.vectors
def test_request_rules_and_the_chain() -> None:
    seed = _b("consent_seed_hex")
    request = InviteRequest.decode(_b("request_hex"))
    refresh = InviteRequest.decode(_b("refresh_hex"))
    for changes, reason in (
        ({"revision": 8}, "0..7"),
        ({"previous_request_hash": b"\x01" * 32}, "only revision 0"),
        ({"transport_offer": b""}, "1..8192"),
    ):
        with pytest.raises(InvalidInviteLink, match=reason):
            dataclasses.replace(request, **changes)
    with pytest.raises(InvalidInviteLink, match="only revision 0"):
        dataclasses.replace(refresh, previous_request_hash=bytes(32))
    with pytest.raises(InvalidInviteLink, match="consent key"):
        sign_request(bytes(32), request)
    other_offer = sign_request(
        seed, dataclasses.replace(refresh, key_package_ref=b"\x99" * 32, signature=b"")
    )
    assert classify_request([request, refresh], other_offer) is Chain.CONFLICTING_REFRESH
    assert classify_request([request, refresh], refresh) is Chain.DUPLICATE
    assert classify_request([], refresh) is Chain.MISSING_ANCESTOR
    wrong_parent = sign_request(
        seed, dataclasses.replace(refresh, previous_request_hash=b"\x42" * 32, signature=b"")
    )
    assert classify_request([request], wrong_parent) is Chain.CONFLICTING_REFRESH
    second_zero = sign_request(
        seed, dataclasses.replace(request, bearer=b"\x01" * 32, signature=b"")
    )
    assert classify_request([request], second_zero) is Chain.CONFLICTING_REFRESH


@pytest.mark.vectors
def test_status_rules_and_delivery_rumors() -> None:
    request = InviteRequest.decode(_b("request_hex"))
    ctx, rh = request.context, request.request_hash
    for outcome in (Outcome.OBSERVED, Outcome.DECLINED):
        status = InviteStatus(ctx, rh, outcome)
        assert InviteStatus.decode(status.encode()) == status
        with pytest.raises(InvalidInviteLink, match="exactly for invited"):
            InviteStatus(ctx, rh, outcome, b"\x01" * 32, b"\x02" * 32)
    invited = InviteStatus(ctx, rh, Outcome.INVITED, b"\x01" * 32, b"\x02" * 32)
    assert InviteStatus.decode(invited.encode()) == invited
    with pytest.raises(InvalidInviteLink, match="exactly for invited"):
        InviteStatus(ctx, rh, Outcome.INVITED, b"\x01" * 32)
    with pytest.raises(InvalidInviteLink, match="unknown status outcome"):
        InviteStatus.decode(invited.encode()[:-65] + b"\x03" + invited.encode()[-64:])
    rumor = delivery_rumor(request, 1_800_000_000)
    assert rumor.kind == 459 and rumor.tags == () and rumor.pubkey == ctx.requester_account.hex()
    assert parse_delivery_rumor(rumor) == request
    withdrawal = InviteWithdrawal.decode(_b("withdrawal_hex"))
    assert parse_delivery_rumor(delivery_rumor(withdrawal, 1)) == withdrawal
    stranger = SecretKey(bytes([9]) * 32).public_key()
    with pytest.raises(InvalidInviteLink, match="requester account"):
        parse_delivery_rumor(UnsignedEvent.create(stranger, 1, 459, rumor.content))
    with pytest.raises(InvalidInviteLink, match="without tags"):
        parse_delivery_rumor(
            UnsignedEvent.create(rumor.pubkey, 1, 459, rumor.content, [("p", "ab" * 32)])
        )
    assert hashlib.sha256(request.encode()).digest() == rh

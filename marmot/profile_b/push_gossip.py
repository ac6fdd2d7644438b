"""marmot-push-v1 token gossip: the ``content`` of app payloads 447 (self-update, or a
request when empty), 448 (list response) and 449 (removal); spec
features/push-notifications.md, where it and MDK 0.9 differ MDK's reader.

::

    447/448  {"v":"marmot-push-v1","tokens":[{member_id_hex, leaf_index, platform,
              token_fingerprint, server_pubkey_hex, relay_hint?, encrypted_token,
              owner_ts, owner_sig}, ...]}
    449      {"v":"marmot-push-v1","removals":[{the same without relay_hint and
              encrypted_token}, ...]}

The payload carries the tag ``["v", "marmot-push-v1"]``; the content's ``v`` is the one
checked. Two levels of refusal: the whole content (not a JSON object, a repeated ``v``
or array, ``v`` missing or other, the array not an array or longer than 32 entries) raises
:class:`~marmot.errors.InvalidPushMessage`; a single bad entry is only dropped, and the
rest still applies (push data is advisory and never invalidates the group message).
Identical entries count once; inside an entry a repeated key keeps its last value, as
serde_json's ``Value`` does (the signature covers the value kept). Reading does not check
signatures; :func:`accepted` does
(member of the group, ``owner_ts`` at most an hour ahead, owner signature), because the
carrier's sender grants no authority: a 448 relays other members' records.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from marmot.errors import InvalidPushMessage
from marmot.primitives import b64decode, b64encode, is_lower_hex
from marmot.profile_b.push import (
    OwnerProof,
    record_digest,
    sign_owner_proof,
    verify_owner_proof,
)
from marmot.profile_b.push_token import PLATFORM_NAMES, PushToken, encrypt_token, token_fingerprint
from nostr.errors import NostrError
from nostr.event import UnsignedEvent, compact_json
from nostr.keys import PublicKey, Rng, SecretKey, system_rng

__all__ = [
    "KIND_LIST",
    "KIND_REMOVAL",
    "KIND_UPDATE",
    "MAX_ENTRIES",
    "VERSION",
    "Gossip",
    "SignedEntry",
    "accepted",
    "gossip_content",
    "gossip_event",
    "own_record",
    "own_removal",
    "parse_gossip",
]

VERSION = "marmot-push-v1"
KIND_UPDATE, KIND_LIST, KIND_REMOVAL = 447, 448, 449
MAX_ENTRIES = 32
OWNER_TS_MAX_FUTURE_MS = 3_600_000
_ARRAY = {KIND_UPDATE: "tokens", KIND_LIST: "tokens", KIND_REMOVAL: "removals"}


@dataclass(frozen=True, slots=True)
class SignedEntry:
    """One token record (or removal) with its owner's signature."""

    proof: OwnerProof
    owner_sig: bytes

    @property
    def key(self) -> tuple[str, int, str, str]:
        """The record key: member, leaf, platform, server (not the fingerprint)."""
        p = self.proof
        return (p.member.hex, p.leaf_index, p.platform, p.server_pubkey)

    @property
    def stamp(self) -> tuple[int, str]:
        """The ordering primitive ``(owner_ts, SHA-256(SignedRecord) hex)``."""
        return (self.proof.owner_ts, record_digest(self.proof))


@dataclass(frozen=True, slots=True)
class Gossip:
    kind: int
    entries: tuple[SignedEntry, ...]
    dropped: int  # malformed entries left out

    @property
    def is_request(self) -> bool:
        """A 447 with no entries asks the others to share theirs."""
        return self.kind == KIND_UPDATE and not self.entries


def _entry_json(entry: SignedEntry) -> dict[str, Any]:
    p = entry.proof
    out: dict[str, Any] = {
        "member_id_hex": p.member.hex,
        "leaf_index": p.leaf_index,
        "platform": p.platform,
        "token_fingerprint": p.token_fingerprint,
        "server_pubkey_hex": p.server_pubkey,
    }
    if p.encrypted_token is not None:
        if p.relay_hint:
            out["relay_hint"] = p.relay_hint
        out["encrypted_token"] = b64encode(p.encrypted_token)
    out["owner_ts"] = p.owner_ts
    out["owner_sig"] = entry.owner_sig.hex()
    return out


def own_record(
    secret: SecretKey,
    group_id: bytes,
    leaf_index: int,
    token: PushToken,
    server: PublicKey,
    *,
    now_ms: int,
    relay_hint: str = "",
    rng: Rng = system_rng,
) -> SignedEntry:
    """Our device's record for one group (a 447 self-update carries it): the token
    encrypted to ``server`` afresh, stamped ``now_ms``, signed by our account."""
    proof = OwnerProof(
        group_id,
        secret.public_key(),
        leaf_index,
        PLATFORM_NAMES[token.platform],
        server.hex,
        token_fingerprint(token),
        now_ms,
        relay_hint,
        encrypt_token(server, token, rng=rng),
    )
    return SignedEntry(proof, sign_owner_proof(secret, proof, rng=rng))


def own_removal(
    secret: SecretKey, record: OwnerProof, *, now_ms: int, rng: Rng = system_rng
) -> SignedEntry:
    """The 449 entry retiring one of our records (same key and fingerprint, newer stamp)."""
    if record.member != secret.public_key():
        raise InvalidPushMessage("only the owner removes its record")
    proof = OwnerProof(
        record.group_id,
        record.member,
        record.leaf_index,
        record.platform,
        record.server_pubkey,
        record.token_fingerprint,
        now_ms,
    )
    return SignedEntry(proof, sign_owner_proof(secret, proof, rng=rng))


def gossip_content(kind: int, entries: Sequence[SignedEntry]) -> str:
    """The exact JSON MDK writes (member order as its structs, no spaces)."""
    name = _ARRAY.get(kind)
    if name is None:
        raise InvalidPushMessage(f"kind {kind} is not push token gossip")
    if len(entries) > MAX_ENTRIES:
        raise InvalidPushMessage(f"push gossip carries at most {MAX_ENTRIES} entries")
    if any(e.proof.removal != (kind == KIND_REMOVAL) for e in entries):
        raise InvalidPushMessage("a 449 carries removals only, a 447/448 records only")
    return compact_json({"v": VERSION, name: [_entry_json(e) for e in entries]})


def gossip_event(
    pubkey: PublicKey | str, created_at: int, kind: int, entries: Sequence[SignedEntry]
) -> UnsignedEvent:
    content = gossip_content(kind, entries)
    return UnsignedEvent.create(pubkey, created_at, kind, content, [("v", VERSION)])


class _Obj(dict[str, Any]):
    """A JSON object as serde_json's ``Value`` keeps it (a repeated key: the last wins),
    remembering which keys were repeated."""

    repeated: frozenset[str] = frozenset()


def _pairs(pairs: list[tuple[str, Any]]) -> _Obj:
    obj = _Obj(pairs)
    keys = [k for k, _ in pairs]
    obj.repeated = frozenset(k for k in obj if keys.count(k) > 1)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python reads NaN / Infinity, serde_json does not


def _content_array(kind: int, content: str) -> list[Any]:
    name = _ARRAY.get(kind)
    if name is None:
        raise InvalidPushMessage(f"kind {kind} is not push token gossip")
    try:
        data = json.loads(content, object_pairs_hook=_pairs, parse_constant=_no_constant)
        # serde_json refuses lone surrogate escapes; they cannot be encoded back
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        raise InvalidPushMessage("push gossip content is not JSON") from None
    if not isinstance(data, _Obj):
        raise InvalidPushMessage("push gossip content is not a JSON object")
    if data.repeated & {"v", name}:  # MDK's struct reader refuses these two only
        raise InvalidPushMessage("push gossip content repeats a member")
    if data.get("v") != VERSION:
        raise InvalidPushMessage(f"push gossip version must be {VERSION!r}")
    items = data.get(name, [])
    if type(items) is not list:
        raise InvalidPushMessage(f"push gossip {name} is not an array")
    if len(items) > MAX_ENTRIES:
        raise InvalidPushMessage(f"push gossip carries at most {MAX_ENTRIES} entries")
    return items


def parse_gossip(kind: int, group_id: bytes, content: str) -> Gossip:
    """Read a 447/448/449 ``content`` of the group ``group_id`` (signatures unchecked)."""
    entries: list[SignedEntry] = []
    dropped = 0
    for item in _content_array(kind, content):
        try:
            entry = _entry(item, group_id, removal=kind == KIND_REMOVAL)
        except InvalidPushMessage:
            dropped += 1
            continue
        if entry not in entries:
            entries.append(entry)
    return Gossip(kind, tuple(entries), dropped)


def _str(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if type(value) is not str:
        raise InvalidPushMessage(f"push entry {name} is not a string")
    return value


def _int(item: dict[str, Any], name: str, bits: int) -> int:
    value = item.get(name)
    if type(value) is not int:  # bool and float are not JSON integers here
        raise InvalidPushMessage(f"push entry {name} is not an integer")
    low, high = (0, 2**bits) if bits == 32 else (-(2**63), 2**63)
    if not low <= value < high:
        raise InvalidPushMessage(f"push entry {name} is out of range")
    return value


def _hex32(item: dict[str, Any], name: str) -> str:
    value = _str(item, name)
    if not is_lower_hex(value, 64):
        raise InvalidPushMessage(f"push entry {name} is not 32-byte lowercase hex")
    return value


def _entry(item: Any, group_id: bytes, *, removal: bool) -> SignedEntry:
    if not isinstance(item, _Obj):
        raise InvalidPushMessage("push entry is not a JSON object")
    member_hex = _hex32(item, "member_id_hex")
    leaf, owner_ts = _int(item, "leaf_index", 32), _int(item, "owner_ts", 64)
    platform, fingerprint = _str(item, "platform"), _str(item, "token_fingerprint")
    server = _hex32(item, "server_pubkey_hex")
    token: bytes | None = None
    hint = ""
    if not removal:
        raw_hint = item.get("relay_hint")
        if raw_hint is not None:
            hint = _str(item, "relay_hint")
        try:
            token = b64decode(_str(item, "encrypted_token"))
        except ValueError:
            raise InvalidPushMessage("push entry encrypted_token is not base64") from None
    sig = _str(item, "owner_sig")
    if not is_lower_hex(sig, 128):
        raise InvalidPushMessage("push entry owner_sig is not 64-byte lowercase hex")
    if owner_ts < 0:
        raise InvalidPushMessage("push entry owner_ts is negative")
    try:
        member = PublicKey.from_hex(member_hex)
    except NostrError:
        raise InvalidPushMessage("push entry member_id_hex is not a public key") from None
    proof = OwnerProof(group_id, member, leaf, platform, server, fingerprint, owner_ts, hint, token)
    return SignedEntry(proof, bytes.fromhex(sig))


def accepted(
    gossip: Gossip,
    members: Collection[str],
    *,
    now_ms: int,
    legacy: bool = False,
) -> tuple[SignedEntry, ...]:
    """The entries to apply: owned by a current member (hex account ids), ``owner_ts`` no
    more than an hour past ``now_ms``, and signed by that member (see ``verify_owner_proof``
    for ``legacy``). The rest is dropped silently, as advisory data is."""
    return tuple(e for e in gossip.entries if _acceptable(e, members, now_ms, legacy))


def _acceptable(entry: SignedEntry, members: Collection[str], now_ms: int, legacy: bool) -> bool:
    if entry.proof.member.hex not in members:
        return False
    if entry.proof.owner_ts > now_ms + OWNER_TS_MAX_FUTURE_MS:
        return False
    try:
        verify_owner_proof(entry.proof, entry.owner_sig, legacy=legacy)
    except InvalidPushMessage:
        return False
    return True

"""marmot-push-v1 owner proofs (Profile B push; MDK 0.9 ``marmot-app`` notifications).

A member's push-token record, and its removal, are signed by the member's account: the
BIP-340 ``owner_sig`` is over the id of a local kind-451 event that is never published
(MDK still reads kind 450, its legacy form). The event, ``created_at`` 0::

    pubkey   member account (hex)
    tags     ["d", <domain>], ["group_id", hex], ["member_id", hex], ["leaf_index", n],
             ["platform", "apns" | "fcm"], ["server_pubkey", hex],
             ["token_fingerprint", "sha256:" + 24 hex], ["owner_ts", ms], ["relay_hint", url or ""]
             (+ ["encrypted_token_encoding", "base64"] for a record)
    content  base64 of the encrypted token for a record, "" for a removal

Domains: ``marmot-push-token-record-v1`` (a record, kind 447/448 entries) and
``marmot-push-token-removal-v1`` (a removal, kind 449). The signature binds the group,
the server, the token and the time, so a relaying member cannot move a record elsewhere.

The spec's binary ``SignedRecord`` (domain, u16-prefixed group id, member, u32 leaf,
platform byte, server, the 12 fingerprint bytes, u64 ``owner_ts``, u16-prefixed relay
hint, the 1084-byte token for a record) is still used twice: its SHA-256 is the
``(owner_ts, digest)`` ordering stamp's tie-breaker, and groups of the legacy
application profile may carry a bare BIP-340 signature over it. A current-profile group
(every Profile B group we create or join: 0x8009 proofs) accepts only the kind-451 event,
as MDK does; ``legacy=True`` also takes kind 450 and the bare digest.

A relay hint is trimmed and a blank one is absent (signed as ""), before signing and on
reading, so signer and verifier agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from marmot.errors import InvalidPushMessage
from marmot.primitives import b64encode, is_lower_hex, sha256
from marmot.profile_b.text import rust_trim
from nostr.errors import NostrError
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng, verify_schnorr

OWNER_PROOF_KIND = 451
LEGACY_OWNER_PROOF_KIND = 450
RECORD_DOMAIN = "marmot-push-token-record-v1"
REMOVAL_DOMAIN = "marmot-push-token-removal-v1"
PLATFORMS = ("apns", "fcm")
PLATFORM_BYTES = {"apns": 1, "fcm": 2}
ENCRYPTED_TOKEN_LEN = 1084
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{24}")

__all__ = [
    "OWNER_PROOF_KIND",
    "RECORD_DOMAIN",
    "REMOVAL_DOMAIN",
    "OwnerProof",
    "owner_proof_event",
    "record_digest",
    "signed_record",
    "sign_owner_proof",
    "verify_owner_proof",
]


@dataclass(frozen=True, slots=True)
class OwnerProof:
    """What an owner signs for one push-token record (or its removal)."""

    group_id: bytes
    member: PublicKey
    leaf_index: int
    platform: str
    server_pubkey: str  # hex
    token_fingerprint: str  # "sha256:" + 24 lowercase hex
    owner_ts: int  # milliseconds
    relay_hint: str = ""
    encrypted_token: bytes | None = None  # None: a removal

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise InvalidPushMessage(f"unknown push platform {self.platform!r}")
        if not _FINGERPRINT.fullmatch(self.token_fingerprint):
            raise InvalidPushMessage("token_fingerprint is sha256: and 24 lowercase hex")
        if not is_lower_hex(self.server_pubkey, 64):
            raise InvalidPushMessage("server_pubkey is 64 lowercase hex")
        if not 0 <= self.leaf_index < 2**32:
            raise InvalidPushMessage("leaf index is a u32")
        if not 0 <= self.owner_ts < 2**63:
            raise InvalidPushMessage("owner_ts is a non-negative i64")
        token = self.encrypted_token
        if token is not None and len(token) != ENCRYPTED_TOKEN_LEN:
            raise InvalidPushMessage(f"an encrypted token is {ENCRYPTED_TOKEN_LEN} bytes")
        object.__setattr__(self, "relay_hint", rust_trim(self.relay_hint))
        if len(self.relay_hint.encode()) >= 2**16 or len(self.group_id) >= 2**16:
            raise InvalidPushMessage("group id and relay hint are u16-length-prefixed")

    @property
    def removal(self) -> bool:
        return self.encrypted_token is None


def owner_proof_event(proof: OwnerProof, *, kind: int = OWNER_PROOF_KIND) -> UnsignedEvent:
    removal = proof.encrypted_token is None
    tags: list[tuple[str, ...]] = [
        ("d", REMOVAL_DOMAIN if removal else RECORD_DOMAIN),
        ("group_id", proof.group_id.hex()),
        ("member_id", proof.member.hex),
        ("leaf_index", str(proof.leaf_index)),
        ("platform", proof.platform),
        ("server_pubkey", proof.server_pubkey),
        ("token_fingerprint", proof.token_fingerprint),
        ("owner_ts", str(proof.owner_ts)),
        ("relay_hint", proof.relay_hint),
    ]
    content = ""
    if proof.encrypted_token is not None:
        tags.append(("encrypted_token_encoding", "base64"))
        content = b64encode(proof.encrypted_token)
    return UnsignedEvent.create(proof.member, 0, kind, content, tags)


def signed_record(proof: OwnerProof) -> bytes:
    """The spec's canonical ``SignedRecord`` bytes."""
    hint = proof.relay_hint.encode()
    return b"".join(
        (
            (REMOVAL_DOMAIN if proof.removal else RECORD_DOMAIN).encode(),
            len(proof.group_id).to_bytes(2, "big"),
            proof.group_id,
            proof.member.data,
            proof.leaf_index.to_bytes(4, "big"),
            bytes((PLATFORM_BYTES[proof.platform],)),
            bytes.fromhex(proof.server_pubkey),
            bytes.fromhex(proof.token_fingerprint[len("sha256:") :]),
            proof.owner_ts.to_bytes(8, "big"),
            len(hint).to_bytes(2, "big"),
            hint,
            proof.encrypted_token or b"",
        )
    )


def record_digest(proof: OwnerProof) -> str:
    """``SHA-256(SignedRecord)`` in lowercase hex: the ordering stamp's tie-breaker."""
    return sha256(signed_record(proof)).hex()


def sign_owner_proof(secret: SecretKey, proof: OwnerProof, *, rng: Rng = system_rng) -> bytes:
    if secret.public_key() != proof.member:
        raise InvalidPushMessage("only the member signs its own push record")
    return secret.sign_schnorr(bytes.fromhex(owner_proof_event(proof).id), rng=rng)


def verify_owner_proof(proof: OwnerProof, owner_sig: bytes, *, legacy: bool = False) -> None:
    """Raise ``InvalidPushMessage`` unless ``owner_sig`` is the member's over the kind-451
    event (or, for a legacy-profile group, the kind-450 event or the bare record digest)."""
    digests = [bytes.fromhex(owner_proof_event(proof).id)]
    if legacy:
        digests.append(bytes.fromhex(owner_proof_event(proof, kind=LEGACY_OWNER_PROOF_KIND).id))
        digests.append(sha256(signed_record(proof)))
    for digest in digests:
        try:
            verify_schnorr(proof.member.data, owner_sig, digest)
        except NostrError:
            continue
        return
    raise InvalidPushMessage("owner_sig does not verify for the member")

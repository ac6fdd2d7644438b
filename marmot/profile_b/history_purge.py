"""Consensual history purge, component 0x800d ``marmot.group.history-purge.v1``: the
bytes, identities and signed proofs (spec app-components/history-purge-v1.md of the
marmot repository, adopted after the July draft; MDK master does not implement it).

Marmot binary profile throughout (QUIC-varint vector prefixes)::

    CapabilityLeaf  = leaf_index u32 || account[32] || app_ephemeral u8 || app_data_update u8
                      || history_purge u8                        (each 0/1; 1..1024 leaves)
    RequestCore     = group_id<1..255> || parent_epoch u64 || parent_group_context_hash[32]
                      || proposer[32] || created_at u64 || expires_at u64
                      || prior_retention_present u8 || prior_retention_secs u64
                      || target_retention_secs u64 || members<32..32768> || capability_hash[32]
    Request         = RequestCore || proposer_proof (104-byte MarmotAuthorizationProof)

    capability_state_hash = SHA-256("marmot-history-purge-capabilities-v1" || 0 || leaves<V>)
    request_id            = SHA-256("marmot-history-purge-request-v1" || 0 || RequestCore)
    response_id           = SHA-256("marmot-history-purge-response-v1" || 0 || request_id
                                     || decision u8 || proof)
    cancellation_id       = SHA-256("marmot-history-purge-cancellation-v1" || 0 || request_id
                                     || proof)

Members are the sorted unique accounts of the parent's leaves and include the proposer;
``expires_at`` is after ``created_at`` by at most seven days; the purge boundary is
``parent_epoch + 1`` (fixed, never moved by voting or acceptance). Proofs sign local-only
events: 455 the request (content = hex SHA-256 of the core), 454 a decision, 456 a
cancellation, each with ``d``, ``component``, ``group_id``, ``parent_epoch``, ``request``
tags (+ ``decision``). Refusals raise :class:`InvalidHistoryPurge`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from marmot.binary import BinaryError, Cursor, Out
from marmot.errors import MarmotError
from marmot.primitives import sha256
from marmot.profile_b.auth_proof import PROOF_LEN, AuthorizationProof, InvalidAuthorizationProof
from nostr.keys import Rng, SecretKey, system_rng

__all__ = [
    "COMPONENT_ID",
    "MAX_WINDOW_SECS",
    "CapabilityLeaf",
    "Decision",
    "InvalidHistoryPurge",
    "PurgeRequest",
    "RequestCore",
    "cancellation_id",
    "capability_state_hash",
    "decode_capability_state",
    "encode_capability_state",
    "response_id",
    "sign_cancellation",
    "sign_decision",
    "sign_request",
    "verify_cancellation",
    "verify_decision",
]

COMPONENT_ID = 0x800D
KIND_DECISION, KIND_REQUEST_PROOF, KIND_CANCELLATION, KIND_TERMINAL = 454, 455, 456, 457
MAX_WINDOW_SECS = 604_800
MAX_MEMBERS = 1024
_LEAF_LEN = 39
_U64 = 1 << 64
_T = TypeVar("_T")


class InvalidHistoryPurge(MarmotError):
    """History-purge bytes, proofs or transitions that break a rule of component 0x800d."""


class Decision(IntEnum):
    YES = 1
    NO = 2


def tagged_hash(label: str, *parts: bytes) -> bytes:
    return sha256(label.encode() + b"\x00" + b"".join(parts))


@dataclass(frozen=True, slots=True)
class CapabilityLeaf:
    leaf_index: int
    account: bytes
    app_ephemeral: bool
    app_data_update: bool
    history_purge: bool

    @property
    def supported(self) -> bool:
        return self.app_ephemeral and self.app_data_update and self.history_purge


def encode_capability_state(leaves: Sequence[CapabilityLeaf]) -> bytes:
    if not 1 <= len(leaves) <= MAX_MEMBERS:
        raise InvalidHistoryPurge(f"the capability state holds 1..{MAX_MEMBERS} leaves")
    indexes = [leaf.leaf_index for leaf in leaves]
    if indexes != sorted(set(indexes)) or not all(0 <= i < 1 << 32 for i in indexes):
        raise InvalidHistoryPurge("capability leaves are in strictly increasing leaf order")
    body = Out()
    for leaf in leaves:
        if len(leaf.account) != 32:
            raise InvalidHistoryPurge("a leaf account is 32 bytes")
        body.uint(leaf.leaf_index, 4)
        body.fixed(leaf.account)
        for flag in (leaf.app_ephemeral, leaf.app_data_update, leaf.history_purge):
            body.u8(int(flag))
    out = Out()
    out.var_bytes(body.getvalue())
    return out.getvalue()


def decode_capability_state(data: bytes) -> tuple[CapabilityLeaf, ...]:
    try:
        c = Cursor(data)
        body = c.var_bytes(MAX_MEMBERS * _LEAF_LEN, "capability leaves")
        c.finish()
    except BinaryError as exc:
        raise InvalidHistoryPurge(f"capability state: {exc}") from None
    if not body or len(body) % _LEAF_LEN:
        raise InvalidHistoryPurge("capability state is not whole leaves")
    leaves = []
    for i in range(0, len(body), _LEAF_LEN):
        raw = body[i : i + _LEAF_LEN]
        if any(b > 1 for b in raw[36:]):
            raise InvalidHistoryPurge("a support byte is 0 or 1")
        flags = [bool(b) for b in raw[36:]]
        leaves.append(CapabilityLeaf(int.from_bytes(raw[:4], "big"), raw[4:36], *flags))
    if encode_capability_state(leaves) != data:
        raise InvalidHistoryPurge("capability state is not canonical")
    return tuple(leaves)


def capability_state_hash(leaves: Sequence[CapabilityLeaf]) -> bytes:
    return tagged_hash("marmot-history-purge-capabilities-v1", encode_capability_state(leaves))


@dataclass(frozen=True, slots=True)
class RequestCore:
    group_id: bytes
    parent_epoch: int
    parent_group_context_hash: bytes
    proposer: bytes
    created_at: int
    expires_at: int
    prior_retention_secs: int | None  # None: the parent has no retention component
    target_retention_secs: int
    members: tuple[bytes, ...]
    capability_state_hash: bytes

    def __post_init__(self) -> None:
        if not 1 <= len(self.group_id) <= 255:
            raise InvalidHistoryPurge("group id is 1..255 bytes")
        if not 0 <= self.parent_epoch < _U64 - 1:
            raise InvalidHistoryPurge("parent epoch must leave room for the purge boundary")
        if len(self.parent_group_context_hash) != 32 or len(self.capability_state_hash) != 32:
            raise InvalidHistoryPurge("the bound hashes are 32 bytes")
        for value in (self.created_at, self.expires_at, self.target_retention_secs):
            if not 0 <= value < _U64:
                raise InvalidHistoryPurge("times and retention are u64")
        if self.prior_retention_secs is not None and not 0 <= self.prior_retention_secs < _U64:
            raise InvalidHistoryPurge("prior retention is a u64")
        if not self.created_at < self.expires_at <= self.created_at + MAX_WINDOW_SECS:
            raise InvalidHistoryPurge("a request expires after creation, within seven days")
        members = self.members
        if not 1 <= len(members) <= MAX_MEMBERS or any(len(m) != 32 for m in members):
            raise InvalidHistoryPurge(f"the cohort is 1..{MAX_MEMBERS} 32-byte accounts")
        if list(members) != sorted(set(members)):
            raise InvalidHistoryPurge("cohort members are sorted and unique")
        if self.proposer not in members:
            raise InvalidHistoryPurge("the proposer is in the cohort")

    @property
    def purge_before_epoch(self) -> int:
        """Application payloads of source epochs below this are the purge's target."""
        return self.parent_epoch + 1

    def encode(self) -> bytes:
        out = Out()
        out.var_bytes(self.group_id)
        out.u64(self.parent_epoch)
        out.fixed(self.parent_group_context_hash + self.proposer)
        out.u64(self.created_at)
        out.u64(self.expires_at)
        out.u8(int(self.prior_retention_secs is not None))
        out.u64(self.prior_retention_secs or 0)
        out.u64(self.target_retention_secs)
        out.var_bytes(b"".join(self.members))
        out.fixed(self.capability_state_hash)
        return out.getvalue()

    @classmethod
    def read(cls, c: Cursor) -> RequestCore:
        group_id = c.var_bytes(255, "group id")
        epoch, context_hash, proposer = c.u64(), c.fixed(32), c.fixed(32)
        created_at, expires_at = c.u64(), c.u64()
        present, prior, target = c.u8(), c.u64(), c.u64()
        if present > 1 or (present == 0 and prior != 0):
            raise InvalidHistoryPurge("prior retention: present is 0 or 1, absent means 0")
        raw = c.var_bytes(32 * MAX_MEMBERS, "members")
        if len(raw) % 32:
            raise InvalidHistoryPurge("members are 32-byte accounts")
        members = tuple(raw[i : i + 32] for i in range(0, len(raw), 32))
        prior_value = prior if present else None
        return cls(
            group_id, epoch, context_hash, proposer, created_at, expires_at, prior_value,
            target, members, c.fixed(32),
        )  # fmt: skip

    @classmethod
    def decode(cls, data: bytes) -> RequestCore:
        return decode_whole(data, cls.read)

    @property
    def request_id(self) -> bytes:
        return tagged_hash("marmot-history-purge-request-v1", self.encode())

    def proof_tags(self, domain: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        return (
            ("d", domain),
            ("component", "0x800d"),
            ("group_id", self.group_id.hex()),
            ("parent_epoch", str(self.parent_epoch)),
            ("request", self.request_id.hex()),
            *extra,
        )

    def in_window(self, proof: AuthorizationProof) -> bool:
        return self.created_at <= proof.created_at <= self.expires_at


def decode_whole(data: bytes, read: Callable[[Cursor], _T]) -> _T:
    c = Cursor(data)
    try:
        value = read(c)
        c.finish()
    except (BinaryError, InvalidAuthorizationProof) as exc:
        raise InvalidHistoryPurge(f"history purge bytes: {exc}") from None
    return value


_REQUEST_DOMAIN = "marmot-history-purge-request-v1"


@dataclass(frozen=True, slots=True)
class PurgeRequest:
    core: RequestCore
    proof: AuthorizationProof

    def __post_init__(self) -> None:
        if self.proof.signer != self.core.proposer:
            raise InvalidHistoryPurge("the request proof is the proposer's")
        if self.proof.created_at != self.core.created_at:
            raise InvalidHistoryPurge("the request proof's time is the request's created_at")

    def encode(self) -> bytes:
        return self.core.encode() + self.proof.encode()

    @classmethod
    def read(cls, c: Cursor) -> PurgeRequest:
        core = RequestCore.read(c)
        return cls(core, AuthorizationProof.decode(c.fixed(PROOF_LEN, "proof")))

    @classmethod
    def decode(cls, data: bytes) -> PurgeRequest:
        return decode_whole(data, cls.read)

    def verify(self) -> None:
        verify_proof(
            self.proof,
            KIND_REQUEST_PROOF,
            self.core.proof_tags(_REQUEST_DOMAIN),
            _content(self.core),
        )


def _content(core: RequestCore) -> str:
    return sha256(core.encode()).hex()


def verify_proof(
    proof: AuthorizationProof, kind: int, tags: Sequence[tuple[str, str]], content: str
) -> None:
    try:
        proof.verify(kind, tags, content)
    except InvalidAuthorizationProof as exc:
        raise InvalidHistoryPurge(exc.reason) from None


def sign_request(secret: SecretKey, core: RequestCore, *, rng: Rng = system_rng) -> PurgeRequest:
    tags = core.proof_tags(_REQUEST_DOMAIN)
    proof = AuthorizationProof.sign(
        secret, core.created_at, KIND_REQUEST_PROOF, tags, _content(core), rng=rng
    )
    return PurgeRequest(core, proof)


_DECISION_DOMAIN = "marmot-history-purge-decision-v1"
_CANCEL_DOMAIN = "marmot-history-purge-cancellation-v1"


def _decision_tags(core: RequestCore, decision: Decision) -> tuple[tuple[str, str], ...]:
    return core.proof_tags(_DECISION_DOMAIN, ("decision", decision.name.lower()))


def sign_decision(
    secret: SecretKey,
    core: RequestCore,
    decision: Decision,
    created_at: int,
    *,
    rng: Rng = system_rng,
) -> AuthorizationProof:
    tags = _decision_tags(core, decision)
    return AuthorizationProof.sign(secret, created_at, KIND_DECISION, tags, "", rng=rng)


def verify_decision(core: RequestCore, decision: Decision, proof: AuthorizationProof) -> None:
    """A cohort member's decision, timed within the request's window (by the bytes)."""
    if proof.signer not in core.members:
        raise InvalidHistoryPurge("a decision is a cohort member's")
    if not core.in_window(proof):
        raise InvalidHistoryPurge("a decision is timed from created_at through expires_at")
    verify_proof(proof, KIND_DECISION, _decision_tags(core, decision), "")


def response_id(request_id: bytes, decision: Decision, proof: AuthorizationProof) -> bytes:
    return tagged_hash(
        "marmot-history-purge-response-v1", request_id, bytes((decision,)), proof.encode()
    )


def sign_cancellation(
    secret: SecretKey, core: RequestCore, created_at: int, *, rng: Rng = system_rng
) -> AuthorizationProof:
    tags = core.proof_tags(_CANCEL_DOMAIN)
    return AuthorizationProof.sign(secret, created_at, KIND_CANCELLATION, tags, "", rng=rng)


def verify_cancellation(core: RequestCore, proof: AuthorizationProof) -> None:
    if proof.signer != core.proposer:
        raise InvalidHistoryPurge("only the proposer cancels")
    if not core.in_window(proof):
        raise InvalidHistoryPurge("a cancellation is timed from created_at through expires_at")
    verify_proof(proof, KIND_CANCELLATION, core.proof_tags(_CANCEL_DOMAIN), "")


def cancellation_id(request_id: bytes, proof: AuthorizationProof) -> bytes:
    return tagged_hash("marmot-history-purge-cancellation-v1", request_id, proof.encode())

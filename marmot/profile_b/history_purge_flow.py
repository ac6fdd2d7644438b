"""Consensual history purge, component 0x800d: the open state, terminal finalizations,
receipts and the kind-453 control app events (bytes in ``history_purge``).

::

    DecisionRecord = decision u8 (1 yes, 2 no) || proof                      (105 bytes)
    OpenState      = Request || yes_decisions<0..107520>   (sorted by signer, yes only)
    Finalization   = request_id[32] || terminal u8 || authorization proof
                     (1 accepted, 2 rejected, 3 cancelled, 4 expired, 5 superseded)
    finalization_id = SHA-256("marmot-history-purge-finalization-v1" || 0 || Finalization)
    receipt_id      = SHA-256("marmot-history-purge-receipt-v1" || 0 || finalization_id
                              || sender[32] || "applied" | "failed")

An open state grows by exactly one absent Yes at a time. A finalization's proof depends on
its terminal value: accepted / expired / superseded a kind-457 proof by the committer
(content = hex SHA-256 of ``request_id || terminal``; accepted and expired by an admin,
accepted only with every cohort member's Yes and inside the window, expired only after
it), rejected a member's No (kind 454, not already a Yes, the committer's own),
cancelled the proposer's cancellation (kind 456, the committer's own).

Kind 453 app events carry ``["v","marmot-history-purge-v1"]``, ``["type", ...]`` and the
id tag, exactly: a request (content base64 of the Request bytes, from the proposer), a
cancellation (base64 of the proof, from the proposer), a receipt (``finalization`` and
``outcome`` tags, empty content, from a cohort member). How these ride in commits
(``AppDataUpdate`` / ``AppEphemeral`` proposal sets) is the group layer's, not done here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import IntEnum

from marmot.binary import Cursor, Out
from marmot.primitives import b64decode, b64encode, sha256
from marmot.profile_b.auth_proof import PROOF_LEN, AuthorizationProof, InvalidAuthorizationProof
from marmot.profile_b.history_purge import (
    KIND_TERMINAL,
    MAX_MEMBERS,
    Decision,
    InvalidHistoryPurge,
    PurgeRequest,
    RequestCore,
    decode_whole,
    tagged_hash,
    verify_cancellation,
    verify_decision,
    verify_proof,
)
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng

__all__ = [
    "KIND_CONTROL",
    "DecisionRecord",
    "Finalization",
    "OpenState",
    "Terminal",
    "cancellation_event",
    "parse_control_event",
    "receipt_event",
    "receipt_id",
    "request_event",
    "sign_terminal",
    "verify_finalization",
]

KIND_CONTROL = 453
VERSION = "marmot-history-purge-v1"
_RECORD_LEN = 1 + PROOF_LEN
_TERMINAL_DOMAIN = "marmot-history-purge-terminal-v1"
OUTCOMES = ("applied", "failed")


class Terminal(IntEnum):
    ACCEPTED = 1
    REJECTED = 2
    CANCELLED = 3
    EXPIRED = 4
    SUPERSEDED = 5


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    decision: Decision
    proof: AuthorizationProof

    def encode(self) -> bytes:
        return bytes((self.decision,)) + self.proof.encode()

    @classmethod
    def decode(cls, data: bytes) -> DecisionRecord:
        if data[0] not in (1, 2):
            raise InvalidHistoryPurge("a decision is 1 (yes) or 2 (no)")
        return cls(Decision(data[0]), AuthorizationProof.decode(data[1:]))


@dataclass(frozen=True, slots=True)
class OpenState:
    request: PurgeRequest
    yes: tuple[DecisionRecord, ...] = ()

    def __post_init__(self) -> None:
        signers = [r.proof.signer for r in self.yes]
        if signers != sorted(set(signers)):
            raise InvalidHistoryPurge("yes decisions are sorted by signer, one per account")
        if any(r.decision != Decision.YES for r in self.yes):
            raise InvalidHistoryPurge("only yes decisions stay in the open state")
        if not set(signers) <= set(self.request.core.members):
            raise InvalidHistoryPurge("a yes decision is a cohort member's")

    def encode(self) -> bytes:
        out = Out()
        out.fixed(self.request.encode())
        out.var_bytes(b"".join(r.encode() for r in self.yes))
        return out.getvalue()

    @classmethod
    def read(cls, c: Cursor) -> OpenState:
        request = PurgeRequest.read(c)
        raw = c.var_bytes(MAX_MEMBERS * _RECORD_LEN, "yes decisions")
        if len(raw) % _RECORD_LEN:
            raise InvalidHistoryPurge("yes decisions are whole records")
        n = _RECORD_LEN
        return cls(
            request, tuple(DecisionRecord.decode(raw[i : i + n]) for i in range(0, len(raw), n))
        )

    @classmethod
    def decode(cls, data: bytes) -> OpenState:
        return decode_whole(data, cls.read)

    def verify(self) -> None:
        self.request.verify()
        for record in self.yes:
            verify_decision(self.request.core, Decision.YES, record.proof)

    def with_yes(self, record: DecisionRecord, sender: bytes) -> OpenState:
        """The one permitted update: add one absent Yes, proposed by its own signer."""
        if record.decision != Decision.YES or record.proof.signer != sender:
            raise InvalidHistoryPurge("a member adds only its own yes")
        if any(r.proof.signer == sender for r in self.yes):
            raise InvalidHistoryPurge("a member decides once")
        verify_decision(self.request.core, Decision.YES, record.proof)
        yes = tuple(sorted((*self.yes, record), key=lambda r: r.proof.signer))
        return OpenState(self.request, yes)

    @property
    def unanimous(self) -> bool:
        return {r.proof.signer for r in self.yes} == set(self.request.core.members)


@dataclass(frozen=True, slots=True)
class Finalization:
    request_id: bytes
    terminal: Terminal
    authorization: AuthorizationProof

    def encode(self) -> bytes:
        return self.request_id + bytes((self.terminal,)) + self.authorization.encode()

    @classmethod
    def decode(cls, data: bytes) -> Finalization:
        if len(data) != 33 + PROOF_LEN:
            raise InvalidHistoryPurge(f"a finalization is {33 + PROOF_LEN} bytes")
        if not 1 <= data[32] <= 5:
            raise InvalidHistoryPurge("unknown terminal value")
        try:
            proof = AuthorizationProof.decode(data[33:])
        except InvalidAuthorizationProof as exc:
            raise InvalidHistoryPurge(exc.reason) from None
        return cls(data[:32], Terminal(data[32]), proof)

    @property
    def finalization_id(self) -> bytes:
        return tagged_hash("marmot-history-purge-finalization-v1", self.encode())


def _terminal_tags(core: RequestCore, terminal: Terminal) -> tuple[tuple[str, str], ...]:
    return core.proof_tags(_TERMINAL_DOMAIN, ("terminal", terminal.name.lower()))


def _terminal_content(request_id: bytes, terminal: Terminal) -> str:
    return sha256(request_id + bytes((terminal,))).hex()


_BY_457 = (Terminal.ACCEPTED, Terminal.EXPIRED, Terminal.SUPERSEDED)


def sign_terminal(
    secret: SecretKey,
    core: RequestCore,
    terminal: Terminal,
    created_at: int,
    *,
    rng: Rng = system_rng,
) -> Finalization:
    """An accepted, expired or superseded finalization (kind 457, the committer's)."""
    if terminal not in _BY_457:
        raise InvalidHistoryPurge("rejected and cancelled finalizations carry 454 / 456 proofs")
    rid = core.request_id
    tags, content = _terminal_tags(core, terminal), _terminal_content(rid, terminal)
    proof = AuthorizationProof.sign(secret, created_at, KIND_TERMINAL, tags, content, rng=rng)
    return Finalization(rid, terminal, proof)


def verify_finalization(
    fin: Finalization, state: OpenState, *, committer: bytes, admins: Collection[bytes]
) -> None:
    """The terminal Commit's authorization against the parent's open state."""
    core, proof = state.request.core, fin.authorization
    if fin.request_id != core.request_id:
        raise InvalidHistoryPurge("the finalization names another request")
    if proof.signer != committer:
        raise InvalidHistoryPurge("a finalization's proof is the committer's")
    if fin.terminal == Terminal.REJECTED:
        if any(r.proof.signer == proof.signer for r in state.yes):
            raise InvalidHistoryPurge("a member who said yes cannot reject")
        verify_decision(core, Decision.NO, proof)
        return
    if fin.terminal == Terminal.CANCELLED:
        verify_cancellation(core, proof)
        return
    if fin.terminal in (Terminal.ACCEPTED, Terminal.EXPIRED) and committer not in admins:
        raise InvalidHistoryPurge("only an active admin accepts or expires a request")
    if fin.terminal == Terminal.ACCEPTED and not (state.unanimous and core.in_window(proof)):
        raise InvalidHistoryPurge("acceptance needs every member's yes, inside the window")
    if fin.terminal == Terminal.EXPIRED and proof.created_at <= core.expires_at:
        raise InvalidHistoryPurge("expiry is signed after expires_at")
    content = _terminal_content(core.request_id, fin.terminal)
    verify_proof(proof, KIND_TERMINAL, _terminal_tags(core, fin.terminal), content)


def receipt_id(finalization_id: bytes, sender: bytes, outcome: str) -> bytes:
    if outcome not in OUTCOMES:
        raise InvalidHistoryPurge("a receipt's outcome is applied or failed")
    return tagged_hash("marmot-history-purge-receipt-v1", finalization_id, sender, outcome.encode())


# --- kind 453 control app events ---------------------------------------------------------


def request_event(request: PurgeRequest, created_at: int) -> UnsignedEvent:
    tags = [("v", VERSION), ("type", "request"), ("request", request.core.request_id.hex())]
    author = PublicKey(request.core.proposer)
    return UnsignedEvent.create(author, created_at, KIND_CONTROL, b64encode(request.encode()), tags)


def cancellation_event(
    core: RequestCore, proof: AuthorizationProof, created_at: int
) -> UnsignedEvent:
    tags = [("v", VERSION), ("type", "cancellation"), ("request", core.request_id.hex())]
    author = PublicKey(core.proposer)
    return UnsignedEvent.create(author, created_at, KIND_CONTROL, b64encode(proof.encode()), tags)


def receipt_event(
    sender: PublicKey, created_at: int, fin: Finalization, outcome: str
) -> UnsignedEvent:
    receipt_id(fin.finalization_id, sender.data, outcome)  # checks the outcome
    tags = [
        ("v", VERSION),
        ("type", "receipt"),
        ("finalization", fin.finalization_id.hex()),
        ("outcome", outcome),
    ]
    return UnsignedEvent.create(sender, created_at, KIND_CONTROL, "", tags)


@dataclass(frozen=True, slots=True)
class Cancellation:
    request_id: bytes
    proof: AuthorizationProof


@dataclass(frozen=True, slots=True)
class Receipt:
    finalization_id: bytes
    sender: bytes
    outcome: str


def parse_control_event(event: UnsignedEvent) -> PurgeRequest | Cancellation | Receipt:
    """Read a 453 with its exact tags. The caller still checks a cancellation's or a
    receipt's sender against the request's proposer or cohort, and a receipt's
    finalization against the selected branch."""
    if event.kind != KIND_CONTROL:
        raise InvalidHistoryPurge(f"kind {event.kind} is not a history-purge control event")
    tags = [tuple(t) for t in event.tags]
    if len(tags) < 3 or tags[0] != ("v", VERSION) or len(tags[1]) != 2 or tags[1][0] != "type":
        raise InvalidHistoryPurge("a control event starts with its v and type tags")
    kind = tags[1][1]
    if kind == "receipt":
        return _receipt(event, tags)
    if kind not in ("request", "cancellation") or len(tags) != 3 or len(tags[2]) != 2:
        raise InvalidHistoryPurge("a request or cancellation has exactly v, type, request")
    if tags[2][0] != "request":
        raise InvalidHistoryPurge("a request or cancellation has exactly v, type, request")
    try:
        body = b64decode(event.content)
    except ValueError:
        raise InvalidHistoryPurge("control content is not base64") from None
    if kind == "request":
        request = PurgeRequest.decode(body)
        if tags[2] != ("request", request.core.request_id.hex()):
            raise InvalidHistoryPurge("the request tag is not the request's id")
        if event.pubkey != request.core.proposer.hex():
            raise InvalidHistoryPurge("a request is sent by its proposer")
        return request
    proof = decode_whole(body, lambda c: AuthorizationProof.decode(c.fixed(PROOF_LEN, "proof")))
    return Cancellation(_hex32(tags[2][1]), proof)


def _receipt(event: UnsignedEvent, tags: list[tuple[str, ...]]) -> Receipt:
    if len(tags) != 4 or tags[2][0] != "finalization" or tags[3][0] != "outcome":
        raise InvalidHistoryPurge("a receipt has exactly v, type, finalization, outcome")
    if event.content or tags[3][1:] not in (("applied",), ("failed",)) or len(tags[2]) != 2:
        raise InvalidHistoryPurge("a receipt has empty content and outcome applied or failed")
    return Receipt(_hex32(tags[2][1]), bytes.fromhex(event.pubkey), tags[3][1])


def _hex32(text: str) -> bytes:
    if len(text) != 64 or text != text.lower():
        raise InvalidHistoryPurge("an id tag is 64 lowercase hex")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise InvalidHistoryPurge("an id tag is 64 lowercase hex") from None

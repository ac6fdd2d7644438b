"""Profile B KeyPackage events: kind 30443 on the account's NIP-65 write relays.

As MDK 0.9 publishes them (transport-nostr-adapter) and reads them (marmot-app)::

    content = base64(TLS(MLSMessage(KeyPackage)))       # framed, unlike Profile A
    tags, in this order:
      ["d", <slot id, 64 random hex>]  ["mls_protocol_version", "1.0"]  ["i", <KeyPackageRef hex>]
      ["mls_ciphersuite", "0x0001"]   ["mls_extensions", ...]  ["mls_proposals", ...]
      ["app_components", ...]          # private-use ids only (>= 0x8000)

No ``relays``, ``encoding`` or ``client`` tag (the binding forbids ``encoding``). Reading
checks: one of each tag (a repeated one is refused, not first-wins); the id lists equal,
as sets of exact ``0x%04x`` strings without repeats, what the decoded KeyPackage
advertises; the author is the credential identity; ``i`` is the recomputed ref; and the
KeyPackage validates (signatures, lifetime, account proof).

The e43fd5e Dark Matter client (July draft, 0xf2f1 proofs) writes a fixed
``["mls_extensions", "0x0006", "0xf2f1", "0x000a"]`` whatever its leaf lists (it also
lists 0x0003 and its agent-stream roles); for a KeyPackage with a 0xf2f1 proof the tag
need only name advertised ids, 0xf2f1 among them (that client's own reading rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from marmot.key_package_event import key_package_ref_of
from marmot.primitives import b64decode, b64encode, is_lower_hex
from marmot.profile_b.draft_proof import EXTENSION as DRAFT_PROOF_EXTENSION
from marmot.profile_b.errors import InvalidKeyPackage
from marmot.profile_b.key_package import (
    CIPHER_SUITE,
    decode_key_package_message,
    encode_key_package_message,
    key_package_capabilities,
    validate_key_package_b,
)
from marmot.profile_b.proofs import ProofForm
from mls.app_data import is_last_resort
from mls.messages import KeyPackage
from nostr.errors import NostrError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, system_rng
from nostr.kinds import Kind

__all__ = [
    "ParsedKeyPackageEvent",
    "key_package_event",
    "key_package_event_tags",
    "parse_key_package_event_b",
    "select_key_packages_b",
]


def _ids(values: Iterable[int]) -> tuple[str, ...]:
    return tuple(f"0x{v:04x}" for v in sorted(values))


def key_package_event_tags(key_package: KeyPackage, d_tag: str) -> tuple[tuple[str, ...], ...]:
    caps = key_package_capabilities(key_package)
    ref = key_package_ref_of(key_package.to_bytes())
    return (
        ("d", d_tag),
        ("mls_protocol_version", "1.0"),
        ("i", ref.hex()),
        ("mls_ciphersuite", f"0x{CIPHER_SUITE:04x}"),
        ("mls_extensions", *_ids(caps.extensions)),
        ("mls_proposals", *_ids(caps.proposals)),
        ("app_components", *_ids(caps.private_app_components)),
    )


def key_package_event(
    key_package: KeyPackage,
    author: PublicKey,
    *,
    created_at: int,
    d_tag: str | None = None,
    rng: Rng = system_rng,
) -> UnsignedEvent:
    """The unsigned 30443 (sign it with the account key); reuse ``d_tag`` to rotate in place."""
    d = rng(32).hex() if d_tag is None else d_tag
    if not d:
        raise InvalidKeyPackage("a KeyPackage slot id must not be empty")
    content = b64encode(encode_key_package_message(key_package))
    tags = key_package_event_tags(key_package, d)
    return UnsignedEvent.create(author, created_at, Kind.MLS_KEY_PACKAGE, content, tags)


@dataclass(frozen=True, slots=True)
class ParsedKeyPackageEvent:
    event_id: str
    author: PublicKey
    d_tag: str
    ref: bytes
    created_at: int
    key_package: KeyPackage = field(repr=False)


def _single(event: Event, name: str) -> tuple[str, ...]:
    found = [t for t in event.tags if t and t[0] == name]
    if not found:
        raise InvalidKeyPackage(f"missing {name} tag", event_id=event.id)
    if len(found) > 1:
        raise InvalidKeyPackage(f"more than one {name} tag", event_id=event.id)
    return tuple(found[0][1:])


def _single_value(event: Event, name: str) -> str:
    values = _single(event, name)
    if not values or not values[0]:
        raise InvalidKeyPackage(f"empty {name} tag", event_id=event.id)
    return values[0]


def _check_list(event: Event, name: str, expected: Iterable[int]) -> None:
    values = _single(event, name)
    if len(set(values)) != len(values) or set(values) != set(_ids(expected)):
        raise InvalidKeyPackage(
            f"{name} tag does not match the KeyPackage's capabilities", event_id=event.id
        )


def _check_draft_extensions(event: Event, advertised: Iterable[int]) -> None:
    values = _single(event, "mls_extensions")
    listed = set(values)
    if len(listed) != len(values) or not listed <= set(_ids(advertised)):
        raise InvalidKeyPackage("mls_extensions names an unadvertised id", event_id=event.id)
    if _ids([DRAFT_PROOF_EXTENSION])[0] not in listed:
        raise InvalidKeyPackage("mls_extensions lacks 0xf2f1", event_id=event.id)


def parse_key_package_event_b(event: Event, *, now: int) -> ParsedKeyPackageEvent:
    if event.kind != Kind.MLS_KEY_PACKAGE:
        raise InvalidKeyPackage(f"kind {event.kind} is not 30443", event_id=event.id)
    try:
        event.verify()
    except NostrError as exc:
        raise InvalidKeyPackage(f"bad event: {exc}", event_id=event.id) from None
    if _single_value(event, "mls_protocol_version") != "1.0":
        raise InvalidKeyPackage("mls_protocol_version is not 1.0", event_id=event.id)
    d_tag = _single_value(event, "d")
    ref_hex = _single_value(event, "i")
    try:
        raw = b64decode(event.content)
    except ValueError:
        raise InvalidKeyPackage("content is not base64", event_id=event.id) from None
    try:
        key_package = decode_key_package_message(raw)
        form = validate_key_package_b(key_package, now=now)
    except InvalidKeyPackage as exc:
        raise InvalidKeyPackage(exc.reason, event_id=event.id) from None
    if _single_value(event, "mls_ciphersuite") != f"0x{key_package.cipher_suite:04x}":
        raise InvalidKeyPackage("mls_ciphersuite does not match", event_id=event.id)
    caps = key_package_capabilities(key_package)
    if form is ProofForm.DRAFT:
        _check_draft_extensions(event, caps.extensions)
    else:
        _check_list(event, "mls_extensions", caps.extensions)
    _check_list(event, "mls_proposals", caps.proposals)
    _check_list(event, "app_components", caps.private_app_components)
    if key_package.leaf_node.credential.identity.hex() != event.pubkey:
        raise InvalidKeyPackage("the author is not the credential identity", event_id=event.id)
    ref = key_package_ref_of(key_package.to_bytes())
    if not is_lower_hex(ref_hex, 64) or ref_hex != ref.hex():
        raise InvalidKeyPackage("i tag is not the KeyPackageRef", event_id=event.id)
    return ParsedKeyPackageEvent(event.id, event.author, d_tag, ref, event.created_at, key_package)


def select_key_packages_b(events: Iterable[Event], *, now: int) -> list[ParsedKeyPackageEvent]:
    """The valid Profile B candidates of one account, best first (spec transports/nostr.md,
    foundation/key-packages.md): per ``(author, d)`` slot the newest event (lower id on a
    tie); then non-last-resort before last-resort, fresher first, lower KeyPackageRef
    as the final tie-break. Invalid events are dropped."""
    slots: dict[tuple[str, str], tuple[int, str, ParsedKeyPackageEvent]] = {}
    for event in events:
        try:
            parsed = parse_key_package_event_b(event, now=now)
        except InvalidKeyPackage:
            continue
        key = (event.pubkey, parsed.d_tag)
        rank = (event.created_at, _inverted(event.id), parsed)
        if key not in slots or rank[:2] > slots[key][:2]:
            slots[key] = rank
    chosen = [entry[2] for entry in slots.values()]
    return sorted(chosen, key=lambda p: (is_last_resort(p.key_package), -p.created_at, p.ref))


def _inverted(hex_id: str) -> str:
    """Sorts descending where ``hex_id`` sorts ascending (a lower id wins a tie)."""
    return "".join("0123456789abcdef"[15 - int(c, 16)] for c in hex_id)

"""Builders for storage tests: stable ids, a group, chat messages, a cheap cipher profile.

Unit tests use `FAST` (cheap key derivation: hundreds of throw-away databases); the
integration tests in tests/integration/test_sqlcipher_*.py use the pinned production profile.
"""

from __future__ import annotations

import hashlib

from storage import CipherProfile
from storage.rows import (
    DeliveryStatus,
    ExporterSecret,
    GroupMetadata,
    GroupState,
    Member,
    MlsState,
    NewGroup,
    NewMessage,
)

FAST = CipherProfile(kdf_iter=1000)
PASSPHRASE = "correct horse battery staple"


def hexid(label: str) -> str:
    """A stable 64-hex id (event id, pubkey, rumor id) for a test label."""
    return hashlib.sha256(label.encode()).hexdigest()


def gid(label: str) -> bytes:
    return hashlib.sha256(b"group:" + label.encode()).digest()


ALICE, BOB, CAROL = hexid("alice"), hexid("bob"), hexid("carol")


def new_group(label: str = "g", *, epoch: int = 0, state: bytes = b"state-0") -> NewGroup:
    return NewGroup(
        mls_group_id=gid(label),
        metadata=GroupMetadata(
            nostr_group_id=hexid("nostr:" + label),
            name=f"Group {label}",
            description="test group",
            admins=(ALICE,),
            relays=("ws://127.0.0.1:7777",),
            marmot_data=b"\xf2\xee" + label.encode(),
        ),
        state=GroupState.ACTIVE,
        epoch=epoch,
        our_leaf=0,
        mls_state=MlsState(1, state),
        members=(Member(0, ALICE), Member(1, BOB)),
        exporter_secrets=(ExporterSecret(epoch, "group-event", b"s" * 32),),
    )


def chat(
    group: bytes,
    n: int,
    *,
    author: str = BOB,
    content: str | None = None,
    created_at: int | None = None,
    status: DeliveryStatus = DeliveryStatus.RECEIVED,
    is_read: bool = False,
    epoch: int | None = 0,
    reply_to: str | None = None,
    kind: int = 9,
) -> NewMessage:
    """Message ``n`` of ``group``: ids derive from (group, n), created_at defaults to 1000+n."""
    return NewMessage(
        mls_group_id=group,
        rumor_id=rumor(group, n),
        kind=kind,
        author=author,
        content=f"message {n}" if content is None else content,
        created_at=1_000 + n if created_at is None else created_at,
        status=status,
        event_id=hexid(f"event:{group.hex()}:{n}"),
        tags=(("client", "burrow-test"),),
        reply_to=reply_to,
        epoch=epoch,
        is_read=is_read,
    )


def rumor(group: bytes, n: int) -> str:
    return hexid(f"rumor:{group.hex()}:{n}")

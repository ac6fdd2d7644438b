"""messages.json: every structure decodes and re-encodes byte for byte (RFC 9420 sections
6, 7.6, 10, 12.1, 12.4 and 12.4.3.3). One test item per vector case, 17 structures each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mls.messages import (
    Add,
    Commit,
    ContentType,
    ExternalInit,
    GroupContextExtensions,
    GroupSecrets,
    MLSMessage,
    PreSharedKey,
    PublicMessage,
    ReInit,
    Remove,
    Update,
    WireFormat,
    ratchet_tree_from_bytes,
    ratchet_tree_to_bytes,
)
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("messages")
pytestmark = pytest.mark.vectors


def _mls_message(wire_format: WireFormat, content_type: ContentType | None = None) -> Any:
    """A round trip through MLSMessage that also checks what the envelope carries."""

    def check(data: bytes) -> bytes:
        msg = MLSMessage.from_bytes(data)
        assert msg.wire_format == wire_format
        if content_type is not None:
            assert isinstance(msg.body, PublicMessage)
            assert msg.body.content.content_type == content_type
        return msg.to_bytes()

    return check


def _struct(cls: Any) -> Callable[[bytes], bytes]:
    def check(data: bytes) -> bytes:
        value = cls.from_bytes(data)
        assert type(value) is cls
        encoded: bytes = value.to_bytes()
        return encoded

    return check


def _tree(data: bytes) -> bytes:
    return ratchet_tree_to_bytes(ratchet_tree_from_bytes(data))


CHECKS: dict[str, Callable[[bytes], bytes]] = {
    "mls_welcome": _mls_message(WireFormat.WELCOME),
    "mls_group_info": _mls_message(WireFormat.GROUP_INFO),
    "mls_key_package": _mls_message(WireFormat.KEY_PACKAGE),
    "ratchet_tree": _tree,
    "group_secrets": _struct(GroupSecrets),
    "add_proposal": _struct(Add),
    "update_proposal": _struct(Update),
    "remove_proposal": _struct(Remove),
    "pre_shared_key_proposal": _struct(PreSharedKey),
    "re_init_proposal": _struct(ReInit),
    "external_init_proposal": _struct(ExternalInit),
    "group_context_extensions_proposal": _struct(GroupContextExtensions),
    "commit": _struct(Commit),
    "public_message_application": _mls_message(WireFormat.PUBLIC_MESSAGE, ContentType.APPLICATION),
    "public_message_proposal": _mls_message(WireFormat.PUBLIC_MESSAGE, ContentType.PROPOSAL),
    "public_message_commit": _mls_message(WireFormat.PUBLIC_MESSAGE, ContentType.COMMIT),
    "private_message": _mls_message(WireFormat.PRIVATE_MESSAGE),
}


@pytest.mark.parametrize("case", CASES, ids=case_ids("messages", CASES))
def test_decode_reencode(case: dict[str, Any]) -> None:
    assert len(CASES) == 300
    assert set(case) == set(CHECKS)  # every structure of the case is checked
    for name, check in CHECKS.items():
        data = bytes.fromhex(case[name])
        assert check(data) == data, name

"""Typed access to the extensions of RFC 9420 section 13 and the extensions draft."""

from __future__ import annotations

import pytest

from mls.errors import InvalidMessage
from mls.extensions import (
    application_id,
    check_extension_list,
    external_pub,
    external_pub_extension,
    external_senders,
    last_resort_extension,
    ratchet_tree_extension,
    required_capabilities,
    supports_required,
)
from mls.messages import (
    ApplicationId,
    Capabilities,
    Credential,
    Extension,
    ExtensionType,
    ExternalSender,
    ExternalSenders,
    RequiredCapabilities,
)


def test_known_extensions_decode() -> None:
    required = RequiredCapabilities((0xF2EE,), (0x000A,), (1,))
    sender = ExternalSender(b"\x01" * 32, Credential.basic(b"ds"))
    extensions = (
        Extension(ExtensionType.APPLICATION_ID, ApplicationId(b"burrow").to_bytes()),
        Extension(ExtensionType.REQUIRED_CAPABILITIES, required.to_bytes()),
        Extension(ExtensionType.EXTERNAL_SENDERS, ExternalSenders((sender,)).to_bytes()),
        external_pub_extension(b"\x02" * 32),
        Extension(0xF2EE, b"carried as is"),
    )
    check_extension_list(extensions)
    assert application_id(extensions) == b"burrow"
    assert required_capabilities(extensions) == required
    assert external_senders(extensions) == (sender,)
    assert external_pub(extensions) == b"\x02" * 32
    assert ratchet_tree_extension(b"\x00").extension_type == ExtensionType.RATCHET_TREE
    assert last_resort_extension() == Extension(ExtensionType.LAST_RESORT, b"")
    for missing in (application_id, required_capabilities, external_pub):
        assert missing(()) is None
    assert external_senders(()) == ()


def test_bad_extension_lists() -> None:
    twice = (Extension(0xF2EE, b""), Extension(0xF2EE, b"x"))
    with pytest.raises(InvalidMessage, match="twice"):
        check_extension_list(twice)
    broken = (Extension(ExtensionType.REQUIRED_CAPABILITIES, b"\x05"),)
    with pytest.raises(InvalidMessage, match="does not parse"):
        check_extension_list(broken)
    with pytest.raises(InvalidMessage, match="does not parse"):
        external_pub((Extension(ExtensionType.EXTERNAL_PUB, b"\x40"),))


def test_supports_required() -> None:
    required = RequiredCapabilities((0xF2EE, 0x0002), (0x000A, 0x0001), (1,))
    caps = Capabilities((1,), (1,), (0xF2EE,), (0x000A,), (1,))
    assert supports_required(caps, required)  # default types (0x0002, 0x0001) are implied
    assert not supports_required(Capabilities((1,), (1,), (), (0x000A,), (1,)), required)
    assert not supports_required(Capabilities((1,), (1,), (0xF2EE,), (), (1,)), required)
    assert not supports_required(Capabilities((1,), (1,), (0xF2EE,), (0x000A,), (2,)), required)

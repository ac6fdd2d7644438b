"""Typed access to the extensions a group uses (RFC 9420 sections 12.4.3.2, 11.1, 13).

Extensions travel as ``Extension(extension_type, extension_data)``; unknown types (the
Marmot ``0xF2EE`` group data, GREASE) are carried through byte for byte. These helpers
decode the known ones where the engine needs them and build the ones it emits::

    required_capabilities(extensions) -> RequiredCapabilities | None
    external_senders(extensions) -> tuple[ExternalSender, ...]
    ratchet_tree_extension(tree_bytes), external_pub_extension(pub), last_resort_extension()
    check_extension_list(extensions)      # unique types, known bodies parse
"""

from __future__ import annotations

from collections.abc import Sequence

from mls.app_data import app_data_dictionary
from mls.errors import DecodeError, InvalidMessage
from mls.messages import (
    DEFAULT_EXTENSION_TYPES,
    DEFAULT_PROPOSAL_TYPES,
    ApplicationId,
    Capabilities,
    Extension,
    ExtensionType,
    ExternalPub,
    ExternalSender,
    ExternalSenders,
    RequiredCapabilities,
    find_extension,
)

__all__ = [
    "application_id",
    "check_extension_list",
    "external_pub",
    "external_pub_extension",
    "external_senders",
    "last_resort_extension",
    "ratchet_tree_extension",
    "required_capabilities",
    "supports_required",
]


def _decode(ext: Extension, what: type[RequiredCapabilities] | type[ExternalSenders]) -> object:
    try:
        return what.from_bytes(ext.extension_data)
    except DecodeError as exc:
        raise InvalidMessage(
            f"extension 0x{ext.extension_type:04x} does not parse: {exc}"
        ) from None


def required_capabilities(extensions: Sequence[Extension]) -> RequiredCapabilities | None:
    ext = find_extension(extensions, ExtensionType.REQUIRED_CAPABILITIES)
    if ext is None:
        return None
    value = _decode(ext, RequiredCapabilities)
    assert isinstance(value, RequiredCapabilities)
    return value


def external_senders(extensions: Sequence[Extension]) -> tuple[ExternalSender, ...]:
    ext = find_extension(extensions, ExtensionType.EXTERNAL_SENDERS)
    if ext is None:
        return ()
    value = _decode(ext, ExternalSenders)
    assert isinstance(value, ExternalSenders)
    return value.external_senders


def external_pub(extensions: Sequence[Extension]) -> bytes | None:
    ext = find_extension(extensions, ExtensionType.EXTERNAL_PUB)
    if ext is None:
        return None
    try:
        return ExternalPub.from_bytes(ext.extension_data).external_pub
    except DecodeError as exc:
        raise InvalidMessage(f"external_pub does not parse: {exc}") from None


def application_id(extensions: Sequence[Extension]) -> bytes | None:
    ext = find_extension(extensions, ExtensionType.APPLICATION_ID)
    if ext is None:
        return None
    try:
        return ApplicationId.from_bytes(ext.extension_data).application_id
    except DecodeError as exc:
        raise InvalidMessage(f"application_id does not parse: {exc}") from None


def ratchet_tree_extension(tree_bytes: bytes) -> Extension:
    """The ``ratchet_tree`` extension; ``tree_bytes`` is the encoded ``ratchet_tree<V>``."""
    return Extension(ExtensionType.RATCHET_TREE, tree_bytes)


def external_pub_extension(public_key: bytes) -> Extension:
    return Extension(ExtensionType.EXTERNAL_PUB, ExternalPub(public_key).to_bytes())


def last_resort_extension() -> Extension:
    """The KeyPackage extension marking a KeyPackage that may be used more than once."""
    return Extension(ExtensionType.LAST_RESORT, b"")


def supports_required(caps: Capabilities, required: RequiredCapabilities) -> bool:
    """Whether capabilities cover a RequiredCapabilities (default types are implied)."""
    return (
        all(t in DEFAULT_EXTENSION_TYPES or t in caps.extensions for t in required.extension_types)
        and all(t in DEFAULT_PROPOSAL_TYPES or t in caps.proposals for t in required.proposal_types)
        and all(t in caps.credentials for t in required.credential_types)
    )


def check_extension_list(extensions: Sequence[Extension]) -> None:
    """Section 13: each type at most once; the bodies we interpret must parse."""
    seen: set[int] = set()
    for ext in extensions:
        if ext.extension_type in seen:
            raise InvalidMessage(f"extension 0x{ext.extension_type:04x} appears twice")
        seen.add(ext.extension_type)
    required_capabilities(extensions)
    external_senders(extensions)
    app_data_dictionary(extensions)

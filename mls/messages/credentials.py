"""Credentials and extensions (RFC 9420 sections 5.3 and 13)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from mls.codec import Reader, Writer
from mls.errors import UsageError
from mls.messages._base import (
    Struct,
    pull_opaques,
    pull_u16s,
    push_opaques,
    push_structs,
    push_u16s,
)
from mls.messages.codepoints import CredentialType

# Plain ints: comparing against them is cheaper than against IntEnum members.
_BASIC, _X509 = int(CredentialType.BASIC), int(CredentialType.X509)


@dataclass(frozen=True, slots=True)
class Credential(Struct):
    """Section 5.3::

        struct { opaque cert_data<V>; } Certificate;
        struct {
            CredentialType credential_type;
            select (Credential.credential_type) {
                case basic: opaque identity<V>;
                case x509: Certificate certificates<V>;
            };
        } Credential;

    ``certificates`` holds each ``cert_data``. The body of a credential type we do not know
    is kept whole in ``data``, read as ``opaque<V>`` (the convention of the registry's later
    entries and of other implementations), so it round-trips unchanged.
    """

    credential_type: int
    identity: bytes = b""
    certificates: tuple[bytes, ...] = ()
    data: bytes = b""

    def __post_init__(self) -> None:
        kind = self.credential_type
        if kind == _BASIC:
            ok = not self.certificates and not self.data
        elif kind == _X509:
            ok = not self.identity and not self.data
        else:
            ok = not self.identity and not self.certificates
        if not ok:
            raise UsageError(f"credential fields do not match credential type {kind}")

    @classmethod
    def basic(cls, identity: bytes) -> Credential:
        return cls(CredentialType.BASIC, identity=identity)

    @classmethod
    def x509(cls, certificates: Sequence[bytes]) -> Credential:
        return cls(CredentialType.X509, certificates=tuple(certificates))

    def encode(self, w: Writer) -> None:
        kind = self.credential_type
        w.u16(kind)
        if kind == _BASIC:
            w.opaque(self.identity)
        elif kind == _X509:
            push_opaques(w, self.certificates)
        else:
            w.opaque(self.data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        kind = r.u16()
        if kind == _BASIC:
            return cls(kind, identity=r.opaque())
        if kind == _X509:
            return cls(kind, certificates=pull_opaques(r))
        return cls(kind, data=r.opaque())


@dataclass(frozen=True, slots=True)
class Extension(Struct):
    """Section 13::

        struct {
            ExtensionType extension_type;
            opaque extension_data<V>;
        } Extension;

    Unknown (and GREASE) types are carried through untouched.
    """

    extension_type: int
    extension_data: bytes

    def encode(self, w: Writer) -> None:
        w.u16(self.extension_type)
        w.opaque(self.extension_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u16(), r.opaque())


def pull_extensions(r: Reader) -> tuple[Extension, ...]:
    """``Extension extensions<V>``."""
    return tuple(r.vector(Extension.decode))


def push_extensions(w: Writer, extensions: Sequence[Extension]) -> None:
    push_structs(w, extensions)


def find_extension(extensions: Sequence[Extension], extension_type: int) -> Extension | None:
    """The first extension of ``extension_type``; uniqueness is checked by validation."""
    for ext in extensions:
        if ext.extension_type == extension_type:
            return ext
    return None


@dataclass(frozen=True, slots=True)
class ApplicationId(Struct):
    """Section 5.3.3: ``struct { opaque application_id<V>; } ApplicationId;``"""

    application_id: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.application_id)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True, slots=True)
class RequiredCapabilities(Struct):
    """Section 11.1::

    struct {
        ExtensionType extension_types<V>;
        ProposalType proposal_types<V>;
        CredentialType credential_types<V>;
    } RequiredCapabilities;
    """

    extension_types: tuple[int, ...] = ()
    proposal_types: tuple[int, ...] = ()
    credential_types: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        push_u16s(w, self.extension_types)
        push_u16s(w, self.proposal_types)
        push_u16s(w, self.credential_types)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(pull_u16s(r), pull_u16s(r), pull_u16s(r))


@dataclass(frozen=True, slots=True)
class ExternalPub(Struct):
    """Section 12.4.3.2: ``struct { HPKEPublicKey external_pub; } ExternalPub;``"""

    external_pub: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.external_pub)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True, slots=True)
class ExternalSender(Struct):
    """Section 12.1.8.1::

    struct {
      SignaturePublicKey signature_key;
      Credential credential;
    } ExternalSender;
    """

    signature_key: bytes
    credential: Credential

    def encode(self, w: Writer) -> None:
        w.opaque(self.signature_key)
        self.credential.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), Credential.decode(r))


@dataclass(frozen=True, slots=True)
class ExternalSenders(Struct):
    """The ``external_senders`` extension body: ``ExternalSender external_senders<V>;``"""

    external_senders: tuple[ExternalSender, ...]

    def encode(self, w: Writer) -> None:
        push_structs(w, self.external_senders)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.vector(ExternalSender.decode)))

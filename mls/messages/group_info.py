"""Group context, group info and welcome (RFC 9420 sections 8.1, 12.4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from mls.codec import Reader, Writer
from mls.messages._base import Struct, push_optional, push_structs
from mls.messages.credentials import Extension, pull_extensions, push_extensions
from mls.messages.nodes import HPKECiphertext
from mls.messages.proposals import PreSharedKeyID


@dataclass(frozen=True, slots=True)
class GroupContext(Struct):
    """Section 8.1::

        struct {
            ProtocolVersion version = mls10;
            CipherSuite cipher_suite;
            opaque group_id<V>;
            uint64 epoch;
            opaque tree_hash<V>;
            opaque confirmed_transcript_hash<V>;
            Extension extensions<V>;
        } GroupContext;

    ``version`` stays a raw int; a group of another version is refused by validation.
    """

    version: int
    cipher_suite: int
    group_id: bytes
    epoch: int
    tree_hash: bytes
    confirmed_transcript_hash: bytes
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        w.u16(self.version)
        w.u16(self.cipher_suite)
        w.opaque(self.group_id)
        w.u64(self.epoch)
        w.opaque(self.tree_hash)
        w.opaque(self.confirmed_transcript_hash)
        push_extensions(w, self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            r.u16(), r.u16(), r.opaque(), r.u64(), r.opaque(), r.opaque(), pull_extensions(r)
        )


@dataclass(frozen=True, slots=True)
class GroupInfo(Struct):
    """Section 12.4.3::

    struct {
        GroupContext group_context;
        Extension extensions<V>;
        MAC confirmation_tag;
        uint32 signer;
        /* SignWithLabel(., "GroupInfoTBS", GroupInfoTBS) */
        opaque signature<V>;
    } GroupInfo;
    """

    group_context: GroupContext
    extensions: tuple[Extension, ...]
    confirmation_tag: bytes
    signer: int
    signature: bytes

    def _encode_content(self, w: Writer) -> None:
        self.group_context.encode(w)
        push_extensions(w, self.extensions)
        w.opaque(self.confirmation_tag)
        w.u32(self.signer)

    def encode(self, w: Writer) -> None:
        self._encode_content(w)
        w.opaque(self.signature)

    def tbs(self) -> bytes:
        """The encoded ``GroupInfoTBS``: every field but the signature."""
        w = Writer()
        self._encode_content(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(GroupContext.decode(r), pull_extensions(r), r.opaque(), r.u32(), r.opaque())


@dataclass(frozen=True, slots=True)
class PathSecret(Struct):
    """Section 12.4.3: ``struct { opaque path_secret<V>; } PathSecret;``"""

    path_secret: bytes = field(repr=False)

    def encode(self, w: Writer) -> None:
        w.opaque(self.path_secret)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True, slots=True)
class GroupSecrets(Struct):
    """Section 12.4.3::

    struct {
      opaque joiner_secret<V>;
      optional<PathSecret> path_secret;
      PreSharedKeyID psks<V>;
    } GroupSecrets;
    """

    joiner_secret: bytes = field(repr=False)
    path_secret: PathSecret | None = None
    psks: tuple[PreSharedKeyID, ...] = ()

    def encode(self, w: Writer) -> None:
        w.opaque(self.joiner_secret)
        push_optional(w, self.path_secret)
        push_structs(w, self.psks)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            r.opaque(), r.optional(PathSecret.decode), tuple(r.vector(PreSharedKeyID.decode))
        )


@dataclass(frozen=True, slots=True)
class EncryptedGroupSecrets(Struct):
    """Section 12.4.3::

    struct {
      KeyPackageRef new_member;
      HPKECiphertext encrypted_group_secrets;
    } EncryptedGroupSecrets;
    """

    new_member: bytes
    encrypted_group_secrets: HPKECiphertext

    def encode(self, w: Writer) -> None:
        w.opaque(self.new_member)
        self.encrypted_group_secrets.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), HPKECiphertext.decode(r))


@dataclass(frozen=True, slots=True)
class Welcome(Struct):
    """Section 12.4.3::

    struct {
      CipherSuite cipher_suite;
      EncryptedGroupSecrets secrets<V>;
      opaque encrypted_group_info<V>;
    } Welcome;
    """

    cipher_suite: int
    secrets: tuple[EncryptedGroupSecrets, ...]
    encrypted_group_info: bytes

    def encode(self, w: Writer) -> None:
        w.u16(self.cipher_suite)
        push_structs(w, self.secrets)
        w.opaque(self.encrypted_group_info)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u16(), tuple(r.vector(EncryptedGroupSecrets.decode)), r.opaque())

"""The top-level ``MLSMessage`` envelope (RFC 9420 section 6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self, TypeAlias

from mls.codec import Reader, Writer
from mls.errors import DecodeError
from mls.messages._base import Struct
from mls.messages.codepoints import ProtocolVersion, WireFormat
from mls.messages.content import PublicMessage
from mls.messages.group_info import GroupInfo, Welcome
from mls.messages.leaf_node import KeyPackage
from mls.messages.private import PrivateMessage

MessageBody: TypeAlias = PublicMessage | PrivateMessage | Welcome | GroupInfo | KeyPackage

_WIRE_FORMAT: dict[type, WireFormat] = {
    PublicMessage: WireFormat.PUBLIC_MESSAGE,
    PrivateMessage: WireFormat.PRIVATE_MESSAGE,
    Welcome: WireFormat.WELCOME,
    GroupInfo: WireFormat.GROUP_INFO,
    KeyPackage: WireFormat.KEY_PACKAGE,
}
_DECODERS: dict[int, Callable[[Reader], MessageBody]] = {
    WireFormat.PUBLIC_MESSAGE: PublicMessage.decode,
    WireFormat.PRIVATE_MESSAGE: PrivateMessage.decode,
    WireFormat.WELCOME: Welcome.decode,
    WireFormat.GROUP_INFO: GroupInfo.decode,
    WireFormat.KEY_PACKAGE: KeyPackage.decode,
}


@dataclass(frozen=True, slots=True)
class MLSMessage(Struct):
    """Section 6::

        struct {
            ProtocolVersion version = mls10;
            WireFormat wire_format;
            select (MLSMessage.wire_format) {
                case mls_public_message:  PublicMessage public_message;
                case mls_private_message: PrivateMessage private_message;
                case mls_welcome:         Welcome welcome;
                case mls_group_info:      GroupInfo group_info;
                case mls_key_package:     KeyPackage key_package;
            };
        } MLSMessage;

    ``wire_format`` follows from the type of ``body``. Another version or an unknown wire
    format cannot be framed and is a ``DecodeError``.
    """

    body: MessageBody

    @property
    def wire_format(self) -> WireFormat:
        return _WIRE_FORMAT[type(self.body)]

    @property
    def version(self) -> ProtocolVersion:
        return ProtocolVersion.MLS10

    def encode(self, w: Writer) -> None:
        w.u16(ProtocolVersion.MLS10)
        w.u16(_WIRE_FORMAT[type(self.body)])
        self.body.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.u16()
        if version != ProtocolVersion.MLS10:
            raise DecodeError(f"unsupported MLSMessage version {version}")
        wire_format = r.u16()
        decoder = _DECODERS.get(wire_format)
        if decoder is None:
            raise DecodeError(f"invalid wire_format {wire_format}")
        return cls(decoder(r))

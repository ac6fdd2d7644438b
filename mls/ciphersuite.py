"""RFC 9420 section 17.1 cipher suites and the constants of their primitives.

Each suite fixes a DHKEM (RFC 9180 section 7.1), an HKDF hash, an AEAD and a TLS 1.3
signature scheme. :data:`SUITE_PARAMS` holds the sizes the rest of ``mls`` needs, under
the RFC 9180 names (Nh, Nk, Nn, Npk, Nsk, Nenc).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from mls.errors import UnsupportedError


class CipherSuite(IntEnum):
    MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 = 0x0001
    MLS_128_DHKEMP256_AES128GCM_SHA256_P256 = 0x0002
    MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519 = 0x0003
    MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448 = 0x0004
    MLS_256_DHKEMP521_AES256GCM_SHA512_P521 = 0x0005
    MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448 = 0x0006
    MLS_256_DHKEMP384_AES256GCM_SHA384_P384 = 0x0007


class KemId(IntEnum):
    """RFC 9180 section 7.1 KEM identifiers."""

    DHKEM_P256_HKDF_SHA256 = 0x0010
    DHKEM_P384_HKDF_SHA384 = 0x0011
    DHKEM_P521_HKDF_SHA512 = 0x0012
    DHKEM_X25519_HKDF_SHA256 = 0x0020
    DHKEM_X448_HKDF_SHA512 = 0x0021


class KdfId(IntEnum):
    """RFC 9180 section 7.2 KDF identifiers."""

    HKDF_SHA256 = 0x0001
    HKDF_SHA384 = 0x0002
    HKDF_SHA512 = 0x0003


class AeadId(IntEnum):
    """RFC 9180 section 7.3 AEAD identifiers."""

    AES_128_GCM = 0x0001
    AES_256_GCM = 0x0002
    CHACHA20_POLY1305 = 0x0003


class SignatureScheme(IntEnum):
    """TLS 1.3 SignatureScheme code points used by the MLS suites."""

    ECDSA_SECP256R1_SHA256 = 0x0403
    ECDSA_SECP384R1_SHA384 = 0x0503
    ECDSA_SECP521R1_SHA512 = 0x0603
    ED25519 = 0x0807
    ED448 = 0x0808


@dataclass(frozen=True, slots=True)
class KemParams:
    """RFC 9180 table 2: Nsecret, Nenc, Npk, Nsk (and the KEM's own KDF)."""

    kem_id: KemId
    kdf_id: KdfId
    n_secret: int
    n_enc: int
    n_pk: int
    n_sk: int


@dataclass(frozen=True, slots=True)
class SuiteParams:
    """The primitives of one suite; Nh is the KDF output size, Nk/Nn the AEAD's."""

    kem: KemParams
    kdf_id: KdfId
    aead_id: AeadId
    signature: SignatureScheme
    hash_name: str
    nh: int
    nk: int
    nn: int

    @property
    def npk(self) -> int:
        return self.kem.n_pk

    @property
    def nsk(self) -> int:
        return self.kem.n_sk

    @property
    def nenc(self) -> int:
        return self.kem.n_enc


KEM_PARAMS: dict[KemId, KemParams] = {
    KemId.DHKEM_P256_HKDF_SHA256: KemParams(
        KemId.DHKEM_P256_HKDF_SHA256, KdfId.HKDF_SHA256, 32, 65, 65, 32
    ),
    KemId.DHKEM_P384_HKDF_SHA384: KemParams(
        KemId.DHKEM_P384_HKDF_SHA384, KdfId.HKDF_SHA384, 48, 97, 97, 48
    ),
    KemId.DHKEM_P521_HKDF_SHA512: KemParams(
        KemId.DHKEM_P521_HKDF_SHA512, KdfId.HKDF_SHA512, 64, 133, 133, 66
    ),
    KemId.DHKEM_X25519_HKDF_SHA256: KemParams(
        KemId.DHKEM_X25519_HKDF_SHA256, KdfId.HKDF_SHA256, 32, 32, 32, 32
    ),
    KemId.DHKEM_X448_HKDF_SHA512: KemParams(
        KemId.DHKEM_X448_HKDF_SHA512, KdfId.HKDF_SHA512, 64, 56, 56, 56
    ),
}

HASH_NAMES: dict[KdfId, tuple[str, int]] = {
    KdfId.HKDF_SHA256: ("sha256", 32),
    KdfId.HKDF_SHA384: ("sha384", 48),
    KdfId.HKDF_SHA512: ("sha512", 64),
}

# (Nk, Nn); every AEAD here has a 16-byte tag.
AEAD_SIZES: dict[AeadId, tuple[int, int]] = {
    AeadId.AES_128_GCM: (16, 12),
    AeadId.AES_256_GCM: (32, 12),
    AeadId.CHACHA20_POLY1305: (32, 12),
}
AEAD_TAG_SIZE = 16


def _suite(kem: KemId, kdf: KdfId, aead: AeadId, sig: SignatureScheme) -> SuiteParams:
    hash_name, nh = HASH_NAMES[kdf]
    nk, nn = AEAD_SIZES[aead]
    return SuiteParams(KEM_PARAMS[kem], kdf, aead, sig, hash_name, nh, nk, nn)


_K, _F, _A, _S = KemId, KdfId, AeadId, SignatureScheme
SUITE_PARAMS: dict[CipherSuite, SuiteParams] = {
    CipherSuite(1): _suite(_K.DHKEM_X25519_HKDF_SHA256, _F.HKDF_SHA256, _A.AES_128_GCM, _S.ED25519),
    CipherSuite(2): _suite(
        _K.DHKEM_P256_HKDF_SHA256, _F.HKDF_SHA256, _A.AES_128_GCM, _S.ECDSA_SECP256R1_SHA256
    ),
    CipherSuite(3): _suite(
        _K.DHKEM_X25519_HKDF_SHA256, _F.HKDF_SHA256, _A.CHACHA20_POLY1305, _S.ED25519
    ),
    CipherSuite(4): _suite(_K.DHKEM_X448_HKDF_SHA512, _F.HKDF_SHA512, _A.AES_256_GCM, _S.ED448),
    CipherSuite(5): _suite(
        _K.DHKEM_P521_HKDF_SHA512, _F.HKDF_SHA512, _A.AES_256_GCM, _S.ECDSA_SECP521R1_SHA512
    ),
    CipherSuite(6): _suite(
        _K.DHKEM_X448_HKDF_SHA512, _F.HKDF_SHA512, _A.CHACHA20_POLY1305, _S.ED448
    ),
    CipherSuite(7): _suite(
        _K.DHKEM_P384_HKDF_SHA384, _F.HKDF_SHA384, _A.AES_256_GCM, _S.ECDSA_SECP384R1_SHA384
    ),
}


def cipher_suite(value: int) -> CipherSuite:
    """The :class:`CipherSuite` for a wire value; raises :class:`UnsupportedError`."""
    try:
        return CipherSuite(value)
    except ValueError:
        raise UnsupportedError(f"unsupported cipher suite 0x{value:04x}") from None

"""MLS cryptography (RFC 9420 section 5) for cipher suites 1 to 7.

API summary (all keys and secrets are ``bytes``; labels are the RFC's strings without the
``"MLS 1.0 "`` prefix, which is added here)::

    suite = get_suite(cs)              # cached per suite; UnsupportedError if unknown
    suite.cipher_suite, .nh, .nk, .nn, .npk, .nsk, .nenc, .signature_scheme
    suite.hash(data); suite.mac(key, data); suite.verify_mac(key, data, tag)
    suite.extract(salt, ikm); suite.expand(prk, info, length)
    suite.ref_hash(label, value)                         # label used verbatim
    suite.expand_with_label(secret, label, context, length)
    suite.derive_secret(secret, label)
    suite.derive_tree_secret(secret, label, generation, length)
    suite.aead_seal(key, nonce, aad, plaintext); suite.aead_open(key, nonce, aad, ct)
    suite.sign_with_label(priv, label, content) -> signature
    suite.verify_with_label(pub, label, content, signature) -> None
    suite.encrypt_with_label(pub, label, context, plaintext, rng) -> (kem_output, ct)
    suite.encrypt_with_label_many([(pub, plaintext)], label, context, rng) -> [(kem_output, ct)]
    suite.decrypt_with_label(priv, label, context, kem_output, ct) -> plaintext
    suite.hpke_seal(pub, info, aad, plaintext, rng); suite.hpke_open(enc, priv, info, aad, ct)
    suite.hpke_export_sender(pub, info, exporter_context, length, rng) -> (enc, secret)
    suite.hpke_export_receiver(enc, priv, info, exporter_context, length) -> secret
    suite.derive_key_pair(ikm) -> (priv, pub)            # HPKE DeriveKeyPair
    suite.generate_hpke_key_pair(rng); suite.hpke_public_key(priv)
    suite.generate_signature_key_pair(rng); suite.signature_public_key(priv)

Every verify/open raises :class:`~mls.errors.InvalidMessage` on failure (never returns a
bool); a malformed private key or size is a :class:`~mls.errors.UsageError`. Only this
module and its helpers (``hpke``, ``signature``, ``curves``) import ``cryptography``, and no
``cryptography`` exception escapes them. ``rng`` defaults to :data:`DEFAULT_RNG`
(``os.urandom``), the only global randomness in ``mls``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from functools import lru_cache

from mls.ciphersuite import SUITE_PARAMS, CipherSuite, SuiteParams, cipher_suite
from mls.codec import encode_varint
from mls.errors import InvalidMessage, UsageError
from mls.hpke import Aead, Hpke, Kdf, make_kem
from mls.signature import make_signer
from mls.types import Rng

DEFAULT_RNG: Rng = os.urandom


@lru_cache(maxsize=256)
def _mls_label(label: str) -> bytes:
    """``opaque label<V> = "MLS 1.0 " + Label``, encoded once per label."""
    full = b"MLS 1.0 " + label.encode()
    return encode_varint(len(full)) + full


class Suite:
    """The operations of one cipher suite; obtain instances through :func:`get_suite`."""

    __slots__ = (
        "_aead",
        "_hash",
        "_hash_name",
        "_hpke",
        "_kdf",
        "_signer",
        "cipher_suite",
        "nenc",
        "nh",
        "nk",
        "nn",
        "npk",
        "nsk",
        "params",
        "signature_scheme",
    )

    def __init__(self, cs: CipherSuite, params: SuiteParams) -> None:
        self.cipher_suite = cs
        self.params = params
        self.nh, self.nk, self.nn = params.nh, params.nk, params.nn
        self.npk, self.nsk, self.nenc = params.npk, params.nsk, params.nenc
        self.signature_scheme = params.signature
        self._hash_name = params.hash_name
        self._hash = getattr(hashlib, params.hash_name)
        self._kdf = Kdf(params.kdf_id)
        self._aead = Aead(params.aead_id)
        self._hpke = Hpke(make_kem(params.kem.kem_id), self._kdf, self._aead)
        self._signer = make_signer(params.signature)

    def __repr__(self) -> str:
        return f"Suite({self.cipher_suite.name})"

    # -- hash, MAC, KDF --
    def hash(self, data: bytes) -> bytes:
        digest: bytes = self._hash(data).digest()
        return digest

    def mac(self, key: bytes, data: bytes) -> bytes:
        return hmac.digest(key, data, self._hash_name)

    def verify_mac(self, key: bytes, data: bytes, tag: bytes) -> None:
        if not hmac.compare_digest(hmac.digest(key, data, self._hash_name), tag):
            raise InvalidMessage("MAC does not verify")

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        return self._kdf.extract(salt, ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        return self._kdf.expand(prk, info, length)

    def ref_hash(self, label: str, value: bytes) -> bytes:
        """RefHash (section 5.2): Hash of ``RefHashInput{label<V>, value<V>}``."""
        raw = label.encode()
        return self.hash(encode_varint(len(raw)) + raw + encode_varint(len(value)) + value)

    def expand_with_label(self, secret: bytes, label: str, context: bytes, length: int) -> bytes:
        """ExpandWithLabel (section 5.1): HKDF-Expand with an encoded ``KDFLabel``."""
        if not 0 <= length <= 0xFFFF:
            raise UsageError(f"ExpandWithLabel length {length} is not a uint16")
        info = length.to_bytes(2, "big") + _mls_label(label) + encode_varint(len(context)) + context
        return self._kdf.expand(secret, info, length)

    def derive_secret(self, secret: bytes, label: str) -> bytes:
        return self.expand_with_label(secret, label, b"", self.nh)

    def derive_tree_secret(self, secret: bytes, label: str, generation: int, length: int) -> bytes:
        """DeriveTreeSecret (section 9): the context is the ``uint32`` generation."""
        if not 0 <= generation <= 0xFFFFFFFF:
            raise UsageError(f"generation {generation} is not a uint32")
        return self.expand_with_label(secret, label, generation.to_bytes(4, "big"), length)

    # -- AEAD --
    def aead_seal(self, key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        return self._aead.seal(key, nonce, aad, plaintext)

    def aead_open(self, key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
        return self._aead.open(key, nonce, aad, ciphertext)

    # -- signatures --
    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return self._signer.sign(private_key, message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        self._signer.verify(public_key, message, signature)

    def sign_with_label(self, private_key: bytes, label: str, content: bytes) -> bytes:
        """SignWithLabel (section 5.1.2) over ``SignContent{label<V>, content<V>}``."""
        return self._signer.sign(private_key, _labeled(label, content))

    def verify_with_label(
        self, public_key: bytes, label: str, content: bytes, signature: bytes
    ) -> None:
        self._signer.verify(public_key, _labeled(label, content), signature)

    def signature_public_key(self, private_key: bytes) -> bytes:
        return self._signer.public_key(private_key)

    def generate_signature_key_pair(self, rng: Rng = DEFAULT_RNG) -> tuple[bytes, bytes]:
        return self._signer.generate(rng)

    # -- HPKE --
    def encrypt_with_label(
        self,
        public_key: bytes,
        label: str,
        context: bytes,
        plaintext: bytes,
        rng: Rng = DEFAULT_RNG,
    ) -> tuple[bytes, bytes]:
        """EncryptWithLabel (section 5.1.3): SealBase with an ``EncryptContext`` info."""
        return self._hpke.seal(public_key, _labeled(label, context), b"", plaintext, rng)

    def encrypt_with_label_many(
        self,
        recipients: Sequence[tuple[bytes, bytes]],
        label: str,
        context: bytes,
        rng: Rng = DEFAULT_RNG,
    ) -> list[tuple[bytes, bytes]]:
        """EncryptWithLabel of each ``(public_key, plaintext)`` under one label and
        context, hashing the (possibly long) ``EncryptContext`` only once."""
        info_hash = self._hpke.info_hash(_labeled(label, context))
        return [self._hpke.seal_hashed(pk, info_hash, b"", pt, rng) for pk, pt in recipients]

    def decrypt_with_label(
        self,
        private_key: bytes,
        label: str,
        context: bytes,
        kem_output: bytes,
        ciphertext: bytes,
    ) -> bytes:
        return self._hpke.open(kem_output, private_key, _labeled(label, context), b"", ciphertext)

    def hpke_seal(
        self,
        public_key: bytes,
        info: bytes,
        aad: bytes,
        plaintext: bytes,
        rng: Rng = DEFAULT_RNG,
    ) -> tuple[bytes, bytes]:
        """RFC 9180 SealBase: (enc, ciphertext)."""
        return self._hpke.seal(public_key, info, aad, plaintext, rng)

    def hpke_open(
        self, enc: bytes, private_key: bytes, info: bytes, aad: bytes, ciphertext: bytes
    ) -> bytes:
        return self._hpke.open(enc, private_key, info, aad, ciphertext)

    def hpke_export_sender(
        self,
        public_key: bytes,
        info: bytes,
        exporter_context: bytes,
        length: int,
        rng: Rng = DEFAULT_RNG,
    ) -> tuple[bytes, bytes]:
        """RFC 9180 SetupBaseS + Export: (enc, secret); MLS external init uses it."""
        return self._hpke.export_sender(public_key, info, exporter_context, length, rng)

    def hpke_export_receiver(
        self, enc: bytes, private_key: bytes, info: bytes, exporter_context: bytes, length: int
    ) -> bytes:
        return self._hpke.export_receiver(enc, private_key, info, exporter_context, length)

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """HPKE DeriveKeyPair(ikm) as (SerializePrivateKey, SerializePublicKey)."""
        return self._hpke.kem.derive_key_pair(ikm)

    def generate_hpke_key_pair(self, rng: Rng = DEFAULT_RNG) -> tuple[bytes, bytes]:
        return self._hpke.kem.generate_key_pair(rng)

    def hpke_public_key(self, private_key: bytes) -> bytes:
        return self._hpke.kem.public_key(private_key)


def _labeled(label: str, content: bytes) -> bytes:
    """``SignContent`` / ``EncryptContext``: the MLS label then ``content<V>``."""
    return _mls_label(label) + encode_varint(len(content)) + content


_SUITES: dict[int, Suite] = {}


def get_suite(cs: int) -> Suite:
    """The cached :class:`Suite` for a cipher suite value; ``UnsupportedError`` if unknown."""
    suite = _SUITES.get(cs)
    if suite is None:
        known = cipher_suite(cs)
        suite = _SUITES[cs] = Suite(known, SUITE_PARAMS[known])
    return suite

"""The cryptography of Welcome messages and GroupInfo (RFC 9420 section 12.4.3).

::

    encrypted_group_info = AEAD.Seal(welcome_key, welcome_nonce, "", GroupInfo)
    encrypted_group_secrets = EncryptWithLabel(init_key, "Welcome",
                                               encrypted_group_info, GroupSecrets)
    GroupInfo.signature = SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)

Joining with a whole group state lives in :mod:`mls.welcome`; these pieces are also
what the ``welcome`` test vectors check on their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from mls.crypto import DEFAULT_RNG, Suite
from mls.errors import DecodeError, InvalidMessage
from mls.key_schedule import welcome_key_nonce
from mls.messages import (
    EncryptedGroupSecrets,
    GroupInfo,
    GroupSecrets,
    HPKECiphertext,
    Welcome,
)
from mls.types import Rng


def encrypt_group_info(suite: Suite, group_info: GroupInfo, welcome_secret: bytes) -> bytes:
    key, nonce = welcome_key_nonce(suite, welcome_secret)
    return suite.aead_seal(key, nonce, b"", group_info.to_bytes())


def decrypt_group_info(suite: Suite, welcome: Welcome, welcome_secret: bytes) -> GroupInfo:
    key, nonce = welcome_key_nonce(suite, welcome_secret)
    try:
        plaintext = suite.aead_open(key, nonce, b"", welcome.encrypted_group_info)
    except InvalidMessage:
        raise InvalidMessage("the Welcome's GroupInfo does not decrypt") from None
    try:
        return GroupInfo.from_bytes(plaintext)
    except DecodeError as exc:
        raise InvalidMessage(f"the Welcome's GroupInfo does not parse: {exc}") from None


def encrypt_group_secrets(
    suite: Suite,
    init_key: bytes,
    key_package_ref: bytes,
    group_secrets: GroupSecrets,
    encrypted_group_info: bytes,
    *,
    rng: Rng = DEFAULT_RNG,
) -> EncryptedGroupSecrets:
    kem_output, ciphertext = suite.encrypt_with_label(
        init_key, "Welcome", encrypted_group_info, group_secrets.to_bytes(), rng
    )
    return EncryptedGroupSecrets(key_package_ref, HPKECiphertext(kem_output, ciphertext))


def encrypt_group_secrets_many(
    suite: Suite,
    recipients: Sequence[tuple[bytes, bytes, GroupSecrets]],
    encrypted_group_info: bytes,
    *,
    rng: Rng = DEFAULT_RNG,
) -> list[EncryptedGroupSecrets]:
    """:func:`encrypt_group_secrets` for many ``(init_key, key_package_ref, secrets)``;
    the HPKE context (the whole encrypted GroupInfo, tree included) is hashed once."""
    sealed = suite.encrypt_with_label_many(
        [(init_key, secrets.to_bytes()) for init_key, _, secrets in recipients],
        "Welcome",
        encrypted_group_info,
        rng,
    )
    return [
        EncryptedGroupSecrets(ref, HPKECiphertext(kem_output, ciphertext))
        for (_, ref, _), (kem_output, ciphertext) in zip(recipients, sealed, strict=True)
    ]


def decrypt_group_secrets(
    suite: Suite, welcome: Welcome, key_package_ref: bytes, init_priv: bytes
) -> GroupSecrets:
    """Find our entry by KeyPackageRef and open it with the KeyPackage's init key."""
    entry = next((s for s in welcome.secrets if s.new_member == key_package_ref), None)
    if entry is None:
        raise InvalidMessage("the Welcome has no entry for our KeyPackage")
    ct = entry.encrypted_group_secrets
    try:
        plaintext = suite.decrypt_with_label(
            init_priv, "Welcome", welcome.encrypted_group_info, ct.kem_output, ct.ciphertext
        )
    except InvalidMessage:
        raise InvalidMessage("our GroupSecrets in the Welcome do not decrypt") from None
    try:
        return GroupSecrets.from_bytes(plaintext)
    except DecodeError as exc:
        raise InvalidMessage(f"GroupSecrets do not parse: {exc}") from None


def sign_group_info(suite: Suite, group_info: GroupInfo, signature_priv: bytes) -> GroupInfo:
    signature = suite.sign_with_label(signature_priv, "GroupInfoTBS", group_info.tbs())
    return dataclasses.replace(group_info, signature=signature)


def verify_group_info(suite: Suite, group_info: GroupInfo, signer_pub: bytes) -> None:
    try:
        suite.verify_with_label(signer_pub, "GroupInfoTBS", group_info.tbs(), group_info.signature)
    except InvalidMessage:
        raise InvalidMessage("GroupInfo signature does not verify") from None

"""Welcome messages (RFC 9420 section 12.4.3): building them and joining with them.

::

    welcome = build_welcome(suite, epoch_secrets, group_info, adds, psks,
                            path_secret_for=...)
    state = join_from_welcome(welcome, key_package_bundle, ratchet_tree=None, psks=..., now=...)

The ratchet tree comes from the GroupInfo's ``ratchet_tree`` extension or, when the
Welcome lacks it, from ``ratchet_tree`` (the encoded ``optional<Node> ratchet_tree<V>`` or
a :class:`~mls.tree.RatchetTree`). A joiner validates the whole tree (section 12.4.3.1)
except leaf lifetimes, which section 7.3 leaves optional for received trees: an old
member's KeyPackage lifetime may long have passed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mls.crypto import DEFAULT_RNG, Suite, get_suite
from mls.epoch import ExternalPsks, ResumptionPsks, resolve_psks
from mls.errors import InvalidMessage, UsageError
from mls.extensions import (
    check_extension_list,
    external_pub_extension,
    ratchet_tree_extension,
    required_capabilities,
)
from mls.group_framing import member_leaf
from mls.group_state import GroupConfig, GroupState
from mls.key_package import KeyPackageBundle
from mls.key_schedule import EpochSecrets, welcome_secret
from mls.messages import (
    Extension,
    ExtensionType,
    GroupInfo,
    GroupSecrets,
    MLSMessage,
    PathSecret,
    PreSharedKeyID,
    ProtocolVersion,
    PSKType,
    ResumptionPSKUsage,
    Welcome,
    find_extension,
)
from mls.proposal_effects import AddedMember
from mls.refs import key_package_ref
from mls.transcript import interim_transcript_hash, verify_confirmation_tag
from mls.tree import RatchetTree
from mls.tree_validation import CredentialValidator, validate_tree
from mls.treekem import join_private_keys
from mls.types import LeafIndex, Rng
from mls.welcome_crypto import (
    decrypt_group_info,
    decrypt_group_secrets,
    encrypt_group_info,
    encrypt_group_secrets_many,
    sign_group_info,
    verify_group_info,
)


def group_info_extensions(
    state: GroupState, *, tree: bool, external_pub: bool = False
) -> tuple[Extension, ...]:
    """GroupInfo extensions: ``external_pub`` for external joiners, the ratchet tree."""
    extensions = []
    if external_pub:
        extensions.append(external_pub_extension(state.secrets.external_key_pair(state.suite)[1]))
    if tree:
        extensions.append(ratchet_tree_extension(state.tree.to_bytes()))
    return tuple(extensions)


def signed_group_info(state: GroupState, extensions: Sequence[Extension]) -> GroupInfo:
    """The GroupInfo of ``state``'s epoch, signed by us (section 12.4.3)."""
    unsigned = GroupInfo(
        state.context, tuple(extensions), state.confirmation_tag, state.own_leaf, b""
    )
    return sign_group_info(state.suite, unsigned, state.signature_priv)


def build_welcome(
    suite: Suite,
    secrets: EpochSecrets,
    group_info: GroupInfo,
    adds: Sequence[AddedMember],
    psks: Sequence[PreSharedKeyID],
    *,
    path_secret_for: Callable[[LeafIndex], bytes] | None,
    rng: Rng = DEFAULT_RNG,
) -> Welcome:
    """One Welcome for every new member: the GroupInfo encrypted once under the welcome
    secret, and per member the GroupSecrets under its KeyPackage's init key."""
    encrypted_info = encrypt_group_info(suite, group_info, secrets.welcome_secret)
    recipients = []
    for add in adds:
        path = None if path_secret_for is None else PathSecret(path_secret_for(add.leaf_index))
        kp = add.key_package
        group_secrets = GroupSecrets(secrets.joiner_secret, path, tuple(psks))
        recipients.append((kp.init_key, key_package_ref(suite, kp), group_secrets))
    entries = encrypt_group_secrets_many(suite, recipients, encrypted_info, rng=rng)
    return Welcome(suite.cipher_suite, tuple(entries), encrypted_info)


def join_from_welcome(
    welcome: Welcome | MLSMessage,
    key_package: KeyPackageBundle,
    *,
    ratchet_tree: bytes | RatchetTree | None = None,
    psks: ExternalPsks | None = None,
    resumption_psks: ResumptionPsks | None = None,
    config: GroupConfig | None = None,
    validate_credential: CredentialValidator | None = None,
) -> GroupState:
    """Join a group from a Welcome that names our KeyPackage (section 12.4.3.1)."""
    opened = _open(welcome, key_package, psks, resumption_psks)
    suite, info, context = opened.suite, opened.info, opened.info.group_context
    tree = tree_of(suite, info, ratchet_tree)
    _, signer_key, _ = member_leaf(tree, info.signer)
    verify_group_info(suite, info, signer_key)
    check_extension_list(context.extensions)
    validate_tree(
        tree,
        group_id=context.group_id,
        tree_hash=context.tree_hash,
        required_capabilities=required_capabilities(context.extensions),
        validate_credential=validate_credential,
    )
    private = key_package.private
    me = _own_leaf(tree, key_package)
    path_secret = opened.secrets.path_secret
    keys = join_private_keys(
        tree,
        me,
        private.encryption_priv,
        signer=LeafIndex(info.signer),
        path_secret=None if path_secret is None else path_secret.path_secret,
    )
    epoch = EpochSecrets.from_joiner(
        suite, opened.secrets.joiner_secret, opened.psk_secret, context.to_bytes()
    )
    confirmed, tag = context.confirmed_transcript_hash, info.confirmation_tag
    verify_confirmation_tag(suite, epoch.confirmation_key, confirmed, tag)
    return GroupState.start(
        suite,
        context,
        tree,
        interim_transcript_hash=interim_transcript_hash(suite, confirmed, tag),
        confirmation_tag=tag,
        secrets=epoch,
        keys=keys,
        signature_priv=private.signature_priv,
        config=config or GroupConfig(),
    )


@dataclass(frozen=True, slots=True)
class _Opened:
    suite: Suite
    secrets: GroupSecrets = field(repr=False)
    psk_secret: bytes = field(repr=False)
    info: GroupInfo


def _open(
    welcome: Welcome | MLSMessage,
    key_package: KeyPackageBundle,
    psks: ExternalPsks | None,
    resumption_psks: ResumptionPsks | None,
) -> _Opened:
    """Our GroupSecrets, the PSK secret and the decrypted (not yet verified) GroupInfo."""
    if isinstance(welcome, MLSMessage):
        if not isinstance(welcome.body, Welcome):
            raise UsageError("not a Welcome message")
        welcome = welcome.body
    if welcome.cipher_suite != key_package.key_package.cipher_suite:
        raise InvalidMessage("the Welcome's cipher suite differs from our KeyPackage's")
    suite = get_suite(welcome.cipher_suite)
    init_priv = key_package.private.init_priv
    secrets = decrypt_group_secrets(suite, welcome, key_package.ref, init_priv)
    restart = _restart_psks(secrets.psks)
    psk = resolve_psks(suite, secrets.psks, None, psks, resumption_psks)
    info = decrypt_group_info(suite, welcome, welcome_secret(suite, secrets.joiner_secret, psk))
    context = info.group_context
    if context.cipher_suite != welcome.cipher_suite or context.version != ProtocolVersion.MLS10:
        raise InvalidMessage("the GroupInfo's suite or version does not match")
    if restart and context.epoch != 1:
        raise InvalidMessage("a Welcome with a reinit or branch PSK must start at epoch 1")
    return _Opened(suite, secrets, psk, info)


def _restart_psks(psks: Sequence[PreSharedKeyID]) -> bool:
    """Whether the Welcome starts a group from another one (a resumption PSK of usage
    reinit or branch); section 12.4.3.1 allows at most one such PSK."""
    special = (ResumptionPSKUsage.REINIT, ResumptionPSKUsage.BRANCH)
    count = sum(1 for p in psks if p.psktype == PSKType.RESUMPTION and p.usage in special)
    if count > 1:
        raise InvalidMessage("a Welcome may carry only one reinit or branch PSK")
    return count == 1


def tree_of(suite: Suite, info: GroupInfo, supplied: bytes | RatchetTree | None) -> RatchetTree:
    """The tree of the ``ratchet_tree`` extension, else the one supplied out of band."""
    ext = find_extension(info.extensions, ExtensionType.RATCHET_TREE)
    if ext is not None:
        return RatchetTree.from_bytes(suite, ext.extension_data)
    if supplied is None:
        raise UsageError("the Welcome carries no ratchet tree: supply it")
    if isinstance(supplied, RatchetTree):
        return supplied
    return RatchetTree.from_bytes(suite, supplied)


def _own_leaf(tree: RatchetTree, bundle: KeyPackageBundle) -> LeafIndex:
    x = tree.find_encryption_key(bundle.key_package.leaf_node.encryption_key)
    if x is None or x & 1:
        raise InvalidMessage("our KeyPackage's leaf is not in the tree")
    i = LeafIndex(x >> 1)
    if tree.leaf(i) != bundle.key_package.leaf_node:
        raise InvalidMessage("our leaf in the tree differs from our KeyPackage's")
    return i

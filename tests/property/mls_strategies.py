"""Hypothesis strategies for every RFC 9420 wire struct in ``mls.messages``.

Sizes are kept small: the properties are about structure, not volume.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mls.messages import (
    Add,
    AppDataDictionary,
    AppDataUpdate,
    ApplicationId,
    AuthenticatedContent,
    Capabilities,
    Commit,
    ComponentData,
    ComponentsList,
    ContentType,
    Credential,
    CredentialType,
    EncryptedGroupSecrets,
    Extension,
    ExternalInit,
    ExternalPub,
    ExternalSender,
    ExternalSenders,
    FramedContent,
    FramedContentAuthData,
    FramedContentTBS,
    GroupContext,
    GroupContextExtensions,
    GroupInfo,
    GroupSecrets,
    HPKECiphertext,
    KeyPackage,
    LeafNode,
    LeafNodeSource,
    Lifetime,
    MLSMessage,
    ParentNode,
    PathSecret,
    PreSharedKey,
    PreSharedKeyID,
    PrivateContentAAD,
    PrivateMessage,
    PrivateMessageContent,
    ProposalOrRef,
    ProposalType,
    PSKLabel,
    PublicMessage,
    ReInit,
    Remove,
    RequiredCapabilities,
    ResumptionPSKUsage,
    SafeAAD,
    SafeAADItem,
    SelfRemove,
    Sender,
    SenderData,
    SenderDataAAD,
    SenderType,
    UnknownProposal,
    Update,
    UpdatePath,
    UpdatePathNode,
    Welcome,
    WireFormat,
    content_type_of,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
u64 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)
blob = st.binary(max_size=12)
# Crosses the 1-byte/2-byte varint boundary now and then.
long_blob = st.one_of(blob, st.binary(min_size=60, max_size=70))


def tuples(elements: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return st.lists(elements, max_size=max_size).map(tuple)


u16s = tuples(u16, 4)

credentials = st.one_of(
    st.builds(Credential.basic, long_blob),
    st.builds(Credential.x509, tuples(blob)),
    st.builds(
        lambda t, d: Credential(t, data=d),
        u16.filter(lambda t: t not in (CredentialType.BASIC, CredentialType.X509)),
        blob,
    ),
)
extensions = st.builds(Extension, u16, blob)
extension_lists = tuples(extensions)
capabilities = st.builds(Capabilities, u16s, u16s, u16s, u16s, u16s)
lifetimes = st.builds(Lifetime, u64, u64)


@st.composite
def leaf_nodes(draw: st.DrawFn) -> LeafNode:
    source = draw(st.sampled_from(LeafNodeSource))
    return LeafNode(
        draw(blob),
        draw(blob),
        draw(credentials),
        draw(capabilities),
        source,
        draw(extension_lists),
        draw(blob),
        lifetime=draw(lifetimes) if source == LeafNodeSource.KEY_PACKAGE else None,
        parent_hash=draw(blob) if source == LeafNodeSource.COMMIT else None,
    )


key_packages = st.builds(KeyPackage, u16, u16, blob, leaf_nodes(), extension_lists, blob)
hpke_ciphertexts = st.builds(HPKECiphertext, blob, blob)
update_path_nodes = st.builds(UpdatePathNode, blob, tuples(hpke_ciphertexts))
update_paths = st.builds(UpdatePath, leaf_nodes(), tuples(update_path_nodes))
parent_nodes = st.builds(ParentNode, blob, blob, tuples(u32))
nodes = st.one_of(leaf_nodes(), parent_nodes)
ratchet_trees = tuples(st.one_of(st.none(), nodes), 5)

psk_ids = st.one_of(
    st.builds(PreSharedKeyID.external, blob, blob),
    st.builds(PreSharedKeyID.resumption, st.sampled_from(ResumptionPSKUsage), blob, u64, blob),
)
psk_labels = st.builds(PSKLabel, psk_ids, u16, u16)
_KNOWN_PROPOSALS = set(ProposalType)
proposals = st.one_of(
    st.builds(Add, key_packages),
    st.builds(Update, leaf_nodes()),
    st.builds(Remove, u32),
    st.builds(PreSharedKey, psk_ids),
    st.builds(ReInit, blob, u16, u16, extension_lists),
    st.builds(ExternalInit, blob),
    st.builds(GroupContextExtensions, extension_lists),
    st.builds(SelfRemove),
    st.builds(UnknownProposal, u16.filter(lambda t: t not in _KNOWN_PROPOSALS), blob),
)
proposal_or_refs = st.one_of(
    st.builds(ProposalOrRef.of_proposal, proposals),
    st.builds(ProposalOrRef.of_reference, blob),
)
commits = st.builds(Commit, tuples(proposal_or_refs), st.one_of(st.none(), update_paths))

senders = st.one_of(
    st.builds(Sender.member, u32),
    st.builds(Sender.external, u32),
    st.just(Sender.new_member_commit()),
    st.just(Sender.new_member_proposal()),
)
contents = st.one_of(long_blob, proposals, commits)
framed_contents = st.builds(FramedContent, blob, u64, senders, blob, contents)


def auth_for(content: Any) -> st.SearchStrategy[FramedContentAuthData]:
    if content_type_of(content) == ContentType.COMMIT:
        return st.builds(FramedContentAuthData, blob, blob)
    return st.builds(FramedContentAuthData, blob)


@st.composite
def authenticated_contents(draw: st.DrawFn) -> AuthenticatedContent:
    content = draw(framed_contents)
    auth = draw(auth_for(content.content))
    return AuthenticatedContent(draw(st.sampled_from(WireFormat)), content, auth)


@st.composite
def public_messages(draw: st.DrawFn) -> PublicMessage:
    content = draw(framed_contents)
    is_member = content.sender.sender_type == SenderType.MEMBER
    tag = draw(blob) if is_member else None
    return PublicMessage(content, draw(auth_for(content.content)), tag)


@st.composite
def private_message_contents(draw: st.DrawFn) -> PrivateMessageContent:
    content = draw(contents)
    return PrivateMessageContent(content, draw(auth_for(content)), draw(st.integers(0, 20)))


group_contexts = st.builds(GroupContext, u16, u16, blob, u64, blob, blob, extension_lists)


@st.composite
def framed_content_tbss(draw: st.DrawFn) -> FramedContentTBS:
    content = draw(framed_contents)
    needs = content.sender.sender_type in (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT)
    context = draw(group_contexts) if needs else None
    return FramedContentTBS(draw(st.sampled_from(WireFormat)), content, context)


private_messages = st.builds(
    PrivateMessage, blob, u64, st.sampled_from(ContentType), blob, blob, long_blob
)
sender_datas = st.builds(SenderData, u32, u32, st.binary(min_size=4, max_size=4))
group_infos = st.builds(GroupInfo, group_contexts, extension_lists, blob, u32, blob)
group_secrets = st.builds(
    GroupSecrets, blob, st.one_of(st.none(), st.builds(PathSecret, blob)), tuples(psk_ids)
)
encrypted_group_secrets = st.builds(EncryptedGroupSecrets, blob, hpke_ciphertexts)
welcomes = st.builds(Welcome, u16, tuples(encrypted_group_secrets), blob)
external_senders = st.builds(ExternalSender, blob, credentials)
mls_messages = st.builds(
    MLSMessage, st.one_of(public_messages(), private_messages, welcomes, group_infos, key_packages)
)

# Every ``Struct`` subclass with a strategy; the round-trip test checks none is missing.


def _ascending(build: Any) -> st.SearchStrategy[Any]:
    """A tuple of ``build(component_id, blob)`` strictly ascending by component id."""
    return st.sets(u16, max_size=3).flatmap(
        lambda ids: st.tuples(*(st.builds(build, st.just(i), blob) for i in sorted(ids)))
    )


app_data_updates = st.one_of(
    st.builds(AppDataUpdate.update, u16, blob), st.builds(AppDataUpdate.remove, u16)
)

STRUCTS: dict[type, st.SearchStrategy[Any]] = {
    ComponentData: st.builds(ComponentData, u16, blob),
    AppDataDictionary: _ascending(ComponentData).map(AppDataDictionary),
    ComponentsList: st.sets(u16, max_size=4).map(lambda ids: ComponentsList(tuple(sorted(ids)))),
    AppDataUpdate: app_data_updates,
    SafeAADItem: st.builds(SafeAADItem, u16, blob),
    SafeAAD: _ascending(SafeAADItem).map(SafeAAD),
    Credential: credentials,
    Extension: extensions,
    ApplicationId: st.builds(ApplicationId, blob),
    RequiredCapabilities: st.builds(RequiredCapabilities, u16s, u16s, u16s),
    ExternalPub: st.builds(ExternalPub, blob),
    ExternalSender: st.builds(ExternalSender, blob, credentials),
    ExternalSenders: st.builds(
        ExternalSenders, tuples(st.builds(ExternalSender, blob, credentials))
    ),
    Capabilities: capabilities,
    Lifetime: lifetimes,
    LeafNode: leaf_nodes(),
    KeyPackage: key_packages,
    HPKECiphertext: hpke_ciphertexts,
    UpdatePathNode: update_path_nodes,
    UpdatePath: update_paths,
    ParentNode: parent_nodes,
    PreSharedKeyID: psk_ids,
    PSKLabel: psk_labels,
    Add: st.builds(Add, key_packages),
    Update: st.builds(Update, leaf_nodes()),
    Remove: st.builds(Remove, u32),
    PreSharedKey: st.builds(PreSharedKey, psk_ids),
    ReInit: st.builds(ReInit, blob, u16, u16, extension_lists),
    ExternalInit: st.builds(ExternalInit, blob),
    GroupContextExtensions: st.builds(GroupContextExtensions, extension_lists),
    SelfRemove: st.builds(SelfRemove),
    ProposalOrRef: proposal_or_refs,
    Commit: commits,
    Sender: senders,
    FramedContent: framed_contents,
    AuthenticatedContent: authenticated_contents(),
    FramedContentTBS: framed_content_tbss(),
    PublicMessage: public_messages(),
    PrivateMessage: private_messages,
    SenderData: sender_datas,
    SenderDataAAD: st.builds(SenderDataAAD, blob, u64, st.sampled_from(ContentType)),
    PrivateContentAAD: st.builds(PrivateContentAAD, blob, u64, st.sampled_from(ContentType), blob),
    GroupContext: group_contexts,
    GroupInfo: group_infos,
    PathSecret: st.builds(PathSecret, blob),
    GroupSecrets: group_secrets,
    EncryptedGroupSecrets: encrypted_group_secrets,
    Welcome: welcomes,
    MLSMessage: mls_messages,
}

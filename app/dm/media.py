"""Profile B attachments (``encrypted-media-v1/-v2``, MDK ``marmot-app`` media) on the
Profile A machinery: the same upload queue, Blossom client, encrypted cache and fetcher.

What differs, and lives here:

- the key: the MLS exporter ``"marmot"/"encrypted-media"`` of the message's epoch
  (`marmot.profile_b.media_crypto`), per file a key and AAD over the reference's fields;
- the version: the group's encrypted media policy (0x800b: v2, 0x8008: v1) picks it; a
  group without one gets v2, what MDK master creates;
- the tag: ``v``/``locator``/``ciphertext_sha256``/... (`marmot.profile_b.media`);
- old epochs: the secret of an epoch is kept in ``media_epoch_keys`` when a message with
  attachments arrives on the canonical branch (a group has one profile, so the table's
  ``(group, epoch)`` key is unambiguous), and read first from the canonical state while
  it still retains that epoch: a fork's losing branch shares epoch numbers with the
  winner, and only the canonical path's secret opens what is shown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.dm.tree import from_rows
from app.message_records import EpochMoved, MediaSend
from app.models import attachments
from marmot.profile_b.components import (
    BLOSSOM_LOCATOR,
    MEDIA_MAX_ENDPOINTS,
    ComponentId,
    EncryptedMediaPolicy,
    GroupBlossomImage,
    decode_component,
)
from marmot.profile_b.errors import InvalidComponent
from marmot.profile_b.key_package import ProofForm
from marmot.profile_b.media import V2, Locator, MediaReference, media_tag
from marmot.profile_b.media_crypto import SealedMedia, media_secret, open_media, seal_media
from mls.app_data import app_data_dictionary
from mls.errors import MlsError
from mls.group import GroupState
from nostr.blossom import normalize_server_url
from nostr.errors import DecodeError
from nostr.event import UnsignedEvent
from nostr.keys import Rng
from storage import Connection
from storage.repos import branches as branches_repo
from storage.repos import media as media_repo
from storage.rows import Message

__all__ = [
    "SendKey",
    "canonical_image",
    "group_image",
    "blossom_urls",
    "check_send",
    "keep_received_key",
    "new_group_policy",
    "open_file",
    "requeue_attachments",
    "seal_file",
    "secret_for",
    "send_key",
    "send_key_of",
    "tag_for",
]


def _components(state: GroupState) -> dict[int, bytes]:
    try:
        dictionary = app_data_dictionary(state.extensions)
    except MlsError:
        return {}
    return {} if dictionary is None else dictionary.as_dict()


def group_image(state: GroupState) -> GroupBlossomImage | None:
    """The group picture of component 0x8002 (None without one, or when it is cleared)."""
    data = _components(state).get(ComponentId.GROUP_BLOSSOM_IMAGE)
    if data is None:
        return None
    try:
        image = GroupBlossomImage.decode(data)
    except InvalidComponent:
        return None
    return image if image.present else None


def canonical_image(conn: Connection, gid: bytes) -> GroupBlossomImage | None:
    """The canonical state's group picture (DB thread)."""
    return group_image(from_rows(branches_repo.load_tree(conn, gid)).canonical.state)


def _policy(state: GroupState) -> EncryptedMediaPolicy | None:
    """The group's encrypted media policy (v2 preferred; MDK groups carry exactly one)."""
    found = _components(state)
    for cid in (ComponentId.ENCRYPTED_MEDIA_V2, ComponentId.ENCRYPTED_MEDIA_V1):
        data = found.get(cid)
        if data is None:
            continue
        with contextlib.suppress(InvalidComponent):
            policy = decode_component(cid, data)
            if isinstance(policy, EncryptedMediaPolicy):
                return policy
    return None


@dataclass(frozen=True, slots=True)
class SendKey:
    """What sealing a file for the canonical tip needs."""

    epoch: int
    secret: bytes = field(repr=False)
    version: str
    servers: tuple[str, ...]  # the group policy's Blossom endpoints (a fallback for ours)


def send_key(conn: Connection, gid: bytes) -> SendKey:
    """The canonical tip's media secret, version and policy endpoints (DB thread)."""
    return send_key_of(from_rows(branches_repo.load_tree(conn, gid)).canonical.state)


def send_key_of(state: GroupState) -> SendKey:
    policy = _policy(state)
    version = V2 if policy is None else policy.media_format
    ends = () if policy is None else policy.default_blob_endpoints
    servers: list[str] = []
    for end in ends:
        if end.locator_kind == BLOSSOM_LOCATOR:
            with contextlib.suppress(DecodeError):  # a policy URL our client cannot use
                servers.append(normalize_server_url(end.base_url))
    return SendKey(state.epoch, media_secret(state), version, tuple(servers))


def new_group_policy(servers: Sequence[str], form: ProofForm) -> EncryptedMediaPolicy | None:
    """The encrypted media policy a group we found carries: v2 (0x800b) as MDK master's
    new groups, v1 (0x8008) for the draft client's form; our Blossom servers as its
    endpoints (MDK members upload there). None without a server a policy can name:
    media then works between Burrow members only, MDK refuses it without a policy."""
    version = 1 if form is ProofForm.DRAFT else 2
    usable = []
    for url in servers:
        with contextlib.suppress(InvalidComponent):
            usable.append(EncryptedMediaPolicy.blossom(version, [url]).default_blob_endpoints[0])
    if not usable:
        return None
    ends = tuple(dict.fromkeys(usable))[:MEDIA_MAX_ENDPOINTS]
    return EncryptedMediaPolicy(version, (BLOSSOM_LOCATOR,), ends)


def check_send(state: GroupState, media: MediaSend) -> None:
    """Refuse to send attachments sealed for another state than the tip (a commit, or a
    reorg to a branch at the same epoch number, came in while the blob uploaded)."""
    if state.epoch != media.epoch:
        raise EpochMoved(f"the group moved on to epoch {state.epoch}")
    if media.secret is not None and media_secret(state) != media.secret:
        raise EpochMoved("the group switched branch while the file uploaded")


def seal_file(
    key: SendKey, data: bytes, mime_type: str, filename: str, nonce: bytes
) -> SealedMedia:
    """The upload's one nonce, so a retry in the same epoch makes the same blob."""
    return seal_media(key.secret, key.version, data, mime_type, filename, rng=lambda _n: nonce)


def tag_for(sealed: SealedMedia, url: str, dim: str | None) -> tuple[str, ...]:
    """The ``imeta`` tag as MDK writes it (checked by the receivers' own reader)."""
    ref = sealed.reference([Locator(BLOSSOM_LOCATOR, url)], dim=dim, allow_loopback_http=True)
    return media_tag(ref)


def blossom_urls(ref: MediaReference) -> list[str]:
    return [loc.value for loc in ref.locators if loc.kind == BLOSSOM_LOCATOR]


def open_file(secret: bytes, blob: bytes, ref: MediaReference) -> bytes:
    return open_media(secret, ref, blob)


def secret_for(conn: Connection, gid: bytes, epoch: int) -> bytes | None:
    """The media secret of ``epoch`` (DB thread): the canonical state's while it retains
    that epoch (kept then, replacing a losing branch's), else the one kept on arrival."""
    state = from_rows(branches_repo.load_tree(conn, gid)).canonical.state
    try:
        secret = media_secret(state, epoch)
    except MlsError:
        return media_repo.epoch_key(conn, gid, epoch)
    media_repo.replace_epoch_key(conn, gid, epoch, secret)
    return secret


def requeue_attachments(conn: Connection, gid: bytes, row: Message, env_now: int, rng: Rng) -> bool:
    """Our withdrawn message with attachments, for a reorg's re-send (DB thread): they were
    sealed with the losing branch's secret, which the winning branch's members cannot
    derive, so each file goes back into the upload queue (from our cache) to be sealed for
    the new tip and sent as a new message, the caption with the first. False when any
    file is no longer cached (the message is re-sent as it was)."""
    refs = [ref for ref in attachments(row.tags) if isinstance(ref, MediaReference)]
    if not refs:
        return False
    files = [media_repo.cache_get(conn, bytes.fromhex(ref.plaintext_sha256)) for ref in refs]
    if any(f is None for f in files):
        return False
    for n, (ref, file) in enumerate(zip(refs, files, strict=True)):
        assert file is not None
        caption = row.content if n == 0 else ""
        new = media_repo.NewUpload(
            gid, file.filename, file.mime_type, file.data, rng(12), caption, ref.dim, None
        )
        media_repo.enqueue(conn, new, now=env_now)
    branches_repo.set_branch(conn, gid, row.rumor_id, None)  # replaced: not re-sent again
    return True


def has_attachments(tags: Sequence[Sequence[str]]) -> bool:
    return any(tag and tag[0] == "imeta" for tag in tags)


def keep_received_key(
    conn: Connection, gid: bytes, state: GroupState, rumor: UnsignedEvent, *, canonical: bool
) -> None:
    """Keep the media secret of the state a message with attachments opened at (DB
    thread, in the message's transaction): over a kept one when that state is canonical,
    else only if none is kept (its branch may still win)."""
    if not has_attachments(rumor.tags):
        return
    with contextlib.suppress(MlsError):
        secret = media_secret(state)
        save = media_repo.replace_epoch_key if canonical else media_repo.save_epoch_key
        save(conn, gid, state.epoch, secret)

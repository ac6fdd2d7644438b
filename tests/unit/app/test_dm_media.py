"""Profile B attachments in the app (`app.dm.media`), over real Profile B groups: the
version and endpoints the group's policy picks, the send-time check against the tip, the
tag as receivers read it, and the group picture component."""

from __future__ import annotations

import random

import pytest

from app.dm import media as dm_media
from app.message_records import EpochMoved, MediaSend
from app.models import attachments, attachments_of
from marmot.profile_b.components import (
    ComponentId,
    EncryptedMediaPolicy,
    GroupBlossomImage,
    GroupProfile,
)
from marmot.profile_b.group import GroupSettings, create_group_b, update_components_b
from marmot.profile_b.group_image import seal_group_image
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.media import V1, V2, MediaReference
from marmot.profile_b.media_crypto import media_secret
from marmot.profile_b.proofs import ProofForm
from mls.group import GroupState
from tests.unit.app.test_dm_tree import ALICE, BOB, NOW

pytestmark = [pytest.mark.darkmatter, pytest.mark.media]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _group() -> GroupState:
    rng = random.Random(4).randbytes
    bundle = create_key_package_b(BOB, now=NOW, rng=rng)
    settings = GroupSettings("g", "", (), bytes(32), ("wss://relay.example",))
    founding = create_group_b(ALICE, settings, [bundle.key_package], now=NOW, rng=rng)
    assert founding.pending is not None
    return founding.pending.next_state


def _with(state: GroupState, cid: int, data: bytes, seed: int = 1) -> GroupState:
    changes: dict[int, bytes | None] = {cid: data}
    return update_components_b(state, changes, rng=random.Random(seed).randbytes).next_state


def test_the_group_policy_picks_the_version_and_endpoints() -> None:
    state = _group()
    bare = dm_media.send_key_of(state)
    assert (bare.version, bare.servers, bare.epoch) == (V2, (), state.epoch)
    assert bare.secret == media_secret(state)
    v1 = EncryptedMediaPolicy.blossom(1, ["https://blossom.example"])
    legacy = dm_media.send_key_of(_with(state, ComponentId.ENCRYPTED_MEDIA_V1, v1.encode()))
    assert (legacy.version, legacy.servers) == (V1, ("https://blossom.example",))
    v2 = EncryptedMediaPolicy.blossom(2, ["http://10.0.0.1:3000"])
    current = dm_media.send_key_of(_with(state, ComponentId.ENCRYPTED_MEDIA_V2, v2.encode()))
    assert (current.version, current.servers) == (V2, ("http://10.0.0.1:3000",))


def test_a_send_is_refused_when_the_tip_moved_or_switched_branch() -> None:
    root = _group()
    one = _with(root, ComponentId.GROUP_PROFILE, GroupProfile("one").encode(), 1)
    two = _with(root, ComponentId.GROUP_PROFILE, GroupProfile("two").encode(), 2)
    assert one.epoch == two.epoch and media_secret(one) != media_secret(two)
    sealed_for_one = MediaSend(one.epoch, lambda conn, rumor_id: None, media_secret(one))
    dm_media.check_send(one, sealed_for_one)
    with pytest.raises(EpochMoved, match="switched branch"):
        dm_media.check_send(two, sealed_for_one)
    with pytest.raises(EpochMoved, match="epoch"):
        dm_media.check_send(root, sealed_for_one)


def test_a_sealed_file_reads_back_as_the_attachment_the_front_ends_show() -> None:
    key = dm_media.send_key_of(_group())
    sealed = dm_media.seal_file(key, b"hello file", "text/plain", "note.txt", b"\x05" * 12)
    assert sealed.nonce_hex == "05" * 12  # the upload's one nonce: a retry makes the same blob
    url = f"http://127.0.0.1:3000/{sealed.ciphertext_sha256}"
    tag = dm_media.tag_for(sealed, url, "3x2")
    assert tag[:3] == ("imeta", "v encrypted-media-v2", f"locator blossom-v1 {url}")
    [ref] = attachments([("p", "x"), ("imeta", "v encrypted-media-v2"), tag])  # bad one skipped
    assert isinstance(ref, MediaReference)
    assert dm_media.blossom_urls(ref) == [url]
    assert dm_media.open_file(key.secret, sealed.ciphertext, ref) == b"hello file"
    [shown] = attachments_of([tag])
    assert (shown.filename, shown.mime_type, shown.url) == ("note.txt", "text/plain", url)
    assert (shown.width, shown.height, shown.blurhash) == (3, 2, None)
    assert shown.file_hash == sealed.plaintext_sha256


def test_the_group_picture_is_read_from_component_0x8002() -> None:
    state = _group()
    assert dm_media.group_image(state) is None
    sealed = seal_group_image(PNG, "image/png", rng=random.Random(3).randbytes)
    pictured = _with(state, ComponentId.GROUP_BLOSSOM_IMAGE, sealed.component.encode())
    assert dm_media.group_image(pictured) == sealed.component
    cleared = _with(pictured, ComponentId.GROUP_BLOSSOM_IMAGE, GroupBlossomImage().encode(), 2)
    assert dm_media.group_image(cleared) is None


def test_keys_are_never_in_a_repr() -> None:
    key = dm_media.send_key_of(_group())
    assert key.secret.hex() not in repr(key)


def test_a_new_group_names_our_servers_in_its_policy() -> None:
    servers = ["https://blossom.example/", "http://127.0.0.1:3000", "https://192.168.1.9"]
    current = dm_media.new_group_policy(servers, ProofForm.CURRENT)
    assert current is not None and current.component_id == ComponentId.ENCRYPTED_MEDIA_V2
    assert [e.base_url for e in current.default_blob_endpoints] == [
        "https://blossom.example/",
        "http://127.0.0.1:3000/",
        "https://192.168.1.9/",
    ]
    draft = dm_media.new_group_policy(servers, ProofForm.DRAFT)  # v1: no private https host
    assert draft is not None and draft.component_id == ComponentId.ENCRYPTED_MEDIA_V1
    assert [e.base_url for e in draft.default_blob_endpoints] == [
        "https://blossom.example/",
        "http://127.0.0.1:3000/",
    ]
    assert dm_media.new_group_policy([], ProofForm.CURRENT) is None
    assert dm_media.new_group_policy(["https://10.0.0.1"], ProofForm.DRAFT) is None

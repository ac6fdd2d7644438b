"""The app data of the MLS extensions draft: codecs, the section 4.7 list rules, and
AppDataUpdate commits through our engine (two members, in memory)."""

from __future__ import annotations

import pytest

from mls.app_data import (
    LastResortMarking,
    app_data_dictionary,
    app_data_dictionary_extension,
    apply_app_data_updates,
    check_app_data_updates,
    is_last_resort,
    last_resort_extensions,
    split_safe_aad,
)
from mls.errors import DecodeError, InvalidMessage
from mls.group import (
    CommitProcessed,
    GroupState,
    add_members,
    commit,
    create_group,
    join_from_welcome,
    process,
)
from mls.key_package import create_key_package, default_capabilities
from mls.messages import (
    AppDataDictionary,
    AppDataUpdate,
    Capabilities,
    ComponentData,
    ComponentsList,
    Credential,
    CredentialType,
    Extension,
    ExtensionType,
    GroupContextExtensions,
    ProposalType,
    RequiredCapabilities,
    SafeAAD,
    SafeAADItem,
    proposal_from_bytes,
    proposal_to_bytes,
)
from tests.helpers.mls_members import NOW, seeded_rng


def test_dictionary_round_trip_and_order() -> None:
    d = AppDataDictionary.of({0x8001: b"ab", 0x0001: b""})
    assert d.to_bytes().hex() == "08" + "000100" + "8001026162"
    assert AppDataDictionary.from_bytes(d.to_bytes()) == d
    assert d.get(0x8001) == b"ab" and d.get(0x8002) is None and 0x0001 in d
    assert d.with_changes({0x0001: None, 0x8002: b"x"}).as_dict() == {0x8001: b"ab", 0x8002: b"x"}


@pytest.mark.parametrize(
    "body",
    ["0a" + "8001026162" + "000100", "0a" + "000100" + "000100", "03" + "000101"],
    ids=["unsorted", "duplicate", "truncated"],
)
def test_dictionary_refuses_bad_bytes(body: str) -> None:
    with pytest.raises(DecodeError):
        AppDataDictionary.from_bytes(bytes.fromhex(body))


def test_components_list_is_sorted_unique() -> None:
    assert ComponentsList.of([0x8003, 0x0001, 0x8003]).to_bytes().hex() == "0400018003"
    with pytest.raises(DecodeError):
        ComponentsList.from_bytes(bytes.fromhex("0480030001"))
    with pytest.raises(DecodeError):
        ComponentsList.from_bytes(bytes.fromhex("03800300"))  # odd length


def test_app_data_update_proposal_codec() -> None:
    update = AppDataUpdate.update(0x8001, b"hi")
    assert proposal_to_bytes(update).hex() == "0008" + "8001" + "01" + "026869"
    assert proposal_from_bytes(proposal_to_bytes(update)) == update
    remove = AppDataUpdate.remove(0x8002)
    assert proposal_to_bytes(remove).hex() == "0008800202"
    assert proposal_from_bytes(proposal_to_bytes(remove)) == remove
    with pytest.raises(DecodeError):
        proposal_from_bytes(bytes.fromhex("0008800203"))  # op 3 does not exist
    with pytest.raises(DecodeError):
        proposal_from_bytes(bytes.fromhex("000880020200"))  # a remove carries nothing


def test_list_rules_of_section_4_7() -> None:
    up, rm = AppDataUpdate.update(0x8001, b"x"), AppDataUpdate.remove(0x8001)
    check_app_data_updates([up, AppDataUpdate.update(0x8001, b"y")], ())
    for bad in ([up, rm], [rm, up], [rm, rm]):
        with pytest.raises(InvalidMessage, match="removed and changed"):
            check_app_data_updates(bad, ())
    gce = GroupContextExtensions(())
    check_app_data_updates([gce, up], ())
    with pytest.raises(InvalidMessage, match="follows"):
        check_app_data_updates([up, gce], ())
    required = RequiredCapabilities((), (ProposalType.APP_DATA_UPDATE,), ())
    context = (
        Extension(ExtensionType.REQUIRED_CAPABILITIES, required.to_bytes()),
        app_data_dictionary_extension(AppDataDictionary.of({0x8001: b"a"})),
    )
    with pytest.raises(InvalidMessage, match="may not change"):
        check_app_data_updates([GroupContextExtensions(context[:1]), up], context)
    check_app_data_updates([GroupContextExtensions(context), up], context)


def test_apply_replaces_removes_and_creates() -> None:
    start = (app_data_dictionary_extension(AppDataDictionary.of({0x8001: b"a", 0x8002: b"b"})),)
    out = apply_app_data_updates(
        start, [AppDataUpdate.update(0x8001, b"z"), AppDataUpdate.remove(0x8002)]
    )
    assert app_data_dictionary(out) == AppDataDictionary.of({0x8001: b"z"})
    created = apply_app_data_updates((), [AppDataUpdate.update(0x8003, b"q")])
    assert app_data_dictionary(created) == AppDataDictionary.of({0x8003: b"q"})
    with pytest.raises(InvalidMessage, match="no state"):
        apply_app_data_updates(start, [AppDataUpdate.remove(0x8009)])


def test_last_resort_both_drafts() -> None:
    for marking in LastResortMarking:
        bundle = create_key_package(
            1,
            Credential.basic(b"a"),
            now=NOW,
            extensions=last_resort_extensions(marking),
            rng=seeded_rng(3),
        )
        assert is_last_resort(bundle.key_package)
    plain = create_key_package(1, Credential.basic(b"a"), now=NOW, rng=seeded_rng(3))
    assert not is_last_resort(plain.key_package)
    ext = last_resort_extensions(LastResortMarking.DRAFT_10)[0]
    assert ext.extension_data.hex() == "03000400"  # as the Rust engine writes it


def test_safe_aad_split() -> None:
    prefix = SafeAAD((SafeAADItem(0x8005, b"\x01"),))
    aad = prefix.to_bytes() + b"rest"
    assert split_safe_aad(aad, ComponentsList.of([0x8005])) == (prefix, b"rest")
    with pytest.raises(InvalidMessage, match="unlisted"):
        split_safe_aad(aad, ComponentsList.of([0x8006]))
    with pytest.raises(InvalidMessage):
        split_safe_aad(b"\x05\x80", ComponentsList())
    with pytest.raises(DecodeError):
        SafeAAD.from_bytes(bytes.fromhex("08" + "8006" + "0100" + "8005" + "0100"))


# -- through the engine ---------------------------------------------------------------


def _caps() -> Capabilities:
    return default_capabilities(
        1,
        CredentialType.BASIC,
        (ExtensionType.APP_DATA_DICTIONARY,),
        (ProposalType.APP_DATA_UPDATE,),
    )


def _pair() -> tuple[GroupState, GroupState]:
    rng = seeded_rng(7)
    caps = _caps()
    dictionary = app_data_dictionary_extension(AppDataDictionary.of({0x8001: b"old"}))
    required = RequiredCapabilities(
        (ExtensionType.APP_DATA_DICTIONARY,), (ProposalType.APP_DATA_UPDATE,), ()
    )
    alice = create_group(
        1,
        Credential.basic(b"alice"),
        now=NOW,
        capabilities=caps,
        extensions=[
            Extension(ExtensionType.REQUIRED_CAPABILITIES, required.to_bytes()),
            dictionary,
        ],
        rng=rng,
    )
    bob_kp = create_key_package(
        1,
        Credential.basic(b"bob"),
        now=NOW,
        capabilities=caps,
        rng=rng,
    )
    pending = add_members(alice, [bob_kp.key_package], now=NOW, rng=rng)
    assert pending.welcome is not None
    bob = join_from_welcome(pending.welcome, bob_kp)
    return pending.next_state, bob


def test_commit_with_app_data_update_changes_both_sides() -> None:
    alice, bob = _pair()
    pending = commit(
        alice,
        proposals=[AppDataUpdate.update(0x8001, b"new"), AppDataUpdate.update(0x8004, b"r")],
        path=False,  # OpenMLS commits AppDataUpdates without a path
        rng=seeded_rng(8),
    )
    result, bob = process(bob, pending.message, now=NOW)
    assert isinstance(result, CommitProcessed)
    alice = pending.next_state
    want = AppDataDictionary.of({0x8001: b"new", 0x8004: b"r"})
    assert app_data_dictionary(alice.extensions) == want
    assert app_data_dictionary(bob.extensions) == want
    assert alice.epoch_authenticator == bob.epoch_authenticator


def test_commit_removing_absent_component_is_refused() -> None:
    alice, _bob = _pair()
    with pytest.raises(InvalidMessage, match="no state"):
        commit(alice, proposals=[AppDataUpdate.remove(0x8002)], rng=seeded_rng(8))


def test_malformed_dictionary_in_group_context_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="app_data_dictionary"):
        create_group(
            1,
            Credential.basic(b"alice"),
            now=NOW,
            capabilities=_caps(),
            extensions=[Extension(ExtensionType.APP_DATA_DICTIONARY, b"\x01")],
            rng=seeded_rng(1),
        )


def test_component_data_struct() -> None:
    assert ComponentData(0x8001, b"").to_bytes().hex() == "800100"

"""Small pure pieces of `app`: configuration, error translation, JSON views, parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import marmot.errors as marmot_errors
import nostr.errors as nostr_errors
import storage.errors as storage_errors
from app.config import DEFAULT_LOCAL_RELAY, AppConfig
from app.contacts import parse_person
from app.errors import (
    AppError,
    InvalidInput,
    NetworkError,
    NotAllowed,
    NotFound,
    ProtocolFailure,
    StorageFailure,
    WrongPassphrase,
    translate,
)
from app.group_records import member_delta
from app.group_store import MAX_AHEAD, stamp_after
from app.key_packages import decode_private, encode_private
from app.local_relay import local_address
from app.message_records import citation, displayed_text, incoming_records, reply_target
from app.models import MemberInfo, ReactionInfo, to_jsonable
from mls.key_package import KeyPackagePrivate
from nostr import nip19
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey

ALICE = SecretKey.generate().public_key()


def test_config_from_env_reads_the_overrides(tmp_path: Path) -> None:
    env = {
        "BURROW_LOCAL_RELAY": "ws://127.0.0.1:9999",
        "BURROW_EMBEDDED_RELAY": "0",
        "BURROW_DISCOVERY": "wss://a.example, wss://A.example/ ,",
        "BURROW_RECONNECT_MAX": "2",
    }
    config = AppConfig.from_env(tmp_path, env)
    assert config.local_relay == "ws://127.0.0.1:9999"
    assert not config.embedded_relay
    assert config.discovery_relays == ("wss://a.example", "wss://a.example/")
    assert config.timeouts.reconnect_max == 2.0
    assert AppConfig.from_env(tmp_path, {}).local_relay == DEFAULT_LOCAL_RELAY
    with pytest.raises(InvalidInput):
        AppConfig.from_env(tmp_path, {"BURROW_LOCAL_RELAY": "http://nope"})
    with pytest.raises(InvalidInput):
        AppConfig.from_env(tmp_path, {"BURROW_RECONNECT_MAX": "soon"})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (storage_errors.WrongPassphrase("x"), WrongPassphrase),
        (storage_errors.InvalidPassphrase("empty"), InvalidInput),
        (storage_errors.NotFound("no group"), NotFound),
        (storage_errors.StorageUnavailable("disk full", "SQLITE_FULL"), StorageFailure),
        (nostr_errors.RelayRejected("wss://r", "blocked: no", "blocked"), NetworkError),
        (nostr_errors.RelayUnavailable("wss://r"), NetworkError),
        (nostr_errors.DecodeError("bad npub"), InvalidInput),
        (marmot_errors.NotAdmin("add members"), NotAllowed),
        (marmot_errors.UsageError("not a member"), NotAllowed),
        (marmot_errors.InvalidGroupEvent("bad"), ProtocolFailure),
        (RuntimeError("bug"), AppError),
    ],
)
def test_lower_layer_errors_become_app_errors(error: Exception, expected: type) -> None:
    translated = translate(error)
    assert type(translated) is expected and translated.message


def test_a_relay_refusal_keeps_its_fields() -> None:
    error = translate(nostr_errors.RelayRejected("wss://r", "rate-limited: slow", "rate-limited"))
    assert isinstance(error, NetworkError)
    assert (error.relay_url, error.prefix) == ("wss://r", "rate-limited")


def test_views_become_plain_json_with_derived_counts() -> None:
    member = MemberInfo("a" * 64, "npub1x", "alice", True, (0, 3))
    data = to_jsonable({"m": member, "r": ReactionInfo("🦫", ("a", "b")), "b": b"\x01"})
    assert data["m"]["devices"] == 2 and data["m"]["leaves"] == [0, 3]
    assert data["r"]["count"] == 2 and data["b"] == "01"


def test_people_are_named_by_npub_nprofile_or_hex() -> None:
    assert parse_person(ALICE.to_bech32()).pubkey == ALICE.hex
    assert parse_person("nostr:" + ALICE.to_bech32()).pubkey == ALICE.hex
    assert parse_person(ALICE.hex.upper()).pubkey == ALICE.hex
    profile = nip19.encode_profile(nip19.Profile(ALICE, ("wss://r.example",)))
    person = parse_person(profile)
    assert (person.pubkey, person.hints) == (ALICE.hex, ("wss://r.example",))
    for bad in ("npub1nothing", "", "nsec1" + "q" * 58, "zz" * 32):
        with pytest.raises(InvalidInput):
            parse_person(bad)


def test_key_package_private_material_round_trips() -> None:
    private = KeyPackagePrivate(b"\x01" * 32, b"\x02" * 32, b"\x03" * 64)
    assert decode_private(encode_private(private)) == private
    with pytest.raises(ValueError, match="format"):
        decode_private(b"\x09" + encode_private(private)[1:])


def test_local_relay_addresses_must_be_loopback() -> None:
    assert local_address("ws://127.0.0.1:4869") == ("127.0.0.1", 4869)
    assert local_address("ws://localhost:1") == ("localhost", 1)
    for bad in ("wss://127.0.0.1:4869", "ws://10.0.0.1:4869", "ws://127.0.0.1"):
        with pytest.raises(InvalidInput):
            local_address(bad)


def test_member_delta() -> None:
    assert member_delta(["a", "b"], ["b", "c"]) == (("c",), ("a",))


def _rumor(kind: int, content: str = "", tags: tuple[tuple[str, ...], ...] = ()) -> UnsignedEvent:
    return UnsignedEvent(ALICE.hex, 1000, kind, tags, content)


def test_incoming_rumors_map_to_rows() -> None:
    gid = b"g" * 16
    target = "b" * 64
    chat = incoming_records(gid, _rumor(9, "hi", (("q", target),)), "e" * 64, 3, own=False)
    [message] = chat.messages
    assert (message.reply_to, message.epoch, message.is_read) == (target, 3, False)
    own = incoming_records(gid, _rumor(9, "me"), "e" * 64, 3, own=True)
    assert own.messages[0].is_read
    reaction = incoming_records(
        gid, _rumor(7, "+", (("e", target), ("e", "x" * 64))), "e", 3, own=False
    )  # White Noise takes the first ``e`` tag as the target
    assert reaction.reactions[0].target_rumor_id == target and reaction.targets == (target,)
    deletion = incoming_records(
        gid, _rumor(5, "", (("e", target), ("e", target))), "e", 3, own=False
    )
    assert [d.target_rumor_id for d in deletion.deletions] == [target]
    other = incoming_records(gid, _rumor(1234, "x"), "e", 3, own=False)
    assert other.messages[0].kind == 1234 and other.messages[0].is_read
    assert reply_target([("e", "x"), ("q", target, "", "p")]) == target
    assert reply_target([("p", "x")]) is None


def test_a_whitenoise_reply_with_only_e_tags_replies_to_the_last() -> None:
    target = "b" * 64
    tags = (("e", "x" * 64), ("e", target), ("p", "a" * 64))
    chat = incoming_records(b"g" * 16, _rumor(9, "hi", tags), "e" * 64, 3, own=False)
    assert chat.messages[0].reply_to == target


def test_the_citation_of_the_replied_event_is_not_shown() -> None:
    target, other = "b" * 64, "c" * 64
    cite = citation(target, ALICE.hex, 9)
    assert nip19.decode(cite.removeprefix("nostr:")) == nip19.EventPointer(
        target, author=ALICE, kind=9
    )
    assert displayed_text(f"{cite}\nyes", target) == "yes"
    assert displayed_text(f"yes {cite}", target) == "yes"
    assert displayed_text(f"nostr:{nip19.encode_note(target)} ok", target) == "ok"
    other_cite = citation(other, ALICE.hex, 9)
    assert displayed_text(f"see {other_cite}", target) == f"see {other_cite}"
    assert displayed_text(f"{cite} yes", None) == f"{cite} yes"
    assert displayed_text("nostr:nevent1qqqqbroken yes", target) == "nostr:nevent1qqqqbroken yes"


def test_the_relay_store_is_one_per_user_and_address_not_per_data_folder(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "BURROW_LOCAL_RELAY": "ws://127.0.0.1:4999"}
    a = AppConfig.from_env(tmp_path / "alice", env)
    b = AppConfig.from_env(tmp_path / "bob", env)
    assert a.relay_store == b.relay_store == tmp_path / "state" / "burrow" / "relay" / "4999"
    home = AppConfig.from_env(tmp_path / "x", {"HOME": str(tmp_path / "home")})
    assert home.relay_store == tmp_path / "home" / ".local" / "state" / "burrow" / "relay" / "4869"


def test_tests_never_use_the_real_state_folder(tmp_path: Path) -> None:
    store = AppConfig(tmp_path).relay_store
    assert store is not None and str(store).startswith(os.environ["XDG_STATE_HOME"])
    assert not str(store).startswith(str(Path.home() / ".local"))


def test_our_group_events_are_dated_after_what_they_follow_but_at_most_a_minute_ahead() -> None:
    now = 1_800_000_000
    assert stamp_after(now, now) == now + 1  # same second: one later
    assert stamp_after(now, now - 10) == now  # older: our clock
    assert stamp_after(now, now + 5) == now + 6
    assert stamp_after(now, now + 3600) == now + MAX_AHEAD  # a far-future event: capped

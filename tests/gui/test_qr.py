"""The QR encoder against published values and an independent test-only decoder."""

from __future__ import annotations

import pytest

from tests.gui.qr_decode import QrDecodeError, check_syndromes, decode
from ui import qr

pytestmark = pytest.mark.gui

# The ISO 18004 capacity table, byte mode, level M, versions 1-10.
BYTE_CAPACITY_M = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213]

# Format information for level M, masks 0-7, after the 0x5412 XOR (ISO 18004 table C.1).
FORMAT_M = [
    "101010000010010",
    "101000100100101",
    "101111001111100",
    "101101101001011",
    "100010111111001",
    "100000011001110",
    "100111110010111",
    "100101010100000",
]

# Version information for versions 7-10 (ISO 18004 table D.1).
VERSION_INFO = {7: 0x07C94, 8: 0x085BC, 9: 0x09A99, 10: 0x0A4D3}


def test_reed_solomon_matches_the_worked_example() -> None:
    # "HELLO WORLD" as version 1-M alphanumeric data codewords and their 10 check codewords,
    # the widely published worked example.
    data = bytes([32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17])
    assert list(qr.rs_remainder(data, 10)) == [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]


@pytest.mark.parametrize("mask", range(8))
def test_format_bits(mask: int) -> None:
    assert f"{qr.format_bits(mask):015b}" == FORMAT_M[mask]


@pytest.mark.parametrize(("version", "bits"), VERSION_INFO.items())
def test_version_bits(version: int, bits: int) -> None:
    assert qr.version_bits(version) == bits


def test_capacities() -> None:
    assert [qr.byte_capacity(v) for v in range(1, 11)] == BYTE_CAPACITY_M


@pytest.mark.parametrize("version", range(1, 11))
@pytest.mark.parametrize("mask", range(8))
def test_round_trip_at_full_capacity(version: int, mask: int) -> None:
    payload = bytes((i * 37 + version) % 256 for i in range(BYTE_CAPACITY_M[version - 1]))
    code = qr.encode(payload, mask=mask)
    assert (code.version, code.mask, code.size) == (version, mask, 17 + 4 * version)
    assert decode(code.modules) == (payload, version, "M", mask)


def test_npub_uses_version_5_and_the_best_mask() -> None:
    npub = b"npub1sn0wdenkukak0d9dfczzeacvhkrgz92ak56egt7vdgzn8pv2wfqqhrjdv9"
    code = qr.encode(npub)
    assert code.version == 5
    payload, _, _, mask = decode(code.modules)
    assert payload == npub
    scores = []
    for m in range(8):
        forced = qr.encode(npub, mask=m)
        scores.append(qr.penalty([list(row) for row in forced.modules]))
    assert scores[mask] == min(scores)


@pytest.mark.parametrize("size", [0, 1, 14, 15, 62, 63, 212, 213])
def test_smallest_version_is_chosen(size: int) -> None:
    code = qr.encode(b"x" * size)
    assert code.version == next(v for v, cap in enumerate(BYTE_CAPACITY_M, 1) if size <= cap)
    assert decode(code.modules)[0] == b"x" * size


def test_too_long_is_a_typed_error() -> None:
    with pytest.raises(qr.DataTooLong):
        qr.encode(b"x" * 214)


def test_decoder_notices_a_flipped_data_module() -> None:
    code = qr.encode(b"nprofile1qqs", mask=3)
    damaged = [list(row) for row in code.modules]
    damaged[code.size - 1][code.size - 1] ^= True  # the first data bit
    with pytest.raises(QrDecodeError):
        decode(damaged)


def test_decoder_notices_a_damaged_finder() -> None:
    damaged = [list(row) for row in qr.encode(b"abc").modules]
    damaged[3][3] = False
    with pytest.raises(QrDecodeError, match="finder"):
        decode(damaged)


def test_syndrome_check_rejects_a_non_codeword() -> None:
    word = list(b"hello") + list(qr.rs_remainder(b"hello", 7))
    check_syndromes(word, 7)
    word[2] ^= 1
    with pytest.raises(QrDecodeError):
        check_syndromes(word, 7)

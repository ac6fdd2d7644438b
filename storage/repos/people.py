"""NIP-05 check results and fetched profile pictures (schema 4)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.types import Connection


@dataclass(frozen=True, slots=True)
class Nip05Check:
    pubkey: str
    nip05: str
    verified: bool
    checked_at: int


@dataclass(frozen=True, slots=True)
class Picture:
    url: str
    mime: str
    """'' when the fetch failed (``data`` is then empty)."""
    data: bytes
    fetched_at: int


def save_nip05(conn: Connection, check: Nip05Check) -> None:
    conn.execute(
        "INSERT INTO nip05_checks (pubkey, nip05, verified, checked_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pubkey) DO UPDATE SET nip05 = excluded.nip05,"
        " verified = excluded.verified, checked_at = excluded.checked_at",
        (check.pubkey, check.nip05, int(check.verified), check.checked_at),
    )


def nip05_checks(conn: Connection, pubkeys: list[str]) -> dict[str, Nip05Check]:
    out: dict[str, Nip05Check] = {}
    for start in range(0, len(pubkeys), 500):
        chunk = pubkeys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT pubkey, nip05, verified, checked_at FROM nip05_checks"  # noqa: S608
            f" WHERE pubkey IN ({marks})",
            chunk,
        ):
            out[row[0]] = Nip05Check(row[0], row[1], bool(row[2]), row[3])
    return out


def save_picture(conn: Connection, picture: Picture) -> None:
    conn.execute(
        "INSERT INTO pictures (url, mime, data, fetched_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET mime = excluded.mime, data = excluded.data,"
        " fetched_at = excluded.fetched_at",
        (picture.url, picture.mime, picture.data, picture.fetched_at),
    )


def picture(conn: Connection, url: str) -> Picture | None:
    row = conn.execute(
        "SELECT url, mime, data, fetched_at FROM pictures WHERE url = ?", (url,)
    ).fetchone()
    return None if row is None else Picture(row[0], row[1], bytes(row[2]), row[3])

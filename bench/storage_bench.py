"""Storage speed: Burrow's encrypted database against plain stdlib sqlite3, in the same run.

    .venv/bin/python bench/storage_bench.py [--messages 100000]

The peer runs the same migrations, the same repository code and the same connection
settings (WAL, synchronous=FULL, foreign keys, in-memory temp store) on an unencrypted
stdlib ``sqlite3`` file, so the ratio isolates what SQLCipher encryption (pinned profile:
PBKDF2-SHA512 256,000 iterations, HMAC-SHA512 per 4 KiB page) costs. One chat holds all the
messages; texts are drawn from a Zipf-like vocabulary so words have realistic frequencies.
"vs peer" = Burrow's speed relative to the peer (1.00 = as fast as unencrypted).
"""

from __future__ import annotations

import argparse
import functools
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlcipher3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import Connection, connect  # imported after the path fix above
from storage.connection import configure
from storage.migrations import migrate
from storage.repos import groups, messages, search
from storage.rows import GroupMetadata, GroupState, MlsState, NewGroup, NewMessage

GROUP = bytes(range(32))
AUTHORS = [f"{i:064x}" for i in range(1, 9)]
PASSPHRASE = "benchmark passphrase"


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(6000)}
    return sorted(words)


def _texts(count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]  # Zipf: word k is 1/k as common
    texts = [
        " ".join(rng.choices(vocab, weights, k=rng.randint(3, 25))).capitalize()
        for _ in range(count)
    ]
    return texts, vocab


def _open_burrow(folder: Path) -> Connection:
    return connect(folder / "burrow.db", PASSPHRASE, create=True)


def _open_peer(folder: Path) -> Connection:
    conn = sqlite3.connect(folder / "peer.db", isolation_level=None)
    configure(conn)
    migrate(conn)
    return conn


def _message(n: int, text: str) -> NewMessage:
    return NewMessage(
        mls_group_id=GROUP,
        rumor_id=f"{n:064x}",
        kind=9,
        author=AUTHORS[n % len(AUTHORS)],
        content=text,
        created_at=1_700_000_000 + n // 2,
        event_id=f"{n + 10**9:064x}",
        tags=(("client", "burrow"),),
        epoch=n // 1000,
    )


def _setup(conn: Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    meta = GroupMetadata("ab" * 32, "bench", marmot_data=b"\xf2\xee")
    state = MlsState(1, bytes(4096))
    groups.create(conn, NewGroup(GROUP, meta, GroupState.ACTIVE, 0, 0, state), now=1)
    conn.execute("COMMIT")


def _insert_each(conn: Connection, texts: list[str], start: int) -> float:
    """Messages per second, each in its own durable transaction (one incoming event)."""
    began = time.perf_counter()
    for i, text in enumerate(texts):
        conn.execute("BEGIN IMMEDIATE")
        messages.insert(conn, _message(start + i, text), now=1)
        conn.execute("COMMIT")
    return len(texts) / (time.perf_counter() - began)


def _insert_batched(conn: Connection, texts: list[str], start: int, batch: int = 1000) -> float:
    """Messages per second, ``batch`` per transaction (catching up after being offline)."""
    began = time.perf_counter()
    for first in range(0, len(texts), batch):
        conn.execute("BEGIN IMMEDIATE")
        for i in range(first, min(first + batch, len(texts))):
            messages.insert(conn, _message(start + i, texts[i]), now=1)
        conn.execute("COMMIT")
    return len(texts) / (time.perf_counter() - began)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def _queries(conn: Connection, vocab_terms: dict[str, str]) -> dict[str, float]:
    newest = messages.page(conn, GROUP, limit=50)
    half = messages.count(conn, GROUP) // 2
    middle = messages.page(conn, GROUP, before=newest[0].cursor, limit=half)[0].cursor
    results = {
        "newest 50 (warm)": _median_ms(lambda: messages.page(conn, GROUP, limit=50), 300),
        "50 older, mid-history": _median_ms(
            lambda: messages.page(conn, GROUP, before=middle, limit=50), 300
        ),
        "unread count": _median_ms(lambda: messages.unread_count(conn, GROUP), 50),
    }
    for label, term in vocab_terms.items():
        results[f"search {label} ({term!r}), 20 hits"] = _median_ms(
            functools.partial(search.search, conn, term, limit=20), 50
        )
    return results


def _cold_page(open_fn: Callable[[Path], Connection], folder: Path) -> float:
    conn = open_fn(folder)  # key derivation and schema read happen here, not in the timing
    began = time.perf_counter()
    messages.page(conn, GROUP, limit=50)
    elapsed = (time.perf_counter() - began) * 1000
    conn.close()
    return elapsed


def _run(
    open_fn: Callable[[Path], Connection], folder: Path, texts: list[str], terms: dict[str, str]
) -> dict[str, float]:
    conn = open_fn(folder)
    _setup(conn)
    single = texts[:1000]
    rows = {"insert/s, 1 per transaction": _insert_each(conn, single, 0)}
    rows["insert/s, 1000 per transaction"] = _insert_batched(
        conn, texts[len(single) :], len(single)
    )
    rows.update(_queries(conn, terms))
    conn.close()
    rows["newest 50 (cold cache)"] = _cold_page(open_fn, folder)
    began = time.perf_counter()
    open_fn(folder).close()
    rows["open (key derivation, checks)"] = (time.perf_counter() - began) * 1000
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    texts, vocab = _texts(args.messages)
    terms = {"common word": vocab[4], "rare word": vocab[2500], "prefix": vocab[300][:3]}
    with tempfile.TemporaryDirectory() as tmp:
        ours = _run(_open_burrow, Path(tmp), texts, terms)
        peer = _run(_open_peer, Path(tmp), texts, terms)
    probe = sqlcipher3.connect(":memory:")
    cipher_version = probe.execute("PRAGMA cipher_version").fetchone()[0]
    cipher_sqlite = probe.execute("SELECT sqlite_version()").fetchone()[0]
    probe.close()
    print(
        f"storage: {args.messages:,} messages in one chat. Burrow: SQLCipher {cipher_version}"
        f" (SQLite {cipher_sqlite}); peer: stdlib sqlite3 (SQLite {sqlite3.sqlite_version})"
    )
    print(f"{'':44} {'burrow':>12} {'peer':>12} {'vs peer':>8}")
    for label, value in ours.items():
        rate = label.startswith("insert")
        unit = "/s" if rate else " ms"
        speed = value / peer[label] if rate else peer[label] / value
        digits = 0 if rate else 2
        print(
            f"{label:44} {value:>10.{digits}f}{unit:2} {peer[label]:>10.{digits}f}{unit:2}"
            f" {speed:>7.2f}x"
        )


if __name__ == "__main__":
    main()

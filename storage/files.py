"""The data folder: where account databases live, the account registry, deleting it all.

Layout (owned by this module)::

    <data_dir>/accounts.json          registry: pubkey, label, file; no secrets
    <data_dir>/accounts/<pubkey>.db   one encrypted database per account (+ -wal, -shm)

The registry lets the app list accounts before any passphrase is typed. It holds only what
is public anyway (the Nostr public key and the label the user chose).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StorageBug, StorageUnavailable
from storage.executor import open_paths

REGISTRY = "accounts.json"
_PUBKEY = re.compile(r"^[0-9a-f]{64}$")
_DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class AccountEntry:
    pubkey: str
    label: str
    created_at: int


class AccountRegistry:
    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / REGISTRY

    def database_path(self, pubkey: str) -> Path:
        if not _PUBKEY.match(pubkey):
            raise StorageBug(f"not a hex public key: {pubkey!r}")
        return self.data_dir / "accounts" / f"{pubkey}.db"

    def accounts(self) -> list[AccountEntry]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [
                AccountEntry(str(a["pubkey"]), str(a["label"]), int(a["created_at"]))
                for a in data["accounts"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageUnavailable(f"account registry {self.path} is damaged", "CORRUPT") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {self.path}: {exc}", "IOERR") from exc

    def get(self, pubkey: str) -> AccountEntry | None:
        return next((a for a in self.accounts() if a.pubkey == pubkey), None)

    def add(self, pubkey: str, label: str, *, now: int) -> AccountEntry:
        """Register an account (or relabel it); its database path is `database_path`."""
        self.database_path(pubkey)  # validates
        entries = [a for a in self.accounts() if a.pubkey != pubkey]
        existing = self.get(pubkey)
        entry = AccountEntry(pubkey, label, existing.created_at if existing else now)
        self._write([*entries, entry])
        return entry

    def remove(self, pubkey: str) -> None:
        """Unregister an account and delete its database files (it must be closed)."""
        db_path = self.database_path(pubkey)
        _refuse_if_open([db_path])
        self._write([a for a in self.accounts() if a.pubkey != pubkey])
        for suffix in _DB_SUFFIXES:
            Path(str(db_path) + suffix).unlink(missing_ok=True)

    def _write(self, entries: list[AccountEntry]) -> None:
        # Write-then-rename: a crash leaves the old registry or the new one, never half.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.data_dir / "accounts").mkdir(mode=0o700, exist_ok=True)
        data = {
            "version": 1,
            "accounts": [
                {"pubkey": a.pubkey, "label": a.label, "created_at": a.created_at} for a in entries
            ],
        }
        tmp = self.path.with_name(REGISTRY + ".tmp")
        try:
            with tmp.open("w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write {self.path}: {exc}", "IOERR") from exc


def _refuse_if_open(paths: list[Path], folder: Path | None = None) -> None:
    resolved = {p.resolve() for p in paths}
    root = folder.resolve() if folder is not None else None
    for open_path in open_paths():
        if open_path in resolved or (root is not None and open_path.is_relative_to(root)):
            raise StorageUnavailable(f"{open_path} is still open; close it first", "IN_USE")


def delete_all_local_data(data_dir: str | os.PathLike[str]) -> None:
    """Remove the whole data folder: every account database, the registry, everything.

    Refused while a database inside is open, and refused for a folder that is not a Burrow
    data folder (no registry), so a wrong path can never wipe unrelated files.
    """
    folder = Path(data_dir)
    if not folder.exists():
        return
    if not (folder / REGISTRY).is_file():
        raise StorageUnavailable(f"{folder} is not a Burrow data folder", "NOT_DATA_DIR")
    _refuse_if_open([], folder)
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise StorageUnavailable(f"cannot delete {folder}: {exc}", "IOERR") from exc

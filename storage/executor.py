"""The asyncio face of a database: one thread owns the connection, the loop awaits futures.

All SQLite work (key derivation included) runs on the database's own thread, so the event
loop never blocks on disk or on PBKDF2. Jobs run one at a time in submission order. An
``asyncio.Lock`` keeps a multi-step `transaction` whole: nothing else runs on the connection
between its BEGIN and its COMMIT.

Which to use:
  * ``await db.run(fn, *args)`` runs ``fn(conn, *args)`` alone (a read, or one write).
  * ``await db.transact(fn, *args)`` runs ``fn(conn, *args)`` inside BEGIN IMMEDIATE ..
    COMMIT, rolled back if it raises. Prefer this: the whole unit runs on the thread.
  * ``async with db.transaction() as tx: await tx.run(...)`` when awaits must sit between
    the steps. Keep the body short: the database serves no one else until it ends.

A job whose caller was cancelled before it started is skipped; once started it completes
(SQLite cannot be interrupted halfway), and a cancelled `transaction` body is rolled back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from storage import connection as _connection
from storage.connection import PINNED, CipherProfile
from storage.errors import StorageBug, StorageUnavailable, classify
from storage.types import Connection

P = ParamSpec("P")
T = TypeVar("T")

_Job = tuple[Callable[[], Any], "concurrent.futures.Future[Any]"]

# Databases open in this process, by resolved path: a second writer would break the
# one-connection design, and delete_all_local_data must not pull files from under one.
_OPEN: set[Path] = set()
_OPEN_LOCK = threading.Lock()


def open_paths() -> frozenset[Path]:
    with _OPEN_LOCK:
        return frozenset(_OPEN)


class Transaction:
    """Handle for the steps of one `Database.transaction`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.finished = False

    async def run(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self.finished:
            raise StorageBug("transaction already finished")
        return await self._db._call(lambda conn: fn(conn, *args, **kwargs))


class Database:
    """One encrypted account database, served by its own thread. Create with `open`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = asyncio.Lock()
        self._tx_task: asyncio.Task[Any] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=f"db:{path.name}", daemon=True)
        self._conn: Connection | None = None

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        *,
        create: bool = False,
        profile: CipherProfile = PINNED,
    ) -> Database:
        """Open (``create``: or make) the database, migrated; see `storage.connection.connect`."""
        resolved = Path(path).resolve()
        with _OPEN_LOCK:
            if resolved in _OPEN:
                raise StorageUnavailable(f"{resolved} is already open", "IN_USE")
            _OPEN.add(resolved)
        db = cls(resolved)
        try:
            db._thread.start()
            await asyncio.wrap_future(db._submit(lambda: db._connect(passphrase, create, profile)))
        except BaseException:
            db._stop()
            with _OPEN_LOCK:
                _OPEN.discard(resolved)
            raise
        return db

    def _connect(self, passphrase: str, create: bool, profile: CipherProfile) -> None:
        self._conn = _connection.connect(self.path, passphrase, create=create, profile=profile)

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(conn, *args, **kwargs)`` on the database thread."""
        self._check_not_in_own_transaction()
        async with self._lock:
            return await self._call(lambda conn: fn(conn, *args, **kwargs))

    async def transact(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(conn, ...)`` inside one IMMEDIATE transaction; all of it or none of it lands."""
        self._check_not_in_own_transaction()
        async with self._lock:
            return await self._call(lambda conn: _in_transaction(conn, fn, *args, **kwargs))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A transaction whose steps are awaited one by one (see the module notes)."""
        self._check_not_in_own_transaction()
        async with self._lock:
            self._tx_task = asyncio.current_task()
            tx = Transaction(self)
            try:
                await self._critical(_begin)
                yield tx
            except BaseException:
                tx.finished = True
                await self._critical(_rollback)
                raise
            else:
                tx.finished = True
                await self._critical(_commit)
            finally:
                self._tx_task = None

    async def rekey(self, new_passphrase: str) -> None:
        """Re-encrypt the database under a new passphrase."""
        await self.run(_connection.rekey, new_passphrase)

    async def backup(self, dest: str | os.PathLike[str], passphrase: str) -> Path:
        """An encrypted copy at ``dest`` with its own passphrase (`export_encrypted`)."""
        return await self.run(_connection.export_encrypted, dest, passphrase)

    async def close(self) -> None:
        """Finish queued work, close the connection and stop the thread. Idempotent."""
        if self._closed:
            return
        self._check_not_in_own_transaction()
        async with self._lock:
            done = self._stop()
            await asyncio.wrap_future(done)

    def _stop(self) -> concurrent.futures.Future[None]:
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._closed:
            done.set_result(None)
            return done
        self._closed = True
        self._jobs.put((self._close_connection, done))
        self._jobs.put(None)
        return done

    def _close_connection(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
        finally:
            self._conn = None
            with _OPEN_LOCK:
                _OPEN.discard(self.path)

    def _check_not_in_own_transaction(self) -> None:
        if self._closed:
            raise StorageBug("the database is closed")
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            raise StorageBug("inside db.transaction() use tx.run(), not db.run()")

    def _submit(self, job: Callable[[], T]) -> concurrent.futures.Future[T]:
        if self._closed:
            raise StorageBug("the database is closed")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future

    def _with_connection(self, job: Callable[[Connection], T]) -> Callable[[], T]:
        def bound() -> T:
            if self._conn is None:
                raise StorageBug("the database is not open")
            return job(self._conn)

        return bound

    async def _call(self, job: Callable[[Connection], T]) -> T:
        return await asyncio.wrap_future(self._submit(self._with_connection(job)))

    async def _critical(self, job: Callable[[Connection], None]) -> None:
        # Shielded: a second cancellation must not skip a BEGIN/COMMIT/ROLLBACK that later
        # jobs depend on. The job stays queued ahead of anything submitted after it.
        await asyncio.shield(asyncio.wrap_future(self._submit(self._with_connection(job))))

    def _serve(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except _connection.DRIVER_ERRORS as exc:
                error = classify(exc, str(self.path))
                error.__cause__ = exc
                future.set_exception(error)
            except BaseException as exc:  # handed to the awaiting task, never swallowed
                future.set_exception(exc)
            else:
                future.set_result(result)


def _in_transaction(
    conn: Connection, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args, **kwargs)
    except BaseException:
        _rollback(conn)
        raise
    _commit(conn)
    return result


def _begin(conn: Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _commit(conn: Connection) -> None:
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")

"""The embedded local relay: rust-nostr's LocalRelay served in-process on 127.0.0.1.

A new account's default relay is the local relay address. When nothing serves that address
yet, Burrow serves it itself, so two Burrow instances on one machine find each other and it
all works with no internet. Events are kept in ONE LMDB store per user and address (see
`AppConfig.relay_store`), shared by every Burrow process of this user: one process at a time
holds the store's lock and serves; the others connect to it. When the server exits (a
short-lived CLI command, a closed window) the lock goes with it, and the next process that
looks (every running one does, each second) serves the same events again. Only ``app``
imports ``nostr_sdk``, and only here.

Traps handled (see ``shared/docs/relay.md``): ``uniffi_set_event_loop`` must run before the
LMDB opens or the open never completes; ``port(0)`` misreports the URL, so the port comes
from the configured address; the default rate limit (60 events a minute) is too tight for a
busy chat, so a higher but still finite one is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from contextvars import Context
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.errors import InvalidInput
from app.shared_server import TAKEOVER_POLL, SharedServer, can_bind

if TYPE_CHECKING:
    import nostr_sdk

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost")
MAX_REQS = 200
"""Open subscriptions per connection: a few per purpose, with room for many accounts."""
EVENTS_PER_MINUTE = 3_000
"""Per connection: far above a person's pace, still a bound against a runaway client."""
MAX_FILTER_LIMIT = 5_000


def local_address(url: str) -> tuple[str, int]:
    """Host and port of a ``ws://127.0.0.1:<port>`` (or localhost) URL."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname not in LOCAL_HOSTS or parts.port is None:
        raise InvalidInput(f"the local relay must be ws://127.0.0.1:<port>, not {url}")
    return parts.hostname, parts.port


async def is_served(url: str, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at the relay's address."""
    host, port = local_address(url)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class ThreadSafeCalls:
    """The loop handed to uniffi, whose callback for a dropped foreign future calls
    ``loop.call_soon`` from a Rust thread. asyncio's ``call_soon`` is not thread-safe (Qt's
    loop, qasync, refuses it outright), so it goes through ``call_soon_threadsafe``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def call_soon(
        self, callback: Callable[..., object], *args: object, context: Context | None = None
    ) -> asyncio.Handle:
        return self._loop.call_soon_threadsafe(callback, *args, context=context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)


class EmbeddedRelay:
    """One LocalRelay on the loop's threads; `start` then `stop`."""

    def __init__(self, url: str, data_dir: Path | None, legacy: Sequence[Path] = ()) -> None:
        self.url = url
        self.host, self.port = local_address(url)
        self.data_dir = data_dir
        self.legacy = tuple(legacy)
        self._relay: nostr_sdk.LocalRelay | None = None

    @property
    def running(self) -> bool:
        return self._relay is not None

    async def start(self) -> None:
        if self._relay is not None:
            return
        import nostr_sdk  # noqa: PLC0415 (the Rust library costs 50-150 ms; many runs never serve)

        builder = (
            nostr_sdk.LocalRelayBuilder()
            .addr(self.host if self.host != "localhost" else "127.0.0.1")
            .port(self.port)
            .rate_limit(nostr_sdk.RateLimit(max_reqs=MAX_REQS, notes_per_minute=EVENTS_PER_MINUTE))
            .max_filter_limit(MAX_FILTER_LIMIT)
        )
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            nostr_sdk.uniffi_set_event_loop(ThreadSafeCalls(asyncio.get_running_loop()))
            database = await nostr_sdk.NostrLmdb.open(str(self.data_dir))
            await _import_legacy(database, self.legacy)
            builder = builder.database(database)
        relay = builder.build()
        await relay.run()
        self._relay = relay
        log.info("embedded relay serving %s (data in %s)", self.url, self.data_dir)

    async def stop(self, timeout: float = 5.0) -> None:
        """Shut down and wait (bounded) until the port is free again.

        Freedom is probed by binding, not connecting: every probe connection would give the
        shutting-down relay one more client to drain, and steady probing kept it alive."""
        relay, self._relay = self._relay, None
        if relay is None:
            return
        relay.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not can_bind(self.host, self.port) and loop.time() < deadline:
            await asyncio.sleep(0.02)


async def _import_legacy(database: nostr_sdk.NostrLmdb, folders: Sequence[Path]) -> None:
    """Events of an older Burrow's per-data-folder store (``<data dir>/relay``) move into
    the shared one (people's messages may still wait there); the folder is then renamed
    ``relay.imported``. A store that cannot be read is left for the next start."""
    import nostr_sdk  # noqa: PLC0415 (see EmbeddedRelay.start)

    for folder in folders:
        if not (folder / "data.mdb").is_file():
            continue
        try:
            old = await nostr_sdk.NostrLmdb.open(str(folder))
            events = await old.query(nostr_sdk.Filter())
            for event in events:
                await database.save_event(event)
            folder.rename(folder.with_name(folder.name + ".imported"))
        except Exception as exc:  # the old store is kept as it is
            log.warning("could not import the old relay store %s: %s", folder, exc)
            continue
        log.info("imported %d events from %s", len(events), folder)


class SharedRelay(SharedServer[EmbeddedRelay]):
    """Serves ``url`` from the shared ``store`` whenever no other Burrow process does."""

    def __init__(
        self, url: str, store: Path, legacy: Sequence[Path] = (), poll: float = TAKEOVER_POLL
    ) -> None:
        make = lambda: EmbeddedRelay(url, store, legacy)  # noqa: E731
        super().__init__("embedded relay", local_address(url), store, make, poll)

    @property
    def relay(self) -> EmbeddedRelay | None:
        return self.server

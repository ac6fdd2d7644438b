"""The bridge's shared state: the services, the active account, listeners, settings, errors.

One ``Services`` serves every unlocked account; the UI acts on one of them at a time (the
*active* account), and only the active account's events reach the widgets. App events are
queued by a bus listener and translated by one worker task, in publish order, because a
UI event needs a few database reads (names, the chat row) that must not run out of order.
Everything runs on the qasync loop, the GUI thread; the database has its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import app.errors as app_errors
from app import AccountSession, Services
from app.events import AppEvent
from app.remote_signing import ConnectOffer
from ui.backend import Listener, Unsubscribe
from ui.bridge.convert import avatar_from_picture
from ui.errors import BackendError, InvalidInput, NotAllowed, NotFound, Unavailable, WrongPassphrase
from ui.views import AccountView, ChatRow, ErrorShown, SyncProgress, Theme, UiEvent

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
SETTINGS_FILE = "ui.json"
CLOSE_FLUSH_SECONDS = 2.0


def sentence(message: str) -> str:
    """App errors are lowercase fragments; people read sentences."""
    message = message.strip() or "Something went wrong."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?", "…")) else message + "."


_ERRORS: tuple[tuple[type[app_errors.AppError], Callable[[str], BackendError]], ...] = (
    (app_errors.WrongPassphrase, lambda _: WrongPassphrase()),
    (
        app_errors.AccountExists,
        lambda _: InvalidInput("This account is already on this computer.", "nsec"),
    ),
    (app_errors.InvalidInput, InvalidInput),
    (app_errors.NotFound, NotFound),
    (app_errors.NotAllowed, NotAllowed),
    (app_errors.NetworkError, Unavailable),
)


def to_backend_error(error: app_errors.AppError) -> BackendError:
    text = sentence(error.message)
    for kind, make in _ERRORS:
        if isinstance(error, kind):
            return make(text)
    return BackendError(text)


def translated(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Turn the service layer's errors into the UI's (`BackendError` with a sentence)."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except app_errors.AppError as error:
            raise to_backend_error(error) from error

    return call


class BridgeCore:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.active: str | None = None
        self._listeners: list[Listener] = []
        self._queue: asyncio.Queue[AppEvent] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._dm_chats: dict[str, set[str]] = {}
        self._closed = False
        self._offer: ConnectOffer | None = None
        """A nostrconnect:// offer shown in onboarding, until a signer takes it up."""
        self._unsubscribe_bus = services.bus.subscribe(self._on_app_event)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the embedded local relay unless something already serves its address."""
        await self.services.start()

    async def close(self) -> None:
        """Graceful stop: a short outbox flush per account, then every session (their
        subscriptions, sockets and databases) and the embedded relay."""
        if self._closed:
            return
        self._closed = True
        if self._offer is not None:
            await self._offer.signer.close()
        for task in self._starting.values():
            task.cancel()
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        flushes = [s.flush(CLOSE_FLUSH_SECONDS) for s in self.services.sessions]
        await asyncio.gather(*flushes, return_exceptions=True)
        self._unsubscribe_bus()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.services.close()

    def start_session(self, session: AccountSession) -> None:
        """Connect and catch up in the background; the window is usable meanwhile."""
        if session.pubkey in self._starting:
            return

        async def run() -> None:
            try:
                await session.start(live=True)
            except app_errors.AppError as error:
                self._emit_for(session.pubkey, ErrorShown(sentence(error.message)))

        task = asyncio.ensure_future(run())
        self._starting[session.pubkey] = task
        task.add_done_callback(_report_bug)

    # --- the active account ------------------------------------------------------------

    def session(self) -> AccountSession:
        if self.active is None:
            raise NotFound("No account is unlocked.")
        try:
            return self.services.session(self.active)
        except app_errors.AppError as error:
            raise to_backend_error(error) from error

    async def account_view(self, session: AccountSession) -> AccountView:
        profile = await session.contacts.profile(session.pubkey)
        return AccountView(
            session.pubkey,
            profile.npub,
            profile.name or session.account.name,
            True,
            avatar_from_picture(profile.picture),
        )

    async def activate(self, session: AccountSession) -> AccountView:
        if session.pubkey != self.active:
            self._dm_chats.clear()
        self.active = session.pubkey
        self.start_session(session)
        view = await self.account_view(session)
        self._emit(SyncProgress(0, 0))
        return view

    def _seen(self, row: ChatRow) -> ChatRow:
        """Remember 1:1 chats by person: their rows change with the person's profile."""
        if row.is_dm:
            self._dm_chats.setdefault(row.avatar_seed, set()).add(row.id)
        return row

    # --- settings (usable before any unlock) -------------------------------------------

    @property
    def settings_path(self) -> Path:
        return self.services.config.data_dir / SETTINGS_FILE

    def read_settings(self) -> dict[str, Any]:
        try:
            data = json.loads(self.settings_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_settings(self, **changes: Any) -> None:
        data = {**self.read_settings(), **changes}
        path = self.settings_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=1))
            temporary.replace(path)
        except OSError as error:
            raise BackendError(f"Could not save the setting: {error.strerror}.") from None

    async def theme(self) -> Theme:
        """The saved theme; a new install follows the desktop's light or dark setting."""
        value = self.read_settings().get("theme")
        known = {t.value: t for t in Theme}
        return known.get(value, Theme.SYSTEM) if isinstance(value, str) else Theme.SYSTEM

    async def set_theme(self, theme: Theme) -> None:
        """Save the theme choice."""
        self.write_settings(theme=theme.value)

    # --- events ------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Unsubscribe:
        """Call ``listener`` on the GUI thread for every event until the returned function runs."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: UiEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a widget's bug: report it, keep the other listeners going
                sys.excepthook(*sys.exc_info())

    def _emit_for(self, account: str, event: UiEvent) -> None:
        if account == self.active:
            self._emit(event)

    def _on_app_event(self, event: AppEvent) -> None:
        if self._closed or event.account != self.active:
            return
        self._queue.put_nowait(event)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())
            self._worker.add_done_callback(_report_bug)

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._deliver(batch)

    async def _deliver(self, batch: list[AppEvent]) -> None:
        """Translate a batch of app events; the chat rows they touch are built once."""
        chats: dict[str, None] = {}
        for event in batch:
            if event.account != self.active:
                continue  # another account became active meanwhile
            try:
                for ui_event in await self.translate(event, chats):
                    self._emit(ui_event)
            except (app_errors.AppError, BackendError) as error:
                log.debug("dropped %s: %s", type(event).__name__, error)
            except Exception:  # the worker is a loop boundary: log it and carry on
                log.exception("translating %s failed", type(event).__name__)
        for chat_id in chats:
            await self._guarded(self.emit_chat(chat_id))

    async def _guarded(self, work: Awaitable[None]) -> None:
        try:
            await work
        except (app_errors.AppError, BackendError) as error:
            log.debug("chat row not rebuilt: %s", error)

    # --- provided by the operation mixins ----------------------------------------------

    async def translate(self, event: AppEvent, chats: dict[str, None]) -> list[UiEvent]:
        raise NotImplementedError

    async def emit_chat(self, chat_id: str) -> None:
        raise NotImplementedError


def _report_bug(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        sys.excepthook(type(error), error, error.__traceback__)

"""Running backend coroutines from the GUI without blocking it.

The asyncio loop is qasync's, running on Qt's event loop. ``async_slot`` turns a coroutine
method into a Qt slot, like ``qasync.asyncSlot``, with two differences that matter here: the
task is kept alive by a strong reference (asyncio itself keeps only weak ones), and it is
registered with its owner when the owner can ``track`` tasks (a dialog then waits for them
before it deletes itself, so code after an ``await`` never touches a deleted widget).

``spawn`` starts work outside a slot. Failures are reported, never swallowed: a
``BackendError`` goes to ``on_error`` for the person to read; anything else is a bug and goes
to ``sys.excepthook``, where the application logs it and the tests fail on it, and the
listeners of ``on_bug`` (the window's toast) say that it did not happen, so a click that
failed this way never just does nothing.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from PySide6.QtCore import Slot

from ui.errors import BackendError

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")

_RUNNING: set[asyncio.Task[Any]] = set()
_BUG_LISTENERS: list[Callable[[str], None]] = []
BUG_MESSAGE = "Something went wrong, so that did not happen. Please try again."


def on_bug(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(BUG_MESSAGE)`` whenever a task fails with a bug; returns the undo."""
    _BUG_LISTENERS.append(listener)
    return lambda: _BUG_LISTENERS.remove(listener) if listener in _BUG_LISTENERS else None


def spawn(
    coro: Coroutine[Any, Any, T], on_error: Callable[[str], None] | None = None
) -> asyncio.Task[T]:
    task = asyncio.ensure_future(coro)
    _RUNNING.add(task)

    def finished(done: asyncio.Task[T]) -> None:
        _RUNNING.discard(done)
        if done.cancelled():
            return
        error = done.exception()
        if isinstance(error, BackendError) and on_error is not None:
            on_error(error.message)
        elif error is not None:
            sys.excepthook(type(error), error, error.__traceback__)
            for listener in list(_BUG_LISTENERS):
                listener(BUG_MESSAGE)

    task.add_done_callback(finished)
    return task


def async_slot(
    *types: type,
) -> Callable[
    [Callable[Concatenate[S, P], Coroutine[Any, Any, None]]],
    Callable[Concatenate[S, P], asyncio.Task[None]],
]:
    """Decorate ``async def method(self, ...)`` so a signal can start it as a task."""

    def decorate(
        method: Callable[Concatenate[S, P], Coroutine[Any, Any, None]],
    ) -> Callable[Concatenate[S, P], asyncio.Task[None]]:
        # Signals may carry more arguments than the slot takes (clicked(bool)): drop extras.
        takes = len(inspect.signature(method).parameters) - 1

        @Slot(*types)
        @functools.wraps(method)
        def slot(self: S, *args: P.args, **kwargs: P.kwargs) -> asyncio.Task[None]:
            task = spawn(method(self, *args[:takes], **kwargs))  # type: ignore[arg-type]
            track = getattr(self, "track", None)
            if callable(track):
                track(task)
            return task

        return slot  # type: ignore[return-value]

    return decorate

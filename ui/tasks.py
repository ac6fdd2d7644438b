"""Running backend coroutines from the GUI without blocking it.

Button handlers are qasync ``asyncSlot``s. Work started outside a slot (start-up, event
reactions) goes through ``spawn``, which keeps a strong reference to the task (asyncio only
keeps weak ones) and reports failures: a ``BackendError`` goes to ``on_error`` for the
person to read; anything else is a bug and goes to ``sys.excepthook`` like ``asyncSlot``
does, where the application logs it and the tests fail on it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ui.errors import BackendError

T = TypeVar("T")

_RUNNING: set[asyncio.Task[Any]] = set()


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

    task.add_done_callback(finished)
    return task


def running_tasks() -> int:
    """How many spawned tasks are still running (tests wait for zero)."""
    return len(_RUNNING)

"""Run one CPU-heavy pure call (scrypt for NIP-49) off the event loop's thread.

Not ``asyncio.to_thread``: under qasync the default executor is a ``QThreadExecutor`` that
nobody shuts down, and Qt complains about a live QThread at exit. A short-lived daemon
thread per call is enough for something a person triggers by hand.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def in_thread(work: Callable[[], T], name: str = "burrow-offload") -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = work()
        except Exception as exc:  # handed to the awaiting task, which raises it
            loop.call_soon_threadsafe(_settle, future, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future

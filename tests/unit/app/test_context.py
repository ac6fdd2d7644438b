"""The session context's background work."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from tests.unit.app.conftest import Harness

pytestmark = pytest.mark.asyncio


async def test_work_cancelled_before_it_ran_leaves_no_unawaited_coroutine(
    harness: Harness,
) -> None:
    ran: list[str] = []

    async def work() -> None:
        ran.append("ran")

    harness.ctx.spawn(work(), "work")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await harness.ctx.cancel_tasks()  # the session closed at once
        await asyncio.sleep(0)  # the done callbacks run
        gc.collect()
    assert ran == []
    assert not [w for w in caught if "never awaited" in str(w.message)]

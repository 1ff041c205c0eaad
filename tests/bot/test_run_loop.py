"""The run loop: a task that ends on its own is a crash the process exits non-zero on."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.app import until_stopped


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()


async def _crash() -> None:
    raise RuntimeError("boom")


async def _return() -> None:
    return None


async def test_a_task_that_crashes_or_returns_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_until(stop), name="web"),
        asyncio.create_task(_crash(), name="polling"),
    ]
    assert await until_stopped(stop, tasks) == ["polling"]
    assert "event=task_died task=polling error=RuntimeError" in caplog.text
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_return(), name="outbox-telegram")]
    assert await until_stopped(stop, tasks) == ["outbox-telegram"]


async def test_a_stop_signal_is_no_crash() -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_until(stop), name=f"t{n}") for n in range(3)]
    asyncio.get_running_loop().call_later(0.01, stop.set)
    assert await until_stopped(stop, tasks) == []
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task

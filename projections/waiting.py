"""Waiting for the projections to move: bounded waits and a broadcast of progress."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

T = TypeVar("T")


async def wait_at_most(event: asyncio.Event, seconds: float) -> None:
    """Until ``event`` is set or ``seconds`` passed.

    Not ``asyncio.wait_for``: on Python 3.11 it can swallow a cancellation that
    arrives as the inner wait completes, and then ``stop()`` waits forever.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


async def result_or_none(task: asyncio.Task[T]) -> T | None:
    try:
        return await task
    except Exception:  # read again, by the caller, where a failure is reported
        return None


class Progress:
    """A broadcast 'something moved': waiters take ``next()`` and wait on it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def next(self) -> asyncio.Event:
        return self._event

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

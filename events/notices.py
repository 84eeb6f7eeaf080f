"""Commit notices on the bus, sent beside the writer, never in its way.

Notices are wake-ups, not the record: a slow or broken bus must not slow or
fail a commit, so the writer only drops a notice in a bounded queue and a
task of its own publishes them in order. When the queue is full the notice is
dropped (consumers fall back to polling the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from events.model import Notice

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """What the store needs of the bus (``events.bus.Bus`` satisfies it)."""

    async def publish(self, channel: str, payload: dict[str, Any]) -> None: ...


def payload(notice: Notice) -> dict[str, Any]:
    return {
        "first": notice.first_position,
        "last": notice.last_position,
        "streams": list(notice.streams),
        "types": list(notice.types),
    }


class NoticeSender:
    def __init__(self, bus: Publisher | None, channel: str, *, backlog: int = 10_000) -> None:
        self._bus = bus
        self._channel = channel
        self._backlog = backlog
        self._queue: asyncio.Queue[Notice | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def start(self) -> None:
        if self._bus is not None and self._task is None:
            self._queue = asyncio.Queue(self._backlog)
            self._task = asyncio.create_task(self._run(), name="chronicle-commit-notices")

    async def stop(self) -> None:
        """Send what is queued, then stop."""
        if self._task is None or self._queue is None:
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, timeout=10)
        except TimeoutError:
            log.warning("commit notices still pending at shutdown were dropped")
        self._task = None
        self._queue = None

    def offer(self, notice: Notice) -> None:
        if self._queue is None:
            return
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("commit notice for %d..%d dropped: the bus is behind",
                        notice.first_position, notice.last_position)

    async def _run(self) -> None:
        assert self._queue is not None and self._bus is not None
        while (notice := await self._queue.get()) is not None:
            try:
                await self._bus.publish(self._channel, payload(notice))
            except Exception:
                log.exception("commit notice for %d..%d not published",
                              notice.first_position, notice.last_position)

"""A process's shared halves of the live subscriptions: one follower of the log, one of
the read model's changes. Built once per process (``chronicle.app``), closed at shutdown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from resolvers.changes import ChangeFollower
from resolvers.follower import LogFollower

if TYPE_CHECKING:
    from events.bus import Bus
    from events.store import SqlEventStore


class LiveHub:
    def __init__(
        self, store: SqlEventStore, bus: Bus, *, poll_interval: float = 1.0,
        queue_size: int = 256, applied: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """``applied``: what the feed's projection has applied (the change follower's poll
        for lost notices)."""
        self.log = LogFollower(store, bus, poll_interval=poll_interval, queue_size=queue_size)
        self.changes = ChangeFollower(bus, queue_size=queue_size, applied=applied,
                                      poll_interval=poll_interval)

    async def close(self) -> None:
        await self.log.fanout.close()
        await self.changes.fanout.close()

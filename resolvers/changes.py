"""The one follower of the read model's changes per process: feed, postChanged, commentAdded.

The projection runner publishes on PROJECTIONS_CHANNEL after it applied a
batch, with what changed (``projections.posts``' feed changes). One bus
subscription per process turns each notice into an :class:`AppliedChanges`,
shared by every read-model subscriber through a :class:`Fanout`; the rows a
change needs (the post now, the post as last published, the comments after a
position) are read once per notice, for every subscriber that asks.

When the bus cut the follower off, changes may have been missed: it
publishes a *resync* item once it listens again, and each subscriber re-reads
what it follows from the last position it delivered. A notice can also be
lost with no cut to show for it (a bus that delivers at most once, such as
Redis's pub/sub): a slow poll compares what the feed's projection has applied
with the newest notice heard, and when the projection stays ahead for two
polls in a row, publishes a resync too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select

from events.bus import PROJECTIONS_CHANNEL, BusError
from projections.history import post_states
from resolvers.fanout import Fanout, joined
from resolvers.posts import PUBLISHED
from resolvers.rows import CommentRow, PostRow

if TYPE_CHECKING:
    from events.bus import Bus
    from resolvers.context import Services

T = TypeVar("T")

log = logging.getLogger(__name__)

FEED_PROJECTION = "posts"
"""The projection whose positions the read-model subscriptions report and resume from."""


@dataclass(eq=False)
class AppliedChanges:
    """One applied batch's changes (or a resync), with its rows read once for everyone."""

    projection: str
    position: int
    changes: tuple[dict[str, Any], ...]
    resync: bool = False
    _reads: dict[tuple[Any, ...], asyncio.Future[Any]] = field(default_factory=dict, repr=False)
    _made: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    def shared(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """One object per key for every subscriber of this batch (so its rendering is shared)."""
        found: T | None = self._made.get(key)
        if found is None:
            found = self._made[key] = make()
        return found

    async def once(self, key: tuple[Any, ...], read: Callable[[], Awaitable[T]]) -> T:
        found = self._reads.get(key)
        if found is None:
            found = self._reads[key] = asyncio.ensure_future(read())
        result: T = await joined(found)
        return result

    async def post(self, services: Services, post_id: str) -> PostRow | None:
        return await self.once(("post", post_id), lambda: read_post(services, post_id))

    async def last_published(self, services: Services, post_id: str) -> PostRow | None:
        return await self.once(("published", post_id),
                                lambda: read_last_published(services, post_id))

    async def comments_after(
        self, services: Services, post_id: str, after: int
    ) -> list[CommentRow]:
        return await self.once(("comments", post_id, after),
                                lambda: read_comments_after(services, post_id, after))


async def read_post(services: Services, post_id: str) -> PostRow | None:
    posts = services.runner.tables().posts
    async with services.engine.connect() as conn:
        row = (await conn.execute(select(posts).where(posts.c.id == post_id))).mappings().first()
    return None if row is None else PostRow.from_mapping(row)


async def read_last_published(services: Services, post_id: str) -> PostRow | None:
    """The post as the feed last showed it: its newest published state."""
    h = post_states(services.runner.tables())
    query = (
        select(h).where(h.c.id == post_id, h.c.status == PUBLISHED)
        .order_by(h.c.valid_from.desc()).limit(1)
    )
    async with services.engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else PostRow.from_mapping(row)


async def read_comments_after(services: Services, post_id: str, after: int) -> list[CommentRow]:
    c = services.runner.tables().comments
    query = (
        select(c).where(c.c.post_id == post_id, c.c.created_position > after)
        .order_by(c.c.created_position)
    )
    async with services.engine.connect() as conn:
        return [CommentRow.from_mapping(r) for r in (await conn.execute(query)).mappings()]


async def newest_comment(services: Services, post_id: str) -> int:
    c = services.runner.tables().comments
    query = select(func.max(c.c.created_position)).where(c.c.post_id == post_id)
    async with services.engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


class ChangeFollower:
    """Listens to PROJECTIONS_CHANNEL once per process for every read-model subscription.

    ``applied`` (when given) tells what the feed's projection has applied, for
    the poll that catches lost notices, every ``poll_interval`` seconds.
    """

    def __init__(
        self, bus: Bus, *, queue_size: int = 256,
        applied: Callable[[], Awaitable[int]] | None = None, poll_interval: float = 2.0,
    ) -> None:
        self._bus = bus
        self._applied = applied
        self._poll = poll_interval
        self._heard = 0
        """The newest position of the feed's projection that a notice announced."""
        self.resyncs = 0
        """Resyncs published because a notice was lost (tests and metrics)."""
        self._listening = asyncio.Event()
        self.fanout: Fanout[AppliedChanges] = Fanout("change follower", self._follow,
                                                     queue_size=queue_size,
                                                     on_start=self._new_producer)

    def _new_producer(self) -> None:
        # Each producer reports on an event of its own: a stopping one must not
        # clear what its successor already set.
        self._listening = asyncio.Event()

    async def listening(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bound
        """Return once the follower hears notices: what is read after this is not missed."""
        async with asyncio.timeout(timeout):
            while not self._listening.is_set():
                current = self._listening  # a restarted producer brings a new one
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await current.wait()

    async def _follow(self, fanout: Fanout[AppliedChanges]) -> None:
        listening, cut_off = self._listening, False
        try:
            while True:
                try:
                    async with self._bus.subscribe(PROJECTIONS_CHANNEL) as notices:
                        if self._applied is not None:
                            self._heard = await self._applied()
                        listening.set()
                        if cut_off:
                            fanout.publish(AppliedChanges("", 0, (), resync=True))
                        polling = asyncio.create_task(self._poll_for_lost_notices(fanout))
                        try:
                            async for notice in notices:
                                self._hear(fanout, notice)
                        finally:
                            polling.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await polling
                    return  # the bus closed cleanly: the server is stopping
                except BusError:
                    listening.clear()
                    cut_off = True
        finally:
            listening.clear()

    def _hear(self, fanout: Fanout[AppliedChanges], notice: dict[str, Any]) -> None:
        position = notice.get("position")
        if not isinstance(position, int):
            return  # a request (rebuild, retry): its outcome comes as a notice of its own
        projection = str(notice.get("projection"))
        if projection == FEED_PROJECTION:
            self._heard = max(self._heard, position)
        changes = notice.get("changes")
        if changes:
            fanout.publish(AppliedChanges(projection, position, tuple(changes)))

    async def _poll_for_lost_notices(self, fanout: Fanout[AppliedChanges]) -> None:
        if self._applied is None:
            return
        suspect: int | None = None
        while True:
            await asyncio.sleep(self._poll)
            try:
                applied = await self._applied()
            except Exception:  # a failed read only postpones the check
                log.warning("change follower: reading the projection's position failed",
                            exc_info=True)
                continue
            if applied <= self._heard:
                suspect = None
            elif suspect != self._heard:
                suspect = self._heard  # a notice may still be on its way: look again
            else:
                # Still nothing heard past `suspect` a whole poll later: it was lost.
                log.warning("change follower: projection notices up to %d were lost; "
                            "subscribers re-read what they follow", applied)
                self.resyncs += 1
                self._heard, suspect = applied, None
                fanout.publish(AppliedChanges("", 0, (), resync=True))

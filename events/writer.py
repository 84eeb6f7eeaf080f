"""The one writer per store: concurrently issued commits share a transaction.

A transaction costs about a millisecond whatever it carries, so the writer
takes every commit waiting in its queue (up to ``group_max``), checks them in
order against state read once under the write lock, writes the accepted ones
with one statement per table and commits once (``events.transaction``, run
by a session of ``events.write_sessions``). A commit refused by its checks
gets its own exception and is simply left out; if the transaction itself
fails, its commits are retried one by one so that only the guilty one fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import write_transaction
from events.grouping import Group
from events.idempotency import IDEMPOTENCY_TTL
from events.model import Commit, CommitResult, Notice
from events.tables import idempotency
from events.transaction import Outcome, group_commit
from events.write_sessions import WriteSession, write_session_for

log = logging.getLogger(__name__)


@dataclass
class WriterMetrics:
    """Plain counters for the API's /metrics (no Prometheus import in events/)."""

    commits_total: int = 0
    commits_refused: int = 0
    commits_failed: int = 0
    events_total: int = 0
    groups_total: int = 0
    group_retries: int = 0
    last_group_size: int = 0
    max_group_size: int = 0
    append_latency_seconds_sum: float = 0.0
    append_latency_seconds_count: int = 0


@dataclass
class _Pending:
    commit: Commit
    future: asyncio.Future[CommitResult]
    enqueued: float = field(default_factory=time.perf_counter)


class GroupWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        group_max: int,
        on_notice: Callable[[Notice], None],
        idempotency_ttl: timedelta = IDEMPOTENCY_TTL,
    ) -> None:
        self._engine = engine
        self._idempotency_ttl = idempotency_ttl
        self._group_max = max(1, group_max)
        self._on_notice = on_notice
        self._keys: dict[str, bytes] = {}
        """Subject keys known to exist, so most groups need not read them."""
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: WriteSession | None = None
        self._last_recorded_at = datetime.min.replace(tzinfo=UTC)
        self.metrics = WriterMetrics()

    async def start(self) -> None:
        if self._task is None:
            self._session = await write_session_for(self._engine)
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="chronicle-event-writer")

    async def stop(self) -> None:
        """Write every commit already submitted, then stop."""
        if self._task is None or self._queue is None:
            return
        queue, self._queue = self._queue, None  # refuse new commits from now on
        queue.put_nowait(None)
        await self._task
        self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def submit(self, commit: Commit) -> CommitResult:
        if self._queue is None or self._task is None or self._task.done():
            raise RuntimeError("the event store is not started, or closed")
        pending = _Pending(commit, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(pending)
        return await pending.future

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue  # kept: stop() detaches it from self to refuse new commits
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is None:
                return
            # One turn of the loop lets the callers just released by the previous
            # group enqueue their next commit, so they join this group instead of
            # each waiting for a transaction of its own.
            await asyncio.sleep(0)
            batch = [first]
            while len(batch) < self._group_max and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                await self._write(batch)
            except Exception as exc:  # a bug here must not strand every later commit
                log.exception("the writer failed a group")
                for pending in batch:
                    _settle(pending.future, exc)

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            outcomes, group = await self._transaction(batch)
        except Exception as exc:
            if len(batch) == 1:
                log.exception("commit failed")
                self.metrics.commits_failed += 1
                _settle(batch[0].future, exc)
                return
            # Find the guilty commit: the others must not fail with it.
            log.warning("group of %d failed (%r); retrying one by one", len(batch), exc)
            self.metrics.group_retries += 1
            for pending in batch:
                await self._write([pending])
            return
        self._record(batch, outcomes)
        if group.event_rows:
            self._on_notice(Notice(
                group.first_position, group.head, tuple(group.streams), tuple(group.types)
            ))

    def _record(self, batch: list[_Pending], outcomes: list[Outcome]) -> None:
        m = self.metrics
        now = time.perf_counter()
        m.groups_total += 1
        m.last_group_size = len(batch)
        m.max_group_size = max(m.max_group_size, len(batch))
        for pending, outcome in zip(batch, outcomes, strict=True):
            m.append_latency_seconds_sum += now - pending.enqueued
            m.append_latency_seconds_count += 1
            if isinstance(outcome, CommitResult):
                m.commits_total += 1
                m.events_total += len(outcome.events)
            else:
                m.commits_refused += 1
            _settle(pending.future, outcome)

    async def _transaction(self, batch: list[_Pending]) -> tuple[list[Outcome], Group]:
        assert self._session is not None
        commits = [p.commit for p in batch]
        # recorded_at never goes backwards within a process, so version_at stays monotone
        recorded_at = self._last_recorded_at = max(datetime.now(UTC), self._last_recorded_at)
        dialect, keys, ttl = self._session.dialect, self._keys, self._idempotency_ttl
        outcomes, group = await self._session.run(lambda: group_commit(
            commits, dialect=dialect, recorded_at=recorded_at, known_keys=keys,
            idempotency_ttl=ttl,
        ))
        # committed: only now may the key cache learn from this group
        for subject in group.shredded:
            self._keys.pop(subject, None)
        self._keys.update(group.new_keys)
        return outcomes, group


async def purge_idempotency(engine: AsyncEngine, ttl: timedelta = IDEMPOTENCY_TTL) -> None:
    """Forget idempotency keys older than the TTL (they are ignored already)."""
    cutoff = datetime.now(UTC) - ttl
    async with write_transaction(engine) as conn:
        await conn.execute(delete(idempotency).where(idempotency.c.created_at <= cutoff))


def _settle(future: asyncio.Future[CommitResult], outcome: Any) -> None:
    if future.done():  # the caller gave up waiting; the commit stands regardless
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

"""The one writer per store: concurrently issued commits share a transaction.

A commit through the async stack costs about a millisecond whatever it
carries, so the writer takes every commit waiting in its queue (up to
``group_max``), checks them in order against state read once under the write
lock, writes the accepted ones with one statement per table and commits
once. A commit refused by its checks gets its own exception and is simply
left out; if the transaction itself fails, its commits are retried one by one
so that only the guilty one fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, null, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.db import is_sqlite, lock_log, write_transaction, writer_connection
from events.grouping import Group
from events.model import (
    ClaimTaken,
    Commit,
    CommitResult,
    ConcurrencyError,
    IdempotentReplay,
    Notice,
)
from events.rows import insert_events_sql
from events.serialization import loads
from events.tables import claims, events, idempotency, snapshots, subject_keys, to_text

log = logging.getLogger(__name__)

IDEMPOTENCY_TTL = timedelta(hours=24)
_CHUNK = 500
"""Values per IN list: well below SQLite's and asyncpg's bound-parameter limits."""
Refusal = ConcurrencyError | ClaimTaken | IdempotentReplay
T = TypeVar("T")


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
    ) -> None:
        self._engine = engine
        self._group_max = max(1, group_max)
        self._on_notice = on_notice
        self._keys: dict[str, bytes] = {}
        """Subject keys known to exist, so most groups need not read them."""
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        self._last_recorded_at = datetime.min.replace(tzinfo=UTC)
        self.metrics = WriterMetrics()

    async def start(self) -> None:
        if self._task is None:
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
        await self._release_connection()

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

    def _record(self, batch: list[_Pending], outcomes: list[CommitResult | Refusal]) -> None:
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

    async def _transaction(
        self, batch: list[_Pending]
    ) -> tuple[list[CommitResult | Refusal], Group]:
        commits = [p.commit for p in batch]
        conn = await self._connection()
        try:
            async with conn.begin():
                await lock_log(conn)
                group = await self._load(conn, commits)
                outcomes: list[CommitResult | Refusal] = []
                for commit in commits:
                    try:
                        outcomes.append(group.accept(commit))
                    except (ConcurrencyError, ClaimTaken, IdempotentReplay) as refusal:
                        outcomes.append(refusal)
                await _flush(conn, group)
        except BaseException:
            await self._release_connection()  # it may be broken: the next group opens another
            raise
        # committed: only now may the key cache learn from this group
        for subject in group.shredded:
            self._keys.pop(subject, None)
        self._keys.update(group.new_keys)
        return outcomes, group

    async def _connection(self) -> AsyncConnection:
        # The writer keeps one connection: a pool checkout and its reset on
        # checkin would cost two more round trips per group.
        if self._conn is None:
            self._conn = await writer_connection(self._engine)
        return self._conn

    async def _release_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.warning("closing the writer's connection failed", exc_info=True)

    async def _load(self, conn: AsyncConnection, commits: Sequence[Commit]) -> Group:
        now = datetime.now(UTC)
        # recorded_at never goes backwards within a process, so version_at stays monotone
        self._last_recorded_at = recorded_at = max(now, self._last_recorded_at)
        # The head and the streams' versions in one round trip: the head is the
        # row whose stream_id is NULL.
        head = 0
        versions: dict[str, int] = {}
        stream_ids = list({a.stream_id for c in commits for a in c.appends})
        chunks = list(_chunks(stream_ids)) or [[]]
        for i, chunk in enumerate(chunks):
            query: Any = (
                select(events.c.stream_id, func.max(events.c.version))
                .where(events.c.stream_id.in_(chunk))
                .group_by(events.c.stream_id)
            )
            if i == 0:
                query = union_all(select(null(), func.max(events.c.position)), query)
            for sid, value in await conn.execute(query):
                if sid is None:
                    head = int(value or 0)
                else:
                    versions[sid] = value
        claim_keys = {(c.scope, c.value) for m in commits for c in (*m.claims, *m.releases)}
        owners: dict[tuple[str, str], str] = {}
        for pairs in _chunks(claim_keys):
            found = await conn.execute(
                select(claims.c.scope, claims.c.value, claims.c.owner)
                .where(tuple_(claims.c.scope, claims.c.value).in_(pairs))
            )
            owners.update({(s, v): o for s, v, o in found})
        return Group(
            head=head,
            recorded_at=recorded_at,
            stored_at=to_text(recorded_at) if is_sqlite(conn) else recorded_at,
            versions=versions,
            owners=owners,
            replays=await _fresh_replays(conn, commits, now),
            keys=await self._subject_keys(conn, commits),
        )

    async def _subject_keys(
        self, conn: AsyncConnection, commits: Sequence[Commit]
    ) -> dict[str, bytes | None]:
        wanted = set()
        for commit in commits:
            for append in commit.appends:
                for e in append.events:
                    spec = e.spec
                    if spec.personal and spec.subject and (s := getattr(e, spec.subject)):
                        wanted.add(str(s))
        keys: dict[str, bytes | None] = {s: self._keys[s] for s in wanted if s in self._keys}
        for chunk in _chunks(wanted - keys.keys()):
            rows = await conn.execute(
                select(subject_keys.c.subject_id, subject_keys.c.key)
                .where(subject_keys.c.subject_id.in_(chunk))
            )
            keys.update({s: bytes(k) for s, k in rows})
        return keys


async def _fresh_replays(
    conn: AsyncConnection, commits: Sequence[Commit], now: datetime
) -> dict[str, IdempotentReplay]:
    wanted = {c.idempotency_key for c in commits if c.idempotency_key}
    replays: dict[str, IdempotentReplay] = {}
    for chunk in _chunks(wanted):
        rows = await conn.execute(
            select(idempotency.c.key, idempotency.c.result, idempotency.c.position)
            .where(idempotency.c.key.in_(chunk))
            .where(idempotency.c.created_at > now - IDEMPOTENCY_TTL)
        )
        replays.update({k: IdempotentReplay(loads(r), p) for k, r, p in rows})
    return replays


async def _flush(conn: AsyncConnection, group: Group) -> None:
    if group.event_rows:
        await conn.exec_driver_sql(insert_events_sql(conn.dialect.paramstyle), group.event_rows)
    if group.snapshot_rows:
        await conn.execute(insert(snapshots), group.snapshot_rows)
    deleted, inserted = group.claim_changes()
    for pairs in _chunks(deleted):
        await conn.execute(delete(claims).where(tuple_(claims.c.scope, claims.c.value).in_(pairs)))
    if inserted:
        await conn.execute(insert(claims), inserted)
    if group.idempotency_rows:
        # a key older than the TTL may still have its row: the new use replaces it
        reused = [r["key"] for r in group.idempotency_rows]
        for chunk in _chunks(reused):
            await conn.execute(delete(idempotency).where(idempotency.c.key.in_(chunk)))
        await conn.execute(insert(idempotency), group.idempotency_rows)
    for chunk in _chunks(group.shredded):
        await conn.execute(delete(subject_keys).where(subject_keys.c.subject_id.in_(chunk)))
    if group.new_keys:
        await conn.execute(insert(subject_keys), [
            {"subject_id": s, "key": k, "created_at": group.recorded_at}
            for s, k in group.new_keys.items()
        ])


async def purge_idempotency(engine: AsyncEngine) -> None:
    """Forget idempotency keys older than the TTL (they are ignored already)."""
    cutoff = datetime.now(UTC) - IDEMPOTENCY_TTL
    async with write_transaction(engine) as conn:
        await conn.execute(delete(idempotency).where(idempotency.c.created_at <= cutoff))


def _settle(future: asyncio.Future[CommitResult], outcome: Any) -> None:
    if future.done():  # the caller gave up waiting; the commit stands regardless
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _chunks(items: Iterable[T]) -> Iterable[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

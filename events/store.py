"""The event store on SQL: SQLite (aiosqlite) and PostgreSQL (asyncpg) alike.

Appends go through one group-committing writer per store (``events.writer``).
Reads are one driver-level SELECT each (``events.reading``), decoded without
ORM objects (``events.rows``), every event row joined with its subject's key so
that a shred made by any process is honoured at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import EVENTS_CHANNEL
from events.catalog import DomainEvent
from events.idempotency import IDEMPOTENCY_TTL, replay_of
from events.model import (
    Commit,
    CommitResult,
    EventStore,
    IdempotentReplay,
    RecordedEvent,
    Snapshot,
    StreamEvents,
)
from events.notices import NoticeSender, Publisher
from events.reading import INLINE_ROWS, DriverQuery, ReadTimeouts, reader_for
from events.rows import (
    SELECT_RECORDED,
    TAIL_SQL,
    instant_of,
    recorded,
    recorded_all,
    stream_events,
    tail_events,
)
from events.serialization import loads
from events.tables import events, to_text
from events.writer import GroupWriter, WriterMetrics, purge_idempotency

__all__ = ["Publisher", "SqlEventStore"]

_VERSION = 4
"""Index of ``e.version`` in a row of ``SELECT_RECORDED``."""


@cache
def _load_sql(bounded: bool, shaped: bool, dated: bool) -> str:
    """The statement of :meth:`SqlEventStore.load_events` on PostgreSQL, made once per form.

    Its parameters: stream id[, max version][, snapshot version]. The newest
    snapshot is found whatever its shape, and its columns come only if of the
    asked one: with the shape in its WHERE clause the planner sorted every
    snapshot of the stream instead of reading the newest off the primary key
    (O(history)). A newest snapshot of another shape leaves its row without
    snapshot columns, which :meth:`SqlEventStore.load_events` answers through
    the general path.

    No joins: the snapshot (one row) is an InitPlan read once, its values put on
    the row they belong to by CASE, and a subject's key is looked up only for
    the rows that have a subject. The earlier form joined them (a merge join
    over two sorts, a hash join over a scan of ``subject_keys``), which cost the
    server noticeably more CPU per execution of its cached generic plan.

    Each index probe costs more, so only a ``dated`` load finds the stream's
    last version too, to put recorded_at on the last row alone (a timestamptz
    decoded on every row was a large part of fetching a long tail). The
    figures are in bench/README.md, "Figures behind code comments".
    Position is on every row: an int, nothing to decode.
    """
    stream = "$1"
    bound = " AND version <= $2" if bounded else ""
    shape = f" WHERE schema_version = ${3 if bounded else 2}" if shaped else ""
    newest = (
        f"SELECT version, schema_version, state FROM snapshots WHERE stream_id = {stream}{bound}"
        " ORDER BY stream_id DESC, version DESC LIMIT 1"
    )
    plans = f"snap AS MATERIALIZED ({newest})"
    recorded_at = "NULL::timestamptz"
    if dated:
        last = f"SELECT max(version) AS version FROM events WHERE stream_id = {stream}{bound}"
        plans += f", last AS MATERIALIZED ({last})"
        recorded_at = "CASE WHEN e.version = (SELECT version FROM last) THEN e.recorded_at END"
    on_snapshot = "e.version = (SELECT version FROM snap)"
    return (
        f"WITH {plans}"
        f" SELECT CASE WHEN {on_snapshot} THEN (SELECT schema_version FROM snap{shape}) END,"
        f" CASE WHEN {on_snapshot} THEN (SELECT state FROM snap{shape}) END,"
        " e.version, e.type, e.schema_version, e.data,"
        " CASE WHEN e.subject_id IS NOT NULL THEN"
        " (SELECT k.key FROM subject_keys k WHERE k.subject_id = e.subject_id) END,"
        f" e.position, {recorded_at}"
        f" FROM events e WHERE e.stream_id = {stream}{bound.replace('version', 'e.version')}"
        " AND e.version >= coalesce((SELECT version FROM snap), 1)"
        " ORDER BY e.version"
    )


@cache
def _sqlite_head_sql(bounded: bool, shaped: bool) -> str:
    """The stream's last event (version, position, recorded_at) with its newest snapshot
    (version, schema_version, state) or NULLs; no row for a stream with no events.
    Parameters: stream id[, max version][, snapshot version].

    Each row is found by its primary key from a ``max(version)`` read off the
    same index: cheaper than joining two ``ORDER BY
    version DESC LIMIT 1`` subqueries, which SQLite materialised first.
    """
    bound = " AND version <= ?2" if bounded else ""
    shape = f" AND schema_version = ?{3 if bounded else 2}" if shaped else ""
    return (
        "SELECT e.version, e.position, e.recorded_at, s.version, s.schema_version, s.state"
        " FROM events e LEFT JOIN snapshots s ON s.stream_id = ?1 AND s.version ="
        f" (SELECT max(version) FROM snapshots WHERE stream_id = ?1{bound}{shape})"
        f" WHERE e.stream_id = ?1 AND e.version ="
        f" (SELECT max(version) FROM events WHERE stream_id = ?1{bound})"
    )


_SCAN_SPAN = 16
"""On SQLite, events of several types in a bounded span of positions of at most this
many times the limit (a projection's batch, see ``projections.batches``) are found
by walking the positions and skipping the other types, not through the
``(type, position)`` index: the index's matches of several types come back out of
order, and sorting a batch of whole rows cost twice the walk (a rebuild's
batches are mostly of the projection's types). The walk is bounded by the span
even when few events match, and skipping a position is cheap."""


class SqlEventStore(EventStore):
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bus: Publisher | None = None,
        group_max: int = 1000,
        idempotency_ttl: timedelta = IDEMPOTENCY_TTL,
        read_timeouts: ReadTimeouts | None = None,
    ) -> None:
        self.engine = engine
        self.idempotency_ttl = idempotency_ttl
        self._notices = NoticeSender(bus, EVENTS_CHANNEL)
        self._writer = GroupWriter(engine, group_max=group_max, on_notice=self._notices.offer,
                                   idempotency_ttl=idempotency_ttl)
        self._reader = reader_for(engine, read_timeouts)

    @property
    def metrics(self) -> WriterMetrics:
        """Counters of the writer: commits, group sizes, append latency (sum/count)."""
        return self._writer.metrics

    async def start(self) -> None:
        await purge_idempotency(self.engine, self.idempotency_ttl)
        self._notices.start()
        await self._writer.start()

    async def close(self) -> None:
        await self._writer.stop()
        await self._notices.stop()
        await self._reader.close()

    async def commit(self, commit: Commit) -> CommitResult:
        return await self._writer.submit(commit)

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        q = self._query()
        where = [f"e.stream_id = {q.param(stream_id)}"]
        if from_version > 1:
            where.append(f"e.version >= {q.param(from_version)}")
        if to_version is not None:
            where.append(f"e.version <= {q.param(to_version)}")
        return await self._recorded(q, f"{' AND '.join(where)} ORDER BY e.version")

    async def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: str | None = None,
        types: Sequence[str] | None = None,
        to_position: int | None = None,
    ) -> list[RecordedEvent]:
        if types is not None and not types:
            return []
        q = self._query()
        where = [f"e.position > {q.param(after)}"]
        if to_position is not None:
            where.append(f"e.position <= {q.param(to_position)}")
        if stream_id is not None:
            where.append(f"e.stream_id = {q.param(stream_id)}")
        if types is not None:
            # ``+`` keeps SQLite off the (type, position) index: see _SCAN_SPAN.
            scan = (
                self._reader.dialect == "sqlite" and len(types) > 1 and to_position is not None
                and to_position - after <= _SCAN_SPAN * limit
            )
            column = "+e.type" if scan else "e.type"
            where.append(f"{column} IN ({', '.join(q.param(t) for t in types)})")
        # A span of few positions (a live projection's next batch) is a small read
        # whatever the limit: at most that many rows, found walking that many.
        small = to_position is not None and to_position - after <= INLINE_ROWS
        return await self._recorded(
            q, f"{' AND '.join(where)} ORDER BY e.position LIMIT {q.param(limit)}", small=small
        )

    async def _recorded(
        self, q: DriverQuery, condition: str, *, small: bool = False
    ) -> list[RecordedEvent]:
        fetch = self._reader.fetch_small if small else self._reader.fetch
        rows = await fetch(f"{SELECT_RECORDED} WHERE {condition}", q.params)
        return recorded_all(rows)

    async def head_position(self) -> int:
        return await self._number("SELECT max(position) FROM events", ())

    async def stream_version(self, stream_id: str) -> int:
        q = self._query()
        sql = f"SELECT max(version) FROM events WHERE stream_id = {q.param(stream_id)}"
        return await self._number(sql, q.params)

    async def version_at(self, stream_id: str, at: datetime) -> int:
        """The stream's newest version recorded at or before ``at`` (0 if none).

        Walks the stream's ``(stream_id, version)`` index from its newest event down
        and stops at the first one recorded by then: the cost is the number of the
        stream's events recorded after ``at``. (No index on recorded_at: every append
        would pay for it, see migration 0003_no_stream_time_index.)
        """
        q = self._query()
        sql = (
            f"SELECT version FROM events WHERE stream_id = {q.param(stream_id)}"
            f" AND recorded_at <= {q.param(self._instant(at))} ORDER BY version DESC LIMIT 1"
        )
        return await self._number(sql, q.params)

    async def latest_snapshot(
        self, stream_id: str, *, max_version: int | None = None
    ) -> Snapshot | None:
        q = self._query()
        sql = (
            "SELECT version, schema_version, state FROM snapshots"
            f" WHERE stream_id = {q.param(stream_id)}"
        )
        if max_version is not None:
            sql += f" AND version <= {q.param(max_version)}"
        rows = await self._reader.fetch_small(f"{sql} ORDER BY version DESC LIMIT 1", q.params)
        if not rows:
            return None
        version, schema_version, state = rows[0]
        return Snapshot(stream_id, version, loads(state), schema_version)

    async def load_stream(
        self, stream_id: str, *, max_version: int | None = None
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """Snapshot and tail in one statement: one round trip (a small read on SQLite).

        Aggregates load through :meth:`load_events`, which reads the same way.
        The tail starts at the newest snapshot's version; the snapshot's own
        columns come joined onto that first row (a snapshot is only ever written
        with the event it follows, so that row exists).
        """
        q = self._query()
        where = [f"e.stream_id = {q.param(stream_id)}"]
        newest = f"stream_id = {q.param(stream_id)}"
        if max_version is not None:
            newest += f" AND version <= {q.param(max_version)}"
        where.append(
            f"e.version >= (SELECT coalesce(max(version), 1) FROM snapshots WHERE {newest})"
        )
        if max_version is not None:
            where.append(f"e.version <= {q.param(max_version)}")
        sql = (
            "SELECT s.schema_version, s.state, r.*"
            f" FROM ({SELECT_RECORDED} WHERE {' AND '.join(where)}) r"
            " LEFT JOIN snapshots s ON s.stream_id = r.stream_id AND s.version = r.version"
            " ORDER BY r.version"
        )
        rows = await self._reader.fetch_small(sql, q.params)
        snapshot = None
        if rows and rows[0][1] is not None:
            first = rows[0]
            snapshot = Snapshot(stream_id, first[2 + _VERSION], loads(first[1]), first[0])
        elif rows and rows[0][2 + _VERSION] > 1:
            # Only a snapshot whose event is missing gets here (never written so):
            # answer as the two separate reads would.
            return await super().load_stream(stream_id, max_version=max_version)
        return snapshot, [recorded(row[2:]) for row in rows]

    async def load_events(
        self,
        stream_id: str,
        *,
        max_version: int | None = None,
        snapshot_version: int | None = None,
        dated: bool = False,
    ) -> StreamEvents:
        """Snapshot and tail in one small read, decoded straight to domain events.

        Every command loads at least one aggregate, so this is the write path's
        hottest read: one statement (one round trip; on SQLite no thread hop at
        all, see ``SqliteReader.fetch_small``), only the columns a fold needs,
        no RecordedEvent per row. The snapshot's columns come on the row of the
        event it follows (a snapshot is only ever written with that event).
        """
        bounded, shaped = max_version is not None, snapshot_version is not None
        # The parameters of both backends' statements: stream id[, max version][, snapshot version]
        params: list[Any] = [stream_id]
        if bounded:
            params.append(max_version)
        if shaped:
            params.append(snapshot_version)
        if self._reader.dialect == "sqlite":
            return await self._load_events_sqlite(stream_id, params, bounded, shaped, dated)
        rows = await self._reader.fetch_small(_load_sql(bounded, shaped, dated), params)
        snapshot = None
        if rows and rows[0][1] is not None:
            schema_version, state, version = rows[0][:3]
            snapshot = Snapshot(stream_id, version, loads(state), schema_version)
        elif rows and rows[0][2] > 1:
            # The newest snapshot is of another shape (or, never written so, its
            # event is missing): answer as the separate reads would.
            return await super().load_events(
                stream_id, max_version=max_version, snapshot_version=snapshot_version,
                dated=dated,
            )
        start = snapshot.version if snapshot is not None else 0
        events, last = stream_events(rows, after_version=start, offset=2)
        if last is None:
            return StreamEvents(None, events, 0, 0, None)
        return StreamEvents(snapshot, events, *last)

    async def _load_events_sqlite(
        self, stream_id: str, params: list[Any], bounded: bool, shaped: bool, dated: bool
    ) -> StreamEvents:
        """On SQLite, where a small read costs no round trip: first the stream's last
        event and its newest snapshot (one statement, so one state of the log), then
        exactly the events between them, by version: rows never change once written,
        so the two reads agree whatever commits in between. Each row of the tail then
        carries only what a fold needs, and a stream whose last event is snapshotted
        needs no second read at all."""
        head = await self._reader.fetch_small(_sqlite_head_sql(bounded, shaped), params)
        if not head:
            return StreamEvents(None, [], 0, 0, None)
        version, position, recorded_at, start, schema_version, state = head[0]
        snapshot = None
        if start is not None:
            snapshot = Snapshot(stream_id, start, loads(state), schema_version)
        events: list[DomainEvent] = []
        if version > (start or 0):
            tail = await self._reader.fetch_small(TAIL_SQL, (stream_id, start or 0, version))
            events = tail_events(tail)
        instant = instant_of(recorded_at) if dated else None
        return StreamEvents(snapshot, events, version, position, instant)

    async def claim_owner(self, scope: str, value: str) -> str | None:
        q = self._query()
        sql = (
            f"SELECT owner FROM claims WHERE scope = {q.param(scope)}"
            f" AND value = {q.param(value)}"
        )
        rows = await self._reader.fetch_small(sql, q.params)
        return str(rows[0][0]) if rows else None

    async def idempotent_result(self, key: str) -> IdempotentReplay | None:
        q = self._query()
        fresh_since = self._instant(datetime.now(UTC) - self.idempotency_ttl)
        sql = (
            f"SELECT result, position FROM idempotency WHERE key = {q.param(key)}"
            f" AND created_at > {q.param(fresh_since)}"
        )
        rows = await self._reader.fetch_small(sql, q.params)
        return replay_of(rows[0][0], rows[0][1]) if rows else None

    def _query(self) -> DriverQuery:
        return DriverQuery(self._reader.dialect)

    def _instant(self, at: datetime) -> Any:
        """An instant as this backend's driver compares it (ISO text on SQLite)."""
        if self._reader.dialect == "sqlite":
            return to_text(at)
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    async def _number(self, sql: str, params: Sequence[Any]) -> int:
        rows = await self._reader.fetch_small(sql, params)
        return int(rows[0][0] or 0) if rows else 0

    async def stats(self) -> dict[str, Any]:
        e = events.c
        async with self.engine.connect() as conn:
            by_type = (await conn.execute(
                select(e.type, func.count()).group_by(e.type).order_by(e.type)
            )).all()
            streams = (await conn.execute(
                select(e.stream_type, func.count(func.distinct(e.stream_id)))
                .group_by(e.stream_type).order_by(e.stream_type)
            )).all()
            head = (await conn.execute(select(func.coalesce(func.max(e.position), 0)))).scalar()
        events_by_type = {t: int(n) for t, n in by_type}
        return {
            "events": sum(events_by_type.values()),
            "head": int(head or 0),
            "streams": sum(n for _, n in streams),
            "streams_by_type": {t: int(n) for t, n in streams},
            "events_by_type": events_by_type,
        }
